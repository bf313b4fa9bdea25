import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  PasswordChangedSchema,
  PasswordResetSchema,
  UserCreateSchema,
  UserPatchSchema,
  UserSchema,
} from '../../contracts/accounts.js';
import { pagedSchema } from '../../contracts/pages.js';
import { changes, summary } from '../api/audit-summary.js';
import { errorResponses, PageQuerySchema } from '../api/pagination.js';
import { AuthenticationError } from '../errors.js';
import type { AuthService } from './auth-service.js';

const IdParams = z.object({ id: z.string().regex(/^u-[0-9a-f]{10}$/) });

export interface UserRouteDeps {
  auth: AuthService;
}

export const userRoutes: FastifyPluginAsyncZod<{ deps: UserRouteDeps }> = async (app, { deps }) => {
  const { auth } = deps;
  const tags = ['accounts'];
  const admin = ['admin'] as const;

  app.get(
    '/users',
    {
      config: { access: admin },
      schema: {
        tags,
        summary: 'List accounts',
        querystring: PageQuerySchema,
        response: { 200: pagedSchema(UserSchema) },
      },
    },
    async (request) => ({ ...(await auth.listUsers(request.query)), ...request.query }),
  );

  app.post(
    '/users',
    {
      config: { access: admin, audit: 'user.create' },
      schema: {
        tags,
        summary: 'Create an account',
        body: UserCreateSchema,
        response: { 201: UserSchema, ...errorResponses },
      },
    },
    async (request, reply) => {
      const user = await auth.createUser(request.body);
      request.auditNote = {
        target: { type: 'user', id: user.id },
        after: {
          ...summary(user),
          roles: user.roles,
          communeIds: user.communeIds,
          provinceId: user.provinceId,
        },
      };
      return reply.status(201).send(user);
    },
  );

  app.get(
    '/users/:id',
    {
      config: { access: admin },
      schema: {
        tags,
        summary: 'Get an account',
        params: IdParams,
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (request) => auth.getUser(request.params.id),
  );

  app.patch(
    '/users/:id',
    {
      config: { access: admin, audit: 'user.update' },
      schema: {
        tags,
        summary: 'Change roles, commune, name, or disable/enable an account',
        params: IdParams,
        body: UserPatchSchema,
        response: { 200: UserSchema, ...errorResponses },
      },
    },
    async (request) => {
      if (!request.principal) throw new AuthenticationError();
      const { before, after } = await auth.updateUser(request.params.id, request.body, request.principal);
      request.auditNote = changes(before, after);
      return after;
    },
  );

  app.post(
    '/users/:id/password',
    {
      config: { access: admin, audit: 'user.password.reset' },
      schema: {
        tags,
        summary:
          'Reset an account’s password; the user is signed out everywhere and their API tokens revoked',
        params: IdParams,
        body: PasswordResetSchema,
        response: { 200: PasswordChangedSchema, ...errorResponses },
      },
    },
    async (request) => auth.resetPassword(request.params.id, request.body.password),
  );
};
