import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const ids = (body: Json): string[] => (body.items as { id: string }[]).map((item) => item.id).sort();
const notFound = (what: string, id: string) => ({
  error: { code: 'not_found', message: `${what} "${id}" not found`, details: { [what]: id } },
});

describe('an account limited to one commune', () => {
  let t: TestPlatform;
  /** The technician of commune A; created (by the harness) with communeId xa-a. */
  let scoped: { headers: Record<string, string> };
  /** A technician for every commune. */
  let everywhere: { headers: Record<string, string> };
  const call = (path: string, init?: Parameters<TestPlatform['api']>[1]) => t.api(`/api/v1${path}`, init);

  beforeEach(async () => {
    t = await startTestPlatform();
    for (const [commune, name] of [
      ['xa-a', 'Xã A'],
      ['xa-b', 'Xã B'],
    ] as const) {
      expect((await call('/communes', { method: 'POST', body: { id: commune, name } })).status).toBe(201);
    }
    for (const [village, communeId] of [
      ['thon-a1', 'xa-a'],
      ['thon-a2', 'xa-a'],
      ['thon-b1', 'xa-b'],
    ] as const) {
      const created = await call('/villages', {
        method: 'POST',
        body: { id: village, communeId, name: village },
      });
      expect(created.status).toBe(201);
    }
    for (const [cluster, villageId] of [
      ['a-c01', 'thon-a1'],
      ['a-c02', 'thon-a2'],
      ['b-c01', 'thon-b1'],
    ] as const) {
      const created = await call('/clusters', {
        method: 'POST',
        body: { id: cluster, villageId, name: `Cụm ${cluster}`, location: { lat: 21.3, lon: 105.5 } },
      });
      expect(created.status).toBe(201);
    }
    scoped = { headers: await t.headersFor('technician', { communeId: 'xa-a' }) };
    everywhere = { headers: await t.headersFor('technician') };
  });
  afterEach(() => t.close());

  it('lists only its own commune, villages and clusters, with totals to match', async () => {
    const communes = await call('/communes', { as: scoped });
    expect(communes.status).toBe(200);
    expect(communes.body).toMatchObject({ total: 1, items: [{ id: 'xa-a' }] });
    expect((await call('/communes?offset=1', { as: scoped })).body).toMatchObject({ total: 1, items: [] });

    const villages = await call('/villages', { as: scoped });
    expect(ids(villages.body)).toEqual(['thon-a1', 'thon-a2']);
    expect(villages.body.total).toBe(2);

    const clusters = await call('/clusters', { as: scoped });
    expect(ids(clusters.body)).toEqual(['a-c01', 'a-c02']);
    expect(clusters.body.total).toBe(2);
    const offline = await call('/clusters?online=false', { as: scoped });
    expect(ids(offline.body)).toEqual(['a-c01', 'a-c02']);
    expect(offline.body.total).toBe(2);
    expect((await call('/clusters?limit=1', { as: scoped })).body).toMatchObject({ total: 2, limit: 1 });
  });

  it('answers 404 when asked to list another commune, and nothing of it by village filter', async () => {
    for (const path of [
      '/villages?communeId=xa-b',
      '/clusters?communeId=xa-b',
      '/clusters?communeId=xa-b&online=false',
    ]) {
      const response = await call(path, { as: scoped });
      expect(response.status, path).toBe(404);
      expect(response.body.error.code, path).toBe('not_found');
    }
    const byVillage = await call('/clusters?villageId=thon-b1', { as: scoped });
    expect(byVillage.status).toBe(200);
    expect(byVillage.body.total).toBe(0);
  });

  it('answers 404 for every record of another commune, as if it did not exist', async () => {
    const reads: [string, string, string][] = [
      ['/communes/xa-b', 'commune', 'xa-b'],
      ['/villages/thon-b1', 'village', 'thon-b1'],
      ['/clusters/b-c01', 'cluster', 'b-c01'],
      ['/devices/b-c01/commands', 'cluster', 'b-c01'],
      ['/devices/b-c01/presence', 'cluster', 'b-c01'],
    ];
    for (const [path, what, id] of reads) {
      const response = await call(path, { as: scoped });
      expect(response.status, path).toBe(404);
      expect(response.body, path).toEqual(notFound(what, id));
    }
    // Its own records answer as usual.
    for (const path of [
      '/communes/xa-a',
      '/villages/thon-a1',
      '/clusters/a-c01',
      '/devices/a-c01/presence',
    ]) {
      expect((await call(path, { as: scoped })).status, path).toBe(200);
    }
  });

  it('cannot change, command, re-key or remove another commune’s cluster', async () => {
    const writes: [string, string, unknown][] = [
      ['PATCH', '/clusters/b-c01', { name: 'Đổi tên' }],
      ['POST', '/clusters/b-c01/credentials', undefined],
      ['POST', '/devices/b-c01/commands?force=true', { type: 'volume', level: 10 }],
      ['DELETE', '/clusters/b-c01', undefined],
    ];
    for (const [method, path, body] of writes) {
      const response = await call(path, { as: scoped, method, ...(body === undefined ? {} : { body }) });
      expect(response.status, `${method} ${path}`).toBe(404);
      expect(response.body, `${method} ${path}`).toEqual(notFound('cluster', 'b-c01'));
    }
    const untouched = await call('/clusters/b-c01');
    expect(untouched.body).toMatchObject({ name: 'Cụm b-c01', credential: { issued: false } });
    expect((await call('/devices/b-c01/commands')).body.total).toBe(0);
  });

  it('cannot create a cluster in, or move one into, another commune’s village', async () => {
    const created = await call('/clusters', {
      as: scoped,
      method: 'POST',
      body: { id: 'a-c09', villageId: 'thon-b1', name: 'Cụm lạc', location: { lat: 21.3, lon: 105.5 } },
    });
    expect(created.status).toBe(404);
    expect(created.body).toEqual(notFound('village', 'thon-b1'));
    expect((await call('/clusters/a-c09')).status).toBe(404);

    const moved = await call('/clusters/a-c01', {
      as: scoped,
      method: 'PATCH',
      body: { villageId: 'thon-b1' },
    });
    expect(moved.status).toBe(404);
    expect((await call('/clusters/a-c01')).body.villageId).toBe('thon-a1');

    const own = await call('/clusters', {
      as: scoped,
      method: 'POST',
      body: { id: 'a-c03', villageId: 'thon-a2', name: 'Cụm mới', location: { lat: 21.3, lon: 105.5 } },
    });
    expect(own.status).toBe(201);
    expect(own.body.communeId).toBe('xa-a');
  });

  it('cannot learn from a taken group id that another commune has the group: its ids live in its own namespace', async () => {
    const operatorA = { headers: await t.headersFor('operator', { communeId: 'xa-a' }) };
    const operatorAll = { headers: await t.headersFor('operator') };
    const group = (id: string | undefined, communeId: string, as: typeof operatorA) =>
      call('/groups', {
        method: 'POST',
        as,
        body: { ...(id ? { id } : {}), communeId, name: `Nhóm ${id ?? 'mới'}` },
      });
    // Commune B's groups, one under an id A's operator might guess.
    expect((await group('nhom-loa', 'xa-b', operatorAll)).status).toBe(201);
    expect((await group('xa-b-nhom', 'xa-b', operatorAll)).status).toBe(201);

    // Taken or not, an id outside A's namespace gets the same answer: no 409 to tell them apart.
    for (const id of ['nhom-loa', 'nhom-chua-co', 'xa-b-nhom']) {
      const refused = await group(id, 'xa-a', operatorA);
      expect(refused.status, id).toBe(400);
      expect(refused.body.error.details, id).toEqual([
        { field: 'body.id', message: expect.stringContaining('begins with "xa-a-"') },
      ]);
    }
    const own = await group('xa-a-nhom', 'xa-a', operatorA);
    expect(own.status).toBe(201);
    // A 409 can now only be about the caller's own commune.
    expect((await group('xa-a-nhom', 'xa-a', operatorA)).status).toBe(409);
    const generated = await group(undefined, 'xa-a', operatorA);
    expect(generated.status).toBe(201);
    expect(generated.body.communeId).toBe('xa-a');
    // Every group A's operator can see is its own.
    expect(ids((await call('/groups', { as: operatorA })).body)).toEqual(
      [generated.body.id as string, 'xa-a-nhom'].sort(),
    );
  });

  it('leaves an account without a commune seeing every commune', async () => {
    expect(ids((await call('/communes', { as: everywhere })).body)).toEqual(['xa-a', 'xa-b']);
    expect((await call('/villages', { as: everywhere })).body.total).toBe(3);
    const clusters = await call('/clusters', { as: everywhere });
    expect(ids(clusters.body)).toEqual(['a-c01', 'a-c02', 'b-c01']);
    expect(clusters.body.total).toBe(3);
    for (const path of [
      '/communes/xa-b',
      '/villages/thon-b1',
      '/clusters/b-c01',
      '/devices/b-c01/presence',
    ]) {
      expect((await call(path, { as: everywhere })).status, path).toBe(200);
    }
  });
});
