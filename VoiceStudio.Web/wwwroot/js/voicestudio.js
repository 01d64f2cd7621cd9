// Small browser helpers the Blazor pages call through JS interop.
window.voicestudio = {
  // The recording player: a click on the waveform seeks the audio; a line follows playback.
  attachWaveform(audioId, waveId) {
    const audio = document.getElementById(audioId);
    const wave = document.getElementById(waveId);
    if (!audio || !wave || wave.dataset.attached) return;
    wave.dataset.attached = "1";
    const head = wave.querySelector("[data-playhead]");
    const width = Number(wave.viewBox.baseVal.width) || 1;
    const move = () => {
      if (!isFinite(audio.duration) || audio.duration <= 0) return;
      head.setAttribute("x1", String(audio.currentTime / audio.duration * width));
      head.setAttribute("x2", String(audio.currentTime / audio.duration * width));
    };
    audio.addEventListener("timeupdate", move);
    audio.addEventListener("seeked", move);
    wave.addEventListener("click", (e) => {
      const box = wave.getBoundingClientRect();
      const at = Math.min(1, Math.max(0, (e.clientX - box.left) / box.width));
      const seek = () => { audio.currentTime = at * audio.duration; };
      if (isFinite(audio.duration)) seek(); else audio.addEventListener("loadedmetadata", seek, { once: true });
    });
  },
  // Saves text the page made as a file.
  download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  },
  // Dark mode is remembered per browser.
  getDarkMode() {
    const stored = localStorage.getItem("voicestudio-dark");
    return stored === null ? window.matchMedia("(prefers-color-scheme: dark)").matches : stored === "1";
  },
  setDarkMode(dark) {
    localStorage.setItem("voicestudio-dark", dark ? "1" : "0");
  },
};
