import { Readable } from 'node:stream';
import type { MediaLibrary } from '../../services/media/media-library.js';
import { wavHeader, wavTone } from '../support/wav.js';

export { wavTone };

/** A WAV whose data chunk is empty: it sniffs as WAV but plays for no time at all. */
export function emptyWav(): Buffer {
  return wavHeader(0, { sampleRate: 8_000, bitsPerSample: 16 });
}

/**
 * A one-second 8-bit WAV in which every byte is below 0x80, so it survives being sent as a
 * JavaScript string (UTF-8 encodes those bytes as themselves): for request helpers that only
 * send text bodies. 8000 Hz keeps every header field's bytes below 0x80 too, and the tone swings
 * around 0x40 instead of the format's 0x80 midpoint.
 */
export function asciiSafeWav(): Buffer {
  const sampleRate = 8_000;
  const data = Buffer.alloc(sampleRate);
  for (let i = 0; i < data.length; i++) {
    data[i] = 0x40 + Math.round(0x30 * Math.sin((2 * Math.PI * 440 * i) / sampleRate));
  }
  const wav = Buffer.concat([wavHeader(data.length, { sampleRate, bitsPerSample: 8 }), data]);
  if (wav.some((byte) => byte >= 0x80)) throw new Error('asciiSafeWav has a byte >= 0x80');
  return wav;
}

/**
 * A silent MPEG-1 Layer III stream built without an encoder: frames of 128 kb/s, 44.1 kHz mono
 * (header FF FB 90 C0, 417 bytes, 1152 samples each) whose side information and main data are
 * all zero, which decoders play as silence [ISO/IEC 11172-3 §2.4.1]. 115 frames last 3.004 s.
 */
export function silentMp3(frames = 115): Buffer {
  const frameBytes = Math.floor((144 * 128_000) / 44_100);
  const mp3 = Buffer.alloc(frameBytes * frames);
  for (let i = 0; i < frames; i++) mp3.set([0xff, 0xfb, 0x90, 0xc0], i * frameBytes);
  return mp3;
}
export const SILENT_MP3_SECONDS = (115 * 1152) / 44_100;

/**
 * A multipart/form-data body as a string [RFC 7578], for helpers that send text only; the file
 * must be ASCII-safe (see asciiSafeWav).
 */
export function multipartText(file: { bytes: Buffer; filename: string; type: string }): {
  body: string;
  contentType: string;
} {
  const boundary = 'media-test-boundary-7f3a';
  const body =
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="file"; filename="${file.filename}"\r\n` +
    `Content-Type: ${file.type}\r\n\r\n` +
    `${file.bytes.toString('latin1')}\r\n` +
    `--${boundary}--\r\n`;
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Stores a short WAV straight through the library, for tests that need an item to exist. */
export async function storeWav(library: MediaLibrary, name = 'Bản tin thử'): Promise<string> {
  const record = await library.ingest(
    { stream: Readable.from([wavTone(1)]), filename: 'thu.wav' },
    { name, createdBy: null },
  );
  return record.id;
}
