import { describe, expect, it } from 'vitest';
import {
  type PresenceInput,
  type PresenceState,
  stepPresence,
} from '../../services/presence/presence-machine.js';

const offline: PresenceState = { online: false, since: 0, reason: 'disconnect', connected: false };
const online: PresenceState = { online: true, since: 0, reason: 'connect', connected: true };

describe('presence rules', () => {
  const cases: [string, PresenceState | undefined, PresenceInput, boolean, string | null, string][] = [
    ['connect brings an unknown device online', undefined, { type: 'connected' }, true, 'connect', 'arm'],
    ['a heartbeat brings an offline device online', offline, { type: 'heartbeat' }, true, 'heartbeat', 'arm'],
    ['state online:true brings it online', offline, { type: 'state', online: true }, true, 'state', 'arm'],
    ['a heartbeat while online re-arms the deadline only', online, { type: 'heartbeat' }, true, null, 'arm'],
    [
      'state online:false over a live session is a shutdown',
      online,
      { type: 'state', online: false },
      false,
      'shutdown',
      'clear',
    ],
    [
      'state online:false with no session seen is the will',
      { ...online, connected: false },
      { type: 'state', online: false },
      false,
      'will',
      'clear',
    ],
    [
      'a clean disconnect takes it offline',
      online,
      { type: 'disconnected', end: 'disconnect' },
      false,
      'disconnect',
      'clear',
    ],
    [
      'a lost connection with a will: reason "will"',
      online,
      { type: 'disconnected', end: 'will' },
      false,
      'will',
      'clear',
    ],
    [
      'a silent drop: reason "connection-lost"',
      online,
      { type: 'disconnected', end: 'connection-lost' },
      false,
      'connection-lost',
      'clear',
    ],
    [
      'a missed deadline takes it offline',
      online,
      { type: 'heartbeat-timeout' },
      false,
      'heartbeat-timeout',
      'clear',
    ],
    [
      'a disconnect after the will changes nothing',
      offline,
      { type: 'disconnected', end: 'will' },
      false,
      null,
      'clear',
    ],
    [
      'a late timeout while offline changes nothing',
      offline,
      { type: 'heartbeat-timeout' },
      false,
      null,
      'clear',
    ],
  ];
  it.each(cases)('%s', (_name, current, input, expectOnline, expectReason, expectDeadline) => {
    const step = stepPresence(current, input, 1_000);
    expect(step.state.online).toBe(expectOnline);
    expect(step.change?.reason ?? null).toBe(expectReason);
    expect(step.deadline).toBe(expectDeadline);
    if (step.change) expect(step.state.since).toBe(1_000);
  });

  it('remembers that the session is still open after a heartbeat timeout', () => {
    const step = stepPresence(online, { type: 'heartbeat-timeout' }, 5);
    expect(step.state).toEqual({ online: false, since: 5, reason: 'heartbeat-timeout', connected: true });
  });
});
