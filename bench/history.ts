import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from '../services/config.js';
import type { TelemetryPoint } from '../services/history/telemetry-store.js';
import { Platform } from '../services/platform/platform.js';
import { type BenchResult, percentile } from './report.js';

const DAY = 86_400_000;
const HEARTBEAT_MS = 30_000;
const PASSWORD = 'bench-admin-password';

/**
 * History queries over 30 days of one commune: the 18 Hướng Đạo clusters heartbeating every 30 s
 * (1.55 million points) in the embedded store, read through the real HTTP API.
 */
export async function historyBench(): Promise<BenchResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sc-bench-history-'));
  const days = 30;
  const end = Date.now();
  const start = end - days * DAY;
  const platform = new Platform({
    config: loadConfig(
      {},
      {
        DATA_DIR: dataDir,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: 0,
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: 0,
        SEED_PRESET: 'huong-dao',
        ADMIN_PASSWORD: PASSWORD,
        LOG_LEVEL: 'silent',
      },
    ),
    logger: pino({ level: 'silent' }),
    announce: () => undefined,
  });
  await platform.start();
  try {
    const clusters = platform.registry.listClusters(
      { communeId: 'huong-dao' },
      { limit: 100, offset: 0 },
    ).items;
    const loadStarted = performance.now();
    let points = 0;
    for (let day = 0; day < days; day++) {
      const batch: TelemetryPoint[] = [];
      for (const c of clusters) {
        for (let at = start + day * DAY; at < start + (day + 1) * DAY; at += HEARTBEAT_MS) {
          batch.push({
            measurement: 'heartbeat',
            tags: { commune: 'Hướng Đạo', village: c.villageId, device: c.id, kind: 'speaker-cluster' },
            fields: {
              signal: -60 - ((at / HEARTBEAT_MS) % 25),
              volume: 70,
              uptime: (at - start) / 1000,
              temperature: 35 + ((at / 3_600_000) % 10),
              supply_voltage: 12.2,
              speakers_ok: 2,
              speakers_total: 2,
              playing: at % 7 === 0,
            },
            at,
          });
        }
        // A few outages a day per cluster, for the availability report.
        for (let k = 0; k < 3; k++) {
          const down = start + day * DAY + (k * DAY) / 3 + 3_600_000;
          batch.push(
            {
              measurement: 'presence',
              tags: { commune: 'Hướng Đạo', village: c.villageId, device: c.id, kind: 'speaker-cluster' },
              fields: { online: false, reason: 'will' },
              at: down,
            },
            {
              measurement: 'presence',
              tags: { commune: 'Hướng Đạo', village: c.villageId, device: c.id, kind: 'speaker-cluster' },
              fields: { online: true, reason: 'connect' },
              at: down + 600_000,
            },
          );
        }
      }
      platform.telemetry.write(batch);
      await platform.telemetry.flush();
      points += batch.length;
    }
    const loadMs = performance.now() - loadStarted;

    const base = `http://127.0.0.1:${platform.httpPort}/api/v1`;
    const login = await fetch(`${base}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const range = `from=${new Date(start).toISOString()}&to=${new Date(end).toISOString()}`;
    const device = clusters[6]?.id ?? 'hd-c07';
    const queries: Record<string, string> = {
      'signal, 30 d, 1 h mean (720 windows)': `/devices/${device}/history?field=signal&window=1h&agg=mean&${range}`,
      'signal, 30 d, 5 min min (8,640 windows)': `/devices/${device}/history?field=signal&window=5m&agg=min&${range}&limit=10000`,
      'temperature, 30 d, 1 d max': `/devices/${device}/history?field=temperature&window=1d&agg=max&${range}`,
      'volume, raw, last 24 h (2,880 points)': `/devices/${device}/history?field=volume&limit=10000&from=${new Date(end - DAY).toISOString()}&to=${new Date(end).toISOString()}`,
      'availability, 18 clusters, 30 d': `/reports/availability?communeId=huong-dao&${range}`,
    };
    const rows = [];
    for (const [name, path] of Object.entries(queries)) {
      const samples: number[] = [];
      for (let i = 0; i < 25; i++) {
        const t0 = performance.now();
        const response = await fetch(`${base}${path}`, { headers: { cookie } });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
        samples.push(performance.now() - t0);
      }
      rows.push({
        query: name,
        p50Ms: percentile(samples, 50),
        p99Ms: percentile(samples, 99),
        maxMs: Math.max(...samples),
      });
    }
    const fileMb = statSync(join(dataDir, 'history.sqlite')).size / 1_048_576;
    return {
      scenario: 'history',
      title: 'History API over 30 days of one commune (embedded store)',
      summary: {
        points,
        loadSeconds: Math.round(loadMs / 100) / 10,
        pointsPerSecond: Math.round(points / (loadMs / 1000)),
        fileMb: Math.round(fileMb * 10) / 10,
      },
      columns: ['query', 'p50Ms', 'p99Ms', 'maxMs'],
      rows,
    };
  } finally {
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
