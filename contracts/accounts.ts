import { z } from 'zod';
import { SlugSchema } from './registry.js';

/**
 * Circular 39 asks for accounts and roles. `admin` manages accounts and the registry and may do
 * everything; the others are scoped to their job.
 */
export const ROLES = ['admin', 'operator', 'approver', 'viewer', 'police', 'technician'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

const timestamp = z.iso.datetime();

export const UsernameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{2,47}$/, 'letters, digits, ".", "_" or "-", 3 to 48 characters');

export const PasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH);

export const UserSchema = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  roles: z.array(RoleSchema),
  communeId: SlugSchema.nullable().describe(
    'limited to this one commune; null when not limited to exactly one',
  ),
  communeIds: z.array(SlugSchema).describe('limited to these communes; empty when not limited to a list'),
  provinceId: SlugSchema.nullable().describe('limited to the communes of this province (a province account)'),
  disabled: z.boolean(),
  createdAt: timestamp,
  updatedAt: timestamp,
  lastLoginAt: timestamp.nullable(),
});
export type User = z.infer<typeof UserSchema>;

const roles = z.array(RoleSchema).min(1).max(ROLES.length);

/**
 * Where an account may act: everywhere (nothing given), one commune, a list of communes, or a
 * province (every commune of it, as communes are added). A province and communes together are
 * refused. `communeId` is the one-commune form of `communeIds`.
 */
const scopeFields = {
  communeId: SlugSchema.nullable()
    .optional()
    .describe('limited to this one commune (same as communeIds: [id])'),
  communeIds: z
    .array(SlugSchema)
    .max(500)
    .optional()
    .describe('limited to these communes; [] lifts the limit'),
  provinceId: SlugSchema.nullable()
    .optional()
    .describe('limited to every commune of this province (a province account); null lifts the limit'),
};

export const UserCreateSchema = z.strictObject({
  username: UsernameSchema,
  displayName: z.string().trim().min(1).max(120),
  password: PasswordSchema,
  roles,
  ...scopeFields,
});
export type UserCreate = z.infer<typeof UserCreateSchema>;

export const UserPatchSchema = z.strictObject({
  displayName: z.string().trim().min(1).max(120).optional(),
  roles: roles.optional(),
  ...scopeFields,
  disabled: z
    .boolean()
    .optional()
    .describe('disabling signs the user out everywhere and stops their API tokens'),
});
export type UserPatch = z.infer<typeof UserPatchSchema>;

export const LoginSchema = z.strictObject({
  username: z.string().trim().min(1).max(48),
  password: z.string().min(1).max(PASSWORD_MAX_LENGTH),
});

export const TokenCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(80).describe('what the token is for, e.g. "district report pull"'),
  roles: roles.optional().describe("a subset of the owner's roles; default: all of them"),
  expiresInDays: z.int().min(1).max(3650).optional(),
});

export const TokenSchema = z.object({
  id: z.string(),
  userId: z.string(),
  name: z.string(),
  roles: z.array(RoleSchema),
  createdAt: timestamp,
  expiresAt: timestamp.nullable(),
  lastUsedAt: timestamp.nullable(),
  revokedAt: timestamp.nullable(),
});
export type ApiToken = z.infer<typeof TokenSchema>;

/** What a password change or reset did besides changing the password. */
export const PasswordChangedSchema = z.object({
  tokensRevoked: z.int().describe('API tokens of the account revoked with the old password'),
});

export const PasswordChangeSchema = z.strictObject({
  currentPassword: z.string().min(1).max(PASSWORD_MAX_LENGTH),
  newPassword: PasswordSchema,
});

export const PasswordResetSchema = z.strictObject({ password: PasswordSchema });

export const MeSchema = z.object({
  user: UserSchema,
  via: z.enum(['session', 'token']),
  roles: z.array(RoleSchema).describe('the roles in force for this request (a token may hold fewer)'),
  sessionExpiresAt: z.iso.datetime().nullable(),
});
