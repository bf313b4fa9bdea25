import { mayActIn, type Principal } from '../accounts/roles.js';
import { InvalidRequestError, NotFoundError } from '../errors.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { ReportScope } from './report-service.js';
import type { ReportWords } from './report-words.js';

/**
 * The communes a summary report covers, from what was asked and what the caller may see:
 * - `communeId`: that commune, 404 when it is not the caller's (as its records would be);
 * - `provinceId`: every commune of the province, 404 unless the caller may see every one of them
 *   (a province account may; an account of some of its communes may not read the whole province);
 * - neither: everything the caller sees — their commune, their province, their communes, or all.
 */
export function resolveScope(
  principal: Principal | null,
  asked: { communeId?: string | undefined; provinceId?: string | undefined },
  registry: RegistryStore,
  defaultZone: string,
  words: ReportWords,
): ReportScope {
  if (asked.communeId && asked.provinceId)
    throw new InvalidRequestError('querystring: ask for a commune or a province, not both', {
      field: 'provinceId',
    });
  if (asked.communeId) {
    if (!mayActIn(principal, asked.communeId)) throw new NotFoundError('commune', asked.communeId);
    return oneCommune(registry.getCommune(asked.communeId));
  }
  const own = principal?.communes ?? null;
  if (asked.provinceId) {
    const province = registry.getProvince(asked.provinceId);
    const communeIds = registry.communesOfProvince(province.id);
    if (own && (communeIds.length === 0 || !communeIds.every((id) => own.includes(id))))
      throw new NotFoundError('province', asked.provinceId);
    return { kind: 'province', id: province.id, name: province.name, communeIds, timeZone: defaultZone };
  }
  if (own === null)
    return { kind: 'all', id: null, name: words.scopeAll, communeIds: null, timeZone: defaultZone };
  if (principal?.provinceId) {
    const province = registry.getProvince(principal.provinceId);
    return { kind: 'province', id: province.id, name: province.name, communeIds: own, timeZone: defaultZone };
  }
  const [only] = own;
  if (own.length === 1 && only !== undefined) return oneCommune(registry.getCommune(only));
  return {
    kind: 'communes',
    id: null,
    name: words.scopeCommunes(own.length),
    communeIds: own,
    timeZone: defaultZone,
  };
}

function oneCommune(commune: { id: string; name: string; timezone: string }): ReportScope {
  return {
    kind: 'commune',
    id: commune.id,
    name: commune.name,
    communeIds: [commune.id],
    timeZone: commune.timezone,
  };
}
