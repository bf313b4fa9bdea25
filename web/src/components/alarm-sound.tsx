import { useSyncExternalStore } from 'react';
import { useTranslation } from 'react-i18next';
import { type AlarmEvent, useAlarmChanges } from '../api/live';

const STORAGE_KEY = 'smart-commune.alarm-sound-muted';
/** Alarms that open together (a village's clusters after one power cut) ring once. */
const QUIET_AFTER_BEEP_MS = 2_000;

interface SoundState {
  muted: boolean;
  /** Beeps rung since the console opened: what a browser test reads, as `data-beeps`. */
  beeps: number;
}

/**
 * The console's alarm bell: a short tone made with Web Audio (no audio file to fetch or cache),
 * and whether the person at this browser silenced it, kept across sessions.
 */
export class AlarmSound {
  private state: SoundState = { muted: readMuted(), beeps: 0 };
  private readonly listeners = new Set<() => void>();
  private context: AudioContext | null = null;
  private lastBeepAt = Number.NEGATIVE_INFINITY;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): SoundState => this.state;

  setMuted(muted: boolean): void {
    try {
      localStorage.setItem(STORAGE_KEY, muted ? '1' : '0');
    } catch (error) {
      // Private browsing may refuse storage: the choice then holds for this tab only.
      console.warn('alarm sound choice not kept', error);
    }
    this.set({ muted });
  }

  /** Rings unless muted or a beep just rang. */
  beep(): void {
    const now = performance.now();
    if (this.state.muted || now - this.lastBeepAt < QUIET_AFTER_BEEP_MS) return;
    this.lastBeepAt = now;
    this.set({ beeps: this.state.beeps + 1 });
    try {
      this.tone();
    } catch (error) {
      // A browser without Web Audio still shows the alarm and its count; say why it was silent.
      console.warn('alarm beep could not play', error);
    }
  }

  /** Two short 880 Hz pulses, faded in and out so they do not click. */
  private tone(): void {
    this.context ??= new AudioContext();
    const context = this.context;
    // Browsers start audio suspended until the page was used; the console has been by now.
    if (context.state === 'suspended')
      context.resume().catch((error: unknown) => console.warn('alarm sound suspended', error));
    const start = context.currentTime;
    for (const offset of [0, 0.3]) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'sine';
      oscillator.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.22);
    }
  }

  private set(patch: Partial<SoundState>): void {
    this.state = { ...this.state, ...patch };
    for (const listener of this.listeners) listener();
  }
}

function readMuted(): boolean {
  try {
    return localStorage.getItem(STORAGE_KEY) === '1';
  } catch {
    // No storage, no remembered choice: the bell rings, as it should by default.
    return false;
  }
}

export const alarmSound = new AlarmSound();

export function useAlarmSound(): SoundState {
  return useSyncExternalStore(alarmSound.subscribe, alarmSound.getState);
}

/** A new critical alarm rings, unless its device is under maintenance (held alarms reach nobody). */
export function ringsFor(event: AlarmEvent): boolean {
  return (
    event !== null &&
    'alarm' in event &&
    event.alarm.change === 'opened' &&
    event.alarm.severity === 'critical' &&
    !event.alarm.held
  );
}

/** Rings the bell for every new critical alarm while mounted (the navigation's badge, on every page). */
export function useAlarmBell(): void {
  useAlarmChanges((event) => {
    if (ringsFor(event)) alarmSound.beep();
  });
}

/** The mute switch, with the count of beeps rung for tests to read. */
export function AlarmSoundToggle() {
  const { t } = useTranslation();
  const { muted, beeps } = useAlarmSound();
  return (
    <button
      type="button"
      aria-pressed={muted}
      onClick={() => alarmSound.setMuted(!muted)}
      data-testid="alarm-sound-toggle"
      data-muted={String(muted)}
      data-beeps={beeps}
    >
      {muted ? t('alarms.soundOff') : t('alarms.soundOn')}
    </button>
  );
}
