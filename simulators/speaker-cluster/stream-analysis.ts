/*
 * Level and pitch of decoded audio, measured as it is decoded and in bounded memory (a live talk
 * runs for hours): tests tell which audio reached a cluster by its tone.
 */

/** Analysis frames: 100 ms holds at least two periods of anything above 20 Hz. */
const FRAME_S = 0.1;
/** Quieter frames (about −40 dBFS) carry no pitch: the silence the platform fills pauses with. */
const PITCH_GATE_RMS = 0.01;
/** A crossing counts once the signal has gone this far below zero, relative to the frame's RMS. */
const HYSTERESIS = 0.2;
/** Pitch histogram bins: a quarter tone wide, from 20 Hz. */
const BINS_PER_OCTAVE = 24;
const LOWEST_HZ = 20;
/** A frame within this ratio of a steady tone's pitch extends it. */
const TONE_TOLERANCE = 0.03;
/** Shorter runs (transitions between tones, speech) are not tones. */
const MIN_TONE_FRAMES = 3;
const TONES_KEPT = 32;

/** A run of frames at one pitch, placed in the decoded audio. */
export interface Tone {
  /** Seconds of audio decoded before it began. */
  readonly startS: number;
  readonly durationS: number;
  readonly hz: number;
}

export interface SignalSummary {
  /** Pitch holding most of the energy of the frames loud enough to have one; null if none. */
  readonly dominantHz: number | null;
  /** Mean of the 100 ms frames' RMS, full scale 1 (a full-scale sine is 0.707). */
  readonly rms: number;
  /** The last 32 steady tones, oldest first. */
  readonly tones: readonly Tone[];
}

interface OpenTone {
  startS: number;
  frames: number;
  hzSum: number;
}

/** Feed it decoded samples in any chunking; ask for a summary at any time. */
export class SignalMeter {
  private sampleRate = 0;
  private frame = new Float32Array(0);
  private filled = 0;
  /** Seconds of audio in completed frames. */
  private analysedS = 0;
  private frames = 0;
  private rmsSum = 0;
  /** Per histogram bin: energy, and energy × pitch. */
  private readonly bins = new Map<number, { energy: number; weightedHz: number }>();
  private readonly tones: Tone[] = [];
  private tone: OpenTone | null = null;

  push(samples: Float32Array, sampleRate: number): void {
    if (sampleRate !== this.sampleRate) this.restartFraming(sampleRate);
    let offset = 0;
    while (offset < samples.length) {
      const take = Math.min(samples.length - offset, this.frame.length - this.filled);
      this.frame.set(samples.subarray(offset, offset + take), this.filled);
      this.filled += take;
      offset += take;
      if (this.filled === this.frame.length) {
        this.analyse(this.frame);
        this.filled = 0;
      }
    }
  }

  summary(): SignalSummary {
    const tones = [...this.tones];
    if (this.tone && this.tone.frames >= MIN_TONE_FRAMES) tones.push(closeTone(this.tone));
    return {
      dominantHz: this.dominantHz(),
      rms: this.frames === 0 ? 0 : this.rmsSum / this.frames,
      tones: tones.slice(-TONES_KEPT),
    };
  }

  /** A new sample rate (a reconnect to a differently encoded stream) starts a new frame. */
  private restartFraming(sampleRate: number): void {
    this.sampleRate = sampleRate;
    this.frame = new Float32Array(Math.max(1, Math.round(sampleRate * FRAME_S)));
    this.filled = 0;
  }

  private analyse(frame: Float32Array): void {
    const rms = rootMeanSquare(frame);
    const startS = this.analysedS;
    this.analysedS += frame.length / this.sampleRate;
    this.frames += 1;
    this.rmsSum += rms;
    const hz = rms >= PITCH_GATE_RMS ? framePitchHz(frame, this.sampleRate, rms) : null;
    if (hz === null) {
      this.endTone();
      return;
    }
    const bin = Math.floor(BINS_PER_OCTAVE * Math.log2(hz / LOWEST_HZ));
    const energy = rms * rms;
    const entry = this.bins.get(bin) ?? { energy: 0, weightedHz: 0 };
    entry.energy += energy;
    entry.weightedHz += energy * hz;
    this.bins.set(bin, entry);
    const tone = this.tone;
    if (tone && Math.abs(hz - tone.hzSum / tone.frames) <= (TONE_TOLERANCE * tone.hzSum) / tone.frames) {
      tone.frames += 1;
      tone.hzSum += hz;
      return;
    }
    this.endTone();
    this.tone = { startS, frames: 1, hzSum: hz };
  }

  private endTone(): void {
    const tone = this.tone;
    this.tone = null;
    if (!tone || tone.frames < MIN_TONE_FRAMES) return;
    this.tones.push(closeTone(tone));
    if (this.tones.length > TONES_KEPT) this.tones.shift();
  }

  /** The strongest three neighbouring bins (a tone may straddle a bin edge), averaged by energy. */
  private dominantHz(): number | null {
    let best: { energy: number; weightedHz: number } | null = null;
    for (const bin of this.bins.keys()) {
      const around = [bin - 1, bin, bin + 1].map((b) => this.bins.get(b));
      const energy = around.reduce((sum, b) => sum + (b?.energy ?? 0), 0);
      if (best === null || energy > best.energy) {
        best = { energy, weightedHz: around.reduce((sum, b) => sum + (b?.weightedHz ?? 0), 0) };
      }
    }
    return best === null || best.energy === 0 ? null : best.weightedHz / best.energy;
  }
}

function closeTone(tone: OpenTone): Tone {
  return { startS: tone.startS, durationS: tone.frames * FRAME_S, hz: tone.hzSum / tone.frames };
}

export function rootMeanSquare(samples: Float32Array): number {
  let sum = 0;
  for (const x of samples) sum += x * x;
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

/**
 * Pitch of one frame from its rising zero crossings: the number of whole periods between the first
 * and the last crossing over the time between them, crossings placed between samples by linear
 * interpolation. Hysteresis keeps low-level noise from adding crossings. Null with fewer than two.
 */
export function framePitchHz(samples: Float32Array, sampleRate: number, rms: number): number | null {
  const threshold = -HYSTERESIS * rms;
  let armed = false;
  let first = -1;
  let last = -1;
  let crossings = 0;
  let previous = samples[0] ?? 0;
  for (let i = 1; i < samples.length; i++) {
    const x = samples[i] ?? 0;
    if (x < threshold) armed = true;
    else if (armed && x >= 0 && previous < 0) {
      const at = i - 1 + previous / (previous - x);
      if (first < 0) first = at;
      last = at;
      crossings += 1;
      armed = false;
    }
    previous = x;
  }
  return crossings < 2 || last <= first ? null : ((crossings - 1) * sampleRate) / (last - first);
}
