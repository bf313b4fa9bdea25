import type { MqttClient } from 'mqtt';
import type { TimerHandle } from '../../devices/index.js';
import type { ReconnectBackoff } from './reconnect-backoff.js';

/** One MQTT client of a cluster, from connect until the cluster ends it (reconnects included). */
export interface MqttSession {
  readonly client: MqttClient;
  /** State published and command topic subscribed since the last CONNACK. */
  ready: boolean;
  /** Aborted when the cluster ends this connection, so nothing waits on it forever. */
  readonly closed: AbortController;
  readonly backoff: ReconnectBackoff;
  /** The pending reconnect attempt, on the cluster's clock. */
  reconnectTimer: TimerHandle | null;
}

export class SessionClosedError extends Error {
  override readonly name = 'SessionClosedError';
}

/**
 * Waits for an MQTT.js operation, unless the session is ended first: MQTT.js keeps the callbacks
 * of queued or in-flight packets of an ended client pending, and stop() must not hang on them.
 */
export function untilClosed<T>(session: MqttSession, operation: Promise<T>): Promise<T> {
  return untilAborted(operation, session.closed.signal, () => new SessionClosedError('connection closed'));
}

/** Settles with the work, or rejects (with the signal's reason by default) as soon as it is aborted. */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  reason: () => unknown = () => signal.reason,
): Promise<T> {
  if (signal.aborted) return Promise.reject(reason());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(reason());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
