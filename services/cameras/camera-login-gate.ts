import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../devices/index.js';
import type { CameraHealth } from '../../devices/onvif-camera/index.js';
import {
  afterLoginPoll,
  type LoginBackoff,
  type LoginBackoffConfig,
  minutesUntil,
  nextLoginAt,
  noLoginBackoff,
  resetLoginBackoff,
} from '../../devices/onvif-camera/login-backoff.js';
import type { CameraHealthStore } from './camera-health-store.js';

/** The credentials a poll would send, as the camera store hands them to the poller. */
export interface PollCredentials {
  xaddr: string;
  username: string;
  password: string;
  snapshotUsername?: string | null | undefined;
  snapshotPassword?: string | null | undefined;
}

/** A device is its service origin: every channel of an NVR logs in to the same one. */
export function deviceOf(xaddr: string): string {
  try {
    return new URL(xaddr).origin;
  } catch {
    return xaddr;
  }
}

/** Tells credentials apart without keeping them: a hash held in memory only, never stored. */
function fingerprint(c: PollCredentials): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        c.xaddr,
        c.username,
        c.password,
        c.snapshotUsername ?? null,
        c.snapshotPassword ?? null,
      ]),
    )
    .digest('hex');
}

const same = (a: LoginBackoff, b: LoginBackoff) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The login backoff of every device (devices/onvif-camera/login-backoff.ts), applied by the
 * poller: whether a poll may send credentials, what it learnt, and what police read meanwhile.
 * Kept in SQLite, so a restart does not resume at full rate against a camera that locks accounts.
 */
export class CameraLoginGate {
  private readonly devices = new Map<string, { backoff: LoginBackoff }>();
  /** The credentials each device was last polled with, as a hash. */
  private readonly polledWith = new Map<string, string>();

  constructor(
    private readonly deps: {
      store: Pick<CameraHealthStore, 'loginBackoffs' | 'saveLoginBackoff'>;
      clock: Clock;
      logger: Logger;
      config: LoginBackoffConfig;
    },
  ) {}

  /** Backoffs written in the order they changed, one write after another. */
  private writes: Promise<void> = Promise.resolve();

  async load(): Promise<void> {
    for (const [device, backoff] of await this.deps.store.loginBackoffs()) {
      this.devices.set(device, { backoff });
    }
  }

  /**
   * Before a poll: a technician's poll, or credentials changed since the last poll (or, after a
   * restart, a camera edited since the last refusal), end the exponential wait. Returns why no
   * credentials may be sent now, or undefined when they may.
   */
  beforePoll(
    credentials: PollCredentials,
    options: { manual: boolean; editedSince: (at: number) => boolean },
  ): string | undefined {
    const device = deviceOf(credentials.xaddr);
    const key = fingerprint(credentials);
    const previous = this.polledWith.get(device);
    this.polledWith.set(device, key);
    const entry = this.devices.get(device);
    if (!entry) return undefined;
    const { backoff } = entry;
    const changed =
      previous !== undefined
        ? previous !== key
        : backoff.lastRefusedAt !== null && options.editedSince(backoff.lastRefusedAt);
    if ((changed || options.manual) && backoff.failures > 0) {
      this.deps.logger.info(
        { device, cause: changed ? 'credentials changed' : 'manual poll' },
        'camera login backoff reset',
      );
      this.set(device, resetLoginBackoff(backoff));
    }
    const now = this.deps.clock.now();
    const current = this.devices.get(device)?.backoff ?? noLoginBackoff;
    const next = nextLoginAt(current, now, this.deps.config);
    if (next === null) return undefined;
    return `${this.why(current, now)}; next try in ${minutesUntil(next, now)} min to avoid locking the account`;
  }

  /**
   * Why no credentials may go to the device now, or undefined: for anything else that logs in to
   * cameras (event subscriptions), so all of the platform keeps within one bound.
   */
  heldBack(xaddr: string): string | undefined {
    const backoff = this.devices.get(deviceOf(xaddr))?.backoff;
    if (!backoff) return undefined;
    const now = this.deps.clock.now();
    const next = nextLoginAt(backoff, now, this.deps.config);
    if (next === null) return undefined;
    return `${this.why(backoff, now)}; next try in ${minutesUntil(next, now)} min to avoid locking the account`;
  }

  /** After a poll that sent credentials: refused logins lengthen the wait, an accepted one ends it. */
  afterPoll(
    xaddr: string,
    poll: { refusedLogins: number; authOk: boolean | null; loginSkipped: boolean; refusal: string | null },
  ): void {
    if (poll.loginSkipped) return;
    const device = deviceOf(xaddr);
    const before = this.devices.get(device)?.backoff ?? noLoginBackoff;
    const after = afterLoginPoll(before, {
      at: this.deps.clock.now(),
      refused: poll.refusedLogins,
      loggedIn: poll.authOk === true && poll.refusedLogins === 0,
      cause: poll.refusal ?? undefined,
    });
    if (same(before, after)) return;
    if (poll.refusedLogins > 0) {
      this.deps.logger.warn(
        { device, failures: after.failures, refusedLastHour: after.refusedAt.length, refusal: poll.refusal },
        'camera refused the login; backing off',
      );
    }
    this.set(device, after);
  }

  /**
   * The health detail while a device is backed off, or null: why, and when the next login goes
   * ("login refused (…); next try in 4 min to avoid locking the account").
   */
  detail(xaddr: string, health: CameraHealth): string | null {
    const entry = this.devices.get(deviceOf(xaddr));
    if (!entry || health.state === 'offline') return null;
    const now = this.deps.clock.now();
    const next = nextLoginAt(entry.backoff, now, this.deps.config);
    if (next === null) return null;
    const wait = `next try in ${minutesUntil(next, now)} min to avoid locking the account`;
    // A camera degraded by a refused RTSP or snapshot login keeps that detail first.
    if (health.state === 'degraded') return `${health.reason.detail}; ${wait}`;
    return `login refused (${entry.backoff.cause ?? 'no cause recorded'}); ${wait}`;
  }

  /** Refused logins of the device in the last hour, for diagnostics. */
  refusedLastHour(xaddr: string): number {
    const now = this.deps.clock.now();
    return (this.devices.get(deviceOf(xaddr))?.backoff.refusedAt ?? []).filter((at) => at > now - 3_600_000)
      .length;
  }

  private why(backoff: LoginBackoff, now: number): string {
    const hour = backoff.refusedAt.filter((at) => at > now - 3_600_000).length;
    if (hour >= this.deps.config.maxRefusedPerHour) return `${hour} logins refused in the last hour`;
    return `login refused ${backoff.failures} time${backoff.failures === 1 ? '' : 's'} in a row`;
  }

  private set(device: string, backoff: LoginBackoff): void {
    const entry = this.devices.get(device);
    if (entry) entry.backoff = backoff;
    else this.devices.set(device, { backoff });
    const empty = backoff.failures === 0 && backoff.refusedAt.length === 0;
    if (empty) this.devices.delete(device);
    // A failed write only loses the backoff across a restart; the poll itself is recorded anyway.
    // Writes are chained, so the last state of a device is the one stored.
    const state = empty ? null : { ...backoff, refusedAt: [...backoff.refusedAt] };
    const at = this.deps.clock.now();
    this.writes = this.writes
      .then(() => this.deps.store.saveLoginBackoff(device, state, at))
      .catch((err: unknown) =>
        this.deps.logger.warn({ err, device }, 'camera login backoff could not be stored'),
      );
  }

  /** Resolves once every backoff changed so far is stored (or failed to be). */
  settled(): Promise<void> {
    return this.writes;
  }
}
