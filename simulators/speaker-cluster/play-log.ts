import { Writable } from 'node:stream';
import type { ItemReport } from './programme.js';
import type { StreamReport } from './stream-report.js';

/** One line of a simulated cluster's own log about playback. */
export interface PlayLog {
  deviceId: string;
  broadcastId: string;
  msg: 'playback started' | 'playback finished' | 'stream report' | 'programme item';
  code?: string;
  cmdId?: string;
  /** With `stream report`: what the cluster received and decoded of a stream item, once it ended. */
  stream?: StreamReport;
  /** With `programme item`, one per item that made a sound: its position from 0, kind and outcome. */
  item?: number;
  kind?: ItemReport['kind'];
  outcome?: ItemReport['outcome'];
}

const KEPT: readonly string[] = ['playback started', 'playback finished', 'stream report', 'programme item'];

/**
 * A pino destination that keeps a simulated fleet's own log lines about playback, so what the
 * clusters actually played can be counted (tests and benchmarks count this, not the platform's
 * record), and, for streams, what audio reached each cluster.
 */
export function playLogSink(lines: PlayLog[]): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = rest + chunk.toString();
      const parts = text.split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        const entry = JSON.parse(line) as Omit<PlayLog, 'msg'> & { msg: string };
        if (KEPT.includes(entry.msg)) lines.push(entry as PlayLog);
        else if (entry.msg.startsWith('playback started ')) lines.push({ ...entry, msg: 'playback started' });
      }
      done();
    },
  });
}
