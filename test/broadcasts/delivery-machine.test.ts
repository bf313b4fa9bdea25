import { describe, expect, it } from 'vitest';
import type { DeliveryState } from '../../contracts/broadcasts.js';
import { type DeliveryInput, stepDelivery } from '../../services/broadcasts/delivery-machine.js';

const ts = 1_795_000_000_000;
const ack = (status: 'accepted' | 'rejected' | 'done' | 'failed', error?: string): DeliveryInput => ({
  type: 'ack',
  ack: { cmdId: 'cmd-00000001', status, ts, ...(error ? { error } : {}) },
});
const event = (
  type: 'playback-started' | 'playback-finished' | 'playback-failed',
  code?: string,
): DeliveryInput => ({
  type: 'event',
  event: { type, ts, cmdId: 'cmd-00000001', ...(code ? { code } : {}) },
});

describe('delivery states', () => {
  const cases: [string, DeliveryState, DeliveryInput, DeliveryState | null, string | null][] = [
    ['accepted after sending', 'sent', ack('accepted'), 'accepted', null],
    ['accepted even if the send was not yet recorded', 'scheduled', ack('accepted'), 'accepted', null],
    ['a repeated accepted changes nothing', 'accepted', ack('accepted'), null, null],
    ['a late accepted does not undo playing', 'playing', ack('accepted'), null, null],
    ['playing when playback starts', 'accepted', event('playback-started'), 'playing', null],
    ['done when playback finishes', 'playing', event('playback-finished', 'completed'), 'done', null],
    ['done on the final ack', 'playing', ack('done'), 'done', null],
    [
      'stopped when the device reports a stop',
      'playing',
      event('playback-finished', 'stopped'),
      'stopped',
      'stopped',
    ],
    [
      'pre-empted when a higher level took the speakers',
      'playing',
      event('playback-failed', 'busy'),
      'pre-empted',
      'busy',
    ],
    ['pre-empted when refused as busy', 'sent', ack('rejected', 'busy'), 'pre-empted', 'busy'],
    ['failed with the download error', 'accepted', ack('failed', 'fetch-failed'), 'failed', 'fetch-failed'],
    [
      'failed with the playback error',
      'playing',
      event('playback-failed', 'playback-error'),
      'failed',
      'playback-error',
    ],
    ['expired when the device got it too late', 'sent', ack('rejected', 'expired'), 'expired', 'expired'],
    [
      'stopped by the operator before it was sent',
      'scheduled',
      { type: 'stop' },
      'stopped',
      'stopped by operator',
    ],
    ['a re-sent done ack after done changes nothing', 'done', ack('done'), null, null],
    ['a final state is never rewritten', 'failed', event('playback-finished', 'completed'), null, null],
    ['stop after done changes nothing', 'done', { type: 'stop' }, null, null],
  ];
  it.each(cases)('%s', (_name, from, input, to, reason) => {
    const step = stepDelivery(from, input);
    if (to === null) {
      expect(step).toBeNull();
      return;
    }
    expect(step?.state).toBe(to);
    expect(step?.reason).toBe(reason);
  });
});
