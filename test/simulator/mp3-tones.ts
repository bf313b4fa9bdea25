import { createMp3Encoder } from 'wasm-media-encoders';

/** The platform's live format: MPEG-1 Layer III, mono, 64 kbps CBR. */
export type LiveSampleRate = 48_000 | 44_100;

/**
 * One continuous MP3 stream being encoded, as the platform encodes live talk: each call returns
 * the bytes the encoder has ready (it holds back a little until more audio or finish()).
 */
export interface ToneStream {
  /** A sine at hz, continuing the phase of the previous tone, at amplitude 0.5 unless told. */
  tone(hz: number, seconds: number, amplitude?: number): Buffer;
  silence(seconds: number): Buffer;
  /** The last frames; the stream is complete after it. */
  finish(): Buffer;
}

export async function mp3ToneStream(sampleRate: LiveSampleRate = 48_000): Promise<ToneStream> {
  const encoder = await createMp3Encoder();
  encoder.configure({ sampleRate, channels: 1, bitrate: 64 });
  let phase = 0;
  // The encoder reuses the returned view: copy it before the next call.
  const encode = (pcm: Float32Array) => Buffer.from(encoder.encode([pcm]));
  return {
    tone(hz, seconds, amplitude = 0.5) {
      const pcm = new Float32Array(Math.round(seconds * sampleRate));
      const step = (2 * Math.PI * hz) / sampleRate;
      for (let i = 0; i < pcm.length; i++) {
        pcm[i] = amplitude * Math.sin(phase);
        phase = (phase + step) % (2 * Math.PI);
      }
      return encode(pcm);
    },
    silence(seconds) {
      return encode(new Float32Array(Math.round(seconds * sampleRate)));
    },
    finish() {
      return Buffer.from(encoder.finalize());
    },
  };
}

/** A complete MP3 of one tone. */
export async function mp3Tone(hz: number, seconds: number, sampleRate?: LiveSampleRate): Promise<Buffer> {
  const stream = await mp3ToneStream(sampleRate);
  return Buffer.concat([stream.tone(hz, seconds), stream.finish()]);
}
