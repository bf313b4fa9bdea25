import { afterEach, describe, expect, it } from 'vitest';
import { AdministrativeUnitCatalogue, foldVietnamese } from '../../services/registry/administrative-units.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

interface UnitItem {
  code: string;
  name: string;
  fullName: string;
  type: string;
  provinceCode: string;
  provinceId: string;
}

describe('the national list of administrative units (1 July 2025)', () => {
  let t: TestPlatform | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('ships every commune, ward and special zone of the 34 provinces, with the province codes of the registry', async () => {
    const catalogue = AdministrativeUnitCatalogue.shipped();
    expect(catalogue.size).toBe(3321);
    const all = catalogue.search({ provinceCodes: null }, { limit: 10_000, offset: 0 }).items;
    const count = (type: string) => all.filter((u) => u.type === type).length;
    expect([count('commune'), count('ward'), count('special-zone')]).toEqual([2621, 687, 13]);
    expect(catalogue.get('09112')).toMatchObject({
      name: 'Thổ Tang',
      fullName: 'Xã Thổ Tang',
      type: 'commune',
      provinceCode: '25',
    });
    expect(catalogue.get('00070')).toMatchObject({
      fullName: 'Phường Hoàn Kiếm',
      type: 'ward',
      provinceCode: '01',
    });

    t = await startTestPlatform({ config: { SEED_PRESET: 'none' } });
    const provinces = await t.api('/api/v1/provinces');
    expect(
      (provinces.body.items as { code: string; name: string }[]).map((p) => ({ code: p.code, name: p.name })),
    ).toEqual(catalogue.provinces());
  });

  it('refuses a commune code that is not in the list or not of its province, naming the field', async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'none' } });
    const post = (body: Record<string, unknown>) => t?.api('/api/v1/communes', { method: 'POST', body });

    const unknown = await post({ name: 'Không có', provinceId: 'phu-tho', code: '99999' });
    expect(unknown?.status).toBe(400);
    expect(unknown?.body.error.message).toMatch(/^body\.code: 99999 is not in the national list/);
    expect(unknown?.body.error.details).toEqual([{ field: 'body.code', message: expect.any(String) }]);

    const elsewhere = await post({ name: 'Hoàn Kiếm', provinceId: 'phu-tho', code: '00070' });
    expect(elsewhere?.status).toBe(400);
    expect(elsewhere?.body.error.message).toBe(
      'body.code: 00070 is Phường Hoàn Kiếm of Thành phố Hà Nội, not a unit of Tỉnh Phú Thọ',
    );

    const noProvince = await post({ name: 'Thổ Tang', code: '09112' });
    expect(noProvince?.status).toBe(400);
    expect(noProvince?.body.error.message).toMatch(/^body\.provinceId: /);

    const made = await post({ id: 'tho-tang', name: 'Thổ Tang', provinceId: 'phu-tho', code: '09112' });
    expect(made?.status, JSON.stringify(made?.body)).toBe(201);
    expect(made?.body).toMatchObject({ code: '09112', provinceId: 'phu-tho' });
    const again = await post({ name: 'Thổ Tang 2', provinceId: 'phu-tho', code: '09112' });
    expect(again?.status).toBe(409);

    // The pair must still agree after an edit of either.
    const moved = await t.api('/api/v1/communes/tho-tang', {
      method: 'PATCH',
      body: { provinceId: 'ha-noi' },
    });
    expect(moved.status).toBe(400);
    expect(moved.body.error.message).toMatch(/^body\.code: 09112 is Xã Thổ Tang of Tỉnh Phú Thọ/);
    const recoded = await t.api('/api/v1/communes/tho-tang', { method: 'PATCH', body: { code: '12345' } });
    expect(recoded.status).toBe(400);
    expect(recoded.body.error.message).toMatch(/^body\.code: /);
    const renamed = await t.api('/api/v1/communes/tho-tang', {
      method: 'PATCH',
      body: { name: 'Thổ Tang (xã)' },
    });
    expect(renamed.status).toBe(200);
    const cleared = await t.api('/api/v1/communes/tho-tang', {
      method: 'PATCH',
      body: { code: null, provinceId: 'ha-noi' },
    });
    expect(cleared.status).toBe(200);
    expect((await t.api('/api/v1/communes/tho-tang')).body).toMatchObject({
      code: null,
      provinceId: 'ha-noi',
    });
  });

  it('is searched by name without diacritics, page by page, within the provinces the caller may see', async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'none' } });
    await t.platform.registry.createCommune({
      id: 'hoan-kiem',
      name: 'Hoàn Kiếm',
      provinceId: 'ha-noi',
      code: '00070',
    });
    const search = async (query: string, as?: { headers: Record<string, string> }) => {
      const answer = await t?.api(`/api/v1/administrative-units?${query}`, as ? { as } : {});
      return answer as {
        status: number;
        body: { items: UnitItem[]; total: number; limit: number; offset: number };
      };
    };

    const tamDuong = await search(`provinceId=phu-tho&q=${encodeURIComponent('tam duong')}`);
    expect(tamDuong.status).toBe(200);
    expect(tamDuong.body.items.map((u) => [u.code, u.fullName])).toEqual([
      ['08869', 'Xã Tam Dương'],
      ['08872', 'Xã Tam Dương Bắc'],
    ]);
    expect(tamDuong.body.items[0]).toMatchObject({
      type: 'commune',
      provinceCode: '25',
      provinceId: 'phu-tho',
    });
    expect((await search('provinceId=phu-tho&q=0911')).body.items.map((u) => u.code)).toContain('09112');

    // Pages of 50 cover the province's 148 units once each.
    const seen: string[] = [];
    for (let offset = 0; offset < 200; offset += 50) {
      const page = await search(`provinceId=phu-tho&limit=50&offset=${offset}`);
      expect(page.body.total).toBe(148);
      seen.push(...page.body.items.map((u) => u.code));
    }
    expect(seen).toHaveLength(148);
    expect(new Set(seen).size).toBe(148);
    // Names that begin with what was typed come before names that contain it.
    const lang = (await search(`provinceId=phu-tho&q=${encodeURIComponent('Lãng')}&limit=500`)).body.items;
    expect(lang.length).toBeGreaterThan(1);
    const firstContaining = lang.findIndex((u) => !foldVietnamese(u.name).startsWith('lang'));
    expect(lang.slice(firstContaining).every((u) => !foldVietnamese(u.name).startsWith('lang'))).toBe(true);

    // A province's staff search their province; another one is as unknown as its records.
    const province = { headers: await t.headersFor('operator', { provinceId: 'phu-tho' }) };
    const own = await search('limit=1', province);
    expect(own.body.total).toBe(148);
    expect((await search('provinceId=ha-noi', province)).status).toBe(404);
    // A commune account searches the province of its commune.
    const commune = { headers: await t.headersFor('viewer', { communeId: 'hoan-kiem' }) };
    expect((await search('q=hoan kiem', commune)).body.items.map((u) => u.code)).toEqual(['00070']);
    expect((await search('q=tam duong', commune)).body.total).toBe(0);
    // Every province for an unlimited account; nobody unsigned.
    expect((await search('q=hoan kiem')).body.total).toBe(1);
    expect((await search('limit=1')).body.total).toBe(3321);
    expect((await t.api('/api/v1/administrative-units', { as: 'anonymous' })).status).toBe(401);
    expect((await search('provinceId=Not_A_Slug')).status).toBe(400);
  });

  it('gives the presets the codes the list has for their names in Phú Thọ, and Hướng Đạo none', async () => {
    t = await startTestPlatform({ config: { SEED_PRESET: 'phu-tho-pilots' } });
    const codes = Object.fromEntries(
      ['huong-dao', 'lang-cong', 'tho-tang', 'tam-dao'].map((id) => [
        id,
        t?.platform.registry.getCommune(id).code,
      ]),
    );
    expect(codes).toEqual({ 'huong-dao': null, 'lang-cong': null, 'tho-tang': '09112', 'tam-dao': '08911' });
    // Hướng Đạo and Lãng Công were merged into communes of other names (Tam Dương, Yên Lãng).
    const named = async (q: string) =>
      (await t?.api(`/api/v1/administrative-units?provinceId=phu-tho&q=${encodeURIComponent(q)}`))?.body as {
        items: UnitItem[];
      };
    expect((await named('Hướng Đạo')).items).toEqual([]);
    expect((await named('Lãng Công')).items).toEqual([]);
    expect((await named('Tam Đảo')).items.map((u) => u.code)).toEqual(['08911']);
  });
});
