import type { Heartbeat } from '../../devices/index.js';

/** The ways the `malformed` fault breaks a heartbeat, in rotation order. */
export const MALFORMED_KINDS = ['not-json', 'wrong-types', 'missing-fields', 'oversized'] as const;
export type MalformedKind = (typeof MALFORMED_KINDS)[number];

/** The rotation in use: an oversized payload only when a size was configured. */
export function malformedRotation(oversizeBytes: number | undefined): readonly MalformedKind[] {
  return oversizeBytes === undefined
    ? MALFORMED_KINDS.filter((kind) => kind !== 'oversized')
    : MALFORMED_KINDS;
}

/**
 * A payload that a platform must reject on the heartbeat topic. The oversized one is otherwise a
 * valid heartbeat (extra fields are allowed), so only a payload size limit catches it.
 */
export function malformedHeartbeat(kind: MalformedKind, heartbeat: Heartbeat, oversizeBytes = 0): Buffer {
  switch (kind) {
    case 'not-json':
      // A truncated frame with bytes that are not even valid UTF-8, as from a corrupted modem buffer.
      return Buffer.concat([
        Buffer.from('{"ts":'),
        Buffer.from([0xff, 0xfe, 0x00, 0x80]),
        Buffer.from('seq'),
      ]);
    case 'wrong-types':
      return Buffer.from(
        JSON.stringify({ ...heartbeat, volume: 'loud', seq: String(heartbeat.seq), playing: 'no' }),
      );
    case 'missing-fields':
      return Buffer.from(JSON.stringify({ ts: heartbeat.ts, seq: heartbeat.seq }));
    case 'oversized': {
      const base = JSON.stringify({ ...heartbeat, padding: '' });
      const padding = 'x'.repeat(Math.max(0, oversizeBytes - Buffer.byteLength(base) + 1));
      return Buffer.from(JSON.stringify({ ...heartbeat, padding }));
    }
  }
}
