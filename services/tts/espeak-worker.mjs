// eSpeak NG (compiled to WebAssembly) as a program of its own: the platform sends it text over
// IPC and gets 16-bit mono PCM back. It runs in a separate process, so the GPL-3.0 synthesizer is
// not linked into the platform, and a crash in it cannot take the platform down.
import Module from '@echogarden/espeak-ng-emscripten';

const espeak = await Module();
const worker = new espeak.eSpeakNGWorker();

process.on('message', ({ id, text, voice, rate }) => {
  try {
    worker.set_voice(voice);
    if (rate) worker.set_rate(rate);
    const chunks = [];
    worker.synthesize(text, (samples) => {
      chunks.push(Buffer.from(new Int16Array(samples).buffer));
      return 0;
    });
    process.send({ id, sampleRate: worker.samplerate, pcm: Buffer.concat(chunks).toString('base64') });
  } catch (error) {
    process.send({ id, error: String(error?.message ? error.message : error) });
  }
});
process.send({ ready: true });
