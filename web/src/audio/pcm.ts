import type { LIVE_SAMPLE_RATES } from '../../../contracts/live';

/**
 * The rates the platform's encoder takes (contracts/live.ts). A copy, since the console imports
 * only types from contracts/; `satisfies` fails the build when the two lists part.
 */
export const SAMPLE_RATES = [
  16_000, 22_050, 24_000, 32_000, 44_100, 48_000,
] as const satisfies typeof LIVE_SAMPLE_RATES;
export type SampleRate = (typeof SAMPLE_RATES)[number];

/** What the console resamples to when the sound card runs at a rate the platform does not take. */
export const FALLBACK_RATE: SampleRate = 48_000;

/** How much audio goes in one 'live.audio' message: small enough for a live feel, few enough messages. */
export const CHUNK_MS = 100;

export function isSampleRate(rate: number): rate is SampleRate {
  return (SAMPLE_RATES as readonly number[]).includes(rate);
}

/** The rate to send: the audio context's own when the platform takes it, else the fallback. */
export function sendRate(contextRate: number): SampleRate {
  return isSampleRate(contextRate) ? contextRate : FALLBACK_RATE;
}

/**
 * Linear interpolation between neighbouring samples, carried across blocks (the last sample of a
 * block and the fractional read position are kept), so block edges do not click. No low-pass
 * before downsampling: a microphone has little energy above 20 kHz, and this only runs at
 * uncommon card rates (88.2 or 96 kHz, 8 kHz).
 */
export class LinearResampler {
  /** Input samples per output sample. */
  private readonly step: number;
  /** Where the next output sample is read, in input samples from the start of the next block (-1: `previous`). */
  private position = 0;
  /** The last sample of the block before, what position -1 reads. */
  private previous = 0;

  constructor(from: number, to: number) {
    this.step = from / to;
  }

  push(input: Float32Array): Float32Array {
    const at = (index: number) => (index < 0 ? this.previous : (input[index] ?? 0));
    const output: number[] = [];
    // Each output sample needs the input samples on both sides of it.
    while (Math.floor(this.position) + 1 < input.length) {
      const index = Math.floor(this.position);
      const fraction = this.position - index;
      output.push(at(index) + (at(index + 1) - at(index)) * fraction);
      this.position += this.step;
    }
    if (input.length > 0) {
      this.position -= input.length;
      this.previous = input[input.length - 1] ?? 0;
    }
    return Float32Array.from(output);
  }
}

/** Web Audio's [-1, 1] floats as signed 16-bit, clipped, written little-endian whatever the CPU. */
export function toInt16Le(samples: Float32Array, target: DataView, offset: number): void {
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i] ?? 0));
    target.setInt16(offset + i * 2, s < 0 ? s * 0x8000 : s * 0x7fff, true);
  }
}

/**
 * Float blocks of any size in, ~100 ms chunks of 16-bit little-endian PCM out, resampled to
 * `rate` when the context runs at another one.
 */
export class PcmChunker {
  readonly rate: SampleRate;
  private readonly resampler: LinearResampler | null;
  private readonly chunkFrames: number;
  private chunk: DataView<ArrayBuffer>;
  private filled = 0;

  constructor(
    contextRate: number,
    private readonly onChunk: (pcm: ArrayBuffer) => void,
  ) {
    this.rate = sendRate(contextRate);
    this.resampler = this.rate === contextRate ? null : new LinearResampler(contextRate, this.rate);
    this.chunkFrames = Math.round((this.rate * CHUNK_MS) / 1000);
    this.chunk = new DataView(new ArrayBuffer(this.chunkFrames * 2));
  }

  push(block: Float32Array): void {
    let samples = this.resampler ? this.resampler.push(block) : block;
    while (samples.length > 0) {
      const room = this.chunkFrames - this.filled;
      const part = samples.length > room ? samples.subarray(0, room) : samples;
      toInt16Le(part, this.chunk, this.filled * 2);
      this.filled += part.length;
      samples = samples.subarray(part.length);
      if (this.filled === this.chunkFrames) {
        // The buffer is handed over whole; the next chunk gets a fresh one.
        this.onChunk(this.chunk.buffer);
        this.chunk = new DataView(new ArrayBuffer(this.chunkFrames * 2));
        this.filled = 0;
      }
    }
  }
}

/** The level a meter shows, 0..100: RMS in dBFS, -60 dB (quiet room) at 0, full scale at 100. */
export function meterLevel(samples: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] ?? 0;
    sum += s * s;
  }
  const rms = samples.length > 0 ? Math.sqrt(sum / samples.length) : 0;
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.round(Math.max(0, Math.min(100, ((db + 60) / 60) * 100)));
}
