import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthService } from '../accounts/auth-service.js';
import { type Access, isAllowed, mayActIn, type Principal } from '../accounts/roles.js';
import type { AuditEntryInput, AuditLog, AuditOutcome } from '../audit/audit-log.js';
import {
  AuthenticationError,
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  UnsupportedMediaError,
} from '../errors.js';
import type { CommuneFilter } from '../registry/registry-store.js';

export const SESSION_COOKIE = 'sc_session';
/** The name every feature's route plugin declares as its dependency. */
export const SECURITY_PLUGIN = 'security';
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a handler tells the audit log beyond what the request already says. */
export interface AuditNote {
  target?: { type: string; id: string | null };
  before?: unknown;
  after?: unknown;
  detail?: unknown;
  actor?: AuditEntryInput['actor'];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every /api/v1 route must say. */
    access?: Access;
    /** The audit action name of a state-changing route, e.g. `cluster.update`. */
    audit?: string;
  }
  interface FastifyRequest {
    principal: Principal | null;
    auditNote: AuditNote;
  }
}

function guarded(url: string): boolean {
  return url.startsWith('/api/') || url === '/metrics';
}

/**
 * Authentication, authorisation and the audit trail for every request, in one place:
 * - at registration, a guarded route without an `access` declaration (or a state-changing one
 *   without an `audit` action) stops the platform from starting;
 * - onRequest resolves the caller from the session cookie or a bearer token and answers 401/403
 *   before any handler or body validation runs;
 * - onSend writes one audit entry for each state-changing request, whatever its outcome.
 */
export const securityPlugin = fp<SecurityOptions>(async (app, deps) => registerSecurity(app, deps), {
  name: SECURITY_PLUGIN,
  fastify: '5.x',
});

interface SecurityOptions {
  auth: AuthService;
  audit: AuditLog;
  corsOrigins?: readonly string[];
}

function registerSecurity(app: FastifyInstance, deps: SecurityOptions): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('auditNote', null as unknown as AuditNote);

  app.addHook('onRoute', (route) => {
    if (!guarded(route.url)) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.every((m) => m === 'HEAD' || m === 'OPTIONS')) return;
    if (route.config?.access === undefined) {
      throw new Error(
        `route ${methods.join(',')} ${route.url} does not declare who may call it (config.access)`,
      );
    }
    if (methods.some((m) => STATE_CHANGING.has(m)) && !route.config.audit) {
      throw new Error(
        `state-changing route ${methods.join(',')} ${route.url} has no audit action (config.audit)`,
      );
    }
  });

  app.addHook('onRequest', async (request) => {
    request.auditNote = {};
    request.principal = await resolvePrincipal(request, deps.auth);
    if (STATE_CHANGING.has(request.method) && request.principal?.via === 'session')
      refuseCrossSite(request, deps.corsOrigins ?? []);
    const access = request.routeOptions.config?.access;
    if (access === undefined) return; // docs, health and unknown URLs
    const verdict = isAllowed(access, request.principal);
    if (verdict === 'unauthenticated') throw new AuthenticationError();
    if (verdict === 'forbidden') throw new ForbiddenError();
  });

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-request-id', request.id);
    const action = request.routeOptions.config?.audit;
    if (!action || !STATE_CHANGING.has(request.method)) return payload;
    const status = reply.statusCode;
    const outcome: AuditOutcome =
      status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure';
    const note = request.auditNote ?? {};
    const principal = request.principal;
    const params = request.params as { id?: string } | undefined;
    deps.audit.record({
      requestId: request.id,
      actor:
        note.actor ??
        (principal
          ? {
              type: principal.via === 'token' ? 'token' : 'user',
              id: principal.userId,
              name: principal.username,
              roles: principal.roles,
            }
          : { type: 'anonymous' }),
      action,
      target: note.target ?? (params?.id ? { type: action.split('.')[0] ?? action, id: params.id } : null),
      before: note.before,
      after: note.after,
      outcome,
      status,
      address: request.ip,
      detail: outcome === 'success' ? note.detail : (note.detail ?? errorCode(payload)),
    });
    return payload;
  });
}

/** Content types a page on another site can send without asking first (a plain HTML form). */
const FORM_TYPES = /^\s*(text\/plain|application\/x-www-form-urlencoded)\b/i;

/**
 * Cross-site request forgery: a state-changing request carried by the session cookie must come
 * from the console's own origin. SameSite=Strict already keeps the cookie off other sites'
 * requests; this is the second line (OWASP: verify the origin with Fetch Metadata and Origin, and
 * refuse the content types a form can send). Clients without a browser send neither header and
 * are not a forgery vector; API tokens are not sent by browsers on their own.
 */
function refuseCrossSite(request: FastifyRequest, corsOrigins: readonly string[]): void {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  const allowedOrigin = (value: string) => {
    if (corsOrigins.includes(value)) return true;
    try {
      return new URL(value).host === request.host;
    } catch {
      return false;
    }
  };
  if (origin !== undefined ? !allowedOrigin(origin) : site === 'cross-site' || site === 'same-site') {
    throw new ForbiddenError('cross-site request refused: send it from the console or with an API token');
  }
  if (FORM_TYPES.test(request.headers['content-type'] ?? '')) {
    throw new UnsupportedMediaError('send application/json (or multipart/form-data for uploads)');
  }
}

async function resolvePrincipal(request: FastifyRequest, auth: AuthService): Promise<Principal | null> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    // Credentials in the header are the only ones considered, so a bad token is never rescued by a
    // cookie sent alongside it. The scheme name is case-insensitive [RFC 7235 §2.1].
    const bearer = /^bearer\s+(\S+)\s*$/i.exec(header);
    return bearer?.[1] ? await auth.authenticateToken(bearer[1]) : null;
  }
  const sessionId = request.cookies?.[SESSION_COOKIE];
  return sessionId ? ((await auth.authenticateSession(sessionId))?.principal ?? null) : null;
}

/** The error code of a JSON error body, for the audit detail of a refused request. */
function errorCode(payload: unknown): unknown {
  if (typeof payload !== 'string') return undefined;
  try {
    const body = JSON.parse(payload) as { error?: { code?: string; message?: string } };
    return body.error ? { code: body.error.code, message: body.error.message } : undefined;
  } catch {
    // Not a JSON body: nothing to add.
    return undefined;
  }
}

/**
 * The communes a list is filtered to: the one asked for, within the caller's communes when they
 * are limited (a province, a list, one). Asking a limited caller's list for another commune
 * answers 404, as that commune's records would.
 */
export function communeScope(request: FastifyRequest, requested?: string): CommuneFilter {
  if (requested && !mayActIn(request.principal, requested)) throw new NotFoundError('commune', requested);
  return { communeId: requested, communeIds: request.principal?.communes ?? undefined };
}

/** Answers 404, as if the record did not exist, when it is of a commune the caller may not see. */
export function assertInScope(request: FastifyRequest, communeId: string, what: string, id: string): void {
  if (!inScope(request, communeId)) throw new NotFoundError(what, id);
}

/** Whether a record of this commune is visible to the caller (a scoped user sees only theirs). */
export function inScope(request: FastifyRequest, communeId: string): boolean {
  return mayActIn(request.principal, communeId);
}

/**
 * A record id a commune-limited caller chose for a record whose ids are shared by every commune
 * (groups): it must begin with the caller's commune id and a dash, a namespace no other commune's
 * accounts can write in, so a taken id can only be one of the caller's own commune and a 409
 * reveals nothing about others. Device ids (clusters, cameras) are printed on the hardware and
 * stay global, like the broker's usernames they are.
 */
export function assertOwnNamespace(request: FastifyRequest, id: string | undefined, field: string): void {
  const communes = request.principal?.communes;
  if (!communes || id === undefined || communes.some((c) => id.startsWith(`${c}-`))) return;
  const prefixes = communes.map((c) => `"${c}-"`).join(' or ');
  const message = `an id chosen by an account of commune "${communes.join('", "')}" begins with ${prefixes} (or leave it out)`;
  throw new InvalidRequestError(`${field}: ${message}`, [{ field, message }]);
}
