import type { ApiToken, Role, User } from '../../contracts/accounts.js';
import { NotFoundError } from '../errors.js';
import { translateConstraint } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import { isoTimeOrNull } from '../time.js';

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string;
  roles: string;
  commune_ids: string;
  province_id: string | null;
  disabled: number;
  created_at: number;
  updated_at: number;
  password_changed_at: number;
  last_login_at: number | null;
}

interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  roles: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface UserWithHash extends User {
  passwordHash: string;
}

export interface StoredToken extends ApiToken {
  secretHash: string;
}

/** Users with the communes they are limited to, as a JSON array. */
const USER_SELECT = `SELECT u.*, (SELECT json_group_array(commune_id) FROM
  (SELECT commune_id FROM user_communes WHERE user_id = u.id ORDER BY commune_id)) AS commune_ids FROM users u`;

const communeIdsOf = (row: UserRow): string[] => JSON.parse(row.commune_ids) as string[];

/** Where an account may act; see UserCreateSchema. */
export interface AccountScope {
  communeIds: string[];
  provinceId: string | null;
}

function toUser(row: UserRow): UserWithHash {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    roles: JSON.parse(row.roles) as Role[],
    communeId: communeIdsOf(row).length === 1 ? (communeIdsOf(row)[0] as string) : null,
    communeIds: communeIdsOf(row),
    provinceId: row.province_id,
    disabled: row.disabled === 1,
    createdAt: isoTimeOrNull(row.created_at) as string,
    updatedAt: isoTimeOrNull(row.updated_at) as string,
    lastLoginAt: isoTimeOrNull(row.last_login_at),
    passwordHash: row.password_hash,
  };
}

function toToken(row: TokenRow): StoredToken {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    roles: JSON.parse(row.roles) as Role[],
    createdAt: isoTimeOrNull(row.created_at) as string,
    expiresAt: isoTimeOrNull(row.expires_at),
    lastUsedAt: isoTimeOrNull(row.last_used_at),
    revokedAt: isoTimeOrNull(row.revoked_at),
    secretHash: row.secret_hash,
  };
}

export function publicUser({ passwordHash: _, ...user }: UserWithHash): User {
  return user;
}

export function publicToken({ secretHash: _, ...token }: StoredToken): ApiToken {
  return token;
}

/** Users, sessions and API tokens in SQLite. Secrets arrive here already hashed. */
export class AccountStore {
  constructor(private readonly db: Db) {}

  countUsers(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  listUsers(page: { limit: number; offset: number }): { items: UserWithHash[]; total: number } {
    const rows = this.db
      .prepare(`${USER_SELECT} ORDER BY u.username LIMIT ? OFFSET ?`)
      .all(page.limit, page.offset) as UserRow[];
    return { items: rows.map(toUser), total: this.countUsers() };
  }

  findUser(id: string): UserWithHash | null {
    const row = this.db.prepare(`${USER_SELECT} WHERE u.id = ?`).get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  getUser(id: string): UserWithHash {
    const user = this.findUser(id);
    if (!user) throw new NotFoundError('user', id);
    return user;
  }

  findByUsername(username: string): UserWithHash | null {
    const row = this.db.prepare(`${USER_SELECT} WHERE u.username = ?`).get(username) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  insertUser(user: {
    id: string;
    username: string;
    displayName: string;
    passwordHash: string;
    roles: Role[];
    scope: AccountScope;
    now: number;
  }): UserWithHash {
    translateConstraint(
      {
        duplicate: `username "${user.username}" is taken`,
        reference: () => this.missingScope(user.scope),
      },
      () =>
        this.db.transaction(() => {
          this.db
            .prepare(
              `INSERT INTO users (id, username, display_name, password_hash, roles, province_id, created_at,
                 updated_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              user.id,
              user.username,
              user.displayName,
              user.passwordHash,
              JSON.stringify(user.roles),
              user.scope.provinceId,
              user.now,
              user.now,
              user.now,
            );
          this.writeCommunes(user.id, user.scope.communeIds);
        })(),
    );
    return this.getUser(user.id);
  }

  /**
   * The communes an account may act in now: its province's (as they stand), its list, or null for
   * every commune.
   */
  communesInScope(user: Pick<User, 'communeIds' | 'provinceId'>): string[] | null {
    if (user.provinceId) {
      return (
        this.db.prepare('SELECT id FROM communes WHERE province_id = ? ORDER BY id').all(user.provinceId) as {
          id: string;
        }[]
      ).map((r) => r.id);
    }
    return user.communeIds.length > 0 ? user.communeIds : null;
  }

  private writeCommunes(userId: string, communeIds: readonly string[]): void {
    this.db.prepare('DELETE FROM user_communes WHERE user_id = ?').run(userId);
    const add = this.db.prepare('INSERT INTO user_communes (user_id, commune_id) VALUES (?, ?)');
    for (const communeId of new Set(communeIds)) add.run(userId, communeId);
    // The single-commune column older versions read.
    this.db
      .prepare('UPDATE users SET commune_id = ? WHERE id = ?')
      .run(communeIds.length === 1 ? communeIds[0] : null, userId);
  }

  /** The commune or province of a scope that does not exist, for a refused write. */
  private missingScope(scope: AccountScope): NotFoundError {
    if (scope.provinceId && !this.db.prepare('SELECT 1 FROM provinces WHERE id = ?').get(scope.provinceId))
      return new NotFoundError('province', scope.provinceId);
    const known = new Set(
      (this.db.prepare('SELECT id FROM communes').all() as { id: string }[]).map((r) => r.id),
    );
    const missing = scope.communeIds.find((id) => !known.has(id)) ?? '';
    return new NotFoundError('commune', missing);
  }

  updateUser(
    id: string,
    fields: { displayName: string; roles: Role[]; scope: AccountScope; disabled: boolean },
    now: number,
  ): UserWithHash {
    translateConstraint({ reference: () => this.missingScope(fields.scope) }, () =>
      this.db.transaction(() => {
        this.db
          .prepare(
            'UPDATE users SET display_name = ?, roles = ?, province_id = ?, disabled = ?, updated_at = ? WHERE id = ?',
          )
          .run(
            fields.displayName,
            JSON.stringify(fields.roles),
            fields.scope.provinceId,
            fields.disabled ? 1 : 0,
            now,
            id,
          );
        this.writeCommunes(id, fields.scope.communeIds);
      })(),
    );
    return this.getUser(id);
  }

  setPassword(id: string, passwordHash: string, now: number): void {
    this.db
      .prepare('UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?')
      .run(passwordHash, now, now, id);
  }

  recordLogin(id: string, now: number): void {
    this.db.prepare('UPDATE users SET last_login_at = ? WHERE id = ?').run(now, id);
  }

  // Sessions

  insertSession(s: {
    idHash: string;
    userId: string;
    now: number;
    expiresAt: number;
    address: string | null;
    userAgent: string | null;
  }): void {
    this.db
      .prepare(
        `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, address, user_agent)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(s.idHash, s.userId, s.now, s.now, s.expiresAt, s.address, s.userAgent?.slice(0, 200) ?? null);
  }

  findSession(
    idHash: string,
  ): { userId: string; createdAt: number; lastSeenAt: number; expiresAt: number } | null {
    const row = this.db.prepare('SELECT * FROM sessions WHERE id_hash = ?').get(idHash) as
      | { user_id: string; created_at: number; last_seen_at: number; expires_at: number }
      | undefined;
    return row
      ? {
          userId: row.user_id,
          createdAt: row.created_at,
          lastSeenAt: row.last_seen_at,
          expiresAt: row.expires_at,
        }
      : null;
  }

  touchSession(idHash: string, now: number): void {
    this.db.prepare('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?').run(now, idHash);
  }

  deleteSession(idHash: string): void {
    this.db.prepare('DELETE FROM sessions WHERE id_hash = ?').run(idHash);
  }

  deleteSessionsOf(userId: string, exceptIdHash: string | null = null): number {
    return this.db
      .prepare('DELETE FROM sessions WHERE user_id = ? AND id_hash IS NOT ?')
      .run(userId, exceptIdHash).changes;
  }

  deleteExpiredSessions(now: number, idleMs: number): number {
    return this.db
      .prepare('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?')
      .run(now, now - idleMs).changes;
  }

  // API tokens

  insertToken(t: {
    id: string;
    userId: string;
    name: string;
    secretHash: string;
    roles: Role[];
    now: number;
    expiresAt: number | null;
  }): StoredToken {
    this.db
      .prepare(
        `INSERT INTO api_tokens (id, user_id, name, secret_hash, roles, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(t.id, t.userId, t.name, t.secretHash, JSON.stringify(t.roles), t.now, t.expiresAt);
    return this.getToken(t.id);
  }

  findToken(id: string): StoredToken | null {
    const row = this.db.prepare('SELECT * FROM api_tokens WHERE id = ?').get(id) as TokenRow | undefined;
    return row ? toToken(row) : null;
  }

  getToken(id: string): StoredToken {
    const token = this.findToken(id);
    if (!token) throw new NotFoundError('token', id);
    return token;
  }

  listTokens(
    userId: string | null,
    page: { limit: number; offset: number },
  ): { items: StoredToken[]; total: number } {
    const where = userId === null ? '' : 'WHERE user_id = @userId';
    const params = { userId, ...page };
    const rows = this.db
      .prepare(`SELECT * FROM api_tokens ${where} ORDER BY created_at DESC, id LIMIT @limit OFFSET @offset`)
      .all(params) as TokenRow[];
    const { n } = this.db.prepare(`SELECT COUNT(*) AS n FROM api_tokens ${where}`).get(params) as {
      n: number;
    };
    return { items: rows.map(toToken), total: n };
  }

  touchToken(id: string, now: number): void {
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(now, id);
  }

  revokeTokensOf(userId: string, now: number): number {
    return this.db
      .prepare('UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL')
      .run(now, userId).changes;
  }

  revokeToken(id: string, now: number): void {
    this.db.prepare('UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?').run(now, id);
  }
}
