import { createHash } from 'node:crypto';

/** The file a readiness drill downloads and decodes: small, so a drill costs a 4G link nothing. */
export interface TestAudio {
  bytes: Buffer;
  sizeBytes: number;
  sha256: string;
  mime: 'audio/wav';
}

const SAMPLE_RATE = 8_000;
const DURATION_S = 0.5;
const TONE_HZ = 1_000;
/** −20 dBFS: a cluster that plays it by mistake is heard, not startling. */
const AMPLITUDE = 0.1;

/**
 * Half a second of a 1 kHz tone as 16-bit mono PCM WAV (8 kHz): every cluster decodes PCM WAV, and
 * the header says how long it plays, which is what the drill's decode check reads.
 */
export function testAudio(): TestAudio {
  const samples = Math.round(SAMPLE_RATE * DURATION_S);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    const value = Math.round(AMPLITUDE * 32_767 * Math.sin((2 * Math.PI * TONE_HZ * i) / SAMPLE_RATE));
    data.writeInt16LE(value, i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16); // PCM fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(SAMPLE_RATE, 24);
  header.writeUInt32LE(SAMPLE_RATE * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  const bytes = Buffer.concat([header, data]);
  return {
    bytes,
    sizeBytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    mime: 'audio/wav',
  };
}
