import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { wavTone } from './audio-fixtures.js';

/*
 * Two communes on one platform, each with an operator limited to it, and an operator who
 * addresses every commune: each commune's recordings are its own; the shared library is everyone's.
 */
describe('the media library across communes', () => {
  let t: TestPlatform;
  let a: Record<string, string>;
  let b: Record<string, string>;
  let everywhere: Record<string, string>;

  const upload = async (headers: Record<string, string>, name: string) => {
    const form = new FormData();
    form.append('file', new Blob([wavTone(1)], { type: 'audio/wav' }), `${name}.wav`);
    const response = await fetch(`${t.httpUrl}/api/v1/media`, { method: 'POST', body: form, headers });
    const body = (await response.json()) as Json;
    expect(response.status, JSON.stringify(body)).toBe(201);
    return body;
  };

  beforeAll(async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'huong-dao' } });
    await t.platform.registry.createCommune({ id: 'dao-tu', name: 'Đạo Tú' });
    a = await t.headersFor('operator', { communeId: 'huong-dao' });
    b = await t.headersFor('operator', { communeId: 'dao-tu' });
    everywhere = await t.headersFor('operator');
  });
  afterAll(() => t.close());

  it("keeps a commune's recordings from another commune's operators, and shares the library of all-commune accounts", async () => {
    const own = await upload(a, 'thong-bao-huong-dao');
    expect(own.communeId).toBe('huong-dao');
    const shared = await upload(everywhere, 'ban-tin-tinh');
    expect(shared.communeId).toBeNull();

    const listB = (await t.api('/api/v1/media', { as: { headers: b } })).body;
    expect(listB.items.map((m: Json) => m.id)).toEqual([shared.id]);
    expect(listB.total).toBe(1);
    expect((await t.api(`/api/v1/media/${own.id}`, { as: { headers: b } })).status).toBe(404);
    expect((await t.api(`/api/v1/media/${own.id}/content`, { as: { headers: b } })).status).toBe(404);
    expect((await t.api(`/api/v1/media/${own.id}`, { method: 'DELETE', as: { headers: b } })).status).toBe(
      404,
    );
    const borrowed = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: { headers: b },
      body: {
        name: 'Mượn',
        level: 'normal',
        content: { kind: 'media', mediaId: own.id },
        start: '2026-12-20T06:00',
        targets: { communeIds: ['dao-tu'] },
      },
    });
    expect(borrowed.status).toBe(404);
    const emergency = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: { headers: b },
      body: { content: { kind: 'media', mediaId: own.id } },
    });
    expect(emergency.status).toBe(404);

    // The shared library: everyone plays it, only an all-commune account removes it.
    expect((await t.api(`/api/v1/media/${shared.id}`, { as: { headers: b } })).status).toBe(200);
    expect((await t.api(`/api/v1/media/${shared.id}`, { method: 'DELETE', as: { headers: b } })).status).toBe(
      403,
    );
    const listAll = (await t.api('/api/v1/media', { as: { headers: everywhere } })).body;
    expect(listAll.total).toBe(2);
  });
});
