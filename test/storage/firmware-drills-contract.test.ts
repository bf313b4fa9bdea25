import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ConflictError, NotFoundError, UnprocessableError } from '../../services/errors.js';
import { FirmwareLibrary } from '../../services/firmware/firmware-library.js';
import {
  type RolloutClusterRecord,
  type RolloutRecord,
  RolloutStore,
} from '../../services/firmware/rollout-store.js';
import { CHUNK_BYTES } from '../../services/media/media-chunks.js';
import {
  type DrillRecord,
  type DrillResultRecord,
  DrillStore,
} from '../../services/readiness/drill-store.js';
import { RegistryStore } from '../../services/registry/registry-store.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { type StateDatabase, sqliteState } from '../../services/storage/sql/state-database.js';
import type { TableTouch } from '../../services/storage/sql/table-copy.js';
import type { ManualClock } from '../support/manual-clock.js';
import { engines, engineTest, type Opened, TEST_COMMUNES } from '../support/state-engines.js';

/*
 * Firmware images (rows and files), rollouts and readiness drills on both engines of the query
 * layer: with PostgreSQL every instance must serve every image byte for byte, and see the rollouts
 * and drills another instance writes, with each cluster's progress.
 */

const silent = pino({ level: 'silent' });
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const NOW = Date.UTC(2026, 11, 7, 8);

interface Instance {
  library: FirmwareLibrary;
  rollouts: RolloutStore;
  drills: DrillStore;
  /** What the stores' copies heard of other instances' changes. */
  heard: TableTouch[];
  dir: string;
}

describe.each(engines)('firmware, rollouts and drills on $name', (engine) => {
  const run = engine.skip ? describe.skip : describe;
  run(engine.skip ?? 'firmware and drills contract', () => {
    const test = engineTest(engine, {
      prefix: 'sc-firmware-',
      now: NOW,
      communes: TEST_COMMUNES.slice(0, 2),
    });
    const { started, files: others } = test;
    let dir = '';
    let opened: Opened;
    let clock: ManualClock;
    beforeEach(() => {
      ({ dir, opened, clock } = test);
    });

    const track = <T extends { stop(): Promise<void> }>(thing: T): T => {
      started.push(thing);
      return thing;
    };

    /** An instance as the platform starts one: the registry (whose communes drills refer to), then these stores. */
    const instanceOn = async (state: StateDatabase, db: Db, firmwareDir: string): Promise<Instance> => {
      const registry = track(
        new RegistryStore({
          db,
          state,
          now: () => clock.now(),
          defaultTimezone: 'Asia/Ho_Chi_Minh',
          logger: silent,
        }),
      );
      await registry.start();
      const heard: TableTouch[] = [];
      const library = track(
        new FirmwareLibrary({
          db,
          state,
          clock,
          logger: silent,
          dir: firmwareDir,
          maxBytes: 4 * 1024 * 1024,
        }),
      );
      await library.start();
      const rollouts = track(new RolloutStore(db, state, silent));
      await rollouts.start((touch) => heard.push(touch));
      const drills = track(new DrillStore(db, state, silent));
      await drills.start((touch) => heard.push(touch));
      return { library, rollouts, drills, heard, dir: firmwareDir };
    };
    const first = () => instanceOn(opened.state, opened.places, join(dir, 'firmware'));
    /** Another instance: on PostgreSQL its own SQLite file and firmware directory; on SQLite the same. */
    const second = async () => {
      if (opened.state.engine !== 'postgres')
        return instanceOn(opened.state, opened.places, join(dir, 'firmware'));
      const db = openDatabase(join(dir, 'other.sqlite'), silent);
      others.push(db);
      return instanceOn(await opened.second(), db, join(dir, 'firmware-other'));
    };

    /** 600 KB: three chunks in PostgreSQL. */
    const image = randomBytes(600 * 1024);
    const upload = async (
      library: FirmwareLibrary,
      bytes = image,
      version = '2.4.1',
      declared = sha256(bytes),
    ) =>
      library.commit(await library.receive(Readable.from([bytes]), 'sc-cluster-2.4.1.bin'), {
        version,
        sha256: declared,
        notes: 'Sửa lỗi mất kết nối 4G',
        createdBy: 'kỹ thuật viên',
      });

    const rolloutOf = (imageId: string, id = 'fwr-0000000001'): RolloutRecord => ({
      id,
      imageId,
      version: '2.4.1',
      selection: { communeId: 'huong-dao', percentage: 100 },
      communeIds: ['hop-thinh', 'huong-dao'],
      batchSize: 2,
      failureThreshold: 34.5,
      clusterTimeoutS: 900,
      state: 'running',
      haltReason: null,
      createdBy: 'lan',
      createdAt: NOW,
      finishedAt: null,
    });
    const rolloutClusters = (rolloutId: string): RolloutClusterRecord[] =>
      ['hd-c01', 'hd-c02', 'ht-c01'].map((clusterId, position) => ({
        rolloutId,
        clusterId,
        position,
        batch: Math.floor(position / 2),
        communeId: clusterId.startsWith('hd') ? 'huong-dao' : 'hop-thinh',
        villageId: clusterId.startsWith('hd') ? 'thon-1' : 'thon-9',
        fromVersion: '2.3.0',
        reportedVersion: null,
        stage: 'not-started',
        outcome: 'not-started',
        error: null,
        commandId: null,
        command: null,
        startedAt: null,
        deadlineAt: null,
        updatedAt: NOW,
      }));
    const firmwareCommand = {
      id: 'cmd-fw-1',
      type: 'firmware',
      issuedAt: NOW,
      expiresAt: NOW + 900_000,
      url: 'http://127.0.0.1:1/api/v1/firmware/fw-1/content?exp=1&sig=x',
      sha256: 'a'.repeat(64),
      sizeBytes: 614_400,
      version: '2.4.1',
    } as unknown as RolloutClusterRecord['command'];

    const drillOf = (id = 'dr-0000000001'): DrillRecord => ({
      id,
      origin: 'manual',
      tone: true,
      targets: { communeIds: ['huong-dao'], villageIds: [], clusterIds: [], groupIds: [] },
      communeIds: ['huong-dao'],
      state: 'running',
      startedAt: NOW,
      deadlineAt: NOW + 120_000,
      finishedAt: null,
      createdBy: 'lan',
    });
    const drillResults = (drillId: string): DrillResultRecord[] =>
      ['hd-c01', 'hd-c02', 'hd-c03'].map((clusterId, position) => ({
        drillId,
        clusterId,
        position,
        communeId: 'huong-dao',
        villageId: 'thon-1',
        commandId: position === 2 ? null : `cmd-st-${drillId}-${position}`,
        outcome: position === 2 ? 'not-tested' : 'testing',
        reasons: position === 2 ? ['offline'] : [],
        checks: null,
        testedAt: null,
      }));
    const selftest = {
      download: { ok: true },
      decode: { ok: true },
      amplifier: { ok: true },
      speakers: [{ index: 1, ok: true }],
    } as unknown as DrillResultRecord['checks'];

    it('keeps an image whose checksum is the declared one, with its bytes, and refuses a second upload of its version (409) or a wrong checksum (422)', async () => {
      const { library } = await first();
      const stored = await upload(library);
      expect(stored).toMatchObject({
        version: '2.4.1',
        filename: 'sc-cluster-2.4.1.bin',
        sizeBytes: image.length,
        sha256: sha256(image),
        notes: 'Sửa lỗi mất kết nối 4G',
        createdBy: 'kỹ thuật viên',
        createdAt: new Date(NOW).toISOString(),
      });
      expect(library.get(stored.id)).toEqual(stored);
      expect(library.findByVersion('2.4.1')).toEqual(stored);
      expect(library.list({ limit: 10, offset: 0 })).toEqual({ items: [stored], total: 1 });
      expect(readFileSync(await library.localFile(stored.id))).toEqual(image);
      if (opened.state.engine === 'postgres') {
        const chunks = await opened.state.db
          .selectFrom('firmware_chunks')
          .select(['seq', 'data'])
          .where('image_id', '=', stored.id)
          .orderBy('seq')
          .execute();
        expect(chunks.map((c) => c.seq)).toEqual([0, 1, 2]);
        expect(chunks.every((c) => c.data.length <= CHUNK_BYTES)).toBe(true);
        expect(Buffer.concat(chunks.map((c) => c.data))).toEqual(image);
      }

      const again = await upload(library).catch((error: unknown) => error);
      expect(again).toBeInstanceOf(ConflictError);
      expect((again as ConflictError).details).toEqual({ version: '2.4.1' });
      await expect(upload(library, image, '2.4.2', 'b'.repeat(64))).rejects.toBeInstanceOf(
        UnprocessableError,
      );
      expect(library.list({ limit: 10, offset: 0 }).total).toBe(1);
      await expect(library.present('fw-0000000000')).rejects.toBeInstanceOf(NotFoundError);
    });

    it("records a rollout with each cluster's progress and its state, and refuses one of a missing image or a taken id (409)", async () => {
      const { library, rollouts } = await first();
      const stored = await upload(library);
      const rollout = rolloutOf(stored.id);
      await rollouts.insert(rollout, rolloutClusters(rollout.id));
      expect(rollouts.get(rollout.id)).toEqual(rollout);
      expect(rollouts.clusters(rollout.id).map((c) => [c.clusterId, c.batch, c.outcome])).toEqual([
        ['hd-c01', 0, 'not-started'],
        ['hd-c02', 0, 'not-started'],
        ['ht-c01', 1, 'not-started'],
      ]);

      clock.advance(5_000);
      await rollouts.updateCluster(
        rollout.id,
        'hd-c01',
        {
          stage: 'sent',
          outcome: 'in-progress',
          commandId: 'cmd-fw-1',
          command: firmwareCommand,
          startedAt: clock.now(),
          deadlineAt: clock.now() + 900_000,
        },
        clock.now(),
      );
      await rollouts.updateCluster(
        rollout.id,
        'hd-c02',
        { outcome: 'skipped', error: 'offline' },
        clock.now(),
      );
      expect(rollouts.cluster(rollout.id, 'hd-c01')).toMatchObject({
        stage: 'sent',
        outcome: 'in-progress',
        command: firmwareCommand,
        deadlineAt: NOW + 905_000,
        updatedAt: NOW + 5_000,
      });
      expect(rollouts.inFlight().map((c) => c.clusterId)).toEqual(['hd-c01']);
      expect(rollouts.open().map((r) => r.id)).toEqual([rollout.id]);
      expect(rollouts.list({ limit: 10, offset: 0 }, ['hop-thinh']).total).toBe(1);
      expect(rollouts.list({ limit: 10, offset: 0 }, ['tan-thanh']).total).toBe(0);

      await rollouts.setState(rollout.id, 'halted', 'halted by lan', clock.now());
      // Halted, with a cluster still updating: still open until it answers.
      expect(rollouts.open().map((r) => r.id)).toEqual([rollout.id]);
      await rollouts.updateCluster(
        rollout.id,
        'hd-c01',
        { outcome: 'updated', stage: 'online' },
        clock.now(),
      );
      expect(rollouts.open()).toEqual([]);
      expect(rollouts.get(rollout.id)).toMatchObject({ state: 'halted', haltReason: 'halted by lan' });

      await expect(rollouts.insert(rollout, rolloutClusters(rollout.id))).rejects.toBeInstanceOf(
        ConflictError,
      );
      const orphan = rolloutOf('fw-0000000000', 'fwr-0000000002');
      await expect(rollouts.insert(orphan, rolloutClusters(orphan.id))).rejects.toBeInstanceOf(ConflictError);
      expect(rollouts.get(orphan.id)).toBeNull();
    });

    it("records a drill with each cluster's verdict (the first one counts) and each commune's weekly drill", async () => {
      const { drills } = await first();
      const drill = drillOf();
      await drills.insert(drill, drillResults(drill.id));
      expect(drills.get(drill.id)).toEqual(drill);
      expect(drills.running().map((d) => d.id)).toEqual([drill.id]);
      expect(drills.testing().map((r) => r.clusterId)).toEqual(['hd-c01', 'hd-c02']);

      expect(
        await drills.decide(
          drill.id,
          'hd-c01',
          { outcome: 'ready', reasons: [], checks: selftest },
          NOW + 9_000,
        ),
      ).toBe(true);
      // A late answer after the verdict is not recorded.
      expect(
        await drills.decide(drill.id, 'hd-c01', { outcome: 'not-ready', reasons: ['late'] }, NOW + 9_500),
      ).toBe(false);
      expect(drills.results(drill.id)[0]).toMatchObject({
        outcome: 'ready',
        checks: selftest,
        testedAt: NOW + 9_000,
      });
      await drills.finish(drill.id, NOW + 120_000);
      expect(drills.get(drill.id)).toMatchObject({ state: 'finished', finishedAt: NOW + 120_000 });
      expect(drills.running()).toEqual([]);
      expect(drills.list({ limit: 10, offset: 0 }, { communes: null, communeId: 'huong-dao' }).total).toBe(1);
      expect(drills.list({ limit: 10, offset: 0 }, { communes: ['hop-thinh'] }).total).toBe(0);
      await expect(drills.insert(drill, drillResults(drill.id))).rejects.toBeInstanceOf(ConflictError);

      expect(drills.schedule('huong-dao')).toMatchObject({
        enabled: false,
        weekday: 7,
        hour: 9,
        updatedAt: null,
      });
      const schedule = {
        ...drills.schedule('huong-dao'),
        enabled: true,
        weekday: 1,
        hour: 7,
        minute: 30,
        tone: true,
        updatedBy: 'lan',
        updatedAt: NOW,
      };
      await drills.saveSchedule(schedule);
      await drills.saveSchedule({ ...schedule, minute: 45 });
      await drills.recordRun('huong-dao', drill.id, NOW + 1_000);
      expect(drills.enabledSchedules()).toEqual([
        { ...schedule, minute: 45, lastRunAt: NOW + 1_000, lastDrillId: drill.id },
      ]);
      await expect(drills.saveSchedule({ ...schedule, communeId: 'nowhere' })).rejects.toBeInstanceOf(
        ConflictError,
      );
    });

    it('keeps images, rollouts and drills across a restart', async () => {
      const one = await first();
      const stored = await upload(one.library);
      const rollout = rolloutOf(stored.id);
      await one.rollouts.insert(rollout, rolloutClusters(rollout.id));
      await one.rollouts.updateCluster(
        rollout.id,
        'hd-c01',
        { stage: 'download', outcome: 'in-progress' },
        NOW + 1,
      );
      const drill = drillOf();
      await one.drills.insert(drill, drillResults(drill.id));
      await one.drills.decide(
        drill.id,
        'hd-c02',
        { outcome: 'not-ready', reasons: ['speaker 2: open line'] },
        NOW + 2,
      );
      await one.drills.saveSchedule({ ...one.drills.schedule('hop-thinh'), enabled: true, updatedAt: NOW });
      for (const s of started.splice(0).reverse()) await s.stop();
      await opened.reopen();

      const again = await first();
      expect(again.library.get(stored.id)).toEqual(stored);
      expect(readFileSync(await again.library.localFile(stored.id))).toEqual(image);
      expect(again.rollouts.get(rollout.id)).toEqual(rollout);
      expect(again.rollouts.cluster(rollout.id, 'hd-c01')).toMatchObject({
        stage: 'download',
        outcome: 'in-progress',
      });
      expect(again.drills.results(drill.id).map((r) => r.outcome)).toEqual([
        'testing',
        'not-ready',
        'not-tested',
      ]);
      expect(again.drills.enabledSchedules().map((s) => s.communeId)).toEqual(['hop-thinh']);
    });

    it('lets another instance serve an image byte for byte at once, and see rollouts and drills change as they do', async () => {
      const a = await first();
      const b = await second();
      const stored = await upload(a.library);
      // At once: looked up in PostgreSQL when not copied yet, and fetched when not here yet.
      expect(await b.library.present(stored.id)).toEqual(stored);
      const served = readFileSync(await b.library.localFile(stored.id));
      expect(served.length).toBe(image.length);
      expect(sha256(served)).toBe(stored.sha256);
      expect(served).toEqual(image);
      // And heard of: a later image's file is fetched without being asked for.
      const smaller = randomBytes(4096);
      const next = await upload(a.library, smaller, '2.4.2');
      // The same version through the other instance, whether or not its copy has heard of it yet.
      const clash = await upload(b.library, smaller, '2.4.2').catch((error: unknown) => error);
      expect(clash).toBeInstanceOf(ConflictError);
      expect((clash as ConflictError).details).toEqual({ version: '2.4.2' });
      await vi.waitFor(() => expect(existsSync(join(b.dir, `${next.id}.bin`))).toBe(true));
      expect(readFileSync(join(b.dir, `${next.id}.bin`))).toEqual(smaller);

      const rollout = rolloutOf(stored.id);
      await a.rollouts.insert(rollout, rolloutClusters(rollout.id));
      await vi.waitFor(() => expect(b.rollouts.get(rollout.id)).toEqual(rollout));
      await a.rollouts.updateCluster(
        rollout.id,
        'hd-c02',
        { stage: 'install', outcome: 'in-progress', commandId: 'cmd-fw-1', command: firmwareCommand },
        NOW + 3,
      );
      await vi.waitFor(() =>
        expect(b.rollouts.cluster(rollout.id, 'hd-c02')).toMatchObject({
          stage: 'install',
          command: firmwareCommand,
        }),
      );
      expect(b.rollouts.inFlight().map((c) => c.clusterId)).toEqual(['hd-c02']);
      await a.rollouts.setState(rollout.id, 'completed', null, NOW + 4);
      await vi.waitFor(() => expect(b.rollouts.get(rollout.id)?.state).toBe('completed'));

      const drill = drillOf();
      await a.drills.insert(drill, drillResults(drill.id));
      // An answer to its selftest finds it at once, heard of or not.
      await b.drills.fetchTesting(`cmd-st-${drill.id}-1`);
      expect(b.drills.testing().map((r) => r.commandId)).toContain(`cmd-st-${drill.id}-1`);
      await vi.waitFor(() => expect(b.drills.get(drill.id)).toEqual(drill));
      // The instance hearing answers (b) records a verdict; the one that started it (a) sees it.
      expect(await b.drills.decide(drill.id, 'hd-c01', { outcome: 'ready', reasons: [] }, NOW + 5)).toBe(
        true,
      );
      await vi.waitFor(() => expect(a.drills.results(drill.id)[0]?.outcome).toBe('ready'));
      await b.drills.saveSchedule({
        ...b.drills.schedule('huong-dao'),
        enabled: true,
        hour: 6,
        updatedAt: NOW,
      });
      await vi.waitFor(() =>
        expect(a.drills.schedule('huong-dao')).toMatchObject({ enabled: true, hour: 6 }),
      );

      if (opened.state.engine === 'postgres') {
        expect(b.heard).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ table: 'firmware_rollouts', id: rollout.id, change: 'created' }),
            expect.objectContaining({ table: 'firmware_rollouts', id: rollout.id, change: 'updated' }),
            expect.objectContaining({ table: 'readiness_drills', id: drill.id, change: 'created' }),
          ]),
        );
        expect(a.heard).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ table: 'readiness_drills', id: drill.id, change: 'updated' }),
            expect.objectContaining({ table: 'readiness_schedules', id: 'huong-dao' }),
          ]),
        );
      }
    });

    it('moves firmware kept in SQLite alone into PostgreSQL, image files included, for the other instances', async () => {
      if (opened.state.engine !== 'postgres') return;
      // Stored before DATABASE_URL: the rows in the SQLite file, the image in DATA_DIR/firmware only.
      const alone = await instanceOn(sqliteState(opened.places), opened.places, join(dir, 'firmware'));
      const stored = await upload(alone.library);
      const drill = drillOf();
      await alone.drills.insert(drill, drillResults(drill.id));
      for (const s of started.splice(0).reverse()) await s.stop();

      await first();
      const b = await second();
      expect(b.drills.get(drill.id)).toEqual(drill);
      await vi.waitFor(() => expect(existsSync(join(b.dir, `${stored.id}.bin`))).toBe(true), {
        timeout: 10_000,
      });
      expect(readFileSync(join(b.dir, `${stored.id}.bin`))).toEqual(image);
    });
  });
});
