import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const ids = (body: Json): string[] => (body.items as { id: string }[]).map((item) => item.id).sort();

/*
 * Two tiers since 1 July 2025: a province account addresses every commune of its province (as
 * communes are added), an account may be limited to a list of communes, and a commune account
 * stays in its commune.
 */
describe('province and several-commune accounts', () => {
  let t: TestPlatform;
  const call = (path: string, init?: Parameters<TestPlatform['api']>[1]) => t.api(`/api/v1${path}`, init);

  beforeEach(async () => {
    t = await startTestPlatform();
    const { registry } = t.platform;
    // Two communes of Phú Thọ, one of Hà Nội.
    for (const [id, provinceId, code] of [
      ['xa-a', 'phu-tho', '08800'],
      ['xa-b', 'phu-tho', null],
      ['xa-c', 'ha-noi', null],
    ] as const) {
      await registry.createCommune({ id, name: `Xã ${id}`, provinceId, code });
      await registry.createVillage({ id: `${id}-thon`, communeId: id, name: 'Thôn 1' });
      await registry.createCluster({
        id: `${id}-c1`,
        villageId: `${id}-thon`,
        name: `Cụm ${id}`,
        location: { lat: 21.3, lon: 105.5 },
      });
    }
  });
  afterEach(() => t.close());

  it('lists the provinces with their codes and communes', async () => {
    const provinces = await call('/provinces', { as: 'police' });
    expect(provinces.body.items).toHaveLength(34);
    expect(provinces.body.items.find((p: { id: string }) => p.id === 'phu-tho')).toEqual({
      id: 'phu-tho',
      code: '25',
      name: 'Tỉnh Phú Thọ',
      communes: 2,
    });
    const commune = await call('/communes/xa-a');
    expect(commune.body).toMatchObject({ code: '08800', provinceId: 'phu-tho', province: 'Tỉnh Phú Thọ' });
    const taken = await call('/communes', { method: 'POST', body: { name: 'Trùng mã', code: '08800' } });
    expect(taken.status).toBe(409);
    const badCode = await call('/communes', { method: 'POST', body: { name: 'Sai mã', code: '8800' } });
    expect(badCode.status).toBe(400);
    expect(badCode.body.error.message).toMatch(/^body\.code: /);
    const noProvince = await call('/communes', {
      method: 'POST',
      body: { name: 'Không tỉnh', provinceId: 'vinh-phuc' },
    });
    expect(noProvince.status).toBe(404);
  });

  it('a province account sees and addresses every commune of its province, and only those', async () => {
    const province = { headers: await t.headersFor('operator', { provinceId: 'phu-tho' }) };
    expect(ids((await call('/communes', { as: province })).body)).toEqual(['xa-a', 'xa-b']);
    expect(ids((await call('/clusters', { as: province })).body)).toEqual(['xa-a-c1', 'xa-b-c1']);
    expect((await call('/clusters/xa-c-c1', { as: province })).status).toBe(404);
    expect((await call('/clusters?communeId=xa-c', { as: province })).status).toBe(404);

    // An emergency without targets reaches every cluster of the province.
    const sent = await call('/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: province,
      body: { content: { kind: 'stream', url: 'http://radio.example/khan' }, durationS: 60 },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.deliveries.map((d: { clusterId: string }) => d.clusterId).sort()).toEqual([
      'xa-a-c1',
      'xa-b-c1',
    ]);
    const outside = await call('/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: province,
      body: {
        content: { kind: 'stream', url: 'http://radio.example/khan' },
        durationS: 60,
        targets: { communeIds: ['xa-c'] },
      },
    });
    expect(outside.status).toBe(404);

    // A commune added to the province later is the province account's at once.
    await t.platform.registry.createCommune({ id: 'xa-d', name: 'Xã mới', provinceId: 'phu-tho' });
    expect(ids((await call('/communes', { as: province })).body)).toEqual(['xa-a', 'xa-b', 'xa-d']);
  });

  it('an account of several communes sees those, across provinces; a commune account only its own', async () => {
    const two = { headers: await t.headersFor('technician', { communeIds: ['xa-a', 'xa-c'] }) };
    expect(ids((await call('/clusters', { as: two })).body)).toEqual(['xa-a-c1', 'xa-c-c1']);
    expect((await call('/clusters/xa-b-c1', { as: two })).status).toBe(404);
    const one = { headers: await t.headersFor('technician', { communeId: 'xa-b' }) };
    expect(ids((await call('/clusters', { as: one })).body)).toEqual(['xa-b-c1']);

    const me = await call('/auth/me', { as: two });
    expect(me.body.user).toMatchObject({ communeIds: ['xa-a', 'xa-c'], communeId: null, provinceId: null });
  });

  it('refuses a province and communes together, and an unknown province, naming the field', async () => {
    const base = { displayName: 'Cán bộ tỉnh', password: 'mat-khau-du-dai-1', roles: ['operator'] };
    const both = await call('/users', {
      method: 'POST',
      body: { ...base, username: 'tinh-1', provinceId: 'phu-tho', communeIds: ['xa-a'] },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/^body\.provinceId: /);
    const unknown = await call('/users', {
      method: 'POST',
      body: { ...base, username: 'tinh-2', provinceId: 'vinh-phuc' },
    });
    expect(unknown.status).toBe(404);
    const made = await call('/users', {
      method: 'POST',
      body: { ...base, username: 'tinh-3', provinceId: 'phu-tho' },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ provinceId: 'phu-tho', communeIds: [], communeId: null });
    // Naming communes moves the account from the province to them.
    const moved = await call(`/users/${made.body.id}`, { method: 'PATCH', body: { communeIds: ['xa-c'] } });
    expect(moved.body).toMatchObject({ provinceId: null, communeIds: ['xa-c'], communeId: 'xa-c' });
  });
});
