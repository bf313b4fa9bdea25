import { describe, expect, it } from 'vitest';
import { verdictOf, verdictOfRefusal, villageCounts } from '../../services/readiness/readiness-verdict.js';
import { nextWeeklyRun } from '../../services/readiness/weekly-drill.js';

const healthy = {
  download: { ok: true },
  decode: { ok: true },
  amplifier: { ok: true },
  speakers: [
    { idx: 1, ok: true },
    { idx: 2, ok: true },
  ],
};

describe('readiness rules', () => {
  it('calls a cluster ready only when every check passed, and names each failed one', () => {
    expect(verdictOf(healthy)).toEqual({ outcome: 'ready', reasons: [] });
    expect(
      verdictOf({
        download: { ok: false, error: 'checksum-mismatch', message: 'SHA-256 differs' },
        decode: { ok: false, error: 'not-run' },
        amplifier: { ok: false, fault: 'amplifier' },
        speakers: [
          { idx: 1, ok: false, fault: 'short-circuit' },
          { idx: 2, ok: false },
        ],
      }),
    ).toEqual({
      outcome: 'not-ready',
      reasons: [
        'download: checksum-mismatch (SHA-256 differs)',
        'amplifier: amplifier',
        'speaker 1: short-circuit',
        'speaker 2: no answer',
      ],
    });
    expect(verdictOf(undefined).outcome).toBe('not-tested');
    expect(verdictOfRefusal('rejected', 'busy').outcome).toBe('not-tested');
    expect(verdictOfRefusal('rejected', 'unsupported').reasons).toEqual(['its firmware has no selftest']);
    expect(verdictOfRefusal('failed', 'internal')).toEqual({
      outcome: 'not-ready',
      reasons: ['selftest failed: internal'],
    });
  });

  it('counts each village', () => {
    const counts = villageCounts(
      [
        { villageId: 'thon-1', outcome: 'ready' },
        { villageId: 'thon-1', outcome: 'not-ready' },
        { villageId: 'thon-2', outcome: 'not-tested' },
      ],
      (id) => id.toUpperCase(),
    );
    expect(counts).toEqual([
      { villageId: 'thon-1', name: 'THON-1', clusters: 2, ready: 1, notReady: 1, notTested: 0, testing: 0 },
      { villageId: 'thon-2', name: 'THON-2', clusters: 1, ready: 0, notReady: 0, notTested: 1, testing: 0 },
    ]);
  });

  it('finds the next weekly drill in the commune zone', () => {
    const sunday9 = { weekday: 7, hour: 9, minute: 0 };
    const zone = 'Asia/Ho_Chi_Minh';
    // Saturday 23:30 local → Sunday 09:00 local.
    expect(
      new Date(nextWeeklyRun(Date.parse('2026-12-05T23:30:00+07:00'), sunday9, zone)).toISOString(),
    ).toBe('2026-12-06T02:00:00.000Z');
    // Exactly at the time: the next one is a week later.
    expect(
      new Date(nextWeeklyRun(Date.parse('2026-12-06T09:00:00+07:00'), sunday9, zone)).toISOString(),
    ).toBe('2026-12-13T02:00:00.000Z');
    // Sunday 01:00 UTC is already Sunday 08:00 in Hà Nội: the same day.
    expect(new Date(nextWeeklyRun(Date.parse('2026-12-06T01:00:00Z'), sunday9, zone)).toISOString()).toBe(
      '2026-12-06T02:00:00.000Z',
    );
    // A zone with daylight saving: Monday 07:30 in Berlin, either side of the change.
    const monday = { weekday: 1, hour: 7, minute: 30 };
    expect(
      new Date(nextWeeklyRun(Date.parse('2026-03-28T12:00:00Z'), monday, 'Europe/Berlin')).toISOString(),
    ).toBe('2026-03-30T05:30:00.000Z');
  });
});
