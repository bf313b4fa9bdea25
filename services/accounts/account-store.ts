import type { Selectable } from 'kysely';
import type { ApiToken, Role, User } from '../../contracts/accounts.js';
import { NotFoundError } from '../errors.js';
import { translateConstraintAsync } from '../storage/constraints.js';
import type { Db } from '../storage/database.js';
import type { ApiTokensTable, UsersTable } from '../storage/sql/schema.js';
import type { StateDatabase, StateTransaction } from '../storage/sql/state-database.js';
import { isoTimeOrNull } from '../time.js';

type UserRow = Selectable<UsersTable>;
type TokenRow = Selectable<ApiTokensTable>;

export interface UserWithHash extends User {
  passwordHash: string;
}

export interface StoredToken extends ApiToken {
  secretHash: string;
}

/** Where an account may act; see UserCreateSchema. */
export interface AccountScope {
  communeIds: string[];
  provinceId: string | null;
}

/**
 * Provinces and communes as this instance's SQLite file holds them (with DATABASE_URL, its copy of
 * the registry, while accounts are read and written in PostgreSQL): a scope is checked here before
 * it is written instead of by a foreign key.
 */
export interface PlaceDirectory {
  /** The communes of a province, as they stand now. */
  communesOfProvince(provinceId: string): string[];
  /** The first province or commune of a scope the registry does not know, or null. */
  missingFrom(scope: AccountScope): NotFoundError | null;
}

/** The registry's provinces and communes in the SQLite database. */
export function registryPlaces(db: Db): PlaceDirectory {
  return {
    communesOfProvince: (provinceId) =>
      (
        db.prepare('SELECT id FROM communes WHERE province_id = ? ORDER BY id').all(provinceId) as {
          id: string;
        }[]
      ).map((r) => r.id),
    missingFrom(scope) {
      if (scope.provinceId && !db.prepare('SELECT 1 FROM provinces WHERE id = ?').get(scope.provinceId))
        return new NotFoundError('province', scope.provinceId);
      const known = db.prepare('SELECT 1 FROM communes WHERE id = ?');
      const missing = scope.communeIds.find((id) => !known.get(id));
      return missing === undefined ? null : new NotFoundError('commune', missing);
    },
  };
}

function toUser(row: UserRow, communeIds: string[]): UserWithHash {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    roles: JSON.parse(row.roles) as Role[],
    communeId: communeIds.length === 1 ? (communeIds[0] as string) : null,
    communeIds,
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

/** Rows changed by an update or delete, as a number on either engine. */
const changed = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }) =>
  Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n);

/**
 * Users, sessions and API tokens, through the query layer (SQLite or PostgreSQL). Secrets arrive
 * here already hashed.
 */
export class AccountStore {
  private readonly db;

  constructor(
    private readonly state: StateDatabase,
    private readonly places: PlaceDirectory,
  ) {
    this.db = state.db;
  }

  async countUsers(): Promise<number> {
    const { n } = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Users with the communes each is limited to, in one query for the page. */
  private async withCommunes(rows: UserRow[]): Promise<UserWithHash[]> {
    if (rows.length === 0) return [];
    const links = await this.db
      .selectFrom('user_communes')
      .select(['user_id', 'commune_id'])
      .where(
        'user_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('commune_id')
      .execute();
    const byUser = new Map<string, string[]>();
    for (const link of links)
      byUser.set(link.user_id, [...(byUser.get(link.user_id) ?? []), link.commune_id]);
    return rows.map((row) => toUser(row, byUser.get(row.id) ?? []));
  }

  async listUsers(page: {
    limit: number;
    offset: number;
  }): Promise<{ items: UserWithHash[]; total: number }> {
    // Case-folded like SQLite's NOCASE column, so both engines list "an" before "Binh".
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .orderBy((eb) => eb.fn('lower', ['username']))
      .orderBy('username')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return { items: await this.withCommunes(rows), total: await this.countUsers() };
  }

  async findUser(id: string): Promise<UserWithHash | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? ((await this.withCommunes([row]))[0] ?? null) : null;
  }

  async getUser(id: string): Promise<UserWithHash> {
    const user = await this.findUser(id);
    if (!user) throw new NotFoundError('user', id);
    return user;
  }

  /** Usernames match whatever their case (ASCII, which is all UsernameSchema allows). */
  async findByUsername(username: string): Promise<UserWithHash | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where((eb) => eb(eb.fn('lower', ['username']), '=', username.toLowerCase()))
      .executeTakeFirst();
    return row ? ((await this.withCommunes([row]))[0] ?? null) : null;
  }

  async insertUser(user: {
    id: string;
    username: string;
    displayName: string;
    passwordHash: string;
    roles: Role[];
    scope: AccountScope;
    now: number;
  }): Promise<UserWithHash> {
    this.checkScope(user.scope);
    await translateConstraintAsync(
      {
        duplicate: `username "${user.username}" is taken`,
        reference: () => this.places.missingFrom(user.scope) ?? new NotFoundError('commune', ''),
      },
      () =>
        this.state.transaction(async (trx) => {
          await trx
            .insertInto('users')
            .values({
              id: user.id,
              username: user.username,
              display_name: user.displayName,
              password_hash: user.passwordHash,
              roles: JSON.stringify(user.roles),
              commune_id: null,
              province_id: user.scope.provinceId,
              disabled: 0,
              created_at: user.now,
              updated_at: user.now,
              password_changed_at: user.now,
              last_login_at: null,
            })
            .execute();
          await writeCommunes(trx, user.id, user.scope.communeIds);
        }),
    );
    return this.getUser(user.id);
  }

  /**
   * The communes an account may act in now: its province's (as they stand), its list, or null for
   * every commune.
   */
  communesInScope(user: Pick<User, 'communeIds' | 'provinceId'>): string[] | null {
    if (user.provinceId) return this.places.communesOfProvince(user.provinceId);
    return user.communeIds.length > 0 ? user.communeIds : null;
  }

  /** Refuses a scope naming a province or commune the registry does not know. */
  private checkScope(scope: AccountScope): void {
    const missing = this.places.missingFrom(scope);
    if (missing) throw missing;
  }

  async updateUser(
    id: string,
    fields: { displayName: string; roles: Role[]; scope: AccountScope; disabled: boolean },
    now: number,
  ): Promise<UserWithHash> {
    this.checkScope(fields.scope);
    await translateConstraintAsync(
      { reference: () => this.places.missingFrom(fields.scope) ?? new NotFoundError('commune', '') },
      () =>
        this.state.transaction(async (trx) => {
          await trx
            .updateTable('users')
            .set({
              display_name: fields.displayName,
              roles: JSON.stringify(fields.roles),
              province_id: fields.scope.provinceId,
              disabled: fields.disabled ? 1 : 0,
              updated_at: now,
            })
            .where('id', '=', id)
            .execute();
          await writeCommunes(trx, id, fields.scope.communeIds);
        }),
    );
    return this.getUser(id);
  }

  async setPassword(id: string, passwordHash: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash, password_changed_at: now, updated_at: now })
      .where('id', '=', id)
      .execute();
  }

  async recordLogin(id: string, now: number): Promise<void> {
    await this.db.updateTable('users').set({ last_login_at: now }).where('id', '=', id).execute();
  }

  // Sessions

  async insertSession(s: {
    idHash: string;
    userId: string;
    now: number;
    expiresAt: number;
    address: string | null;
    userAgent: string | null;
  }): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: s.idHash,
        user_id: s.userId,
        created_at: s.now,
        last_seen_at: s.now,
        expires_at: s.expiresAt,
        address: s.address,
        user_agent: s.userAgent?.slice(0, 200) ?? null,
      })
      .execute();
  }

  async findSession(
    idHash: string,
  ): Promise<{ userId: string; createdAt: number; lastSeenAt: number; expiresAt: number } | null> {
    const row = await this.db
      .selectFrom('sessions')
      .select(['user_id', 'created_at', 'last_seen_at', 'expires_at'])
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    return row
      ? {
          userId: row.user_id,
          createdAt: row.created_at,
          lastSeenAt: row.last_seen_at,
          expiresAt: row.expires_at,
        }
      : null;
  }

  async touchSession(idHash: string, now: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  async deleteSessionsOf(userId: string, exceptIdHash: string | null = null): Promise<number> {
    let query = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (exceptIdHash !== null) query = query.where('id_hash', '!=', exceptIdHash);
    return changed(await query.executeTakeFirst());
  }

  async deleteExpiredSessions(now: number, idleMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleMs)]))
      .executeTakeFirst();
    return changed(result);
  }

  // API tokens

  async insertToken(t: {
    id: string;
    userId: string;
    name: string;
    secretHash: string;
    roles: Role[];
    now: number;
    expiresAt: number | null;
  }): Promise<StoredToken> {
    await this.db
      .insertInto('api_tokens')
      .values({
        id: t.id,
        user_id: t.userId,
        name: t.name,
        secret_hash: t.secretHash,
        roles: JSON.stringify(t.roles),
        created_at: t.now,
        expires_at: t.expiresAt,
        last_used_at: null,
        revoked_at: null,
      })
      .execute();
    return this.getToken(t.id);
  }

  async findToken(id: string): Promise<StoredToken | null> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toToken(row) : null;
  }

  async getToken(id: string): Promise<StoredToken> {
    const token = await this.findToken(id);
    if (!token) throw new NotFoundError('token', id);
    return token;
  }

  async listTokens(
    userId: string | null,
    page: { limit: number; offset: number },
  ): Promise<{ items: StoredToken[]; total: number }> {
    let rows = this.db.selectFrom('api_tokens');
    if (userId !== null) rows = rows.where('user_id', '=', userId);
    const items = await rows
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    const { n } = await rows.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return { items: items.map(toToken), total: Number(n) };
  }

  async touchToken(id: string, now: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  async revokeTokensOf(userId: string, now: number): Promise<number> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return changed(result);
  }

  async revokeToken(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  }
}

async function writeCommunes(
  trx: StateTransaction,
  userId: string,
  communeIds: readonly string[],
): Promise<void> {
  await trx.deleteFrom('user_communes').where('user_id', '=', userId).execute();
  const unique = [...new Set(communeIds)];
  if (unique.length > 0) {
    await trx
      .insertInto('user_communes')
      .values(unique.map((communeId) => ({ user_id: userId, commune_id: communeId })))
      .execute();
  }
  // The single-commune column older versions read.
  await trx
    .updateTable('users')
    .set({ commune_id: unique.length === 1 ? (unique[0] as string) : null })
    .where('id', '=', userId)
    .execute();
}
