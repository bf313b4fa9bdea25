import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

describe('registry API', () => {
  let t: TestPlatform;
  const call = (path: string, init?: Parameters<TestPlatform['api']>[1]) => t.api(`/api/v1${path}`, init);

  beforeEach(async () => {
    t = await startTestPlatform();
  });
  afterEach(() => t.close());

  it('creates, reads, updates, lists and deletes the commune → village → cluster hierarchy', async () => {
    const commune = await call('/communes', {
      method: 'POST',
      body: { id: 'dao-tu', name: 'Đạo Tú', district: 'Tam Dương', province: 'Vĩnh Phúc' },
    });
    expect(commune.status).toBe(201);
    expect(commune.body).toMatchObject({ id: 'dao-tu', name: 'Đạo Tú', timezone: 'Asia/Ho_Chi_Minh' });

    const village = await call('/villages', {
      method: 'POST',
      body: { communeId: 'dao-tu', name: 'Thôn Đông' },
    });
    expect(village.status).toBe(201);
    const villageId = village.body.id as string;
    expect(villageId).toMatch(/^thon-[0-9a-f]{8}$/);

    const cluster = await call('/clusters', {
      method: 'POST',
      body: {
        id: 'dt-c01',
        villageId,
        name: 'Cụm loa Thôn Đông',
        address: 'Nhà văn hoá thôn Đông',
        location: { lat: 21.36, lon: 105.6 },
        speakers: 3,
      },
    });
    expect(cluster.status).toBe(201);
    expect(cluster.body).toMatchObject({
      id: 'dt-c01',
      communeId: 'dao-tu',
      speakers: [{ idx: 1, label: 'Loa 1' }, { idx: 2 }, { idx: 3 }],
      credential: { issued: false, issuedAt: null },
      status: { online: false, lastSeen: null },
    });

    const renamed = await call('/clusters/dt-c01', {
      method: 'PATCH',
      body: { name: 'Cụm loa Đông', speakers: [{ idx: 1, label: 'Loa cổng' }], heartbeatTimeoutS: 120 },
    });
    expect(renamed.body).toMatchObject({
      name: 'Cụm loa Đông',
      heartbeatTimeoutS: 120,
      speakers: [{ idx: 1, label: 'Loa cổng' }],
    });

    const byVillage = await call(`/clusters?villageId=${villageId}`);
    expect(byVillage.body).toMatchObject({ total: 1, items: [{ id: 'dt-c01' }] });
    expect((await call('/villages?communeId=dao-tu')).body.total).toBe(1);

    // Deleting a village that still has clusters is refused; remove the cluster first.
    expect((await call(`/villages/${villageId}`, { method: 'DELETE' })).status).toBe(409);
    expect((await call('/clusters/dt-c01', { method: 'DELETE' })).status).toBe(204);
    expect((await call('/clusters/dt-c01')).status).toBe(404);
    expect((await call(`/villages/${villageId}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call('/communes/dao-tu', { method: 'DELETE' })).status).toBe(204);
  });

  it('answers a bad body with 400 naming the field, and an unknown id with 404', async () => {
    const bad = await call('/clusters', {
      method: 'POST',
      body: { id: 'HD C01', villageId: 'x', name: '', location: { lat: 123, lon: 105 } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const fields = (bad.body.error.details as { field: string }[]).map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['body.id', 'body.name', 'body.location.lat']));
    expect(bad.body.error.message).toContain('body.location.lat');

    const notJson = await call('/communes', {
      method: 'POST',
      body: '{"name": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toBeDefined();

    const missing = await call('/communes/khong-co');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      error: { code: 'not_found', message: 'commune "khong-co" not found', details: { commune: 'khong-co' } },
    });
    const extra = await call('/communes', { method: 'POST', body: { name: 'X', population: 5 } });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/population/);
  });

  it('refuses a duplicate id with 409', async () => {
    await call('/communes', { method: 'POST', body: { id: 'xa-a', name: 'A' } });
    const again = await call('/communes', { method: 'POST', body: { id: 'xa-a', name: 'B' } });
    expect(again.status).toBe(409);
  });

  it('shows a device secret once, stores only a hash, and never returns it again', async () => {
    await t.addDevice('hd-c01');
    const issued = await call('/clusters/hd-c01/credentials', { method: 'POST' });
    expect(issued.status).toBe(201);
    expect(issued.headers.get('cache-control')).toBe('no-store');
    expect(issued.body).toMatchObject({ deviceId: 'hd-c01', rotated: true });
    const secret = issued.body.secret as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const cluster = await call('/clusters/hd-c01');
    expect(JSON.stringify(cluster.body)).not.toContain(secret);
    expect(cluster.body.credential).toEqual({ issued: true, issuedAt: issued.body.issuedAt });
    const list = await call('/clusters');
    expect(JSON.stringify(list.body)).not.toContain(secret);

    const device = await t.connectDevice('hd-c01', secret);
    expect(device.connected).toBe(true);
  });

  it('paginates lists', async () => {
    await call('/communes', { method: 'POST', body: { id: 'xa-p', name: 'P' } });
    for (let i = 0; i < 7; i++)
      await call('/villages', { method: 'POST', body: { communeId: 'xa-p', name: `Thôn ${i}` } });
    const page = await call('/villages?limit=3&offset=6');
    expect(page.body).toMatchObject({ total: 7, limit: 3, offset: 6 });
    expect(page.body.items).toHaveLength(1);
    expect((await call('/villages?limit=0')).status).toBe(400);
  });

  it('lists villages in the order people number them: Thôn 2 before Thôn 10', async () => {
    await call('/communes', { method: 'POST', body: { id: 'xa-n', name: 'N' } });
    for (const name of ['Thôn 10', 'Thôn 2', 'Thôn 11', 'Thôn 1', 'Xóm Đình'])
      await call('/villages', { method: 'POST', body: { communeId: 'xa-n', name } });
    const listed = await call('/villages?communeId=xa-n');
    expect(listed.body.items.map((v: { name: string }) => v.name)).toEqual([
      'Thôn 1',
      'Thôn 2',
      'Thôn 10',
      'Thôn 11',
      'Xóm Đình',
    ]);
  });

  it('publishes an OpenAPI document with every route at /docs', async () => {
    const doc = await t.api('/docs/json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/api/v1/communes',
        '/api/v1/villages/{id}',
        '/api/v1/clusters',
        '/api/v1/clusters/{id}/credentials',
        '/api/v1/devices/{id}/commands',
        '/api/v1/devices/{id}/presence',
      ]),
    );
    expect((await fetch(`${t.httpUrl}/docs`)).status).toBe(200); // the API reference is public
  });
});

describe('the huong-dao preset', () => {
  it('seeds Hướng Đạo with 14 villages (names marked as placeholders), 18 clusters and 36 speakers', async () => {
    const t = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' } });
    try {
      const commune = await t.api('/api/v1/communes/huong-dao');
      // Since 1 July 2025 in Phú Thọ; Tam Dương is the former district, kept as a label.
      expect(commune.body).toMatchObject({
        name: 'Hướng Đạo',
        district: 'Tam Dương',
        provinceId: 'phu-tho',
        province: 'Tỉnh Phú Thọ',
      });
      const villages = await t.api('/api/v1/villages?communeId=huong-dao&limit=100');
      expect(villages.body.total).toBe(14);
      expect(villages.body.items.every((v: { namePlaceholder: boolean }) => v.namePlaceholder)).toBe(true);
      const clusters = await t.api('/api/v1/clusters?communeId=huong-dao&limit=100');
      expect(clusters.body.total).toBe(18);
      const speakers = clusters.body.items.flatMap((c: { speakers: unknown[] }) => c.speakers);
      expect(speakers).toHaveLength(36);
      for (const c of clusters.body.items as { location: { lat: number; lon: number } }[]) {
        expect(c.location.lat).toBeGreaterThan(21.3);
        expect(c.location.lat).toBeLessThan(21.39);
        expect(c.location.lon).toBeGreaterThan(105.54);
        expect(c.location.lon).toBeLessThan(105.63);
      }
      // Seeding again (every start) adds nothing and keeps the operator's edits.
      await t.api('/api/v1/villages/hd-thon-01', {
        method: 'PATCH',
        body: { name: 'Thôn Thật', namePlaceholder: false },
      });
      await t.platform.stop();
      const again = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' }, dataDir: t.dataDir });
      try {
        expect((await again.api('/api/v1/clusters?limit=1')).body.total).toBe(18);
        expect((await again.api('/api/v1/villages/hd-thon-01')).body).toMatchObject({
          name: 'Thôn Thật',
          namePlaceholder: false,
        });
      } finally {
        await again.close();
      }
    } finally {
      await t.close();
    }
  });
});
