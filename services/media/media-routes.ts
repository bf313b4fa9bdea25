import type { Multipart } from '@fastify/multipart';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LoginThrottle } from '../../broker/login-throttle.js';
import { MediaIdSchema, MediaNameSchema, type MediaRecord, MediaSchema } from '../../contracts/media.js';
import { ErrorSchema, pagedSchema } from '../../contracts/pages.js';
import type { Clock } from '../../devices/index.js';
import { homeCommune, isAllowed } from '../accounts/roles.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import {
  AuthenticationError,
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  TooManyAttemptsError,
  UnsupportedMediaError,
} from '../errors.js';
import type { EventBus } from '../event-bus.js';
import type { RegistryStore } from '../registry/registry-store.js';
import type { DiskGuard } from '../storage/disk-guard.js';
import { acceptUploads, endDownloadsOnClose, sendFile } from './file-transfer.js';
import type { MediaLibrary } from './media-library.js';

export interface MediaRouteDeps {
  /** The audio library: uploads, listing, deletion and signed download links. */
  media: MediaLibrary;
  registry: RegistryStore;
  clock: Clock;
  /** The data disk: an upload that would eat the emergency reserve is refused. */
  disk: DiskGuard;
  /** A device credential refused here is told as the broker tells its own (counted and audited alike). */
  events: EventBus;
  /** Whether a device was sent the item to play lately (what other features said; see MediaUse). */
  sentTo(deviceId: string, mediaId: string, now: number): boolean;
  /** Whether the signed links of a broadcast stopped working (it was stopped). */
  linkRevoked(broadcastId: string): boolean;
}

const IdParams = z.object({ id: MediaIdSchema });
const ContentQuery = z.object({
  exp: z.coerce.number().int().optional().describe('expiry of a signed link, epoch ms'),
  sig: z.string().max(128).optional().describe('signature of a signed link'),
  b: z
    .string()
    .regex(/^b-[0-9a-f]{12}$/)
    .optional()
    .describe('the broadcast a signed link belongs to; it stops working when the broadcast is stopped'),
});
/**
 * Signed-in people who may listen to the library (approvers hear what they approve, viewers what
 * aired); devices come with a signed link or their secret.
 */
const LISTENERS = ['operator', 'approver', 'viewer', 'technician'] as const;

/** `Authorization: Basic base64(user:password)` [RFC 7617], or null when absent or malformed. */
function basicCredentials(header: string | undefined): { username: string; password: string } | null {
  const match = header ? /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const audited = (record: MediaRecord) => ({
  id: record.id,
  name: record.name,
  mime: record.mime,
  sizeBytes: record.sizeBytes,
  durationS: record.durationS,
  sha256: record.sha256,
});

export const mediaRoutes: FastifyPluginAsyncZod<{ deps: MediaRouteDeps }> = async (app, { deps }) => {
  const { media, registry, clock } = deps;
  const tags = ['media'];
  /** A transport error from the multipart parser, as the client error it is. */
  const asClientError = await acceptUploads(app, {
    maxBytes: media.maxBytes,
    fieldNames: ['name'],
    fields: 4,
    parts: 6,
    keepParserStatus: true,
  });

  app.post(
    '/media',
    {
      config: { access: ['operator'], audit: 'media.upload' },
      schema: {
        tags,
        summary: 'Upload an audio file (MP3, WAV, OGG or AAC)',
        description:
          'multipart/form-data with one file in the field `file` and an optional text field `name` ' +
          '(default: the file name). The type is read from the bytes, not from the file name or the ' +
          'Content-Type; the playing time is read from the file. Answers 413 past MEDIA_MAX_MB, 415 for ' +
          'anything but MP3, WAV, OGG or AAC audio, 422 when no playing time can be read, 507 when ' +
          "the platform's disk has no room for it.",
        consumes: ['multipart/form-data'],
        response: {
          201: MediaSchema,
          ...errorResponses,
          413: ErrorSchema,
          415: ErrorSchema,
          422: ErrorSchema,
          507: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new UnsupportedMediaError('send the file as multipart/form-data in a field named "file"');
      }
      // 507 before a byte is stored when the disk cannot take the file (or is already full).
      deps.disk.assertRoomFor(Number(request.headers['content-length'] ?? 0) || 0);
      const parts = request.parts();
      let name: string | undefined;
      let record: MediaRecord | null = null;
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
            if (part.fieldname !== 'name') continue;
            const parsed = MediaNameSchema.safeParse(part.value);
            if (!parsed.success) throw new InvalidRequestError('name: 1 to 200 characters');
            name = parsed.data;
            // A name sent after the file still counts: form builders do not all keep field order.
            if (record) record = await media.rename(record.id, name);
            continue;
          }
          if (part.fieldname !== 'file') {
            // Read it off the wire, or busboy would wait for it and never reach the end of the body.
            part.file.resume();
            throw new InvalidRequestError(`unexpected file field "${part.fieldname}"; name it "file"`);
          }
          try {
            record = await media.ingest(
              { stream: part.file, filename: part.filename },
              {
                name,
                createdBy: request.principal?.username ?? null,
                communeId: homeCommune(request.principal),
              },
            );
          } catch (error) {
            throw part.file.errored === error ? asClientError(error) : error;
          }
        }
      } catch (error) {
        // All or nothing: a stored file is removed again when a later part of the body is refused.
        if (record) await media.delete(record.id);
        throw error;
      }
      if (!record) throw new InvalidRequestError('no file: send it in a multipart field named "file"');
      request.auditNote = { target: { type: 'media', id: record.id }, after: audited(record) };
      return reply.status(201).send(record);
    },
  );

  app.get(
    '/media',
    {
      config: { access: LISTENERS },
      schema: {
        tags,
        summary: 'List the audio library, newest first',
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(MediaSchema) },
      },
    },
    async (request) => ({
      ...media.list(request.query, request.principal?.communes),
      ...request.query,
    }),
  );

  app.get(
    '/media/:id',
    {
      config: { access: LISTENERS },
      schema: {
        tags,
        summary: 'Get one audio item',
        params: IdParams,
        response: { 200: MediaSchema, ...errorResponses },
      },
    },
    async (request) => media.findVisible(request.params.id, request.principal?.communes),
  );

  app.delete(
    '/media/:id',
    {
      config: { access: ['operator'], audit: 'media.delete' },
      schema: {
        tags,
        summary: 'Remove an audio item',
        description: 'Refused with 409 and `details.usedBy` while a schedule or broadcast still uses it.',
        params: IdParams,
        response: { 204: z.null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      // A limited operator removes their communes' items, and of the shared library only their own
      // (a province account's uploads are shared with its communes).
      const item = await media.findVisible(request.params.id, request.principal?.communes);
      if (
        request.principal?.communes &&
        item.communeId === null &&
        item.createdBy !== request.principal.username
      )
        throw new ForbiddenError(
          "the shared library's items are removed by an account that addresses every commune, or by whoever added them",
        );
      const removed = await media.delete(request.params.id);
      request.auditNote = { before: audited(removed) };
      return reply.status(204).send(null);
    },
  );

  const deviceLogins = new LoginThrottle();

  /**
   * Devices are not accounts, so the session check cannot guard this route: it is declared public
   * and admits a caller itself, by a signed link, a device's own MQTT credential, or a session.
   */
  const admit = async (
    request: FastifyRequest,
    reply: FastifyReply,
    { id, exp, sig, b }: { id: string } & z.infer<typeof ContentQuery>,
  ): Promise<void> => {
    if (exp !== undefined && sig !== undefined && media.verifySignature(id, exp, sig, clock.now(), b)) {
      if (b === undefined || !deps.linkRevoked(b)) return;
      throw new ForbiddenError('the broadcast this link belongs to was stopped');
    }
    const basic = basicCredentials(request.headers.authorization);
    if (basic) {
      // Device credentials are guessed here as on the broker: throttled, counted and audited alike.
      const key = `${request.ip}\u0000${basic.username.slice(0, 128)}`;
      const locked = deviceLogins.lockedFor(key, clock.now());
      if (locked > 0) throw new TooManyAttemptsError(Math.ceil(locked / 1000));
      if (await registry.verifySecret(basic.username, basic.password)) {
        deviceLogins.recordSuccess(key);
        // A device fetches only what it was sent to play.
        if (deps.sentTo(basic.username, id, clock.now())) return;
        throw new ForbiddenError('this device has no delivery of that media');
      }
      deviceLogins.recordFailure(key, clock.now());
      deps.events.emit('security.refused', {
        type: 'auth-failed',
        via: 'media',
        clientId: basic.username,
        username: basic.username,
        address: request.ip,
        reason: 'unknown-or-bad-secret',
        at: clock.now(),
      });
    }
    const verdict = isAllowed(LISTENERS, request.principal);
    if (verdict === 'ok') return;
    if (verdict === 'forbidden') throw new ForbiddenError();
    reply.header('www-authenticate', 'Basic realm="media", charset="UTF-8"');
    throw new AuthenticationError(
      'fetch media with a signed link, the device credential (HTTP Basic) or a signed-in session',
    );
  };

  app.get(
    '/media/:id/content',
    {
      config: { access: 'public' },
      onResponse: endDownloadsOnClose(app),
      schema: {
        tags,
        summary: 'Download an audio file',
        description:
          'For devices: with the signed link from a play command (`exp`, `sig`), or HTTP Basic with ' +
          'the device id and its MQTT secret. Operators and technicians may use their session. ' +
          'Supports one byte range (`Range: bytes=a-b`) to resume a broken download; the ETag is the ' +
          'SHA-256 of the file.',
        params: IdParams,
        querystring: ContentQuery,
        response: {
          200: z.unknown().describe('the audio file, with its Content-Type, Content-Length and ETag'),
          206: z.unknown().describe('the requested byte range of the file'),
          304: z.null().describe('the file is unchanged (If-None-Match)'),
          ...errorResponses,
          401: ErrorSchema,
          403: ErrorSchema,
          416: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      await admit(request, reply, { id: request.params.id, ...request.query });
      // Stored on another instance a moment ago: its row and file are fetched from PostgreSQL.
      const record = await media.findVisible(request.params.id, request.principal?.communes);
      return sendFile(request, reply, {
        path: await media.localFile(record),
        sha256: record.sha256,
        contentType: record.mime,
        disposition: `inline; filename="${record.id}.${record.ext}"`,
        noun: 'file',
        missing: () => new NotFoundError('media', record.id),
        notModified: true,
      });
    },
  );
};
