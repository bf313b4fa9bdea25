import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynsecControl } from '../../broker/dynsec/dynsec-control.js';
import { credentialStamp, deviceRole } from '../../broker/dynsec/dynsec-plan.js';
import { systemClock } from '../../devices/index.js';
import type { Cluster } from '../../services/cluster/cluster-feature.js';
import { type DeviceAccount, type DeviceAccounts, DynsecSync } from '../../services/mqtt/dynsec-sync.js';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { type PlayLog, playLogSink } from '../../simulators/speaker-cluster/play-log.js';
import { type CommandObserver, observeCommandsAt } from '../support/command-observer.js';
import { ManualClock } from '../support/manual-clock.js';
import { uploadWav } from '../support/media-upload.js';
import { Mosquitto, mosquittoSkipReason } from '../support/mosquitto.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { postgresSkipReason } from '../support/postgres.js';
import { type InstanceLayout, instanceConfig, instanceLayout } from '../support/redis-instances.js';
import { RedisServer, redisSkipReason } from '../support/redis-server.js';

/*
 * A province on an external broker: two in-process platform instances on one real Mosquitto with
 * its dynamic security plugin, sharing a real Redis (leases, presence, console events) and a real
 * PostgreSQL (state), each with its own data directory. A, started first, holds the leases: it
 * keeps every broker account in step and runs the dispatcher. Devices are real MQTT clients and
 * simulated clusters on Mosquitto; one manual clock drives both platforms (the leases run on real
 * time, as Redis' own expiry does).
 */
const skip = mosquittoSkipReason({ dynsec: true }) ?? redisSkipReason() ?? postgresSkipReason();
const PLATFORM = { username: '_platform', password: 'internal-password-for-instance-tests' };
/** services/mqtt/dynsec-feature.ts: how long an account must look stale before it is disabled. */
const STALE_GRACE_MS = 5_000;

/** A device's own connection to the broker, added to `open` to be closed after the suite. */
async function connectDevice(url: string, id: string, password: string, open: MqttClient[]) {
  const device = await mqtt.connectAsync(url, {
    clientId: id,
    username: id,
    password,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
  open.push(device);
  return device;
}

describe.skipIf(skip !== null)(
  `two instances on one Mosquitto with dynamic security${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    const clock = new ManualClock(Date.parse('2026-12-07T10:00:00+07:00'));
    let mosquitto: Mosquitto;
    let redis: RedisServer;
    let leases: Redis;
    let layout: InstanceLayout | undefined;
    let admin: DynsecControl;
    let a: TestPlatform;
    let b: TestPlatform;
    let aClosed = false;
    let observer: CommandObserver | undefined;
    let fleet: SimulatedFleet | undefined;
    const devices: MqttClient[] = [];
    const plays: PlayLog[] = [];

    beforeAll(async () => {
      mosquitto = await Mosquitto.start({ dynsec: PLATFORM });
      redis = await RedisServer.start();
      leases = new Redis(redis.url);
      layout = await instanceLayout(true);
      const config = instanceConfig(redis.url, {
        MQTT_URL: mosquitto.url,
        MQTT_DYNSEC: true,
        MQTT_INTERNAL_USERNAME: PLATFORM.username,
        MQTT_INTERNAL_PASSWORD: PLATFORM.password,
        HEARTBEAT_MISSED_LIMIT: 20,
        ...layout.config,
      });
      a = await startTestPlatform({ clock, config, dataDir: layout.dirs[0] });
      b = await startTestPlatform({ clock, config, dataDir: layout.dirs[1] });
      admin = new DynsecControl({
        url: mosquitto.url,
        ...PLATFORM,
        clock: systemClock,
        logger: pino({ level: 'silent' }),
      });
      admin.start();
      await vi.waitFor(() => expect(admin.connected).toBe(true));
    }, 60_000);
    afterAll(async () => {
      await Promise.all(devices.map((d) => d.endAsync(true).catch(() => undefined)));
      await observer?.close();
      await fleet?.stop();
      await admin?.close();
      await b?.close();
      if (!aClosed) await a?.close();
      await leases?.quit();
      await redis?.cleanup();
      await mosquitto?.cleanup();
      await layout?.cleanup();
    });

    const dynsecOf = (t: TestPlatform) =>
      (t.platform as unknown as { use(name: 'dynsec'): DynsecSync | null }).use('dynsec');
    const connect = (id: string, password: string) => connectDevice(mosquitto.url, id, password, devices);
    /** The issuing instance hands the secret over after answering: it works within moments. */
    const connectSoon = (id: string, password: string) =>
      vi.waitFor(() => connect(id, password), { timeout: 5_000, interval: 50 });
    const refused = async (id: string, password: string) => {
      await expect(connect(id, password)).rejects.toThrow(/Not authorized|Bad username or password/);
    };
    const issue = async (t: TestPlatform, id: string) => {
      const response = await t.api(`/api/v1/clusters/${id}/credentials`, { method: 'POST' });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      return response.body.secret as string;
    };
    /** Lets the keeper's grace for stale accounts run out, and whatever it then does finish. */
    const pastTheGrace = async (keeper: TestPlatform) => {
      clock.advance(STALE_GRACE_MS + 1_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      await dynsecOf(keeper)?.settled();
    };

    it('keeps the accounts in step from either instance: a secret works at once and stays working, a rotation ends the old one', async () => {
      expect(dynsecOf(a)?.keeper).toBe(true);
      expect(dynsecOf(b)?.keeper).toBe(false);
      // The keeper created an account (no password yet) for each cluster of the seeded commune.
      await vi.waitFor(async () => expect(await admin.getClient('hd-c01')).not.toBeNull());

      // Issued through B, which does not keep the accounts: B hands the secret over itself, while
      // A hears of the new secret through its copy of the registry at about the same moment.
      let secret = await issue(b, 'hd-c01');
      let device = await connectSoon('hd-c01', secret);
      await pastTheGrace(a);
      expect(await admin.getClient('hd-c01')).not.toMatchObject({ disabled: true });
      expect(device.connected).toBe(true);

      // Rotations through either instance, one after another: each new secret works at once and
      // stays working, each old one stops.
      for (const through of [a, b, a, b]) {
        const dropped = new Promise<void>((resolve) => device.once('close', () => resolve()));
        const next = await issue(through, 'hd-c01');
        await dropped;
        device = await connectSoon('hd-c01', next);
        await refused('hd-c01', secret);
        secret = next;
      }
      await pastTheGrace(a);
      expect(await admin.getClient('hd-c01')).not.toMatchObject({ disabled: true });
      expect(device.connected).toBe(true);
      await device.endAsync();
      await connect('hd-c01', secret);
    }, 60_000);

    it('sends an emergency asked of B once to each cluster on the broker, from the dispatcher on A', async () => {
      const clusters = ['hd-c04', 'hd-c05', 'hd-c06', 'hd-c07'];
      const cluster = (a.platform as unknown as { use(name: 'cluster'): Cluster }).use('cluster');
      expect(await leases.get('sc:lease:dispatcher')).toMatch(new RegExp(`^${cluster.instanceId} `));
      const secrets = [];
      for (const id of clusters) secrets.push({ deviceId: id, secret: await issue(b, id) });
      // B has handed them over (the simulated clusters retry on the manual clock only).
      await vi.waitFor(() => expect(dynsecOf(b)?.pendingSecrets).toBe(0));
      observer = await observeCommandsAt(mosquitto.url, PLATFORM);
      fleet = new SimulatedFleet({
        devices: secrets,
        url: mosquitto.url,
        logger: pino({ level: 'info' }, playLogSink(plays)),
        heartbeatIntervalS: 30,
        clock,
      });
      await fleet.start();
      // Presence through the broker's messages alone reaches both instances.
      for (const t of [a, b])
        await vi.waitFor(() => expect(t.platform.presence.onlineCount()).toBeGreaterThanOrEqual(4), {
          timeout: 15_000,
        });

      const warning = await uploadWav(b, 2);
      const emergency = await b.api('/api/v1/broadcasts/emergency?waitMs=8000', {
        method: 'POST',
        as: 'operator',
        body: {
          name: 'Cảnh báo lũ',
          content: { kind: 'media', mediaId: warning },
          targets: { clusterIds: clusters },
        },
      });
      expect(emergency.status, JSON.stringify(emergency.body)).toBe(201);
      const states = async (t: TestPlatform) =>
        (
          (await t.api(`/api/v1/broadcasts/${emergency.body.id}`, { as: 'operator' })).body
            .deliveries as Json[]
        ).map((d) => d.state);
      for (let second = 0; second < 4; second++) {
        clock.advance(1_000);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await vi.waitFor(async () => expect(await states(b)).toEqual(clusters.map(() => 'done')), {
        timeout: 15_000,
      });
      const started = plays
        .filter((p) => p.broadcastId === emergency.body.id && p.msg === 'playback started')
        .map((p) => p.deviceId);
      expect(started.sort()).toEqual(clusters);
      const sent = observer.commands.filter((c) => c.type === 'play' && c.broadcastId === emergency.body.id);
      expect(sent.map((c) => c.clusterId).sort()).toEqual(clusters);
      expect(sent.every((c) => c.mediaUrl?.startsWith(`${a.httpUrl}/`))).toBe(true);
    }, 60_000);

    it('moves the keeping of the accounts to B when A stops: B removes a deleted cluster and refuses it', async () => {
      const secret = await issue(a, 'hd-c02');
      const device = await connectSoon('hd-c02', secret);
      await a.close();
      aClosed = true;
      await vi.waitFor(() => expect(dynsecOf(b)?.keeper).toBe(true), { timeout: 10_000 });

      const dropped = new Promise<void>((resolve) => device.once('close', () => resolve()));
      expect((await b.api('/api/v1/clusters/hd-c02', { method: 'DELETE' })).status).toBe(204);
      await dropped;
      await vi.waitFor(async () => expect(await admin.getClient('hd-c02')).toBeNull());
      await refused('hd-c02', secret);
      // A secret issued now is B's own to hand over, and B keeps it working.
      const own = await issue(b, 'hd-c03');
      await connectSoon('hd-c03', own);
      await pastTheGrace(b);
      expect(await admin.getClient('hd-c03')).not.toMatchObject({ disabled: true });
    }, 60_000);
  },
);

/*
 * The keeper's side of a secret issued on another instance, on a real Mosquitto: two DynsecSyncs
 * as two instances run them, each with its own view of the registry. The issuing instance's view
 * is current; the keeper's is its copy, which a test holds back to show what happens while a
 * change is on its way to it. One manual clock runs the keeper's grace.
 */
describe.skipIf(mosquittoSkipReason({ dynsec: true }) !== null)(
  "the keeper of the broker accounts and another instance's secrets",
  () => {
    const clock = new ManualClock(Date.parse('2026-12-07T10:00:00+07:00'));
    const logger = pino({ level: 'silent' });
    let mosquitto: Mosquitto;
    let admin: DynsecControl;
    const controls: DynsecControl[] = [];
    const devices: MqttClient[] = [];
    const current = new Map<string, DeviceAccount>();
    const keeperCopy = new Map<string, DeviceAccount>();
    const view = (accounts: Map<string, DeviceAccount>): DeviceAccounts => ({
      list: () => [...accounts.values()],
      find: (id) => accounts.get(id) ?? null,
    });
    let keeper: DynsecSync;
    let issuer: DynsecSync;

    const startSync = (devices: DeviceAccounts, keeping: boolean) => {
      const control: DynsecControl = new DynsecControl({
        url: mosquitto.url,
        ...PLATFORM,
        clock,
        logger,
        onConnected: () => sync.connected(),
      });
      const sync = new DynsecSync({
        control,
        devices,
        platformUser: PLATFORM.username,
        clock,
        logger,
        keeping,
        staleGraceMs: STALE_GRACE_MS,
      });
      controls.push(control);
      control.start();
      return sync;
    };
    const connect = (password: string, id = 'lag-1') => connectDevice(mosquitto.url, id, password, devices);
    const refused = async (password: string) => {
      await expect(connect(password)).rejects.toThrow(/Not authorized|Bad username or password/);
    };
    const disabled = async () => (await admin.getClient('lag-1'))?.disabled === true;
    const issue = (secret: string, issuedAt: number) => {
      current.set('lag-1', { id: 'lag-1', name: 'Cụm trễ', issuedAt });
      issuer.secretIssued('lag-1', secret, issuedAt);
    };

    beforeAll(async () => {
      mosquitto = await Mosquitto.start({ dynsec: PLATFORM });
      admin = new DynsecControl({ url: mosquitto.url, ...PLATFORM, clock: systemClock, logger });
      admin.start();
      for (const accounts of [current, keeperCopy])
        accounts.set('lag-1', { id: 'lag-1', name: 'Cụm trễ', issuedAt: null });
      // The keeper first, as the instance started first takes the lease: it gives the platform's
      // account its role, which drops that account's connections once.
      keeper = startSync(view(keeperCopy), true);
      await vi.waitFor(() => expect(keeper.ready).toBe(true), { timeout: 10_000 });
      issuer = startSync(view(current), false);
      await vi.waitFor(() => expect(issuer.ready).toBe(true), { timeout: 10_000 });
      await vi.waitFor(async () => expect(await admin.getClient('lag-1')).not.toBeNull());
    }, 30_000);
    afterAll(async () => {
      await Promise.all(devices.map((d) => d.endAsync(true).catch(() => undefined)));
      await keeper?.stop();
      await issuer?.stop();
      await Promise.all([...controls, admin].map((c) => c?.close()));
      await mosquitto?.cleanup();
    });

    it('leaves a password newer than its copy of the registry working while the copy catches up', async () => {
      issue('secret-one-0123456789', clock.now());
      await vi.waitFor(() => expect(issuer.pendingSecrets).toBe(0));
      const device = await connect('secret-one-0123456789');
      // The keeper hears of some change of the cluster before its copy has the new secret.
      keeper.deviceChanged('lag-1');
      await keeper.settled();
      expect(await disabled()).toBe(false);
      // The copy catches up within the grace: nothing to do once it runs out.
      keeperCopy.set('lag-1', current.get('lag-1') as DeviceAccount);
      clock.advance(STALE_GRACE_MS);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await keeper.settled();
      expect(await disabled()).toBe(false);
      expect(device.connected).toBe(true);
    });

    it('disables at once a password older than the registry says, and lets the new one in once it is handed over', async () => {
      const issuedAt = clock.now() + 1_000;
      clock.advance(1_000);
      // The issuing instance has written the new secret; its hand-over has not reached the broker
      // when the keeper, whose copy already has it, looks: the old password stops at once.
      current.set('lag-1', { id: 'lag-1', name: 'Cụm trễ', issuedAt });
      keeperCopy.set('lag-1', { id: 'lag-1', name: 'Cụm trễ', issuedAt });
      keeper.deviceChanged('lag-1');
      await keeper.settled();
      expect(await disabled()).toBe(true);
      await refused('secret-one-0123456789');

      issuer.secretIssued('lag-1', 'secret-two-0123456789', issuedAt);
      await vi.waitFor(() => expect(issuer.pendingSecrets).toBe(0));
      await connect('secret-two-0123456789');
      // Had the keeper's disable reached the broker just after the hand-over, its second look
      // after the grace would enable the account again.
      await admin.send([{ command: 'disableClient', username: 'lag-1' }]);
      expect(await disabled()).toBe(true);
      clock.advance(STALE_GRACE_MS);
      await vi.waitFor(async () => expect(await disabled()).toBe(false));
      await connect('secret-two-0123456789');
    });

    it('keeps through a full reconcile an account just made for a cluster its copy does not have yet, and removes one that stays unknown', async () => {
      // Registered and issued a secret on the other instance, which hands it over at once.
      current.set('new-1', { id: 'new-1', name: 'Cụm mới', issuedAt: clock.now() });
      issuer.secretIssued('new-1', 'secret-new-0123456789', clock.now());
      await vi.waitFor(() => expect(issuer.pendingSecrets).toBe(0));
      await connect('secret-new-0123456789', 'new-1');
      // An account of the platform's making for a cluster no instance has.
      const orphan = await admin.send([
        { command: 'createRole', rolename: deviceRole('gone-1') },
        {
          command: 'createClient',
          username: 'gone-1',
          password: 'secret-gone-0123456789',
          textdescription: credentialStamp(clock.now()),
          roles: [{ rolename: deviceRole('gone-1') }],
        },
      ]);
      expect(orphan.every((r) => r.error === undefined)).toBe(true);

      // The keeper reconciles in full (it reconnected, or just took the lease) before its copy
      // has the new cluster: neither account goes yet.
      keeper.connected();
      await keeper.settled();
      expect(await admin.getClient('new-1')).not.toBeNull();
      expect(await admin.getClient('gone-1')).not.toBeNull();
      await connect('secret-new-0123456789', 'new-1');

      // The copy catches up; once the grace runs out the keeper looks again at each.
      keeperCopy.set('new-1', current.get('new-1') as DeviceAccount);
      clock.advance(STALE_GRACE_MS);
      await vi.waitFor(async () => expect(await admin.getClient('gone-1')).toBeNull());
      expect(await admin.getRole(deviceRole('gone-1'))).toBeNull();
      await keeper.settled();
      expect(await admin.getClient('new-1')).not.toMatchObject({ disabled: true });
      await connect('secret-new-0123456789', 'new-1');
    });
  },
);
