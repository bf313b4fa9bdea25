import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import {
  AuthenticationError,
  ConflictError,
  DeviceOfflineError,
  DomainError,
  ForbiddenError,
  InsufficientStorageError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  ServiceUnavailableError,
  TooManyAttemptsError,
  UnprocessableError,
  UnsupportedMediaError,
} from '../errors.js';
import { type StorageFailure, storageFailure } from '../storage/storage-errors.js';

const STATUS_BY_ERROR = new Map<new (...args: never[]) => DomainError, number>([
  [NotFoundError, 404],
  [ConflictError, 409],
  [InvalidRequestError, 400],
  [DeviceOfflineError, 409],
  [AuthenticationError, 401],
  [ForbiddenError, 403],
  [TooManyAttemptsError, 429],
  [PayloadTooLargeError, 413],
  [UnsupportedMediaError, 415],
  [UnprocessableError, 422],
  [ServiceUnavailableError, 503],
  [InsufficientStorageError, 507],
]);

/** One place turns every error into `{error: {code, message, details?}}`; 5xx bodies reveal nothing. */
/**
 * `consolePage`, when the console is served: answers a browser's page request the API does not
 * know (the console's own routes) with the console's index.html instead of a JSON 404.
 */
export function registerErrorHandler(
  app: FastifyInstance,
  consolePage?: (request: FastifyRequest, reply: FastifyReply) => FastifyReply | null,
  onStorageFailure?: (failure: StorageFailure, error: unknown) => void,
): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request';
      const details = error.validation.map((issue) => ({
        field: `${where}${issue.instancePath.replaceAll('/', '.')}`.replace(/\.$/, ''),
        message: issue.message,
      }));
      return reply.status(400).send({
        error: {
          code: 'invalid_request',
          message: details.map((d) => `${d.field}: ${d.message}`).join('; '),
          details,
        },
      });
    }
    const domain: unknown = error;
    if (domain instanceof DomainError) {
      const status = [...STATUS_BY_ERROR].find(([type]) => domain instanceof type)?.[1] ?? 400;
      if (domain instanceof TooManyAttemptsError) reply.header('retry-after', String(domain.retryAfterS));
      return reply
        .status(status)
        .send({ error: { code: domain.code, message: domain.message, details: domain.details } });
    }
    // Fastify's own client errors (bad JSON, body too large, wrong content type) keep their status.
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code = status === 429 ? 'rate_limited' : (error.code ?? 'bad_request');
      return reply.status(status).send({ error: { code, message: error.message } });
    }
    // A write the disk refused says why (full, read-only, failing) and that nothing was saved.
    const storage = storageFailure(error);
    if (storage) {
      onStorageFailure?.(storage, error);
      request.log.error({ err: error, storage: storage.code }, 'request failed: storage');
      return reply.status(storage.kind === 'full' ? 507 : 503).send({
        error: {
          code: storage.kind === 'full' ? 'insufficient_storage' : 'storage_unavailable',
          message: `Nothing was saved: ${storage.cause}. See /healthz for the disk's state.`,
          details: { storage: storage.code },
        },
      });
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .status(500)
      .send({ error: { code: 'internal', message: 'Internal error; see the server log.' } });
  });

  app.setNotFoundHandler(
    (request, reply) =>
      consolePage?.(request, reply) ??
      reply
        .status(404)
        .send({ error: { code: 'not_found', message: `no route for ${request.method} ${request.url}` } }),
  );
}

/**
 * Fastify answers a malformed %-escape in the path (FST_ERR_BAD_URL) or an over-long path
 * parameter (FST_ERR_MAX_PARAM_LENGTH) before routing, outside setErrorHandler and with its own
 * body shape; passed as the `frameworkErrors` option, this keeps those answers in ours.
 */
export function onFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  void reply
    .status(error.statusCode ?? 400)
    .send({ error: { code: error.code ?? 'bad_request', message: error.message } });
}
