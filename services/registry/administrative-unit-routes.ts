import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { pagedSchema } from '../../contracts/pages.js';
import { AdministrativeUnitItemSchema, AdministrativeUnitQuerySchema } from '../../contracts/registry.js';
import type { Principal } from '../accounts/roles.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { NotFoundError } from '../errors.js';
import type { AdministrativeUnitCatalogue } from './administrative-units.js';
import type { RegistryStore } from './registry-store.js';

export interface AdministrativeUnitRouteDeps {
  registry: RegistryStore;
  catalogue: AdministrativeUnitCatalogue;
}

/**
 * The provinces a caller may search: every one for an unlimited account; else its province and
 * the provinces of its communes.
 */
function provincesOf(principal: Principal | null, registry: RegistryStore): Set<string> | null {
  if (!principal?.communes) return null;
  const ids = new Set<string>();
  if (principal.provinceId) ids.add(principal.provinceId);
  for (const id of principal.communes) {
    const provinceId = registry.getCommune(id).provinceId;
    if (provinceId) ids.add(provinceId);
  }
  return ids;
}

/** `GET /administrative-units`: the national list of communes, wards and special zones, to search. */
export const administrativeUnitRoutes: FastifyPluginAsyncZod<{ deps: AdministrativeUnitRouteDeps }> = async (
  app,
  { deps },
) => {
  const { registry, catalogue } = deps;
  app.get(
    '/administrative-units',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['registry'],
        summary: 'Search the national list of communes, wards and special zones (after 1 July 2025)',
        description:
          "Official codes (mã đơn vị hành chính cấp xã) of one province, or of the caller's provinces, " +
          'matched by name without regard to diacritics or by the start of the code. ' +
          `Source: ${catalogue.source}; licence: ${catalogue.licence}.`,
        querystring: AdministrativeUnitQuerySchema.extend(PageQuerySchema.shape),
        response: { 200: pagedSchema(AdministrativeUnitItemSchema), ...errorResponses },
      },
    },
    async (request) => {
      const { provinceId, q, limit, offset } = request.query;
      const provinces = registry.listProvinces();
      const idOfCode = new Map(provinces.map((p) => [p.code, p.id]));
      const allowed = provincesOf(request.principal, registry);
      let codes: string[] | null;
      if (provinceId) {
        // Another province than the caller's answers as an unknown one, like its records would.
        const province = provinces.find((p) => p.id === provinceId);
        if (!province || (allowed && !allowed.has(province.id)))
          throw new NotFoundError('province', provinceId);
        codes = [province.code];
      } else {
        codes = allowed && provinces.filter((p) => allowed.has(p.id)).map((p) => p.code);
      }
      const found = catalogue.search({ provinceCodes: codes, q }, { limit, offset });
      return {
        items: found.items.map((unit) => ({
          ...unit,
          provinceId: idOfCode.get(unit.provinceCode) as string,
        })),
        total: found.total,
        limit,
        offset,
      };
    },
  );
};
