import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../services/accounts/roles.js';
import { InvalidRequestError, NotFoundError } from '../../services/errors.js';
import { RegistryStore } from '../../services/registry/registry-store.js';
import { resolveScope } from '../../services/reports/report-scope.js';
import { REPORT_WORDS } from '../../services/reports/report-words.js';
import { type Db, openDatabase } from '../../services/storage/database.js';
import { sqliteState } from '../../services/storage/sql/state-database.js';

const ZONE = 'Asia/Ho_Chi_Minh';

function principal(communes: string[] | null, provinceId: string | null = null): Principal {
  return { via: 'session', userId: 'u', username: 'u', roles: ['viewer'], communes, provinceId };
}

/** Which communes a summary report covers, for each kind of account and each question. */
describe('the scope of a summary report', () => {
  let dir: string;
  let db: Db;
  let registry: RegistryStore;
  const words = REPORT_WORDS.vi;
  const scope = (who: Principal | null, asked: { communeId?: string; provinceId?: string }) =>
    resolveScope(who, asked, registry, ZONE, words);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sc-report-scope-'));
    const logger = pino({ level: 'silent' });
    db = openDatabase(join(dir, 'state.sqlite'), logger);
    registry = new RegistryStore({ db, state: sqliteState(db), now: () => 0, defaultTimezone: ZONE, logger });
    await registry.createCommune({ id: 'huong-dao', name: 'Hướng Đạo', provinceId: 'phu-tho' });
    await registry.createCommune({ id: 'hop-thinh', name: 'Hợp Thịnh', provinceId: 'phu-tho' });
    await registry.createCommune({ id: 'ba-dinh', name: 'Phường Ba Đình', provinceId: 'ha-noi' });
  });
  afterAll(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives an account of every commune any commune, any province, or everything', () => {
    expect(scope(principal(null), {})).toMatchObject({
      kind: 'all',
      communeIds: null,
      name: 'Tất cả các xã',
    });
    expect(scope(principal(null), { provinceId: 'phu-tho' })).toMatchObject({
      kind: 'province',
      name: 'Tỉnh Phú Thọ',
      communeIds: ['hop-thinh', 'huong-dao'],
    });
    expect(scope(principal(null), { communeId: 'ba-dinh' })).toMatchObject({
      kind: 'commune',
      communeIds: ['ba-dinh'],
    });
  });

  it('keeps a commune account to its commune: another commune or its province is 404', () => {
    const own = principal(['huong-dao']);
    expect(scope(own, {})).toMatchObject({ kind: 'commune', id: 'huong-dao', name: 'Hướng Đạo' });
    expect(() => scope(own, { communeId: 'hop-thinh' })).toThrow(NotFoundError);
    expect(() => scope(own, { provinceId: 'phu-tho' })).toThrow(NotFoundError);
    expect(() => scope(own, { provinceId: 'ha-noi' })).toThrow(NotFoundError);
  });

  it('gives a province account its province and its communes, nothing of another province', () => {
    const province = principal(['hop-thinh', 'huong-dao'], 'phu-tho');
    expect(scope(province, {})).toMatchObject({ kind: 'province', id: 'phu-tho' });
    expect(scope(province, { provinceId: 'phu-tho' }).communeIds).toEqual(['hop-thinh', 'huong-dao']);
    expect(scope(province, { communeId: 'hop-thinh' })).toMatchObject({ kind: 'commune' });
    expect(() => scope(province, { provinceId: 'ha-noi' })).toThrow(NotFoundError);
    expect(() => scope(province, { communeId: 'ba-dinh' })).toThrow(NotFoundError);
  });

  it('names an account of several communes by their number, and refuses a commune and a province at once', () => {
    expect(scope(principal(['huong-dao', 'ba-dinh']), {})).toMatchObject({ kind: 'communes', name: '2 xã' });
    expect(() => scope(principal(null), { communeId: 'huong-dao', provinceId: 'phu-tho' })).toThrow(
      InvalidRequestError,
    );
    expect(() => scope(principal(null), { provinceId: 'nowhere' })).toThrow(NotFoundError);
  });
});
