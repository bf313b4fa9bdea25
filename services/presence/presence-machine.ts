import type { PresenceReason } from '../event-bus.js';

export interface PresenceState {
  online: boolean;
  since: number;
  reason: PresenceReason;
  /** An MQTT session is open (known only with the embedded broker). */
  connected: boolean;
}

export type PresenceInput =
  | { type: 'connected' }
  | { type: 'disconnected'; end: 'disconnect' | 'will' | 'connection-lost' }
  | { type: 'state'; online: boolean }
  | { type: 'heartbeat' }
  | { type: 'heartbeat-timeout' };

export interface PresenceStep {
  state: PresenceState;
  /** Set when online flipped: the reason goes into the history and onto the event bus. */
  change: { online: boolean; reason: PresenceReason } | null;
  /** Whether the heartbeat deadline should be (re)armed from now, cleared, or left alone. */
  deadline: 'arm' | 'clear' | 'keep';
}

/**
 * The presence rules, free of timers and I/O. A device is online from its connect, an
 * `online:true` state or a heartbeat; it goes offline when its session ends (a clean DISCONNECT,
 * or a lost connection, with or without a will), on an `online:false` state (an announced shutdown,
 * or its last will) or when heartbeats stop for longer than its timeout.
 */
export function stepPresence(
  current: PresenceState | undefined,
  input: PresenceInput,
  now: number,
): PresenceStep {
  const prev: PresenceState = current ?? {
    online: false,
    since: now,
    reason: 'disconnect',
    connected: false,
  };
  const goOnline = (reason: PresenceReason, connected = prev.connected): PresenceStep =>
    prev.online
      ? // Unchanged (every heartbeat of an online device): the same state, not a copy of it.
        { state: prev.connected === connected ? prev : { ...prev, connected }, change: null, deadline: 'arm' }
      : {
          state: { online: true, since: now, reason, connected },
          change: { online: true, reason },
          deadline: 'arm',
        };
  const goOffline = (reason: PresenceReason, connected = prev.connected): PresenceStep =>
    prev.online
      ? {
          state: { online: false, since: now, reason, connected },
          change: { online: false, reason },
          deadline: 'clear',
        }
      : { state: { ...prev, connected }, change: null, deadline: 'clear' };

  switch (input.type) {
    case 'connected':
      return goOnline('connect', true);
    case 'disconnected':
      return goOffline(input.end, false);
    case 'state':
      if (input.online) return goOnline('state');
      // Said over a live session, `online:false` announces a shutdown; otherwise it is the will,
      // delivered by the broker after the session was lost (always the case via an external broker,
      // whose sessions the platform cannot see).
      return goOffline(prev.connected ? 'shutdown' : 'will');
    case 'heartbeat':
      return goOnline('heartbeat');
    case 'heartbeat-timeout':
      return goOffline('heartbeat-timeout');
  }
}
