import type { Aggregate } from './telemetry-store.js';

/**
 * What a window needs to know about its values, whichever source they came from: raw rows
 * give exact times, an hourly rollup stands at its hour's start. Merging partials is how a
 * window that straddles the rollup boundary gets one correct answer.
 */
export interface WindowPartial {
  count: number;
  sum: number;
  min: number;
  max: number;
  firstAt: number;
  first: number;
  lastAt: number;
  last: number;
}

/** Adds a partial to its window; on equal times the partial merged first stays first. */
export function mergePartial(windows: Map<number, WindowPartial>, start: number, part: WindowPartial): void {
  const w = windows.get(start);
  if (!w) {
    windows.set(start, { ...part });
    return;
  }
  w.count += part.count;
  w.sum += part.sum;
  if (part.min < w.min) w.min = part.min;
  if (part.max > w.max) w.max = part.max;
  if (part.firstAt < w.firstAt) {
    w.firstAt = part.firstAt;
    w.first = part.first;
  }
  if (part.lastAt >= w.lastAt) {
    w.lastAt = part.lastAt;
    w.last = part.last;
  }
}

/** The InfluxQL value of an aggregate over a window's non-null values. */
export function aggregateOf(w: WindowPartial, agg: Aggregate): number {
  switch (agg) {
    case 'mean':
      return w.sum / w.count;
    case 'min':
      return w.min;
    case 'max':
      return w.max;
    case 'first':
      return w.first;
    case 'last':
      return w.last;
    case 'count':
      return w.count;
    case 'sum':
      return w.sum;
  }
}
