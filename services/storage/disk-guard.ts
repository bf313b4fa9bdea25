import { closeSync, existsSync, openSync, statfsSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { InsufficientStorageError } from '../errors.js';
import { type StorageFailure, storageFailure } from './storage-errors.js';

export type DiskState = 'ok' | 'low' | 'full';

export interface DiskStatus {
  state: DiskState;
  freeBytes: number | null;
  totalBytes: number | null;
  /** Space held back for emergency bulletins; 0 once it was given up to record one. */
  reserveBytes: number;
  lastError: string | null;
  lastErrorAt: number | null;
}

export interface DiskGuardOptions {
  dir: string;
  /** How much space to hold back for emergency bulletins (0: none). */
  reserveBytes: number;
  clock: Clock;
  logger: Logger;
  /** How often free space is measured; default 10 s. */
  checkEveryMs?: number;
}

/** The file that holds the reserve: plain zeros, safe to delete by hand to free space. */
export const RESERVE_FILE = 'space-reserve';
/** An upload must leave this much free beside itself. */
const UPLOAD_MARGIN_BYTES = 1024 * 1024;
/** Below this the disk counts as full whatever SQLite last said. */
const FULL_BELOW_BYTES = 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024);

/**
 * Watches the data disk and holds a reserve of space for emergency bulletins. A disk that fills
 * (history, uploads, logs of other programs) would otherwise make the one write that matters most,
 * an emergency's record, fail; the reserve is a file of zeros that is deleted the first time such
 * a write finds the disk full, so the bulletin is recorded and sent, and written again once the
 * disk has room. The state (ok, low, full) and the last write error are shown on /healthz.
 */
export class DiskGuard {
  private readonly log: Logger;
  private readonly reservePath: string;
  private reserveHeld = 0;
  private lastError: string | null = null;
  private lastErrorAt: number | null = null;
  /** A write found the disk full, and free space has not come back since. */
  private fullSince: number | null = null;
  private timer: TimerHandle | null = null;
  private measured: { free: number; total: number } | null = null;

  constructor(private readonly options: DiskGuardOptions) {
    this.log = options.logger.child({ component: 'disk' });
    this.reservePath = join(options.dir, RESERVE_FILE);
  }

  /**
   * Measures the disk and takes the reserve. Called before the database opens: on a disk already
   * full, the reserve an earlier run left is given up first, so the platform can start and send.
   */
  start(): void {
    this.reserveHeld = this.reserveSize();
    this.measure();
    if (this.measured && this.measured.free < FULL_BELOW_BYTES && this.reserveHeld > 0) {
      this.releaseReserve('the disk was full at start');
    } else {
      this.takeReserve();
    }
    this.timer = this.options.clock.setInterval(() => this.check(), this.options.checkEveryMs ?? 10_000);
  }

  stop(): void {
    if (this.timer) this.options.clock.clearInterval(this.timer);
    this.timer = null;
  }

  /** Records a failed write; returns what it was when it was a storage failure. */
  noteWriteError(error: unknown): StorageFailure | null {
    const failure = storageFailure(error);
    if (!failure) return null;
    const now = this.options.clock.now();
    const first = this.lastErrorAt === null || now - this.lastErrorAt > 60_000;
    this.lastError = `${failure.code}: ${failure.cause}`;
    this.lastErrorAt = now;
    if (failure.kind === 'full') this.fullSince ??= now;
    // One line a minute at most: a full disk fails every write, every second.
    if (first) this.log.error({ code: failure.code }, `a write failed: ${failure.cause}`);
    return failure;
  }

  /**
   * An emergency's record could not be written for want of space: gives up the reserve. Returns
   * whether space was freed, so the write is worth trying again.
   */
  makeRoomForEmergency(error: unknown): boolean {
    const failure = this.noteWriteError(error);
    if (failure?.kind !== 'full') return false;
    return this.releaseReserve('an emergency bulletin needed the space');
  }

  /** Refuses (507) a write of `bytes` that would leave the disk without room. */
  assertRoomFor(bytes: number): void {
    this.measure();
    const free = this.measured?.free;
    if (free === undefined) return;
    if (free - bytes < UPLOAD_MARGIN_BYTES || this.state() === 'full') {
      throw new InsufficientStorageError(
        `the platform's data disk has no room for this (${formatBytes(free)} free, ` +
          `${formatBytes(bytes)} needed); free space on it and try again`,
        { freeBytes: free, neededBytes: bytes },
      );
    }
  }

  /** Measured now (one statfs call: cheap enough for every /healthz). */
  status(): DiskStatus {
    this.measure();
    return {
      state: this.state(),
      freeBytes: this.measured?.free ?? null,
      totalBytes: this.measured?.total ?? null,
      reserveBytes: this.reserveHeld,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
    };
  }

  /** Measures now and, when room is back, ends the full state and takes the reserve again. */
  check(): void {
    this.measure();
    const free = this.measured?.free;
    if (free === undefined) return;
    const wanted = this.options.reserveBytes;
    if (this.fullSince !== null && free >= Math.max(FULL_BELOW_BYTES, wanted - this.reserveHeld) * 2) {
      this.log.info({ freeBytes: free }, 'the data disk has room again');
      this.fullSince = null;
    }
    if (this.fullSince === null) this.takeReserve();
  }

  private state(): DiskState {
    const m = this.measured;
    if (this.fullSince !== null || (m && m.free < FULL_BELOW_BYTES)) return 'full';
    if (
      m &&
      (m.free < Math.max(2 * this.options.reserveBytes, 16 * FULL_BELOW_BYTES) || m.free < m.total * 0.05)
    )
      return 'low';
    return 'ok';
  }

  private measure(): void {
    try {
      const s = statfsSync(this.options.dir);
      this.measured = { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
    } catch (error) {
      this.measured = null;
      this.log.debug({ err: error }, 'could not measure the data disk');
    }
  }

  private reserveSize(): number {
    try {
      return existsSync(this.reservePath) ? statSync(this.reservePath).size : 0;
    } catch {
      return 0;
    }
  }

  /** Writes the reserve up to its size while that leaves the disk with room for the reserve again. */
  private takeReserve(): void {
    const wanted = this.options.reserveBytes;
    if (this.reserveHeld >= wanted) return;
    const free = this.measured?.free;
    if (free === undefined || free < (wanted - this.reserveHeld) * 2 + FULL_BELOW_BYTES) return;
    let fd: number | null = null;
    try {
      fd = openSync(this.reservePath, 'a', 0o600);
      while (this.reserveHeld < wanted) {
        const n = Math.min(CHUNK.length, wanted - this.reserveHeld);
        writeSync(fd, CHUNK, 0, n);
        this.reserveHeld += n;
      }
      this.log.debug({ reserveBytes: this.reserveHeld }, 'space reserved for emergency bulletins');
    } catch (error) {
      this.noteWriteError(error);
      this.log.warn({ err: error }, 'could not reserve space for emergency bulletins');
    } finally {
      if (fd !== null) closeSync(fd);
    }
    this.measure();
  }

  private releaseReserve(why: string): boolean {
    if (this.reserveHeld === 0) return false;
    try {
      unlinkSync(this.reservePath);
    } catch (error) {
      this.log.error({ err: error }, 'could not release the space reserved for emergency bulletins');
      return false;
    }
    this.log.error(
      { releasedBytes: this.reserveHeld },
      `the data disk is full: released the space reserved for emergency bulletins (${why})`,
    );
    this.fullSince ??= this.options.clock.now();
    this.reserveHeld = 0;
    this.measure();
    return true;
  }
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / 1024 ** 3).toFixed(1)} GiB`;
  if (n >= 1024 * 1024) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}
