import { randomBytes } from 'node:crypto';
import type { BroadcastRecord } from '../services/broadcasts/broadcast-store.js';
import { progress, sizesFrom, startBenchPlatform } from './bench-platform.js';
import { type BenchResult, percentile } from './report.js';

const PROVINCE = 'phu-tho';
const DAY_MS = 86_400_000;

/**
 * One instance serving a province: C communes of N clusters each (default 300 × 20 = 6,000), a
 * month of broadcast log (B broadcasts a day per commune, every cluster's delivery recorded) and
 * bulletins from the province with a receipt per commune. Measures, over HTTP with a province
 * operator's session, the answers a province console and a commune console ask for: the province
 * at a glance, the list of bulletins with every receipt, a bulletin's receipts, a commune's inbox,
 * the monthly report of the province and of a commune, and the month's broadcast log of a commune.
 * Target: p95 under 200 ms each; `firstMs` is the first request (a report not made yet), once the
 * report's daily rollup has caught up with the log (`rollupCatchUpMs`).
 */
export async function provinceBench(): Promise<BenchResult> {
  const communeCount = sizesFrom('BENCH_PROVINCE_COMMUNES', [300])[0] ?? 300;
  const perCommune = sizesFrom('BENCH_PROVINCE_CLUSTERS_PER_COMMUNE', [20])[0] ?? 20;
  const perDay = sizesFrom('BENCH_PROVINCE_BROADCASTS_PER_DAY', [2])[0] ?? 2;
  const bulletinCount = sizesFrom('BENCH_PROVINCE_BULLETINS', [30])[0] ?? 30;
  const samples = Number(process.env.BENCH_PROVINCE_SAMPLES ?? 50);
  const bench = await startBenchPlatform();
  try {
    const { platform } = bench;
    const { registry } = platform;
    progress(`province: ${communeCount} communes × ${perCommune} clusters`);
    const communes: string[] = [];
    const clustersOf = new Map<string, string[]>();
    for (let c = 0; c < communeCount; c++) {
      const communeId = `xa-${String(c).padStart(3, '0')}`;
      communes.push(communeId);
      await registry.createCommune({
        id: communeId,
        name: `Xã ${c}`,
        provinceId: PROVINCE,
        code: String(10_000 + c),
      });
      const ids: string[] = [];
      for (let v = 0; v < Math.ceil(perCommune / 5); v++)
        await registry.createVillage({ id: `${communeId}-t${v}`, communeId, name: `Thôn ${v}` });
      for (let k = 0; k < perCommune; k++) {
        const id = `${communeId}-c${String(k).padStart(2, '0')}`;
        await registry.createCluster({
          id,
          villageId: `${communeId}-t${Math.floor(k / 5)}`,
          name: `Cụm ${k}`,
          location: { lat: 21 + c / 1000, lon: 105 + k / 1000 },
        });
        ids.push(id);
      }
      clustersOf.set(communeId, ids);
    }

    // A month of log, written as the dispatcher leaves it: every delivery final.
    const { store } = platform.broadcasts;
    const now = platform.clock.now();
    const monthStart = now - 30 * DAY_MS;
    let broadcasts = 0;
    progress(`province: ${30 * perDay * communeCount} broadcasts of the month`);
    for (let day = 0; day < 30; day++) {
      for (const communeId of communes) {
        for (let n = 0; n < perDay; n++) {
          const startAt = monthStart + day * DAY_MS + (7 + n * 10) * 3_600_000;
          const record: BroadcastRecord = {
            id: `b-${randomBytes(6).toString('hex')}`,
            kind: 'scheduled',
            scheduleId: null,
            occurrenceAt: null,
            name: `Bản tin ${day}/${n}`,
            level: n === 0 ? 'normal' : 'priority',
            content: { kind: 'stream', url: 'http://radio.example/x' },
            volume: null,
            repeat: 1,
            startAt,
            endAt: startAt + 600_000,
            expiresAt: startAt + 60_000,
            status: 'finished',
            createdBy: 'bench',
            createdAt: startAt,
            stoppedAt: null,
            stoppedBy: null,
            recordingMediaId: null,
            approvedBy: null,
            reviewState: null,
            reviewedBy: null,
            bulletinId: null,
          };
          store.insert(
            record,
            (clustersOf.get(communeId) ?? []).map((clusterId, i) => ({
              clusterId,
              commandId: randomBytes(8).toString('base64url'),
              state: i % 17 === 0 ? ('missed' as const) : ('done' as const),
              reason: null,
            })),
          );
          broadcasts++;
        }
      }
    }

    // The log was written here behind the dispatcher's back, so no day was rolled up as its
    // broadcasts finished: the platform catches up as it does after a restart on such a log (in the
    // background, a day per turn of the event loop), and that time is reported apart.
    progress('province: rolling the month up');
    const rollupStarted = performance.now();
    await platform.reports.rollup.catchUp();
    const rollupMs = performance.now() - rollupStarted;
    // Whole days of the month the report reads from the rollup (the partial first day and today
    // are read from the log).
    const rolledDays = platform.reports.rollup.plan({ from: monthStart, to: now }).days.length;

    const provinceUser = await platform.auth.createUser({
      username: 'tinh-bench',
      displayName: 'Tỉnh',
      password: 'bench-province-password',
      roles: ['operator'],
      provinceId: PROVINCE,
    });
    const communeUser = await platform.auth.createUser({
      username: 'xa-bench',
      displayName: 'Xã',
      password: 'bench-commune-password',
      roles: ['operator'],
      communeId: communes[0] as string,
    });
    progress(`province: ${bulletinCount} bulletins to every commune`);
    const principal = {
      via: 'session' as const,
      userId: provinceUser.id,
      username: provinceUser.username,
      roles: provinceUser.roles,
      communes,
      provinceId: PROVINCE,
    };
    const bulletinIds: string[] = [];
    for (let b = 0; b < bulletinCount; b++) {
      const content = { kind: 'stream' as const, url: 'http://radio.example/tinh' };
      const view = await platform.bulletins.send(
        { name: `Tin tỉnh ${b}`, level: 'normal', content, durationS: 300 },
        content,
        principal,
      );
      bulletinIds.push(view.id);
    }

    const login = async (username: string, password: string) => {
      const response = await fetch(`${bench.httpUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password }),
      });
      return (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
    };
    const provinceCookie = await login('tinh-bench', 'bench-province-password');
    const communeCookie = await login(communeUser.username, 'bench-commune-password');
    const from = new Date(monthStart).toISOString();
    const to = new Date(now).toISOString();
    const requests: { name: string; path: string; cookie: string }[] = [
      {
        name: 'province at a glance',
        path: `/api/v1/provinces/${PROVINCE}/overview`,
        cookie: provinceCookie,
      },
      {
        name: 'bulletins with their totals, page of 20',
        path: '/api/v1/provincial-bulletins?limit=20',
        cookie: provinceCookie,
      },
      {
        name: "one bulletin's receipts",
        path: `/api/v1/provincial-bulletins/${bulletinIds[0]}`,
        cookie: provinceCookie,
      },
      { name: "a commune's inbox", path: '/api/v1/inbox?state=pending&limit=50', cookie: communeCookie },
      {
        name: "the province's monthly report",
        path: `/api/v1/reports/summary?provinceId=${PROVINCE}&from=${from}&to=${to}`,
        cookie: provinceCookie,
      },
      {
        name: "a commune's monthly report",
        path: `/api/v1/reports/summary?communeId=${communes[0]}&from=${from}&to=${to}`,
        cookie: communeCookie,
      },
      {
        name: "a commune's month of broadcast log, page of 100",
        path: `/api/v1/broadcasts?from=${from}&to=${to}&limit=100`,
        cookie: communeCookie,
      },
    ];
    const rows: Record<string, number | string>[] = [];
    for (const request of requests) {
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now();
        const response = await fetch(`${bench.httpUrl}${request.path}`, {
          headers: { cookie: request.cookie },
        });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`${request.path} answered ${response.status}`);
        times.push(performance.now() - t0);
      }
      progress(`province: ${request.name}: p95 ${percentile(times, 95).toFixed(1)} ms`);
      rows.push({
        request: request.name,
        firstMs: times[0] ?? Number.NaN,
        p50Ms: percentile(times, 50),
        p95Ms: percentile(times, 95),
        maxMs: Math.max(...times),
        under200: percentile(times, 95) < 200 ? 'yes' : 'NO',
      });
    }
    return {
      scenario: 'province',
      title: 'One instance for a province: console and report requests at province scale',
      summary: {
        communes: communeCount,
        clusters: communeCount * perCommune,
        broadcastsInMonth: broadcasts,
        deliveriesInMonth: broadcasts * perCommune,
        bulletins: bulletinCount,
        receipts: bulletinCount * communeCount,
        samplesPerRequest: samples,
        rolledDays,
        rollupCatchUpMs: Math.round(rollupMs),
      },
      columns: ['request', 'firstMs', 'p50Ms', 'p95Ms', 'maxMs', 'under200'],
      rows,
    };
  } finally {
    await bench.close();
  }
}
