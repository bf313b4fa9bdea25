import type { Multipart } from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Targets } from '../../contracts/broadcasts.js';
import {
  FirmwareIdSchema,
  FirmwareImageSchema,
  FirmwareUploadFieldsSchema,
  RolloutCreateSchema,
  RolloutIdSchema,
  RolloutSchema,
  RolloutSummarySchema,
} from '../../contracts/firmware.js';
import { ErrorSchema, pagedSchema } from '../../contracts/pages.js';
import type { Clock } from '../../devices/index.js';
import { isAllowed, mayActIn } from '../accounts/roles.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { scopedTargets } from '../broadcasts/targets.js';
import {
  AuthenticationError,
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  UnsupportedMediaError,
} from '../errors.js';
import { acceptUploads, endDownloadsOnClose, sendFile } from '../media/file-transfer.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { DiskGuard } from '../storage/disk-guard.js';
import type { FirmwareLibrary, ReceivedFile } from './firmware-library.js';
import type { RolloutService } from './rollout-service.js';
import type { RolloutStore } from './rollout-store.js';
import { rolloutView } from './rollout-view.js';
import type { SignedLinks } from './signed-links.js';

export interface FirmwareRouteDeps {
  library: FirmwareLibrary;
  rollouts: RolloutService;
  store: RolloutStore;
  links: SignedLinks;
  registry: RegistryStore;
  disk: DiskGuard;
  clock: Clock;
  resolveTargets(targets: Targets): string[];
}

const TECHNICIANS = ['technician'] as const;
const IdParams = z.object({ id: FirmwareIdSchema });
const RolloutParams = z.object({ id: RolloutIdSchema });
const ContentQuery = z.object({
  exp: z.coerce.number().int().optional().describe('expiry of a signed link, epoch ms'),
  sig: z.string().max(128).optional().describe('signature of a signed link'),
});

/** The path a firmware image's signed link is made for (SignedLinks). */
export const imagePath = (id: string) => `firmware/${id}/content`;

/** `/firmware`: images with a verified checksum, their download by clusters, and staged rollouts. */
export const firmwareRoutes: FastifyPluginAsyncZod<{ deps: FirmwareRouteDeps }> = async (app, { deps }) => {
  const { library, rollouts, store, clock } = deps;
  const tags = ['firmware'];
  const asClientError = await acceptUploads(app, {
    maxBytes: library.maxBytes,
    fieldNames: ['version', 'sha256', 'notes'],
    fields: 6,
    parts: 8,
  });

  app.post(
    '/firmware',
    {
      config: { access: TECHNICIANS, audit: 'firmware.upload' },
      schema: {
        tags,
        summary: 'Upload a firmware image with its version and SHA-256',
        description:
          'multipart/form-data: the image in the field `file`, and the text fields `version` (as clusters ' +
          'report it in `state.fw`), `sha256` (the checksum its vendor published) and optional `notes`. ' +
          'The platform hashes the upload and keeps it only when the SHA-256 matches (422 otherwise); ' +
          `a version already uploaded is 409; past FIRMWARE_MAX_MB 413; no room on the disk 507.`,
        consumes: ['multipart/form-data'],
        response: {
          201: FirmwareImageSchema,
          ...errorResponses,
          413: ErrorSchema,
          415: ErrorSchema,
          422: ErrorSchema,
          507: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart())
        throw new UnsupportedMediaError('send the image as multipart/form-data in a field named "file"');
      deps.disk.assertRoomFor(Number(request.headers['content-length'] ?? 0) || 0);
      const fields: Record<string, string> = {};
      const parts = request.parts();
      let file: ReceivedFile | null = null;
      try {
        for (;;) {
          let next: IteratorResult<Multipart>;
          try {
            next = await parts.next();
          } catch (error) {
            throw asClientError(error);
          }
          if (next.done) break;
          const part = next.value;
          if (part.type === 'field') {
            if (typeof part.value === 'string') fields[part.fieldname] = part.value;
            continue;
          }
          if (part.fieldname !== 'file' || file) {
            part.file.resume();
            throw new InvalidRequestError(
              `unexpected file field "${part.fieldname}"; send one, named "file"`,
            );
          }
          try {
            file = await library.receive(part.file, part.filename);
          } catch (error) {
            throw part.file.errored === error ? asClientError(error) : error;
          }
        }
        if (!file) throw new InvalidRequestError('no file: send the image in a multipart field named "file"');
        const parsed = FirmwareUploadFieldsSchema.safeParse(fields);
        if (!parsed.success) {
          const details = parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
          throw new InvalidRequestError(details.map((d) => `${d.field}: ${d.message}`).join('; '), details);
        }
        const received = file;
        file = null;
        const image = await library.commit(received, {
          ...parsed.data,
          createdBy: request.principal?.username ?? null,
        });
        request.auditNote = { target: { type: 'firmware', id: image.id }, after: image };
        return reply.status(201).send(image);
      } finally {
        if (file) await library.discard(file);
      }
    },
  );

  app.get(
    '/firmware',
    {
      config: { access: TECHNICIANS },
      schema: {
        tags,
        summary: 'Firmware images, newest first',
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(FirmwareImageSchema) },
      },
    },
    async (request) => ({ ...library.list(request.query), ...request.query }),
  );

  app.get(
    '/firmware/rollouts',
    {
      config: { access: TECHNICIANS },
      schema: {
        tags,
        summary: 'Rollouts, newest first, with their counts',
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(RolloutSummarySchema) },
      },
    },
    async (request) => {
      const communes = request.principal?.communes ?? null;
      const { items, total } = store.list(request.query, communes);
      return {
        items: items.map((r) => {
          const { clusters: _clusters, ...summary } = rolloutView(r, store.clusters(r.id), communes);
          return summary;
        }),
        total,
        ...request.query,
      };
    },
  );

  app.get(
    '/firmware/rollouts/:id',
    {
      config: { access: TECHNICIANS },
      schema: {
        tags,
        summary: "A rollout's progress, cluster by cluster",
        description:
          'Each cluster: its batch, the last step it reported (download, verify, install, reboot, rollback, ' +
          'online) and its outcome (not-started, in-progress, updated, failed, rolled-back, skipped), the ' +
          'version it ran before and reports now, and why it failed.',
        params: RolloutParams,
        response: { 200: RolloutSchema, ...errorResponses },
      },
    },
    async (request) => {
      await store.present(request.params.id);
      return visibleRollout(request.params.id, request.principal?.communes ?? null);
    },
  );

  app.post(
    '/firmware/rollouts/:id/halt',
    {
      config: { access: TECHNICIANS, audit: 'firmware.halt' },
      schema: {
        tags,
        summary: 'Halt a rollout: no further batch starts; clusters already updating finish',
        params: RolloutParams,
        response: { 200: RolloutSchema, ...errorResponses },
      },
    },
    async (request) => {
      const communes = request.principal?.communes ?? null;
      await store.present(request.params.id);
      visibleRollout(request.params.id, communes);
      await rollouts.halt(request.params.id, request.principal?.username ?? null);
      request.auditNote = { target: { type: 'rollout', id: request.params.id } };
      return visibleRollout(request.params.id, communes);
    },
  );

  app.get(
    '/firmware/:id',
    {
      config: { access: TECHNICIANS },
      schema: {
        tags,
        summary: 'One firmware image',
        params: IdParams,
        response: { 200: FirmwareImageSchema, ...errorResponses },
      },
    },
    async (request) => library.present(request.params.id),
  );

  app.post(
    '/firmware/:id/rollouts',
    {
      config: { access: TECHNICIANS, audit: 'firmware.rollout' },
      schema: {
        tags,
        summary: 'Roll an image out to clusters, batch by batch',
        description:
          'To `targets`, or to `percentage` of the clusters of `communeId` (rounded up, lowest ids first). ' +
          'Batches of `batchSize` clusters are sent the image one after the other; offline clusters are ' +
          'skipped. The rollout halts by itself once more than `failureThreshold` percent of its clusters ' +
          'failed or rolled back: clusters already updating finish, no further batch starts.',
        params: IdParams,
        body: RolloutCreateSchema,
        response: { 201: RolloutSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const image = await library.present(request.params.id);
      const communes = request.principal?.communes;
      const body = request.body;
      if (body.communeId !== undefined) {
        if (!mayActIn(request.principal, body.communeId)) throw new NotFoundError('commune', body.communeId);
        deps.registry.getCommune(body.communeId);
      }
      const input = body.targets
        ? {
            ...body,
            targets: scopedTargets(
              { registry: deps.registry, resolveTargets: deps.resolveTargets },
              communes,
              body.targets,
            ),
          }
        : body;
      const rollout = await rollouts.create(image, input, request.principal?.username ?? null);
      request.auditNote = {
        target: { type: 'rollout', id: rollout.id },
        detail: { firmwareId: image.id, version: image.version, ...body },
      };
      return reply.status(201).send(visibleRollout(rollout.id, communes ?? null));
    },
  );

  app.get(
    '/firmware/:id/content',
    {
      config: { access: 'public' },
      onResponse: endDownloadsOnClose(app),
      schema: {
        tags,
        summary: 'Download a firmware image',
        description:
          'For clusters: with the signed link of their `firmware` command (`exp`, `sig`). Technicians may ' +
          'use their session. One byte range (`Range: bytes=a-`) resumes a broken download; the ETag is the ' +
          'SHA-256.',
        params: IdParams,
        querystring: ContentQuery,
        response: {
          200: z.unknown().describe('the image, application/octet-stream'),
          206: z.unknown().describe('the requested byte range'),
          ...errorResponses,
          401: ErrorSchema,
          403: ErrorSchema,
          416: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      if (!deps.links.verify(imagePath(id), request.query.exp, request.query.sig, clock.now())) {
        const verdict = isAllowed(TECHNICIANS, request.principal);
        if (verdict === 'forbidden') throw new ForbiddenError();
        if (verdict === 'unauthenticated')
          throw new AuthenticationError(
            'download firmware with the signed link of a firmware command, or signed in',
          );
      }
      const image = await library.present(id);
      return sendFile(request, reply, {
        // With DATABASE_URL, fetched from PostgreSQL first when another instance received it.
        path: await library.localFile(id),
        sha256: image.sha256,
        contentType: 'application/octet-stream',
        disposition: `attachment; filename="${image.id}.bin"`,
        noun: 'image',
        missing: () => new NotFoundError('firmware', id),
      });
    },
  );

  /** A rollout a caller may see (one reaching their communes), with only their clusters. */
  function visibleRollout(id: string, communes: readonly string[] | null) {
    const rollout = rollouts.get(id);
    if (communes && !rollout.communeIds.some((c) => communes.includes(c)))
      throw new NotFoundError('rollout', id);
    return rolloutView(rollout, store.clusters(id), communes);
  }
};
