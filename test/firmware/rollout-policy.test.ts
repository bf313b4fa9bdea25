import { describe, expect, it } from 'vitest';
import type { RolloutOutcome } from '../../contracts/firmware.js';
import {
  batchOf,
  nextStep,
  outcomeOfAck,
  overThreshold,
  pickShare,
} from '../../services/firmware/rollout-policy.js';

const rows = (...spec: [number, RolloutOutcome][]) => spec.map(([batch, outcome]) => ({ batch, outcome }));

describe('rollout policy', () => {
  it("picks a share of a commune's clusters rounded up, lowest ids first", () => {
    const ids = ['hd-c03', 'hd-c01', 'hd-c02', 'hd-c04'];
    expect(pickShare(ids, 50)).toEqual(['hd-c01', 'hd-c02']);
    expect(pickShare(ids, 30)).toEqual(['hd-c01', 'hd-c02']);
    expect(pickShare(ids, 1)).toEqual(['hd-c01']);
    expect(pickShare(ids, 100)).toEqual(['hd-c01', 'hd-c02', 'hd-c03', 'hd-c04']);
    expect(batchOf(0, 3)).toBe(0);
    expect(batchOf(5, 3)).toBe(1);
  });

  it('halts only when failures pass the share of all clusters', () => {
    expect(overThreshold(1, 18, 10)).toBe(false);
    expect(overThreshold(2, 18, 10)).toBe(true);
    expect(overThreshold(2, 20, 10)).toBe(false);
    expect(overThreshold(1, 100, 0)).toBe(true);
    expect(overThreshold(0, 100, 0)).toBe(false);
  });

  it('waits for a batch, then starts the next, and completes after the last', () => {
    expect(nextStep(rows([0, 'in-progress'], [0, 'updated'], [1, 'not-started']), 'running', 10)).toEqual({
      kind: 'wait',
    });
    expect(nextStep(rows([0, 'updated'], [0, 'skipped'], [1, 'not-started']), 'running', 10)).toEqual({
      kind: 'start-batch',
      batch: 1,
    });
    expect(nextStep(rows([0, 'updated'], [1, 'updated']), 'running', 10)).toEqual({ kind: 'complete' });
    expect(nextStep(rows([0, 'updated'], [1, 'not-started']), 'halted', 10)).toEqual({ kind: 'wait' });
  });

  it('halts as soon as a failure passes the threshold, while the batch still runs', () => {
    const step = nextStep(
      rows([0, 'updated'], [0, 'rolled-back'], [1, 'failed'], [1, 'in-progress'], [2, 'not-started']),
      'running',
      25,
    );
    expect(step).toEqual({
      kind: 'halt',
      reason: '2 of 5 clusters failed (40 %), more than the 25 % allowed',
    });
  });

  it('reads a final ack: done with the new version, a rollback, a refusal', () => {
    expect(outcomeOfAck({ status: 'done' }, { rolledBack: false, runsNewVersion: true })).toEqual({
      outcome: 'updated',
      error: null,
    });
    expect(outcomeOfAck({ status: 'done' }, { rolledBack: false, runsNewVersion: false })).toBeNull();
    expect(
      outcomeOfAck(
        { status: 'failed', error: 'install-failed' },
        { rolledBack: false, runsNewVersion: false },
      ),
    ).toEqual({ outcome: 'rolled-back', error: 'install-failed' });
    expect(
      outcomeOfAck(
        { status: 'failed', error: 'checksum-mismatch' },
        { rolledBack: false, runsNewVersion: false },
      ),
    ).toEqual({ outcome: 'failed', error: 'checksum-mismatch' });
    expect(
      outcomeOfAck({ status: 'rejected', error: 'busy' }, { rolledBack: false, runsNewVersion: false }),
    ).toEqual({
      outcome: 'failed',
      error: 'refused: busy',
    });
  });
});
