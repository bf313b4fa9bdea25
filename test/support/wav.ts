export interface WavFormat {
  sampleRate?: number;
  channels?: number;
  bitsPerSample?: 8 | 16;
}

/** A RIFF/WAVE header for PCM data [Microsoft RIFF spec, "fmt " chunk with WAVE_FORMAT_PCM]. */
export function wavHeader(dataBytes: number, format: WavFormat = {}): Buffer {
  const { sampleRate = 8_000, channels = 1, bitsPerSample = 16 } = format;
  const blockAlign = (channels * bitsPerSample) / 8;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + dataBytes + (dataBytes % 2), 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28); // byte rate
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bitsPerSample, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(dataBytes, 40);
  return header;
}

/** A 16-bit PCM mono WAV holding a sine tone of the given length. */
export function wavTone(seconds: number, { sampleRate = 8_000, frequency = 440 } = {}): Buffer {
  const samples = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    data.writeInt16LE(Math.round(8_000 * Math.sin((2 * Math.PI * frequency * i) / sampleRate)), i * 2);
  }
  return Buffer.concat([wavHeader(data.length, { sampleRate, bitsPerSample: 16 }), data]);
}

/** A WAV of silence; 8-bit PCM is unsigned (silence is 128), wider PCM is signed (silence is 0). */
export function silentWav(seconds: number, format: WavFormat = {}): Buffer {
  const { sampleRate = 8_000, channels = 1, bitsPerSample = 8 } = format;
  const dataBytes = Math.round(seconds * sampleRate) * ((channels * bitsPerSample) / 8);
  // RIFF chunks are word-aligned: an odd data chunk is followed by a pad byte.
  const data = Buffer.alloc(dataBytes + (dataBytes % 2), bitsPerSample === 8 ? 128 : 0);
  return Buffer.concat([wavHeader(dataBytes, { sampleRate, channels, bitsPerSample }), data]);
}
