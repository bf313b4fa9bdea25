import type { Random } from '../shared/prng.js';

export interface TelemetryConditions {
  weakSignal: boolean;
  overheat: boolean;
}

export interface TelemetrySample {
  rssiDbm: number;
  tempC: number;
  supplyV: number;
}

interface Band {
  centre: number;
  min: number;
  max: number;
  /** Largest change between two heartbeats. */
  step: number;
}

// A 4G module on a pole typically sits around -75 dBm; below -105 dBm it drops calls and packets.
const NORMAL_RSSI: Band = { centre: -75, min: -85, max: -65, step: 1.5 };
const WEAK_RSSI: Band = { centre: -107.5, min: -110, max: -105, step: 1 };
// The cabinet warms in the sun; an amplifier with a failed fan runs near 80 °C.
const NORMAL_TEMP: Band = { centre: 37, min: 30, max: 45, step: 0.4 };
const OVERHEAT_TEMP: Band = { centre: 80, min: 78, max: 82, step: 0.4 };
// A 12 V lead-acid battery on float charge.
const SUPPLY: Band = { centre: 13, min: 12, max: 13.8, step: 0.05 };

/** Mean-reverting random walks for the analogue heartbeat fields. */
export class TelemetryModel {
  private rssi = NORMAL_RSSI.centre;
  private temp = NORMAL_TEMP.centre;
  private supply = SUPPLY.centre;

  constructor(private readonly random: Random) {}

  next(conditions: TelemetryConditions): TelemetrySample {
    this.rssi = this.walk(this.rssi, conditions.weakSignal ? WEAK_RSSI : NORMAL_RSSI);
    this.temp = this.walk(this.temp, conditions.overheat ? OVERHEAT_TEMP : NORMAL_TEMP);
    this.supply = this.walk(this.supply, SUPPLY);
    return {
      rssiDbm: Math.round(this.rssi),
      tempC: Math.round(this.temp * 10) / 10,
      supplyV: Math.round(this.supply * 100) / 100,
    };
  }

  private walk(value: number, band: Band): number {
    // Entering a new band (a fault injected or cleared) jumps straight into it.
    const start = value < band.min || value > band.max ? band.centre : value;
    const noise = (this.random() - 0.5) * 2 * band.step;
    const pull = (band.centre - start) * 0.1;
    return Math.min(band.max, Math.max(band.min, start + noise + pull));
  }
}
