import type { Logger } from 'pino';
import type {
  AckStatus,
  CommandOf,
  PayloadInput,
  SelftestResult,
  SpeakerStatus,
} from '../../devices/index.js';
import type { ClockTimers } from './clock-timers.js';
import type { FaultKind } from './faults.js';
import { type FirmwareProgress, runFirmwareUpdate } from './firmware-update.js';
import type { MediaFetchError } from './media-fetcher.js';
import { runSelftest } from './selftest.js';

/** Results kept for repeated acks: a drill's result is re-sent with every repeat of its ack. */
const RESULTS_KEPT = 16;

/** What the maintenance commands need of the cluster that runs them. */
export interface MaintenanceHost {
  timers: ClockTimers;
  log: Logger;
  /** The cluster's clock, in whole milliseconds. */
  now(): number;
  /** On the network now (events can be sent). */
  connected(): boolean;
  /** A bulletin is audible now. */
  playing(): boolean;
  hasFault(kind: FaultKind): boolean;
  /** The download-fail fault's error when it fails this download (and counts it), else null. */
  takeDownloadFault(): MediaFetchError | null;
  speakerLines(): SpeakerStatus[];
  queueAck(cmdId: string, status: AckStatus, outcome?: { error?: string }): void;
  publishEvent(event: PayloadInput<'event'>): Promise<void>;
  /** Changes on every boot and power loss. */
  powerCycle(): number;
  /** State offline, DISCONNECT, boot again after the reboot time (as for a `reboot` command). */
  restart(cycle: number, reason: 'firmware-update'): Promise<void>;
  /** Runs work in the background; the cluster's stop waits for it. */
  track(work: Promise<void>): void;
}

export interface MaintenanceTimings {
  /** A download must be complete within this long (the cluster's media timeout). */
  downloadTimeoutMs: number;
  installMs: number;
  selftestMs: number;
}

/**
 * A cluster's `selftest` and `firmware` commands (docs/protocol.md 7), and what they leave in flash:
 * the firmware version it runs and an update waiting for its reboot.
 */
export class Maintenance {
  private readonly results = new Map<string, SelftestResult>();
  /** Work under way; a power loss aborts it. */
  private readonly work = new Set<AbortController>();
  private firmwareWork: AbortController | null = null;
  /** An update rebooting into its image: acked done once the cluster is back with it. */
  private pending: { cmdId: string; version: string } | null = null;

  constructor(
    private readonly host: MaintenanceHost,
    private readonly timings: MaintenanceTimings,
    /** The firmware version running; an update changes it. */
    private version: string,
  ) {}

  get fw(): string {
    return this.version;
  }

  /** The selftest result a `done` ack of this command carries, if it is one. */
  resultOf(cmdId: string): SelftestResult | undefined {
    return this.results.get(cmdId);
  }

  /** The power went: work under way is lost, as on a cluster. */
  powerLost(why: string): void {
    for (const work of this.work) work.abort(new Error(why));
    this.work.clear();
  }

  /** Booted and online: an update that rebooted into its image is done. */
  booted(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.host.log.info({ cmdId: pending.cmdId, version: pending.version }, 'running the new firmware');
    this.host.queueAck(pending.cmdId, 'done');
  }

  /**
   * A readiness drill: accepted, then the test file is fetched and decoded and the lines measured;
   * the done ack carries a result per check. Not while a bulletin plays or firmware installs.
   */
  selftest(command: CommandOf<'selftest'>): void {
    const { host } = this;
    if (host.playing() || this.updating()) {
      host.queueAck(command.id, 'rejected', { error: 'busy' });
      return;
    }
    host.queueAck(command.id, 'accepted');
    const work = this.begin();
    const run = runSelftest(command, {
      timers: host.timers,
      signal: work.signal,
      timeoutMs: this.timings.downloadTimeoutMs,
      checkMs: this.timings.selftestMs,
      downloadFault: () => host.takeDownloadFault(),
      amplifierFault: () => (host.hasFault('playback-fail') ? 'amplifier' : null),
      speakers: () => host.speakerLines(),
      log: host.log,
    });
    host.track(
      run.then((result) => {
        this.work.delete(work);
        if (result === null || work.signal.aborted) return;
        this.results.set(command.id, result);
        while (this.results.size > RESULTS_KEPT)
          this.results.delete(this.results.keys().next().value as string);
        host.log.info({ cmdId: command.id, result }, 'selftest done');
        host.queueAck(command.id, 'done');
      }),
    );
  }

  /**
   * A firmware update: accepted, then download, verify and install, each reported; then a reboot
   * into the image and ack done once back with it, or ack failed (a failed install rolled back).
   */
  updateFirmware(command: CommandOf<'firmware'>): void {
    const { host } = this;
    if (command.version === this.version) {
      host.queueAck(command.id, 'done');
      return;
    }
    if (this.updating()) {
      host.queueAck(command.id, 'rejected', { error: 'busy' });
      return;
    }
    host.queueAck(command.id, 'accepted');
    const cycle = host.powerCycle();
    const work = this.begin();
    this.firmwareWork = work;
    // Reports go out in order, but the update does not wait on them: a cluster whose link or
    // platform is down installs all the same, and is judged by the version it comes back with.
    const report = (step: FirmwareProgress) =>
      host.publishEvent({ type: 'firmware-progress', ts: host.now(), cmdId: command.id, ...step });
    const progress = async (step: FirmwareProgress) => host.track(report(step));
    const run = runFirmwareUpdate(command, {
      timers: host.timers,
      signal: work.signal,
      timeoutMs: this.timings.downloadTimeoutMs,
      installMs: this.timings.installMs,
      downloadFault: () => host.takeDownloadFault(),
      installFails: () => host.hasFault('firmware-fail'),
      runningVersion: () => this.version,
      progress,
      log: host.log,
    });
    host.track(
      run.then(async (outcome) => {
        this.work.delete(work);
        if (this.firmwareWork === work) this.firmwareWork = null;
        if (outcome === null || cycle !== host.powerCycle()) return;
        if (outcome.kind === 'failed') {
          host.queueAck(command.id, 'failed', { error: outcome.error });
          return;
        }
        // The image is in flash: the next boot runs it, and says so by the acked update.
        this.pending = { cmdId: command.id, version: command.version };
        this.version = command.version;
        // The reboot is announced before the connection ends, when there is one to announce it on.
        if (host.connected()) await report({ stage: 'reboot', ok: true });
        else host.track(report({ stage: 'reboot', ok: true }));
        await host.restart(cycle, 'firmware-update');
      }),
    );
  }

  private begin(): AbortController {
    const work = new AbortController();
    this.work.add(work);
    return work;
  }

  /** An update is downloading, verifying or installing, or rebooting into its image. */
  private updating(): boolean {
    return (this.firmwareWork !== null && !this.firmwareWork.signal.aborted) || this.pending !== null;
  }
}
