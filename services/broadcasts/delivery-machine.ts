import type { DeliveryState } from '../../contracts/broadcasts.js';
import type { Ack, DeviceEvent } from '../../devices/index.js';
import { FINAL_DELIVERY_STATES } from './types.js';

export type DeliveryInput =
  | { type: 'ack'; ack: Ack }
  | { type: 'event'; event: DeviceEvent }
  | { type: 'stop'; reason?: string };

export interface DeliveryStep {
  state: DeliveryState;
  reason: string | null;
  /** Which timestamp the step sets, if any. */
  stamp: 'accepted' | 'started' | 'finished' | null;
}

const isFinal = (state: DeliveryState) => FINAL_DELIVERY_STATES.includes(state);

/** A device refuses or abandons a play with `busy` when a higher level holds the speakers. */
const outcomeOf = (code: string | undefined): { state: DeliveryState; reason: string } =>
  code === 'busy'
    ? { state: 'pre-empted', reason: 'busy' }
    : code === 'expired'
      ? { state: 'expired', reason: 'expired' }
      : { state: 'failed', reason: code ?? 'failed' };

/**
 * How a cluster's delivery moves on what the cluster reports (docs/protocol.md, section 7):
 * scheduled → sent → accepted → playing → done, or failed / pre-empted / expired / stopped. A
 * final state never changes, so a re-sent ack (the device answering a retry of a command it has
 * already handled) or a late event cannot rewrite history. Returns null when nothing changes.
 */
export function stepDelivery(current: DeliveryState, input: DeliveryInput): DeliveryStep | null {
  if (isFinal(current)) return null;
  if (input.type === 'stop')
    return { state: 'stopped', reason: input.reason ?? 'stopped by operator', stamp: 'finished' };
  if (input.type === 'ack') {
    const { status, error } = input.ack;
    if (status === 'accepted') {
      return current === 'scheduled' || current === 'sent'
        ? { state: 'accepted', reason: null, stamp: 'accepted' }
        : null;
    }
    if (status === 'done') return { state: 'done', reason: null, stamp: 'finished' };
    return { ...outcomeOf(error), stamp: 'finished' };
  }
  const { type, code } = input.event;
  if (type === 'playback-started')
    return current === 'playing' ? null : { state: 'playing', reason: null, stamp: 'started' };
  if (type === 'playback-finished') {
    return code === 'stopped'
      ? { state: 'stopped', reason: 'stopped', stamp: 'finished' }
      : { state: 'done', reason: null, stamp: 'finished' };
  }
  if (type === 'playback-failed') return { ...outcomeOf(code), stamp: 'finished' };
  return null;
}
