import { describe, expect, it } from 'vitest';
import { HeartbeatSchema } from '../../devices/index.js';
import { describeFault, FaultSpecError, parseFault } from '../../simulators/speaker-cluster/faults.js';
import {
  malformedHeartbeat,
  malformedRotation,
} from '../../simulators/speaker-cluster/malformed-payloads.js';

describe('fault specs', () => {
  it('parses faults with and without arguments, with defaults', () => {
    expect(parseFault('drop')).toEqual({ kind: 'drop' });
    expect(parseFault('speaker-fault')).toEqual({ kind: 'speaker-fault', speaker: 1 });
    expect(parseFault('speaker-fault', '3')).toEqual({ kind: 'speaker-fault', speaker: 3 });
    expect(parseFault('slow-acks')).toEqual({ kind: 'slow-acks', delayMs: 5000 });
    expect(describeFault(parseFault('slow-acks', '250'))).toBe('slow-acks:250');
    expect(parseFault('download-fail')).toEqual({ kind: 'download-fail' });
    expect(parseFault('download-fail', '3')).toEqual({ kind: 'download-fail', remaining: 3 });
    expect(describeFault(parseFault('download-fail'))).toBe('download-fail');
    expect(describeFault(parseFault('download-fail', '3'))).toBe('download-fail:3');
    expect(parseFault('playback-fail')).toEqual({ kind: 'playback-fail', afterMs: 2000 });
    expect(describeFault(parseFault('playback-fail', '500'))).toBe('playback-fail:500');
  });

  it('rejects unknown faults and bad arguments with a clear message', () => {
    expect(() => parseFault('fire')).toThrow(FaultSpecError);
    expect(() => parseFault('speaker-fault', '0')).toThrow(/speaker index must be an integer from 1 to 16/);
    expect(() => parseFault('slow-acks', '1.5')).toThrow(/ack delay/);
    expect(() => parseFault('overheat', '90')).toThrow(/takes no argument/);
    expect(() => parseFault('download-fail', '0')).toThrow(/number of downloads must be an integer from 1/);
    expect(() => parseFault('playback-fail', 'soon')).toThrow(/playback time \(ms\)/);
  });
});

describe('malformed heartbeats', () => {
  const heartbeat = HeartbeatSchema.parse({
    ts: Date.UTC(2026, 10, 22),
    seq: 4,
    uptimeS: 40,
    rssiDbm: -75,
    net: '4g',
    volume: 70,
    playing: false,
    speakers: [{ idx: 1, ok: true }],
    tempC: 35,
    supplyV: 13,
  });

  it('rotates through payloads a platform must reject, oversized only when sized', () => {
    expect(malformedRotation(undefined)).toEqual(['not-json', 'wrong-types', 'missing-fields']);
    expect(malformedRotation(1024)).toHaveLength(4);
    expect(() => JSON.parse(malformedHeartbeat('not-json', heartbeat).toString('utf8'))).toThrow();
    for (const kind of ['wrong-types', 'missing-fields'] as const) {
      const json: unknown = JSON.parse(malformedHeartbeat(kind, heartbeat).toString('utf8'));
      expect(HeartbeatSchema.safeParse(json).success).toBe(false);
    }
    const oversized = malformedHeartbeat('oversized', heartbeat, 1024);
    expect(oversized.length).toBe(1025);
  });
});
