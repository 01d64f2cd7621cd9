// AudioWorklet: the microphone as 16 kHz PCM16 little-endian, posted to the page in 20 ms frames (320 samples).
class PcmCapture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.targetRate = options.processorOptions?.targetRate ?? 16000;
    this.step = sampleRate / this.targetRate; // input samples per output sample
    this.position = 0; // where the next output sample falls, in input samples from the start of `pending`
    this.pending = new Float32Array(0);
    this.frame = new Int16Array(this.targetRate / 50);
    this.filled = 0;
  }

  process(inputs) {
    const input = inputs[0]?.[0];
    if (!input) return true;
    const data = new Float32Array(this.pending.length + input.length);
    data.set(this.pending);
    data.set(input, this.pending.length);
    while (this.position + 1 < data.length) {
      const i = Math.floor(this.position);
      const t = this.position - i;
      const value = data[i] * (1 - t) + data[i + 1] * t; // linear interpolation
      this.frame[this.filled++] = Math.max(-32768, Math.min(32767, Math.round(value * 32767)));
      if (this.filled === this.frame.length) {
        this.port.postMessage(this.frame.slice().buffer);
        this.filled = 0;
      }
      this.position += this.step;
    }
    const keep = Math.floor(this.position);
    this.pending = data.slice(keep);
    this.position -= keep;
    return true;
  }
}

registerProcessor("pcm-capture", PcmCapture);
