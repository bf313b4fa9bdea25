import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebhookAddressPolicy } from '../../services/sharing/webhook-address-policy.js';
import { WebhookDispatcher } from '../../services/sharing/webhook-dispatcher.js';
import { verifyWebhookSignature } from '../../services/sharing/webhook-signature.js';
import { WebhookStore } from '../../services/sharing/webhook-store.js';
import { openDatabase } from '../../services/storage/database.js';
import { sqliteState } from '../../services/storage/sql/state-database.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { ManualClock } from '../support/manual-clock.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The events of the POST: its body, or the elements of its array. */
  events: Json[];
}

/** A webhook receiver on an ephemeral loopback port that answers `status` and keeps every POST. */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  answer(status: number): void;
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  let status = 200;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const parsed = JSON.parse(body) as Json;
      received.push({ headers: request.headers, body, events: Array.isArray(parsed) ? parsed : [parsed] });
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'down');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/smart-commune`,
    received,
    answer(next) {
      status = next;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A cluster connects over MQTT and leaves again (a clean DISCONNECT): online, then offline. */
async function connectAndLeave(t: TestPlatform): Promise<void> {
  if (!t.platform.registry.findCluster('cum-1')) await t.addDevice('cum-1');
  const client = await t.connectDevice('cum-1', (await t.platform.registry.issueSecret('cum-1')).secret);
  await vi.waitFor(() => expect(t.platform.presence.isOnline('cum-1')).toBe(true));
  await client.endAsync();
  await vi.waitFor(() => expect(t.platform.presence.isOnline('cum-1')).toBe(false));
}

const LOCAL_RECEIVERS = { WEBHOOK_ALLOW_LOOPBACK: true, WEBHOOK_ALLOW_HTTP: true } as const;

describe('webhooks', () => {
  let t: TestPlatform | null = null;
  let fleet: SimulatedFleet | null = null;
  let receiver: Awaited<ReturnType<typeof startReceiver>> | null = null;
  afterEach(async () => {
    await fleet?.stop();
    await t?.close();
    await receiver?.close();
    fleet = null;
    t = null;
    receiver = null;
  });

  const register = async (platform: TestPlatform, body: Json) => {
    const created = await platform.api('/api/v1/webhooks', { method: 'POST', body });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body as { id: string; secret: string };
  };

  it('POSTs signed events when a cluster goes offline and comes back, and when a delivery becomes final', async () => {
    receiver = await startReceiver();
    t = await startTestPlatform({ config: LOCAL_RECEIVERS });
    await t.platform.registry.createCommune({
      id: 'xa',
      name: 'Xã Thử',
      provinceId: 'phu-tho',
      code: '08800',
    });
    await t.platform.registry.createVillage({ id: 'thon', communeId: 'xa', name: 'Thôn 1' });
    await t.platform.registry.createCluster({
      id: 'cum-1',
      villageId: 'thon',
      name: 'Cụm 1',
      location: { lat: 21, lon: 105 },
    });
    const hook = await register(t, {
      url: receiver.url,
      events: ['cluster.status', 'delivery.final'],
      description: 'Hệ thống thông tin nguồn tỉnh',
    });
    expect(hook.secret).toMatch(/^whsec_/);
    const listed = await t.api('/api/v1/webhooks');
    expect(listed.body.items).toHaveLength(1);
    expect(JSON.stringify(listed.body)).not.toContain(hook.secret);

    fleet = await startFleet(t, ['cum-1']);
    const events = () => receiver?.received.flatMap((r) => r.events) ?? [];
    const statuses = () =>
      events()
        .filter((e) => e.type === 'cluster.status')
        .map((e) => e.data.online);
    await vi.waitFor(() => expect(statuses()).toEqual([true]), { timeout: 5_000 });
    await fleet.injectFault('cum-1', { kind: 'drop' });
    await vi.waitFor(() => expect(statuses()).toEqual([true, false]), { timeout: 5_000 });
    await fleet.clearFault('cum-1', 'drop');
    await vi.waitFor(() => expect(statuses()).toEqual([true, false, true]), { timeout: 10_000 });
    const offline = events().find((e) => e.type === 'cluster.status' && !e.data.online);
    expect(offline).toMatchObject({
      id: expect.stringMatching(/^evt_/),
      occurredAt: expect.any(String),
      data: {
        clusterId: 'cum-1',
        clusterName: 'Cụm 1',
        communeId: 'xa',
        communeCode: '08800',
        online: false,
      },
    });

    const relay = await t.api('/api/v1/broadcasts/live', {
      method: 'POST',
      body: {
        name: 'Tiếp sóng',
        url: 'http://radio.example/live',
        durationS: 600,
        targets: { clusterIds: ['cum-1'] },
      },
    });
    expect(relay.status).toBe(201);
    await t.api(`/api/v1/broadcasts/${relay.body.id}/stop`, { method: 'POST' });
    await vi.waitFor(() => expect(events().some((e) => e.type === 'delivery.final')).toBe(true), {
      timeout: 5_000,
    });
    expect(events().find((e) => e.type === 'delivery.final').data).toMatchObject({
      broadcastId: relay.body.id,
      clusterId: 'cum-1',
      communeCode: '08800',
      name: 'Tiếp sóng',
      provincialBulletinId: null,
    });

    for (const post of receiver.received) {
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.headers['x-webhook-id']).toMatch(/^whd-/);
      const signed = {
        secret: hook.secret,
        timestamp: post.headers['x-webhook-timestamp'] as string,
        body: post.body,
        header: post.headers['x-webhook-signature'] as string,
        nowMs: Date.now(),
      };
      expect(signed.header).toMatch(/^v1=[0-9a-f]{64}$/);
      expect(verifyWebhookSignature(signed)).toBe(true);
      expect(verifyWebhookSignature({ ...signed, body: `${post.body} ` })).toBe(false);
      expect(verifyWebhookSignature({ ...signed, secret: 'whsec_other' })).toBe(false);
    }
    const deliveries = await t.api(`/api/v1/webhooks/${hook.id}/deliveries`);
    expect(deliveries.body.total).toBe(receiver.received.length);
    expect(
      deliveries.body.items.every((d: Json) => d.state === 'delivered' && d.attempts[0].status === 200),
    ).toBe(true);
  });

  it('retries a receiver that answers 500 after 10 s, 1 min, 10 min, then hourly, and gives up after a day', async () => {
    receiver = await startReceiver();
    receiver.answer(500);
    const clock = new ManualClock();
    // The admin's console session outlives the day the clock moves through.
    t = await startTestPlatform({
      clock,
      config: { ...LOCAL_RECEIVERS, SESSION_MAX_H: 48, SESSION_IDLE_MIN: 1440 },
    });
    const hook = await register(t, { url: receiver.url, events: ['cluster.status'] });
    const created = clock.now();
    // A cluster online and offline again within the second: one POST of both events.
    await connectAndLeave(t);

    const deliveriesOf = async () =>
      (await t?.api(`/api/v1/webhooks/${hook.id}/deliveries`))?.body.items as Json[];
    /** Waits until the delivery records `n` attempts, and returns it. */
    const attempted = async (n: number) => {
      let delivery: Json;
      await vi.waitFor(async () => {
        [delivery] = await deliveriesOf();
        expect(delivery?.attempts).toHaveLength(n);
      });
      return delivery;
    };
    // Gathered for a second, then sent.
    clock.advance(999);
    expect(receiver.received).toHaveLength(0);
    clock.advance(1);
    let delivery = await attempted(1);
    expect(delivery).toMatchObject({ state: 'pending', types: ['cluster.status'], events: 2 });
    expect(receiver.received[0]?.events.map((e) => e.data.online)).toEqual([true, false]);
    expect(delivery.attempts[0]).toMatchObject({ status: 500, error: 'HTTP 500' });
    const gaps: number[] = [];
    let at = Date.parse(delivery.attempts[0].at);
    for (let n = 2; delivery.state === 'pending'; n++) {
      const next = Date.parse(delivery.nextAttemptAt);
      gaps.push((next - at) / 1000);
      clock.advance(next - clock.now() - 1);
      expect(receiver.received).toHaveLength(n - 1);
      clock.advance(1);
      delivery = await attempted(n);
      at = next;
    }
    expect(gaps.slice(0, 5)).toEqual([10, 60, 600, 3600, 3600]);
    expect(delivery.state).toBe('failed');
    expect(Date.parse(delivery.finishedAt) - created).toBeLessThanOrEqual(24 * 3_600_000);
    expect(Date.parse(delivery.finishedAt) - created).toBeGreaterThan(23 * 3_600_000);
    // Every retry is the same POST: same id, same body, signed afresh with its own timestamp.
    expect(new Set(receiver.received.map((r) => r.headers['x-webhook-id'])).size).toBe(1);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    const last = receiver.received.at(-1) as Received;
    expect(
      verifyWebhookSignature({
        secret: hook.secret,
        timestamp: last.headers['x-webhook-timestamp'] as string,
        body: last.body,
        header: last.headers['x-webhook-signature'] as string,
        nowMs: clock.now(),
      }),
    ).toBe(true);

    // Once the receiver is back, the next event is delivered at the first attempt.
    receiver.answer(204);
    const before = receiver.received.length;
    await connectAndLeave(t);
    clock.advance(1_000);
    await vi.waitFor(async () => expect((await deliveriesOf())[0].state).toBe('delivered'));
    expect(receiver.received).toHaveLength(before + 1);
  });

  it('signs with both secrets for the grace period after a rotation, and with the new one only after it', async () => {
    receiver = await startReceiver();
    const clock = new ManualClock();
    t = await startTestPlatform({ clock, config: LOCAL_RECEIVERS });
    const hook = await register(t, { url: receiver.url, events: ['cluster.status'] });
    const rotated = await t.api(`/api/v1/webhooks/${hook.id}/rotate-secret`, {
      method: 'POST',
      body: { graceHours: 1 },
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.secret).not.toBe(hook.secret);
    await connectAndLeave(t);
    clock.advance(1_000);
    await vi.waitFor(() => expect(receiver?.received).toHaveLength(1));
    const post = receiver.received[0] as Received;
    const header = post.headers['x-webhook-signature'] as string;
    expect(header).toMatch(/^v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);
    const check = (key: string) =>
      verifyWebhookSignature({
        secret: key,
        timestamp: post.headers['x-webhook-timestamp'] as string,
        body: post.body,
        header,
        nowMs: clock.now(),
      });
    expect(check(rotated.body.secret)).toBe(true);
    expect(check(hook.secret)).toBe(true);

    clock.advance(3_600_000);
    await connectAndLeave(t);
    clock.advance(1_000);
    await vi.waitFor(() => expect(receiver?.received).toHaveLength(2));
    expect(receiver.received[1]?.headers['x-webhook-signature']).toMatch(/^v1=[0-9a-f]{64}$/);

    // Deleting the webhook revokes it: nothing more is sent.
    expect((await t.api(`/api/v1/webhooks/${hook.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await t.api(`/api/v1/webhooks/${hook.id}/deliveries`)).status).toBe(404);
  });

  it('refuses at registration a URL to this PC, a private address or plain http, naming the field', async () => {
    t = await startTestPlatform();
    const refused = async (url: string) => {
      const response = await t?.api('/api/v1/webhooks', {
        method: 'POST',
        body: { url, events: ['delivery.final'] },
      });
      expect(response?.status, url).toBe(400);
      expect(response?.body.error.details).toEqual([{ field: 'body.url', message: expect.any(String) }]);
      return response?.body.error.message as string;
    };
    expect(await refused('https://127.0.0.1:8443/hook')).toMatch(
      /^body\.url: 127\.0\.0\.1 is an address webhooks are not sent to/,
    );
    expect(await refused('https://[::1]/hook')).toMatch(/^body\.url: ::1 /);
    expect(await refused('https://10.1.2.3/hook')).toMatch(/WEBHOOK_ALLOW_PRIVATE/);
    expect(await refused('https://169.254.169.254/latest/meta-data')).toMatch(/^body\.url: 169\.254/);
    expect(await refused('https://localhost/hook')).toMatch(/resolves to/);
    expect(await refused('http://tinh.example.vn/hook')).toMatch(/WEBHOOK_ALLOW_HTTP/);
    expect((await t.api('/api/v1/webhooks')).body.total).toBe(0);
  });

  it("lets a province operator manage its province's webhooks only, and no commune operator", async () => {
    t = await startTestPlatform({ config: LOCAL_RECEIVERS });
    await t.platform.registry.createCommune({ id: 'xa', name: 'Xã Thử', provinceId: 'phu-tho' });
    const url = 'https://203.0.113.10/hook';
    const admins = await register(t, { url, events: ['delivery.final'] });
    const province = { headers: await t.headersFor('operator', { provinceId: 'phu-tho' }) };
    const own = await t.api('/api/v1/webhooks', {
      as: province,
      method: 'POST',
      body: { url, events: ['bulletin.receipt'], provinceId: 'phu-tho' },
    });
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    expect(own.body.provinceId).toBe('phu-tho');
    const other = await t.api('/api/v1/webhooks', {
      as: province,
      method: 'POST',
      body: { url, events: ['bulletin.receipt'], provinceId: 'ha-noi' },
    });
    expect(other.status).toBe(400);
    const listed = await t.api('/api/v1/webhooks', { as: province });
    expect(listed.body.items.map((w: Json) => w.id)).toEqual([own.body.id]);
    expect((await t.api(`/api/v1/webhooks/${admins.id}`, { as: province, method: 'DELETE' })).status).toBe(
      404,
    );
    const commune = { headers: await t.headersFor('operator', { communeId: 'xa' }) };
    expect((await t.api('/api/v1/webhooks', { as: commune })).status).toBe(403);
    expect((await t.api('/api/v1/webhooks', { as: 'viewer' })).status).toBe(403);
  });
});

describe('the webhook dispatcher', () => {
  it('sets no timer while nothing waits, and keeps what waits bounded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-webhooks-'));
    const db = openDatabase(join(dir, 'state.sqlite'), pino({ level: 'silent' }));
    const receiver = await startReceiver();
    const clock = new ManualClock();
    const store = new WebhookStore({
      db,
      state: sqliteState(db),
      logger: pino({ level: 'silent' }),
      key: randomBytes(32),
      limits: { maxPending: 3, keepFinished: 2 },
    });
    const dispatcher = new WebhookDispatcher({
      store,
      policy: new WebhookAddressPolicy({
        allowHttp: true,
        allowPrivate: false,
        allowLoopback: true,
        deniedPorts: () => [],
      }),
      clock,
      logger: pino({ level: 'silent' }),
      timeoutMs: 10_000,
      batchWindowMs: 1_000,
      maxBatch: 100,
      minIntervalMs: 1_000,
      concurrency: 4,
      retryDelaysMs: [10_000],
      giveUpAfterMs: 86_400_000,
    });
    try {
      const id = await store.create({
        url: receiver.url,
        events: ['bulletin.receipt'],
        description: null,
        provinceId: 'phu-tho',
        createdBy: 'admin',
        secret: 'whsec_test',
        now: clock.now(),
      });
      dispatcher.start();
      expect(clock.pendingTimers()).toBe(0);
      const event = (n: number) => ({
        id: `evt_${n}`,
        type: 'bulletin.receipt' as const,
        occurredAt: new Date(clock.now()).toISOString(),
        data: { provincialBulletinId: 'tb-1', communeId: 'xa', communeCode: null, state: 'aired' as const },
      });
      // Another province's event is not this webhook's: nothing to do, no timer.
      dispatcher.publish(event(0), 'ha-noi');
      expect(clock.pendingTimers()).toBe(0);
      dispatcher.publish(event(1), 'phu-tho');
      dispatcher.publish(event(2), 'phu-tho');
      expect(clock.pendingTimers()).toBe(1);
      clock.advance(1_000);
      await vi.waitFor(() =>
        expect(store.deliveries(id, { limit: 10, offset: 0 }).items[0]?.state).toBe('delivered'),
      );
      expect(receiver.received[0]?.events.map((e) => e.id)).toEqual(['evt_1', 'evt_2']);
      expect(clock.pendingTimers()).toBe(0);

      // A receiver that is down for long: at most three POSTs wait, the oldest are dropped.
      for (let n = 0; n < 5; n++)
        await store.addDelivery({
          webhookId: id,
          body: '{}',
          types: ['bulletin.receipt'],
          eventCount: 1,
          now: clock.now() + 1 + n,
        });
      const states = store.deliveries(id, { limit: 10, offset: 0 }).items.map((d) => d.state);
      expect(states.filter((state) => state === 'pending')).toHaveLength(3);
      // Finished ones (delivered, dropped) are pruned to the two most recent.
      expect(states.filter((state) => state !== 'pending')).toEqual(['dropped', 'dropped']);
    } finally {
      await dispatcher.stop();
      await receiver.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
