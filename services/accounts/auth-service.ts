import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { LoginThrottle, type LoginThrottleOptions } from '../../broker/login-throttle.js';
import type { ApiToken, Role, User, UserCreate, UserPatch } from '../../contracts/accounts.js';
import type { Clock } from '../../devices/index.js';
import {
  AuthenticationError,
  ForbiddenError,
  InvalidRequestError,
  NotFoundError,
  TooManyAttemptsError,
} from '../errors.js';
import {
  type AccountScope,
  type AccountStore,
  publicToken,
  publicUser,
  type UserWithHash,
} from './account-store.js';
import {
  generatePassword,
  hashPassword,
  PASSWORD_SCRYPT,
  type ScryptParams,
  verifyPassword,
} from './passwords.js';
import type { Principal } from './roles.js';

export interface AuthServiceOptions {
  store: AccountStore;
  clock: Clock;
  logger: Logger;
  passwordParams?: ScryptParams;
  /** A session ends this long after sign-in, however active. */
  sessionMaxMs: number;
  /** …or after this long unused. */
  sessionIdleMs: number;
  lockout?: LoginThrottleOptions;
  /** Told after every committed change to an account or its credentials, by whatever path. */
  onChange?: (change: AccountChange) => void;
}

/** An account created or changed, and whether sessions or tokens ended with it. */
export interface AccountChange {
  userId: string;
  change: 'created' | 'updated' | 'password' | 'signed-out' | 'token-revoked';
  /** Sessions or tokens ended (sign-out, password, disabling, roles, a revoked token). */
  credentialsEnded: boolean;
}

/** Five wrong passwords, then the account refuses sign-in for 30 s, doubling per failure to 15 min. */
export const ACCOUNT_LOCKOUT: LoginThrottleOptions = {
  freeFailures: 5,
  baseDelayMs: 30_000,
  maxDelayMs: 15 * 60_000,
  forgetAfterMs: 24 * 3_600_000,
};

const TOKEN_PATTERN = /^sct_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');
const TOUCH_EVERY_MS = 60_000;

/**
 * Accounts and how they prove who they are: passwords (scrypt), browser sessions (random ids,
 * stored hashed, with an absolute and an idle expiry) and API tokens for machine clients (shown
 * once, revocable). Failed sign-ins lock the account with a growing backoff, per account, so one
 * user being guessed at does not keep anyone else out.
 */
export class AuthService {
  private readonly lockout: LoginThrottle;
  private readonly params: ScryptParams;
  private dummyHash: string | null = null;
  private readonly logger: Logger;

  constructor(private readonly options: AuthServiceOptions) {
    this.lockout = new LoginThrottle(options.lockout ?? ACCOUNT_LOCKOUT);
    this.params = options.passwordParams ?? PASSWORD_SCRYPT;
    this.logger = options.logger.child({ component: 'auth' });
  }

  /**
   * On first start, creates `admin` with ADMIN_PASSWORD or a generated password, which the caller
   * shows once. Later starts change nothing.
   */
  async ensureAdmin(
    configured: string | undefined,
  ): Promise<{ user: User; generatedPassword: string | null } | null> {
    if ((await this.options.store.countUsers()) > 0) return null;
    const password = configured ?? generatePassword();
    const user = await this.createUser({
      username: 'admin',
      displayName: 'Quản trị viên',
      password,
      roles: ['admin'],
    });
    return { user, generatedPassword: configured ? null : password };
  }

  // Sign-in and sessions

  async login(
    username: string,
    password: string,
    meta: { address: string | null; userAgent: string | null },
  ): Promise<{ sessionId: string; user: User; expiresAt: number }> {
    const { store, clock } = this.options;
    const key = username.toLowerCase();
    const locked = this.lockout.lockedFor(key, clock.now());
    if (locked > 0) throw new TooManyAttemptsError(Math.ceil(locked / 1000));
    // Counted as a failure before the (slow) hash check and forgiven on success: attempts sent in
    // parallel would otherwise all pass the lock check while the first ones were still hashing.
    const failures = this.lockout.recordFailure(key, clock.now());

    const user = await store.findByUsername(username);
    // Unknown names cost the same scrypt work as known ones, so timing does not reveal accounts.
    const ok = await verifyPassword(password, user?.passwordHash ?? (await this.dummy()));
    if (!user || !ok || user.disabled) {
      this.logger.warn({ username: key, address: meta.address, failures }, 'sign-in refused');
      throw new AuthenticationError('wrong username or password');
    }
    this.lockout.recordSuccess(key);
    const now = clock.now();
    const sessionId = randomBytes(32).toString('base64url');
    const expiresAt = now + this.options.sessionMaxMs;
    await store.insertSession({ idHash: sha256(sessionId), userId: user.id, now, expiresAt, ...meta });
    await store.recordLogin(user.id, now);
    return { sessionId, user: publicUser(await store.getUser(user.id)), expiresAt };
  }

  /**
   * Notes that a session or token was used. A disk that cannot take the write (full, read-only)
   * must not lock an operator out of sending an emergency: the note is skipped and logged once a
   * minute, and the session ends on its idle deadline a little early at worst.
   */
  private async touch(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      const now = this.options.clock.now();
      if (now - this.touchFailedLoggedAt >= 60_000) {
        this.touchFailedLoggedAt = now;
        this.logger.warn({ err: error }, 'could not record a session as used');
      }
    }
  }
  private touchFailedLoggedAt = Number.NEGATIVE_INFINITY;

  async logout(principal: Principal): Promise<void> {
    if (principal.sessionId) await this.options.store.deleteSession(sha256(principal.sessionId));
    this.changed(principal.userId, 'signed-out', true);
  }

  /** Tells the platform about a committed change to an account or its credentials. */
  private changed(userId: string, change: AccountChange['change'], credentialsEnded: boolean): void {
    this.options.onChange?.({ userId, change, credentialsEnded });
  }

  async authenticateSession(sessionId: string): Promise<{ principal: Principal; expiresAt: number } | null> {
    const { store, clock } = this.options;
    const idHash = sha256(sessionId);
    const session = await store.findSession(idHash);
    if (!session) return null;
    const now = clock.now();
    if (now >= session.expiresAt || now - session.lastSeenAt >= this.options.sessionIdleMs) {
      await store.deleteSession(idHash);
      return null;
    }
    const user = await store.findUser(session.userId);
    if (!user || user.disabled) return null;
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) await this.touch(() => store.touchSession(idHash, now));
    return {
      principal: { via: 'session', sessionId, ...this.identity(user, user.roles) },
      expiresAt: Math.min(session.expiresAt, Math.max(now, session.lastSeenAt) + this.options.sessionIdleMs),
    };
  }

  async authenticateToken(bearer: string): Promise<Principal | null> {
    const match = TOKEN_PATTERN.exec(bearer);
    if (!match) return null;
    const [, id, secret] = match as unknown as [string, string, string];
    const { store, clock } = this.options;
    const token = await store.findToken(id);
    if (!token || token.revokedAt) return null;
    const presented = Buffer.from(sha256(secret));
    const stored = Buffer.from(token.secretHash);
    if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) return null;
    const now = clock.now();
    if (token.expiresAt && now >= Date.parse(token.expiresAt)) return null;
    const user = await store.findUser(token.userId);
    if (!user || user.disabled) return null;
    if (!token.lastUsedAt || now - Date.parse(token.lastUsedAt) >= TOUCH_EVERY_MS)
      await this.touch(() => store.touchToken(id, now));
    // A token never holds more than its owner holds today.
    const roles = token.roles.filter((role) => user.roles.includes(role));
    return { via: 'token', tokenId: id, ...this.identity(user, roles) };
  }

  // Users

  async listUsers(page: { limit: number; offset: number }) {
    const result = await this.options.store.listUsers(page);
    return { ...result, items: result.items.map(publicUser) };
  }

  async getUser(id: string): Promise<User> {
    return publicUser(await this.options.store.getUser(id));
  }

  async createUser(input: UserCreate): Promise<User> {
    const passwordHash = await hashPassword(input.password, this.params);
    const user = publicUser(
      await this.options.store.insertUser({
        id: `u-${randomBytes(5).toString('hex')}`,
        username: input.username,
        displayName: input.displayName,
        passwordHash,
        roles: [...new Set(input.roles)],
        scope: scopeOf(input, { communeIds: [], provinceId: null }),
        now: this.options.clock.now(),
      }),
    );
    this.changed(user.id, 'created', false);
    return user;
  }

  /** Updates a user; disabling or changing roles signs them out everywhere. */
  async updateUser(id: string, patch: UserPatch, actor: Principal): Promise<{ before: User; after: User }> {
    const { store, clock } = this.options;
    const current = await store.getUser(id);
    if (id === actor.userId && (patch.disabled === true || (patch.roles && !patch.roles.includes('admin')))) {
      throw new InvalidRequestError('you cannot disable yourself or remove your own admin role');
    }
    const after = await store.updateUser(
      id,
      {
        displayName: patch.displayName ?? current.displayName,
        roles: patch.roles ? [...new Set(patch.roles)] : current.roles,
        scope: scopeOf(patch, current),
        disabled: patch.disabled ?? current.disabled,
      },
      clock.now(),
    );
    if (after.disabled || patch.roles) await store.deleteSessionsOf(id);
    // Re-enabling an account must not bring its old machine credentials back with it.
    if (after.disabled && !current.disabled) await store.revokeTokensOf(id, clock.now());
    const rescoped =
      patch.communeId !== undefined || patch.communeIds !== undefined || patch.provinceId !== undefined;
    this.changed(id, 'updated', after.disabled || patch.roles !== undefined || rescoped);
    return { before: publicUser(current), after: publicUser(after) };
  }

  /** An administrator sets a new password; the user is signed out everywhere. */
  /**
   * An administrator sets a new password; the user is signed out everywhere and their API tokens
   * are revoked (a token is a credential of the password that minted it). Returns how many.
   */
  async resetPassword(id: string, password: string): Promise<{ tokensRevoked: number }> {
    const { store, clock } = this.options;
    const user = await store.getUser(id);
    await store.setPassword(id, await hashPassword(password, this.params), clock.now());
    await store.deleteSessionsOf(id);
    const tokensRevoked = await store.revokeTokensOf(id, clock.now());
    this.lockout.recordSuccess(user.username.toLowerCase());
    this.changed(id, 'password', true);
    return { tokensRevoked };
  }

  /** A user changes their own password; their other sessions end and their API tokens are revoked. */
  async changePassword(
    principal: Principal,
    current: string,
    next: string,
  ): Promise<{ tokensRevoked: number }> {
    const { store, clock } = this.options;
    const user = await store.getUser(principal.userId);
    if (!(await verifyPassword(current, user.passwordHash)))
      throw new AuthenticationError('current password is wrong');
    await store.setPassword(user.id, await hashPassword(next, this.params), clock.now());
    await store.deleteSessionsOf(user.id, principal.sessionId ? sha256(principal.sessionId) : null);
    const tokensRevoked = await store.revokeTokensOf(user.id, clock.now());
    this.changed(user.id, 'password', true);
    return { tokensRevoked };
  }

  // API tokens

  async createToken(
    principal: Principal,
    input: { name: string; roles?: Role[] | undefined; expiresInDays?: number | undefined },
  ): Promise<{ token: string; record: ApiToken }> {
    // Only a person signed in mints a token: a token minting tokens would let a stolen or
    // short-lived one outlive its own revocation or expiry through its children.
    if (principal.via !== 'session') throw new ForbiddenError('sign in to create an API token');
    const owner = await this.options.store.getUser(principal.userId);
    const held = principal.roles;
    const roles = input.roles ? [...new Set(input.roles)] : held;
    const missing = roles.filter((role) => !held.includes(role));
    if (missing.length > 0) throw new ForbiddenError(`you do not hold the role(s) ${missing.join(', ')}`);
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const now = this.options.clock.now();
    const record = await this.options.store.insertToken({
      id,
      userId: owner.id,
      name: input.name,
      secretHash: sha256(secret),
      roles,
      now,
      expiresAt: input.expiresInDays ? now + input.expiresInDays * 86_400_000 : null,
    });
    return { token: `sct_${id}_${secret}`, record: publicToken(record) };
  }

  async listTokens(
    principal: Principal,
    userId: string | undefined,
    page: { limit: number; offset: number },
  ) {
    const isAdmin = principal.roles.includes('admin');
    const owner = isAdmin ? (userId ?? null) : principal.userId;
    if (!isAdmin && userId && userId !== principal.userId)
      throw new ForbiddenError("only an admin sees other users' tokens");
    const result = await this.options.store.listTokens(owner, page);
    return { ...result, items: result.items.map(publicToken) };
  }

  async revokeToken(principal: Principal, id: string): Promise<ApiToken> {
    const token = await this.options.store.findToken(id);
    if (!token || (token.userId !== principal.userId && !principal.roles.includes('admin'))) {
      throw new NotFoundError('token', id);
    }
    await this.options.store.revokeToken(id, this.options.clock.now());
    this.changed(token.userId, 'token-revoked', true);
    return publicToken(await this.options.store.getToken(id));
  }

  /** Removes sessions past their expiry; run periodically. */
  pruneSessions(): Promise<number> {
    return this.options.store.deleteExpiredSessions(this.options.clock.now(), this.options.sessionIdleMs);
  }

  private identity(user: UserWithHash, roles: Role[]) {
    return {
      userId: user.id,
      username: user.username,
      roles,
      communes: this.options.store.communesInScope(user),
      provinceId: user.provinceId,
    };
  }

  private async dummy(): Promise<string> {
    this.dummyHash ??= await hashPassword(randomBytes(16).toString('hex'), this.params);
    return this.dummyHash;
  }
}

/**
 * The scope a create or patch asks for, over the current one: `communeId` is the one-commune form
 * of `communeIds`; a province and communes together are refused, naming the field.
 */
function scopeOf(
  input: { communeId?: string | null; communeIds?: string[]; provinceId?: string | null },
  current: AccountScope,
): AccountScope {
  if (input.communeId !== undefined && input.communeIds !== undefined) {
    const message = 'give communeId or communeIds, not both';
    throw new InvalidRequestError(`body.communeIds: ${message}`, [{ field: 'body.communeIds', message }]);
  }
  const communeIds =
    input.communeIds ??
    (input.communeId === undefined ? current.communeIds : input.communeId ? [input.communeId] : []);
  const provinceId = input.provinceId === undefined ? current.provinceId : input.provinceId;
  // Naming one clears the other, unless both are named.
  const named = {
    communes: input.communeIds !== undefined || input.communeId !== undefined,
    province: input.provinceId !== undefined,
  };
  const scope = {
    communeIds: named.province && !named.communes && provinceId ? [] : communeIds,
    provinceId: named.communes && !named.province && communeIds.length > 0 ? null : provinceId,
  };
  if (scope.provinceId && scope.communeIds.length > 0) {
    const message = 'an account is limited to a province or to communes, not both';
    throw new InvalidRequestError(`body.provinceId: ${message}`, [{ field: 'body.provinceId', message }]);
  }
  return scope;
}
