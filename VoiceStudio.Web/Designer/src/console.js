// The designer's test console: talks to the agent over /ws/browser/{agent} (typed turns, or the microphone through
// an AudioWorklet with the agent's audio played back) and hands every message to the Blazor page.
const sessions = new Map();

function play(session, buffer) {
  const ctx = session.audio;
  if (!ctx) return;
  const samples = new Int16Array(buffer);
  const audio = ctx.createBuffer(1, samples.length, 16000);
  const channel = audio.getChannelData(0);
  for (let i = 0; i < samples.length; i++) channel[i] = samples[i] / 32768;
  const source = ctx.createBufferSource();
  source.buffer = audio;
  source.connect(ctx.destination);
  const at = Math.max(ctx.currentTime + 0.02, session.playhead);
  source.start(at);
  session.playhead = at + audio.duration;
  session.playing.add(source);
  source.onended = () => session.playing.delete(source);
}

function clear(session) {
  for (const source of session.playing) {
    try { source.stop(); } catch { /* already ended */ }
  }
  session.playing.clear();
  session.playhead = 0;
}

export const vsConsole = {
  async start(id, agent, mode, dotnet) {
    vsConsole.stop(id);
    const session = { ws: null, playing: new Set(), playhead: 0 };
    sessions.set(id, session);
    if (mode === "audio") {
      try {
        session.stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
        session.audio = new AudioContext();
        await session.audio.audioWorklet.addModule("/designer/pcm-capture.js");
        const capture = new AudioWorkletNode(session.audio, "pcm-capture", { processorOptions: { targetRate: 16000 } });
        capture.port.onmessage = (e) => { if (session.ws?.readyState === WebSocket.OPEN) session.ws.send(e.data); };
        session.audio.createMediaStreamSource(session.stream).connect(capture);
        session.capture = capture;
      } catch (e) {
        dotnet.invokeMethodAsync("OnConsoleProblem", `The microphone cannot be used: ${e.message}`);
        vsConsole.stop(id);
        return;
      }
    }
    if (sessions.get(id) !== session) return; // stopped while the microphone was being set up
    // The socket opens only now, with every handler in place, so no early message is missed.
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/browser/${encodeURIComponent(agent)}?mode=${mode}`);
    ws.binaryType = "arraybuffer";
    session.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ event: "start" }));
    ws.onmessage = (m) => {
      if (typeof m.data === "string") {
        if (m.data.includes('"event":"clear"')) clear(session);
        dotnet.invokeMethodAsync("OnConsoleMessage", m.data);
      } else {
        play(session, m.data);
      }
    };
    ws.onclose = (e) => {
      if (sessions.get(id) === session) {
        dotnet.invokeMethodAsync("OnConsoleClosed", e.code, e.reason || "");
        vsConsole.stop(id, true);
      }
    };
  },
  send(id, message) {
    const session = sessions.get(id);
    if (session?.ws?.readyState === WebSocket.OPEN) session.ws.send(JSON.stringify(message));
  },
  stop(id, closed) {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    if (!closed && session.ws?.readyState === WebSocket.OPEN) {
      session.ws.send(JSON.stringify({ event: "stop" }));
      setTimeout(() => session.ws.close(), 200);
    }
    session.stream?.getTracks().forEach((t) => t.stop());
    session.capture?.disconnect();
    setTimeout(() => session.audio?.close(), 3000); // let the last words play
  },
};
