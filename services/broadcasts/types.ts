import type { DeliveryState, Level } from '../../contracts/broadcasts.js';

/** Circular 39: emergency pre-empts everything, priority pre-empts normal. */
export const LEVEL_RANK: Record<Level, number> = { normal: 0, priority: 1, emergency: 2 };

/** One planned play of a schedule, in UTC milliseconds. */
export interface Occurrence {
  scheduleId: string;
  start: number;
  end: number;
}

export const FINAL_DELIVERY_STATES: readonly DeliveryState[] = [
  'done',
  'failed',
  'missed',
  'pre-empted',
  'expired',
  'stopped',
];
