import { fileURLToPath } from 'node:url';
import { measureMemory } from './bench-platform.js';
import { LoadGenerator } from './generator-client.js';
import { connectToReference, freePort, startBareAedes, startMosquitto } from './reference-brokers.js';

export interface ReferenceMemoryRow {
  connections: number;
  rssMb: number;
  /** Heap after a forced GC; Mosquitto has none to report. */
  heapUsedMb: number | null;
  rssKbPerConnection: number;
  heapKbPerConnection: number | null;
}

/**
 * Memory of a reference broker per idle connection, measured in a process of its own (this file
 * run with `node`, answering one JSON line), so the platform's heap and freed memory measured
 * before it in the bench process do not weigh on the figures. The same clients as the platform's:
 * announced with a retained state and subscribed to their command topic.
 */
export async function referenceMemory(
  kind: 'bare aedes' | 'mosquitto',
  sizes: number[],
): Promise<ReferenceMemoryRow[]> {
  const port = await freePort();
  let stop: () => Promise<void>;
  let measure: () => Promise<{ rssMb: number; heapUsedMb: number | null }>;
  if (kind === 'bare aedes') {
    stop = (await startBareAedes(port, { queue: 'platform' })).stop;
    measure = measureMemory;
  } else {
    const mosquitto = await startMosquitto(port);
    stop = () => mosquitto.stop();
    measure = async () => ({ rssMb: mosquitto.rssMb(), heapUsedMb: null });
  }
  const generator = new LoadGenerator();
  try {
    const base = await measure();
    const rows: ReferenceMemoryRow[] = [];
    let connected = 0;
    for (const size of sizes) {
      const ids = Array.from(
        { length: size - connected },
        (_, i) => `ref-${String(connected + i).padStart(5, '0')}`,
      );
      await connectToReference(generator, port, ids, true, true);
      connected = size;
      await new Promise((r) => setTimeout(r, 2000));
      const memory = await measure();
      const detail = memory as { heapTotalMb?: number; externalMb?: number };
      if (detail.heapTotalMb !== undefined)
        process.stderr.write(
          `[bench] ${kind} ${size}: heap total ${detail.heapTotalMb.toFixed(1)} MB, external ${detail.externalMb?.toFixed(1)} MB\n`,
        );
      rows.push({
        connections: size,
        rssMb: memory.rssMb,
        heapUsedMb: memory.heapUsedMb,
        rssKbPerConnection: ((memory.rssMb - base.rssMb) * 1024) / size,
        heapKbPerConnection:
          memory.heapUsedMb === null || base.heapUsedMb === null
            ? null
            : ((memory.heapUsedMb - base.heapUsedMb) * 1024) / size,
      });
    }
    return rows;
  } finally {
    await generator.close().catch(() => undefined);
    await stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [kind, sizes] = process.argv.slice(2);
  const rows = await referenceMemory(
    kind as 'bare aedes' | 'mosquitto',
    (sizes ?? '1000').split(',').map(Number),
  );
  process.stdout.write(`${JSON.stringify(rows)}\n`);
}
