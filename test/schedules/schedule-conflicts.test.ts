import { describe, expect, it } from 'vitest';
import type { Level } from '../../contracts/broadcasts.js';
import { type ConflictSubject, findConflicts } from '../../services/schedules/schedule-conflicts.js';
import { expandOccurrences } from '../../services/schedules/schedule-expansion.js';

const from = Date.parse('2026-12-01T00:00:00Z');
const to = Date.parse('2026-12-15T00:00:00Z');

/** A schedule's conflict view, expanded for real over the first two weeks of December 2026. */
function subject(
  id: string | null,
  level: Level,
  clusterIds: string[],
  startsLocal: string,
  rrule: string | null = null,
  durationS = 600,
): ConflictSubject {
  return {
    id,
    name: id ?? 'mới',
    level,
    clusterIds,
    occurrences: expandOccurrences(
      { startsLocal, timezone: 'Asia/Ho_Chi_Minh', rrule, exdates: [], durationS },
      from,
      to,
    ),
  };
}

describe('findConflicts', () => {
  it('reports a same-level overlap as a clash listing only the shared clusters and both occurrences', () => {
    const bulletin = subject('morning', 'normal', ['c1', 'c2', 'c3'], '2026-12-01T06:00', 'FREQ=DAILY');
    const notice = subject(null, 'normal', ['c3', 'c2', 'c9'], '2026-12-03T06:05', null, 300);
    const report = findConflicts(notice, [bulletin]);
    expect(report.clashes).toEqual([
      {
        scheduleId: 'morning',
        scheduleName: 'morning',
        level: 'normal',
        clusterIds: ['c2', 'c3'],
        occurrence: { start: Date.parse('2026-12-02T23:05:00Z'), end: Date.parse('2026-12-02T23:10:00Z') },
        other: { start: Date.parse('2026-12-02T23:00:00Z'), end: Date.parse('2026-12-02T23:10:00Z') },
      },
    ]);
    expect(report.preempts).toEqual([]);
    expect(report.preemptedBy).toEqual([]);
  });

  it('finds no clash between schedules on different clusters, or back to back on the same ones', () => {
    const bulletin = subject('morning', 'normal', ['c1'], '2026-12-01T06:00', 'FREQ=DAILY');
    const elsewhere = subject(null, 'normal', ['c2'], '2026-12-03T06:05');
    const afterwards = subject(null, 'normal', ['c1'], '2026-12-03T06:10');
    expect(findConflicts(elsewhere, [bulletin]).clashes).toEqual([]);
    expect(findConflicts(afterwards, [bulletin]).clashes).toEqual([]);
  });

  it('lets a higher level pre-empt a lower one on the shared clusters', () => {
    const bulletin = subject('morning', 'normal', ['c1', 'c2'], '2026-12-01T06:00', 'FREQ=DAILY');
    const warning = subject(null, 'emergency', ['c2', 'c7'], '2026-12-04T05:55', null, 900);
    const report = findConflicts(warning, [bulletin]);
    expect(report.clashes).toEqual([]);
    expect(
      report.preempts.map((p) => [p.scheduleId, p.clusterIds, new Date(p.other.start).toISOString()]),
    ).toEqual([['morning', ['c2'], '2026-12-03T23:00:00.000Z']]);
  });

  it('accepts a lower level under a higher one and says what pre-empts it', () => {
    const warning = subject('storm', 'priority', ['c1'], '2026-12-02T06:00');
    const bulletin = subject(null, 'normal', ['c1'], '2026-12-01T06:00', 'FREQ=DAILY');
    const report = findConflicts(bulletin, [warning]);
    expect(report.clashes).toEqual([]);
    expect(report.preemptedBy).toHaveLength(1);
    expect(report.preemptedBy[0]).toMatchObject({
      scheduleId: 'storm',
      level: 'priority',
      clusterIds: ['c1'],
    });
  });

  it('does not clash an edited schedule with its own saved version', () => {
    const saved = subject('morning', 'normal', ['c1'], '2026-12-01T06:00', 'FREQ=DAILY');
    const edited = subject('morning', 'normal', ['c1'], '2026-12-01T06:05', 'FREQ=DAILY');
    expect(findConflicts(edited, [saved])).toEqual({ clashes: [], preempts: [], preemptedBy: [] });
  });

  it('pairs every overlapping occurrence when occurrences are longer than the gap between them', () => {
    const long = subject('relay', 'normal', ['c1'], '2026-12-01T06:00', 'FREQ=DAILY', 2 * 86_400);
    const once = subject(null, 'normal', ['c1'], '2026-12-05T12:00');
    // The relays that began on the 4th and the 5th are both still running at noon on the 5th.
    expect(findConflicts(once, [long]).clashes.map((c) => new Date(c.other.start).toISOString())).toEqual([
      '2026-12-03T23:00:00.000Z',
      '2026-12-04T23:00:00.000Z',
    ]);
  });
});
