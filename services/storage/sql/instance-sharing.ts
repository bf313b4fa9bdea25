import pg from 'pg';
import type { Logger } from 'pino';

/** Held shared by every instance on one PostgreSQL while it runs. */
const PRESENT = 'smart-commune instance present';
/** Held shared by every instance without REDIS_URL while it runs. */
const UNCOORDINATED = 'smart-commune instance without redis';

export interface InstanceSharingOptions {
  url: string;
  /** Whether this instance shares its singleton loops through REDIS_URL's leases. */
  coordinated: boolean;
  logger: Logger;
  /** How often it looks again, and makes a lost connection again (default a minute). */
  everyMs?: number;
}

/**
 * Several instances on one PostgreSQL share their singleton loops through REDIS_URL's leases;
 * without it each runs every loop, so each would send every broadcast. Each instance holds, on a
 * connection of its own, a shared advisory lock saying it is there and, without REDIS_URL, another
 * saying so. It looks whether it is alone (without REDIS_URL), or whether an instance without
 * REDIS_URL is there (with it), by trying to take the lock in question exclusively. Whenever that
 * fails it says so once in its log and on /healthz. The locks go with the connection, so a dead
 * instance lets go of them at once.
 */
export class InstanceSharingCheck {
  /** True while another instance shares the database and one of the two has no REDIS_URL. */
  uncoordinated = false;
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastAt = 0;
  private stopped = false;

  constructor(private readonly options: InstanceSharingOptions) {}

  start(): void {
    this.look();
  }

  /** Looks again now, unless it did within the last two seconds (a /healthz asks). */
  refresh(): void {
    if (performance.now() - this.lastAt >= 2_000) this.look();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Not waiting for a look under way: with PostgreSQL away its connecting takes up to 10 s, and
    // a connection it makes after this is ended at once (connect()).
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private look(): void {
    if (this.stopped || this.running) return;
    this.lastAt = performance.now();
    this.running = this.check()
      .catch(async (err: unknown) => {
        this.options.logger.debug({ err }, 'could not check which instances share the database');
        const client = this.client;
        this.client = null;
        await client?.end().catch(() => undefined);
      })
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this.look(), this.options.everyMs ?? 60_000);
        this.timer.unref();
      });
  }

  private async check(): Promise<void> {
    const client = this.client ?? (await this.connect());
    // Alone, or with instances that all have REDIS_URL too: the lock in question is ours to take.
    const probe = this.options.coordinated ? UNCOORDINATED : PRESENT;
    const { rows } = await client.query<{ alone: boolean }>(
      'SELECT pg_try_advisory_lock(hashtext($1)) AS alone',
      [probe],
    );
    const alone = rows[0]?.alone === true;
    if (alone) await client.query('SELECT pg_advisory_unlock(hashtext($1))', [probe]);
    this.report(!alone);
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.options.url, connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    client.on('end', () => {
      if (this.client === client) this.client = null;
    });
    await client.connect();
    await client.query('SELECT pg_advisory_lock_shared(hashtext($1))', [PRESENT]);
    if (!this.options.coordinated)
      await client.query('SELECT pg_advisory_lock_shared(hashtext($1))', [UNCOORDINATED]);
    if (this.stopped) {
      await client.end();
      throw new Error('stopped while connecting');
    }
    this.client = client;
    return client;
  }

  private report(uncoordinated: boolean): void {
    if (uncoordinated === this.uncoordinated) return;
    this.uncoordinated = uncoordinated;
    if (uncoordinated)
      this.options.logger.error(
        'another platform instance uses this PostgreSQL, and one of them has no REDIS_URL: each runs every singleton loop and would send every broadcast; give every instance the same REDIS_URL (docs/scale-out.md)',
      );
    else this.options.logger.info('no instance without REDIS_URL shares the database any more');
  }
}
