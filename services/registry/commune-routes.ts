import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pagedSchema } from '../../contracts/pages.js';
import {
  CommuneCreateSchema,
  CommunePatchSchema,
  CommuneSchema,
  ProvinceSchema,
  SlugSchema,
} from '../../contracts/registry.js';
import { changes, summary } from '../api/audit-summary.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { assertInScope, type inScope } from '../api/security.js';
import { ConflictError, InvalidRequestError } from '../errors.js';
import type { AdministrativeUnitCatalogue } from './administrative-units.js';
import type { RegistryStore } from './registry-store.js';

const IdParams = z.object({ id: SlugSchema });

export interface RegistryRouteDeps {
  registry: RegistryStore;
}

export interface CommuneRouteDeps extends RegistryRouteDeps {
  /** The national list of administrative units: a commune's official code must be in it. */
  catalogue: AdministrativeUnitCatalogue;
}

/**
 * An official code a commune is given must be free, be in the national list and be of the
 * commune's province. Codes entered before the list shipped are kept until they are changed.
 */
function checkOfficialCode(
  { registry, catalogue }: CommuneRouteDeps,
  commune: { id: string | null; code: string | null; provinceId: string | null },
): void {
  const { code, provinceId } = commune;
  if (code === null) return;
  // Worded as a validation error is: the field, and the message that names it.
  const refuse = (field: 'code' | 'provinceId', why: string, Refusal = InvalidRequestError): never => {
    throw new Refusal(`body.${field}: ${why}`, [{ field: `body.${field}`, message: why }]);
  };
  const holder = registry.communeWithCode(code);
  if (holder && holder.id !== commune.id)
    throw refuse('code', `${code} is already the code of commune "${holder.id}"`, ConflictError);
  const unit = catalogue.get(code);
  if (!unit)
    throw refuse(
      'code',
      `${code} is not in the national list of communes, wards and special zones (GET /administrative-units)`,
    );
  if (provinceId === null)
    throw refuse(
      'provinceId',
      `a commune with an official code needs its province (${code} is ${unit.fullName}, ${unit.provinceName})`,
    );
  const province = registry.getProvince(provinceId);
  if (province.code !== unit.provinceCode)
    throw refuse(
      'code',
      `${code} is ${unit.fullName} of ${unit.provinceName}, not a unit of ${province.name}`,
    );
}

export const communeRoutes: FastifyPluginAsyncZod<{ deps: CommuneRouteDeps }> = async (app, { deps }) => {
  const { registry } = deps;
  const tags = ['registry'];
  const visible = (request: Parameters<typeof inScope>[0], id: string) => {
    const commune = registry.getCommune(id);
    assertInScope(request, commune.id, 'commune', id);
    return commune;
  };

  app.get(
    '/provinces',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'The provinces after the 2025 arrangement, with their codes',
        description:
          'Two tiers since 1 July 2025: province → commune. Each with how many communes it has here.',
        response: { 200: z.object({ items: z.array(ProvinceSchema) }) },
      },
    },
    async () => ({ items: registry.listProvinces() }),
  );

  app.get(
    '/communes',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'List communes',
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(CommuneSchema) },
      },
    },
    async (request) => {
      const communes = request.principal?.communes;
      if (!communes) return registry.listCommunes(request.query);
      const own = communes.map((id) => registry.getCommune(id));
      const { limit, offset } = request.query;
      return { items: own.slice(offset, offset + limit), total: own.length, ...request.query };
    },
  );
  app.post(
    '/communes',
    {
      config: { access: ['admin'], audit: 'commune.create' },
      schema: {
        tags,
        summary: 'Create a commune',
        body: CommuneCreateSchema,
        response: { 201: CommuneSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { id, code, provinceId } = request.body;
      checkOfficialCode(deps, { id: id ?? null, code: code ?? null, provinceId: provinceId ?? null });
      const commune = await registry.createCommune(request.body);
      request.auditNote = { target: { type: 'commune', id: commune.id }, after: summary(commune) };
      return reply.status(201).send(commune);
    },
  );
  app.get(
    '/communes/:id',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Get a commune',
        params: IdParams,
        response: { 200: CommuneSchema, ...errorResponses },
      },
    },
    async (request) => visible(request, request.params.id),
  );
  app.patch(
    '/communes/:id',
    {
      config: { access: ['admin'], audit: 'commune.update' },
      schema: {
        tags,
        summary: 'Update a commune',
        params: IdParams,
        body: CommunePatchSchema,
        response: { 200: CommuneSchema, ...errorResponses },
      },
    },
    async (request) => {
      const before = visible(request, request.params.id);
      const { code, provinceId } = request.body;
      // Checked when either changes: the pair must still agree.
      if (code !== undefined || provinceId !== undefined)
        checkOfficialCode(deps, {
          id: before.id,
          code: code === undefined ? before.code : code,
          provinceId: provinceId === undefined ? before.provinceId : provinceId,
        });
      const after = await registry.updateCommune(request.params.id, request.body);
      request.auditNote = changes(before, after);
      return after;
    },
  );
  app.delete(
    '/communes/:id',
    {
      config: { access: ['admin'], audit: 'commune.delete' },
      schema: {
        tags,
        summary: 'Delete a commune (refused while it has villages)',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      const before = visible(request, request.params.id);
      await registry.deleteCommune(request.params.id);
      request.auditNote = { before: summary(before) };
      return reply.status(204).send(null);
    },
  );
};
