import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryStore } from '../../services/registry/registry-store.js';
import { SummaryQueries } from '../../services/reports/summary-queries.js';
import { type Db, openDatabase } from '../../services/storage/database.js';

const COMMUNES = 300;
const CLUSTERS_PER_COMMUNE = 20;
const DAY = 86_400_000;
const MONTH_START = Date.parse('2026-11-30T17:00:00Z');
/** Each commune airs its own three items a day; the province sends ten emergencies to every cluster. */
const OWN_PER_DAY = 3;
const PROVINCE_EMERGENCIES = 10;

/*
 * A province's month in the state database: 300 communes, 6,000 clusters, 27,010 broadcasts and
 * 600,000 deliveries, written straight into the tables the broadcast store keeps. The report's
 * aggregations must answer for the whole province, and for one commune of it, in well under the
 * time an operator waits for a page.
 */
describe('the summary report at province scale', () => {
  let dir: string;
  let db: Db;
  let queries: SummaryQueries;
  const communeIds = Array.from({ length: COMMUNES }, (_, i) => `xa-${String(i).padStart(3, '0')}`);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sc-report-scale-'));
    db = openDatabase(join(dir, 'state.sqlite'), pino({ level: 'silent' }));
    const registry = new RegistryStore(db, () => MONTH_START, 'Asia/Ho_Chi_Minh');
    db.transaction(() => {
      for (const id of communeIds) {
        registry.createCommune({ id, name: `Xã ${id}`, provinceId: 'phu-tho' });
        registry.createVillage({ id: `${id}-thon`, communeId: id, name: 'Thôn 1' });
        for (let c = 0; c < CLUSTERS_PER_COMMUNE; c++)
          registry.createCluster({
            id: `${id}-c${c}`,
            villageId: `${id}-thon`,
            name: `Cụm ${c}`,
            location: { lat: 21.3, lon: 105.5 },
          });
      }
      const broadcast = db.prepare(
        `INSERT INTO broadcasts (id, kind, name, level, content, start_at, end_at, expires_at, status, created_at, bulletin_id)
         VALUES (?, ?, ?, ?, '{"kind":"media","mediaId":"m-000000000000"}', ?, ?, ?, 'finished', ?, ?)`,
      );
      // As the broadcast store records it: the communes each broadcast reached.
      const reached = db.prepare('INSERT INTO broadcast_communes (broadcast_id, commune_id) VALUES (?, ?)');
      let n = 0;
      const delivery = db.prepare(
        `INSERT INTO deliveries (broadcast_id, cluster_id, command_id, state, reason, started_at, finished_at, speakers, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const deliver = (id: string, clusterId: string, at: number, k: number) => {
        const missed = k % 50 === 0;
        delivery.run(
          id,
          clusterId,
          `cmd-${n++}`,
          missed ? 'missed' : 'done',
          missed ? 'offline' : null,
          missed ? null : at,
          missed ? null : at + 60_000,
          k % 97 === 0
            ? '[{"idx":1,"ok":true,"fault":null},{"idx":2,"ok":false,"fault":"open-circuit"}]'
            : null,
          at,
        );
      };
      for (const [c, communeId] of communeIds.entries()) {
        for (let day = 0; day < 30; day++) {
          for (let slot = 0; slot < OWN_PER_DAY; slot++) {
            const id = `b-${communeId}-${day}-${slot}`;
            const at = MONTH_START + day * DAY + (6 + slot * 5) * 3_600_000 + c * 1000;
            broadcast.run(
              id,
              'scheduled',
              'Bản tin xã',
              slot === 0 ? 'priority' : 'normal',
              at,
              at + 60_000,
              at + 120_000,
              at,
              null,
            );
            reached.run(id, communeId);
            for (let k = 0; k < CLUSTERS_PER_COMMUNE; k++) deliver(id, `${communeId}-c${k}`, at, k + day);
          }
        }
      }
      for (let e = 0; e < PROVINCE_EMERGENCIES; e++) {
        const id = `b-tinh-${e}`;
        const at = MONTH_START + e * 3 * DAY + 12 * 3_600_000;
        broadcast.run(
          id,
          'emergency',
          'Khẩn cấp của tỉnh',
          'emergency',
          at,
          at + 60_000,
          at + 120_000,
          at,
          `bt-${e}`,
        );
        for (const communeId of communeIds) {
          reached.run(id, communeId);
          for (let k = 0; k < CLUSTERS_PER_COMMUNE; k++) deliver(id, `${communeId}-c${k}`, at, k + e);
        }
      }
    })();
    queries = new SummaryQueries(db);
  }, 300_000);
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const month = { from: MONTH_START, to: MONTH_START + 31 * DAY };
  const timed = <T>(work: () => T): { result: T; ms: number } => {
    const started = performance.now();
    const result = work();
    return { result, ms: performance.now() - started };
  };

  it('adds up a whole province in a few seconds at most', () => {
    const scope = { ...month, communeIds };
    const { result: rows, ms: communesMs } = timed(() => queries.byCommune(scope));
    const { result: levels, ms: levelsMs } = timed(() => queries.bulletinsOfScope(scope));
    const { result: page, ms: pageMs } = timed(() => queries.broadcasts(scope, { limit: 100, offset: 0 }));
    const { result: failures, ms: failuresMs } = timed(() => queries.failures(scope, 50));
    const total = communesMs + levelsMs + pageMs + failuresMs;
    console.info(
      `province: per commune ${communesMs.toFixed(0)} ms, levels ${levelsMs.toFixed(0)} ms, page ${pageMs.toFixed(0)} ms, failures ${failuresMs.toFixed(0)} ms`,
    );
    const deliveries = rows.reduce((n, r) => n + r.targeted, 0);
    expect(deliveries).toBe(COMMUNES * CLUSTERS_PER_COMMUNE * (30 * OWN_PER_DAY + PROVINCE_EMERGENCIES));
    expect(rows.reduce((n, r) => n + r.bulletins, 0)).toBe(
      COMMUNES * (30 * OWN_PER_DAY + PROVINCE_EMERGENCIES),
    );
    expect(levels.reduce((n, r) => n + r.bulletins, 0)).toBe(
      COMMUNES * 30 * OWN_PER_DAY + PROVINCE_EMERGENCIES,
    );
    expect(page).toHaveLength(100);
    expect(failures[0]).toMatchObject({ state: 'missed', reason: 'offline' });
    // About a second alone on two cores; the bound leaves room for a machine busy with other suites.
    expect(total).toBeLessThan(15_000);
  });

  it('answers for one commune of the province from its own broadcasts, in well under a second', () => {
    // As the report service asks for a small scope: by its clusters.
    const clusterIds = Array.from({ length: CLUSTERS_PER_COMMUNE }, (_, k) => `xa-150-c${k}`);
    const scope = { ...month, communeIds: ['xa-150'], clusterIds };
    const { result: rows, ms } = timed(() => {
      const byCommune = queries.byCommune(scope);
      queries.bulletinsOfScope(scope);
      queries.broadcasts(scope, { limit: 100, offset: 0 });
      queries.failures(scope, 50);
      return byCommune;
    });
    console.info(`one commune: ${ms.toFixed(0)} ms`);
    expect(rows.reduce((n, r) => n + r.bulletins, 0)).toBe(30 * OWN_PER_DAY + PROVINCE_EMERGENCIES);
    expect(ms).toBeLessThan(2_000);
  });
});
