import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  LoginSchema,
  MeSchema,
  PasswordChangedSchema,
  PasswordChangeSchema,
  TokenCreateSchema,
  TokenSchema,
  UserSchema,
} from '../../contracts/accounts.js';
import { ErrorSchema, pagedSchema } from '../../contracts/pages.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { SESSION_COOKIE } from '../api/security.js';
import { AuthenticationError } from '../errors.js';
import type { AuthService } from './auth-service.js';

export interface AuthRouteDeps {
  auth: AuthService;
  /** Sign-in attempts per minute from one address. */
  loginRateLimitPerMinute: number;
  /** Session cookie Secure flag: 'auto' sets it on HTTPS requests (and behind a trusted TLS proxy). */
  cookieSecure: boolean | 'auto';
}

export const authRoutes: FastifyPluginAsyncZod<{ deps: AuthRouteDeps }> = async (app, { deps }) => {
  const { auth } = deps;
  const tags = ['accounts'];

  app.post(
    '/auth/login',
    {
      config: {
        access: 'public',
        audit: 'auth.login',
        // Per address, on top of the per-account lockout: slows password spraying across accounts.
        rateLimit: { max: deps.loginRateLimitPerMinute, timeWindow: 60_000 },
      },
      schema: {
        tags,
        summary: 'Sign in; sets an httpOnly, SameSite=Strict session cookie',
        body: LoginSchema,
        response: {
          200: z.object({ user: UserSchema, expiresAt: z.iso.datetime() }),
          401: ErrorSchema,
          429: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      request.auditNote = { actor: { type: 'user', name: username.toLowerCase() } };
      const result = await auth.login(username, password, {
        address: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
      });
      request.auditNote = {
        actor: { type: 'user', id: result.user.id, name: result.user.username, roles: result.user.roles },
        target: { type: 'user', id: result.user.id },
      };
      reply.setCookie(SESSION_COOKIE, result.sessionId, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: deps.cookieSecure,
        expires: new Date(result.expiresAt),
      });
      return { user: result.user, expiresAt: new Date(result.expiresAt).toISOString() };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: 'authenticated', audit: 'auth.logout' },
      schema: { tags, summary: 'Sign out of this session', response: { 204: z.null(), 401: ErrorSchema } },
    },
    async (request, reply) => {
      if (request.principal) await auth.logout(request.principal);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/auth/me',
    {
      config: { access: 'authenticated' },
      schema: { tags, summary: 'Who is signed in', response: { 200: MeSchema, 401: ErrorSchema } },
    },
    async (request) => {
      const principal = request.principal;
      if (!principal) throw new AuthenticationError();
      const session = principal.sessionId ? await auth.authenticateSession(principal.sessionId) : null;
      return {
        user: await auth.getUser(principal.userId),
        via: principal.via,
        roles: principal.roles,
        sessionExpiresAt: session ? new Date(session.expiresAt).toISOString() : null,
      };
    },
  );

  app.post(
    '/auth/password',
    {
      config: { access: 'authenticated', audit: 'auth.password.change' },
      schema: {
        tags,
        summary: 'Change your own password; your other sessions end and your API tokens are revoked',
        body: PasswordChangeSchema,
        response: { 200: PasswordChangedSchema, ...errorResponses, 401: ErrorSchema },
      },
    },
    async (request) => {
      if (!request.principal) throw new AuthenticationError();
      return auth.changePassword(request.principal, request.body.currentPassword, request.body.newPassword);
    },
  );

  app.post(
    '/auth/tokens',
    {
      config: { access: 'authenticated', audit: 'auth.token.create' },
      schema: {
        tags,
        summary: 'Create an API token for a machine client (shown once)',
        description:
          'Use it as `Authorization: Bearer <token>`. It acts as you, with at most your roles. Only a ' +
          'signed-in session creates tokens (403 for a token); a password change or reset revokes them.',
        body: TokenCreateSchema,
        response: {
          201: TokenSchema.extend({ token: z.string() }),
          ...errorResponses,
          401: ErrorSchema,
          403: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      if (!request.principal) throw new AuthenticationError();
      const { token, record } = await auth.createToken(request.principal, request.body);
      request.auditNote = {
        target: { type: 'token', id: record.id },
        after: { name: record.name, roles: record.roles },
      };
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ ...record, token });
    },
  );

  app.get(
    '/auth/tokens',
    {
      config: { access: 'authenticated' },
      schema: {
        tags,
        summary: 'Your API tokens (an admin may list anyone’s with userId)',
        querystring: PageQuerySchema.extend({ userId: z.string().max(40).optional() }),
        response: { 200: pagedSchema(TokenSchema), 401: ErrorSchema, 403: ErrorSchema },
      },
    },
    async (request) => {
      if (!request.principal) throw new AuthenticationError();
      const { userId, ...page } = request.query;
      return { ...(await auth.listTokens(request.principal, userId, page)), ...page };
    },
  );

  app.delete(
    '/auth/tokens/:id',
    {
      config: { access: 'authenticated', audit: 'auth.token.revoke' },
      schema: {
        tags,
        summary: 'Revoke an API token',
        params: z.object({ id: z.string().regex(/^[0-9a-f]{12}$/) }),
        response: { 200: TokenSchema, ...errorResponses, 401: ErrorSchema },
      },
    },
    async (request) => {
      if (!request.principal) throw new AuthenticationError();
      request.auditNote = { target: { type: 'token', id: request.params.id } };
      return auth.revokeToken(request.principal, request.params.id);
    },
  );
};
