import { fork } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMp3Encoder } from 'wasm-media-encoders';
import { measureMemory, progress, registerFleet, sizesFrom, startBenchPlatform } from './bench-platform.js';
import type { LiveClientReply, LiveClientRequest } from './live-client.js';
import { type BenchResult, percentile } from './report.js';

/** Runs one request in a forked live client (compiled `dist/bench/live-client.js`). */
function liveClient(request: LiveClientRequest): Promise<LiveClientReply> {
  const child = fork(join(dirname(fileURLToPath(import.meta.url)), 'live-client.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (reply: LiveClientReply) => {
      resolve(reply);
      child.kill();
    });
    child.once('exit', (code) => {
      if (code) reject(new Error(`live client exited with ${code}`));
    });
    child.send(request);
  });
}

/**
 * A bare fan-out in the same process layout: a plain HTTP server writing 64 kbit/s of MP3 (encoded
 * once, ahead) to every reader, every 100 ms — what the platform does minus encoding, the
 * session, authentication and the broadcast.
 */
async function bareFanout(): Promise<{ url: string; close(): Promise<void> }> {
  const encoder = await createMp3Encoder();
  encoder.configure({ sampleRate: 16_000, channels: 1, bitrate: 64 });
  const second = Buffer.concat(
    Array.from({ length: 10 }, () => Buffer.from(encoder.encode([new Float32Array(1600)]))),
  );
  const readers = new Set<ServerResponse>();
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'audio/mpeg', 'cache-control': 'no-store' });
    readers.add(response);
    response.on('close', () => readers.delete(response));
  });
  const tenth = Math.ceil(second.length / 10);
  let at = 0;
  const timer = setInterval(() => {
    const chunk = second.subarray(at, at + tenth);
    at = (at + tenth) % second.length;
    for (const reader of readers) reader.write(chunk);
  }, 100);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/stream.mp3`,
    async close() {
      clearInterval(timer);
      for (const reader of readers) reader.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * Live talk: latency from the microphone (a chunk leaving the console) to decoded audio at a
 * cluster on loopback, and the platform's CPU and memory while one talk streams to N clusters,
 * against a bare HTTP fan-out of the same bytes to the same N readers.
 */
export async function liveBench(): Promise<BenchResult> {
  const listeners = sizesFrom('BENCH_LIVE_LISTENERS', [1000])[0] ?? 1000;
  const seconds = Number(process.env.BENCH_LIVE_SECONDS ?? 20);
  const bench = await startBenchPlatform();
  try {
    progress(`live: registering ${listeners} clusters`);
    await registerFleet(bench.platform, listeners, 'lv');
    const cookie = await bench.login();
    const memory0 = await measureMemory();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    progress(`live: one talk of ${seconds} s to ${listeners} stream readers`);
    const talk = await liveClient({
      type: 'talk',
      httpUrl: bench.httpUrl,
      cookie,
      targets: { communeIds: ['bench-lv'], villageIds: [], clusterIds: [], groupIds: [] },
      listeners,
      seconds,
    });
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const memory1 = await measureMemory();
    const platformCpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;

    progress(`live: the same readers on a bare HTTP fan-out`);
    const bare = await bareFanout();
    const bareCpu0 = process.cpuUsage();
    const bareT0 = performance.now();
    const reference = await liveClient({ type: 'listen', url: bare.url, listeners, seconds });
    const bareCpu = process.cpuUsage(bareCpu0);
    const bareCpuPct = ((bareCpu.user + bareCpu.system) / 1000 / (performance.now() - bareT0)) * 100;
    await bare.close();

    const latencies = talk.latenciesMs;
    return {
      scenario: 'live',
      title: 'Live talk: microphone to cluster latency, and one talk streamed to many clusters',
      summary: {
        listeners,
        talkS: seconds,
        receiving: talk.receiving,
        bareReceiving: reference.receiving,
        platformCpuPct: Math.round(platformCpuPct * 10) / 10,
        bareCpuPct: Math.round(bareCpuPct * 10) / 10,
        cpuRatio: Math.round((platformCpuPct / Math.max(0.1, bareCpuPct)) * 10) / 10,
        rssDeltaMb: Math.round(memory1.rssMb - memory0.rssMb),
        heapDeltaMb: Math.round(memory1.heapUsedMb - memory0.heapUsedMb),
      },
      columns: ['metric', 'value'],
      rows: [
        { metric: 'microphone → decoded at a cluster, p50 ms', value: percentile(latencies, 50) },
        { metric: 'microphone → decoded at a cluster, p95 ms', value: percentile(latencies, 95) },
        { metric: 'microphone → decoded at a cluster, max ms', value: Math.max(...latencies) },
        { metric: 'bursts timed', value: latencies.length },
        { metric: 'bytes per reader (talk)', value: talk.bytesPerListener },
      ],
    };
  } finally {
    await bench.close();
  }
}
