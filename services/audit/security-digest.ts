import type { Logger } from 'pino';
import type { BrokerSecurityEvent } from '../../broker/mqtt-broker.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { type AuditEntryInput, type AuditLog, bounded } from './audit-log.js';

/** The longest username, client id or topic kept from a refused device; the rest is counted. */
export const SECURITY_FIELD_MAX = 200;
/** Sources followed at once within a window; the rest share one row. */
const MAX_SOURCES = 1_000;
const OTHER_SOURCES = '(other sources)';

/** A broker security event, or a device credential refused on the media route (`via: 'media'`). */
type Counted = Exclude<BrokerSecurityEvent, { type: 'oversized-packet' }> & { via?: 'mqtt' | 'media' };

interface Source {
  first: AuditEntryInput;
  repeats: number;
}

/**
 * Refused MQTT logins and ACL denials into the audit log and the log file, bounded: the first
 * event of each source (kind, address, reason, and for denials the client) in a window is written
 * at once, with usernames and topics cut to SECURITY_FIELD_MAX; its repeats are only counted, and
 * when the window closes one row and one log line say how many there were. One address flooding
 * CONNECTs with 60 KB usernames, or one device hammering a topic it may not use, so costs two rows
 * a minute instead of one each.
 */
export class SecurityEventDigest {
  private readonly log: Logger;
  private sources = new Map<string, Source>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly options: {
      audit: AuditLog;
      clock: Clock;
      logger: Logger;
      /** How long repeats are counted before their row is written (default one minute). */
      windowMs?: number;
    },
  ) {
    this.log = options.logger.child({ component: 'security' });
  }

  start(): void {
    this.timer = this.options.clock.setInterval(() => this.flush(), this.options.windowMs ?? 60_000);
  }

  stop(): void {
    if (this.timer) this.options.clock.clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }

  record(event: Counted): void {
    const entry = toEntry(event);
    let key = [
      event.type,
      event.address,
      event.reason,
      event.type === 'acl-denied' ? event.clientId : '',
    ].join('\u0000');
    if (!this.sources.has(key) && this.sources.size >= MAX_SOURCES) key = OTHER_SOURCES;
    const known = this.sources.get(key);
    if (known) {
      known.repeats += 1;
      return;
    }
    this.sources.set(key, { first: entry, repeats: 0 });
    this.options.audit.record(entry);
    this.log.warn(
      { action: entry.action, actor: entry.actor.name, address: entry.address, detail: entry.detail },
      event.type === 'auth-failed' ? 'device login refused' : 'MQTT ACL denied',
    );
  }

  /** Writes one row per source that repeated in the window, and starts a new window. */
  flush(): void {
    const ended = this.sources;
    this.sources = new Map();
    for (const [key, source] of ended) {
      if (source.repeats === 0) continue;
      const { first } = source;
      const detail = { ...(first.detail as Record<string, unknown>), repeated: source.repeats };
      this.options.audit.record({
        ...first,
        ...(key === OTHER_SOURCES ? { address: null, actor: { type: 'device', name: OTHER_SOURCES } } : {}),
        detail,
      });
      this.log.warn(
        { action: first.action, address: first.address, repeated: source.repeats },
        'security events repeated',
      );
    }
  }
}

function toEntry(event: Counted): AuditEntryInput {
  const clientId = bounded(event.clientId, SECURITY_FIELD_MAX);
  if (event.type === 'auth-failed') {
    const name = bounded(event.username ?? event.clientId, SECURITY_FIELD_MAX);
    return {
      actor: { type: 'device', id: clientId, name },
      action: event.via === 'media' ? 'media.device-login' : 'mqtt.login',
      target: { type: 'device', id: name },
      outcome: 'denied',
      address: event.address,
      detail: { reason: event.reason, clientId },
    };
  }
  return {
    actor: { type: 'device', id: clientId, name: clientId },
    action: `mqtt.${event.action}`,
    target: { type: 'topic', id: bounded(event.topic, SECURITY_FIELD_MAX) },
    outcome: 'denied',
    address: event.address,
    detail: { reason: event.reason },
  };
}
