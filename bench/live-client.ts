import { MPEGDecoder } from 'mpg123-decoder';
import { io } from 'socket.io-client';
import type { Targets } from '../contracts/broadcasts.js';
import { LIVE_NAMESPACE } from '../contracts/live.js';

/**
 * The live-talk bench's far side, forked from the bench: a console that talks (100 ms chunks in
 * real time: silence with a one-second-apart burst of tone), and `listeners` clusters reading the
 * stream; one of them decodes it and times each burst from the moment it was sent.
 */
export type LiveClientRequest =
  | {
      type: 'talk';
      httpUrl: string;
      cookie: string;
      targets: Targets;
      listeners: number;
      seconds: number;
    }
  | { type: 'listen'; url: string; listeners: number; seconds: number };

export interface LiveClientReply {
  type: 'done';
  /** Microphone to decoded audio, per burst, ms. */
  latenciesMs: number[];
  /** Listeners that were connected and receiving at the end. */
  receiving: number;
  bytesPerListener: number;
}

const RATE = 16_000;
const CHUNK = RATE / 10;

function chunk(loud: boolean, index: number): Buffer {
  const pcm = Buffer.alloc(CHUNK * 2);
  if (loud)
    for (let i = 0; i < CHUNK; i++)
      pcm.writeInt16LE(
        Math.round(16_000 * Math.sin((2 * Math.PI * 1000 * (index * CHUNK + i)) / RATE)),
        i * 2,
      );
  return pcm;
}

/** Opens `count` stream readers; the first one decodes and reports each burst's onset time. */
function listen(url: string, count: number, onBurst: (at: number) => void) {
  const bytes = new Array<number>(count).fill(0);
  const controllers: AbortController[] = [];
  for (let i = 0; i < count; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    void (async () => {
      const decoder = i === 0 ? new MPEGDecoder() : null;
      await decoder?.ready;
      let quiet = true;
      try {
        const response = await fetch(url, { signal: controller.signal });
        const reader = response.body?.getReader();
        for (;;) {
          const next = await reader?.read();
          if (!next || next.done) break;
          bytes[i] = (bytes[i] ?? 0) + next.value.length;
          if (!decoder) continue;
          const samples = decoder.decode(next.value).channelData[0] ?? new Float32Array(0);
          for (const v of samples) {
            if (quiet && Math.abs(v) > 0.2) {
              quiet = false;
              onBurst(Date.now());
            } else if (!quiet && Math.abs(v) < 0.01) quiet = true;
          }
        }
      } catch {
        // Aborted at the end.
      }
      decoder?.free();
    })();
  }
  return {
    bytes,
    close: () => {
      for (const controller of controllers) controller.abort();
    },
  };
}

process.on('message', async (request: LiveClientRequest) => {
  const sentAt: number[] = [];
  const onsets: number[] = [];
  /** Each burst's first onset after it was sent (and before the next one was). */
  const latencies = () =>
    sentAt.flatMap((sent, i) => {
      const onset = onsets.find((at) => at >= sent && at < (sentAt[i + 1] ?? Number.POSITIVE_INFINITY));
      return onset === undefined ? [] : [onset - sent];
    });
  if (request.type === 'listen') {
    const readers = listen(request.url, request.listeners, () => undefined);
    await new Promise((r) => setTimeout(r, request.seconds * 1000));
    const before = [...readers.bytes];
    await new Promise((r) => setTimeout(r, 1000));
    const receiving = readers.bytes.filter((b, i) => b > (before[i] ?? 0)).length;
    readers.close();
    const reply: LiveClientReply = {
      type: 'done',
      latenciesMs: [],
      receiving,
      bytesPerListener: readers.bytes.reduce((a, b) => a + b, 0) / request.listeners,
    };
    process.send?.(reply);
    return;
  }
  const socket = io(`${request.httpUrl}${LIVE_NAMESPACE}`, {
    path: '/socket.io',
    transports: ['websocket'],
    extraHeaders: { cookie: request.cookie },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  const started = await new Promise<{ broadcastId: string }>((resolve, reject) =>
    socket.emit(
      'live.start',
      { mode: 'broadcast', name: 'Bench', level: 'normal', targets: request.targets, sampleRate: RATE },
      (result: { ok: boolean; value?: { broadcastId: string }; error?: { message: string } }) =>
        result.ok
          ? resolve(result.value as { broadcastId: string })
          : reject(new Error(result.error?.message)),
    ),
  );
  const detail = (await (
    await fetch(`${request.httpUrl}/api/v1/broadcasts/${started.broadcastId}`, {
      headers: { cookie: request.cookie },
    })
  ).json()) as { content: { url: string } };
  const readers = listen(detail.content.url, request.listeners, (at) => onsets.push(at));
  // Real time: a chunk every 100 ms, a burst of tone every second.
  const start = Date.now();
  for (let i = 0; i < request.seconds * 10; i++) {
    const loud = i % 10 === 5;
    if (loud) sentAt.push(Date.now());
    socket.emit('live.audio', chunk(loud, i));
    const next = start + (i + 1) * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
  }
  const before = [...readers.bytes];
  await new Promise((r) => setTimeout(r, 500));
  const receiving = readers.bytes.filter((b, i) => b > (before[i] ?? 0)).length;
  await new Promise<void>((resolve) => socket.emit('live.stop', () => resolve()));
  readers.close();
  socket.disconnect();
  const reply: LiveClientReply = {
    type: 'done',
    latenciesMs: latencies(),
    receiving,
    bytesPerListener: readers.bytes.reduce((a, b) => a + b, 0) / request.listeners,
  };
  process.send?.(reply);
});
