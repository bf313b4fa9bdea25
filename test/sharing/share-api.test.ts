import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Role } from '../../contracts/accounts.js';
import type { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import {
  type AccountScopeOptions,
  type Json,
  startTestPlatform,
  type TestPlatform,
} from '../support/platform-harness.js';
import { startFleet } from '../support/simulated-fleet.js';

const SHARE = '/api/share/v1';
const ids = (body: Json): string[] => (body.items as { id: string }[]).map((item) => item.id).sort();

/*
 * The provincial system reads the communes' stations, clusters and bulletins with an API token,
 * and sends bulletins down. Two communes of Phú Thọ (xa-a with three clusters, xa-b with one) and
 * one of Hà Nội (xa-c); xa-a-1 and xa-a-2 are simulated clusters online over real MQTT.
 */
describe('the data-sharing API', () => {
  let t: TestPlatform;
  let fleet: SimulatedFleet;
  const tokens = new Map<string, string>();

  /** A bearer token of a fresh account's session, with the account's roles and scope. */
  const tokenFor = async (role: Role, scope: AccountScopeOptions = {}) => {
    const key = `${role}:${JSON.stringify(scope)}`;
    const cached = tokens.get(key);
    if (cached) return { headers: { authorization: `Bearer ${cached}` } };
    const session = await t.headersFor(role, scope);
    const created = await t.api('/api/v1/auth/tokens', {
      as: { headers: session },
      method: 'POST',
      body: { name: 'provincial system', expiresInDays: 30 },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    tokens.set(key, created.body.token);
    return { headers: { authorization: `Bearer ${created.body.token}` } };
  };
  const province = () => tokenFor('viewer', { provinceId: 'phu-tho' });

  beforeAll(async () => {
    t = await startTestPlatform();
    const { registry } = t.platform;
    const communes = [
      ['xa-a', 'phu-tho', '08800', 3],
      ['xa-b', 'phu-tho', '08803', 1],
      ['xa-c', 'ha-noi', '00004', 1],
    ] as const;
    for (const [id, provinceId, code, clusters] of communes) {
      await registry.createCommune({ id, name: `Xã ${id}`, provinceId, code });
      await registry.createVillage({ id: `${id}-thon`, communeId: id, name: `Thôn ${id}` });
      for (let n = 1; n <= clusters; n++)
        await registry.createCluster({
          id: `${id}-${n}`,
          villageId: `${id}-thon`,
          name: `Cụm ${id} ${n}`,
          location: { lat: 21.3 + n / 100, lon: 105.4 + n / 100 },
          address: `Nhà văn hoá ${id}`,
        });
    }
    fleet = await startFleet(t, ['xa-a-1', 'xa-a-2']);
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.close();
  });

  it("gives a province account's token its province's stations and clusters, and nothing else", async () => {
    const as = await province();
    const stations = await t.api(`${SHARE}/stations`, { as });
    expect(stations.status, JSON.stringify(stations.body)).toBe(200);
    expect(stations.headers.get('api-version')).toBe('1');
    expect(stations.body.apiVersion).toBe('1');
    expect(stations.body.items).toEqual([
      {
        id: 'xa-a',
        communeCode: '08800',
        name: 'Xã xa-a',
        provinceCode: '25',
        provinceName: 'Tỉnh Phú Thọ',
        clusterCount: 3,
        clustersOnline: 2,
      },
      {
        id: 'xa-b',
        communeCode: '08803',
        name: 'Xã xa-b',
        provinceCode: '25',
        provinceName: 'Tỉnh Phú Thọ',
        clusterCount: 1,
        clustersOnline: 0,
      },
    ]);
    expect(stations.body.total).toBe(2);

    const clusters = await t.api(`${SHARE}/clusters`, { as });
    expect(ids(clusters.body)).toEqual(['xa-a-1', 'xa-a-2', 'xa-a-3', 'xa-b-1']);
    const ofB = await t.api(`${SHARE}/clusters?communeCode=08803`, { as });
    expect(ids(ofB.body)).toEqual(['xa-b-1']);
    // Hà Nội's commune is not there for Phú Thọ, as if it did not exist.
    const ofC = await t.api(`${SHARE}/clusters?communeCode=00004`, { as });
    expect(ofC.status).toBe(404);

    const everywhere = await tokenFor('admin');
    const all = await t.api(`${SHARE}/stations`, { as: everywhere });
    expect(ids(all.body)).toEqual(['xa-a', 'xa-b', 'xa-c']);
  });

  it('refuses a console session with 401 saying to use an API token, and tokens of other roles with 403', async () => {
    const session = await t.api(`${SHARE}/stations`, { as: 'viewer' });
    expect(session.status).toBe(401);
    expect(session.body.error.message).toMatch(/API token.*Bearer sct_/);
    expect((await t.api(`${SHARE}/clusters`, { as: 'anonymous' })).status).toBe(401);
    expect((await t.api(`${SHARE}/clusters`, { as: await tokenFor('police') })).status).toBe(403);
    expect((await t.api(`${SHARE}/clusters`, { as: await tokenFor('operator') })).status).toBe(200);
    expect((await t.api(`${SHARE}/clusters`, { as: await tokenFor('approver') })).status).toBe(200);
  });

  it('pages every list with limit and offset over stable ids, at most 500 at a time', async () => {
    const as = await tokenFor('admin');
    const first = await t.api(`${SHARE}/clusters?limit=2`, { as });
    const second = await t.api(`${SHARE}/clusters?limit=2&offset=2`, { as });
    const third = await t.api(`${SHARE}/clusters?limit=2&offset=4`, { as });
    expect(first.body).toMatchObject({ apiVersion: '1', total: 5, limit: 2, offset: 0 });
    expect(first.body.items.map((c: Json) => c.id)).toEqual(['xa-a-1', 'xa-a-2']);
    expect(second.body.items.map((c: Json) => c.id)).toEqual(['xa-a-3', 'xa-b-1']);
    expect(third.body.items.map((c: Json) => c.id)).toEqual(['xa-c-1']);
    const stations = await t.api(`${SHARE}/stations?limit=1&offset=1`, { as });
    // Ordered by commune code: 00004 (xa-c), 08800 (xa-a), 08803 (xa-b).
    expect(stations.body).toMatchObject({ total: 3, limit: 1, offset: 1 });
    expect(ids(stations.body)).toEqual(['xa-a']);
    const tooMany = await t.api(`${SHARE}/clusters?limit=501`, { as });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.message).toMatch(/^querystring\.limit: /);
  });

  it('gives each cluster its commune code, village, location, online status, last seen and speakers', async () => {
    const as = await province();
    const { body } = await t.api(`${SHARE}/clusters?communeCode=08800`, { as });
    const online = body.items.find((c: Json) => c.id === 'xa-a-1');
    expect(online).toMatchObject({
      name: 'Cụm xa-a 1',
      communeId: 'xa-a',
      communeCode: '08800',
      villageId: 'xa-a-thon',
      villageName: 'Thôn xa-a',
      address: 'Nhà văn hoá xa-a',
      location: { lat: 21.3 + 1 / 100, lon: 105.4 + 1 / 100 },
      online: true,
      speakerCount: 2,
    });
    expect(Date.parse(online.lastSeen)).toBeGreaterThan(Date.now() - 60_000);
    expect(Date.parse(online.onlineSince)).toBeLessThanOrEqual(Date.parse(online.lastSeen));
    await vi.waitFor(async () => {
      const { body: again } = await t.api(`${SHARE}/clusters?communeCode=08800`, { as });
      expect(again.items.find((c: Json) => c.id === 'xa-a-1')).toMatchObject({
        speakersOk: 2,
        speakersFaulty: 0,
      });
    });
    const offline = body.items.find((c: Json) => c.id === 'xa-a-3');
    expect(offline).toMatchObject({
      online: false,
      lastSeen: null,
      speakersOk: null,
      speakersFaulty: null,
      location: { lat: 21.3 + 3 / 100, lon: 105.4 + 3 / 100 },
    });
  });

  it("lists bulletins as they aired with per-commune outcomes, each in the caller's scope", async () => {
    // A relay to a cluster of each province, stopped: every delivery is final.
    const relay = await t.api('/api/v1/broadcasts/live', {
      method: 'POST',
      body: {
        name: 'Tiếp sóng đài tỉnh',
        url: 'http://radio.example/live',
        durationS: 600,
        targets: { clusterIds: ['xa-a-1', 'xa-a-3', 'xa-c-1'] },
      },
    });
    expect(relay.status, JSON.stringify(relay.body)).toBe(201);
    const id = relay.body.id as string;
    expect((await t.api(`/api/v1/broadcasts/${id}/stop`, { method: 'POST' })).status).toBe(200);
    const hanoiOnly = await t.api('/api/v1/broadcasts/live', {
      method: 'POST',
      body: {
        name: 'Hà Nội',
        url: 'http://radio.example/live',
        durationS: 60,
        targets: { clusterIds: ['xa-c-1'] },
      },
    });
    expect(hanoiOnly.status).toBe(201);

    const as = await province();
    const list = await t.api(`${SHARE}/bulletins`, { as });
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.apiVersion).toBe('1');
    expect(list.body.total).toBe(1);
    const [seen] = list.body.items;
    expect(seen).toMatchObject({
      id,
      name: 'Tiếp sóng đài tỉnh',
      level: 'normal',
      origin: 'commune',
      provincialBulletinId: null,
      kind: 'live',
      contentKind: 'stream',
      status: 'stopped',
      totals: { clusters: 2, pending: 0 },
    });
    expect(seen.communes).toHaveLength(1);
    expect(seen.communes[0]).toMatchObject({ communeId: 'xa-a', communeCode: '08800', clusters: 2 });
    const c = seen.totals;
    expect(c.done + c.failed + c.missed + c.cancelled + c.pending).toBe(2);

    const detail = await t.api(`${SHARE}/bulletins/${id}`, { as });
    expect(detail.body.apiVersion).toBe('1');
    expect(detail.body.clusters.map((d: Json) => d.clusterId)).toEqual(['xa-a-1', 'xa-a-3']);
    expect(detail.body.clusters[0]).toMatchObject({ communeCode: '08800', villageId: 'xa-a-thon' });
    expect((await t.api(`${SHARE}/bulletins/${hanoiOnly.body.id}`, { as })).status).toBe(404);

    const everywhere = await t.api(`${SHARE}/bulletins?limit=1`, { as: await tokenFor('admin') });
    expect(everywhere.body).toMatchObject({ total: 2, limit: 1 });
    const bad = await t.api(`${SHARE}/bulletins?from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z`, { as });
    expect(bad.status).toBe(400);
  });

  it("sends a bulletin down with a province operator's token, and refuses a commune operator's", async () => {
    const body = {
      name: 'Thông báo của tỉnh',
      level: 'normal',
      content: { kind: 'stream', url: 'http://radio.example/tinh' },
      durationS: 600,
    };
    const sent = await t.api(`${SHARE}/bulletins`, {
      method: 'POST',
      as: await tokenFor('operator', { provinceId: 'phu-tho' }),
      body,
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({ apiVersion: '1', provinceId: 'phu-tho', name: 'Thông báo của tỉnh' });
    expect(sent.body.communes.map((c: Json) => [c.communeCode, c.state]).sort()).toEqual([
      ['08800', 'pending'],
      ['08803', 'pending'],
    ]);
    const entry = (await t.platform.audit.query({ action: 'share.bulletin.push' }, { limit: 10, offset: 0 }))
      .items;
    expect(entry[0]).toMatchObject({ outcome: 'success', actorType: 'token' });

    const commune = await t.api(`${SHARE}/bulletins`, {
      method: 'POST',
      as: await tokenFor('operator', { communeId: 'xa-a' }),
      body,
    });
    expect(commune.status).toBe(403);
    const viewer = await t.api(`${SHARE}/bulletins`, { method: 'POST', as: await province(), body });
    expect(viewer.status).toBe(403);
  });

  it('documents the API under the "sharing" tag of /docs', async () => {
    const { body: doc } = await t.api('/docs/json');
    const paths = Object.keys(doc.paths).filter((p) => p.startsWith(SHARE));
    expect(paths.sort()).toEqual([
      `${SHARE}/bulletins`,
      `${SHARE}/bulletins/{id}`,
      `${SHARE}/clusters`,
      `${SHARE}/stations`,
    ]);
    expect(doc.paths[`${SHARE}/stations`].get.tags).toEqual(['sharing']);
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/api/v1/share'))).toBe(false);
  });
});
