import type { Logger } from 'pino';
import type { DynsecControl, DynsecResponse } from '../../broker/dynsec/dynsec-control.js';
import {
  DEVICE_ROLE_PREFIX,
  type DesiredDevice,
  type DynsecClient,
  type DynsecCommand,
  type DynsecRole,
  deviceRole,
  isManaged,
  PLATFORM_ROLE,
  planDevice,
  planPlatform,
  planReconcile,
  planRemoval,
  stampedIssuedAt,
} from '../../broker/dynsec/dynsec-plan.js';
import type { Clock, TimerHandle } from '../../devices/index.js';

/** A registered device as far as the broker's accounts are concerned. */
export interface DeviceAccount {
  id: string;
  name: string;
  /** When its current secret was issued (epoch ms); null when it has none. */
  issuedAt: number | null;
}

export interface DeviceAccounts {
  list(): DeviceAccount[];
  find(id: string): DeviceAccount | null;
}

export interface DynsecSyncOptions {
  control: DynsecControl;
  devices: DeviceAccounts;
  platformUser: string;
  clock: Clock;
  logger: Logger;
  /** First retry delay after a failure; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /**
   * With several instances: whether this one starts as the keeper of every account (the holder
   * of the `dynsec` lease; see keep()). Default true: a single instance keeps them all.
   */
  keeping?: boolean;
  /**
   * With several instances: how long an account whose password is newer than this instance's
   * copy of the registry may stay so before it is disabled (the copy catches up within
   * milliseconds), and after how long a disabled account is looked at again. Default 0: stale
   * accounts are disabled at once and not looked at again, as a single instance does.
   */
  staleGraceMs?: number;
}

const MAX_LOGGED_IDS = 10;

/**
 * Keeps Mosquitto's dynamic security plugin in step with the registry: a full reconcile on every
 * (re)connection, then each changed device on its own. A secret issued here is handed to the
 * plugin in plaintext (its password hashes are PBKDF2-SHA512, the registry's are salted SHA-256, so
 * neither can be derived from the other); it is held only in memory until the plugin acknowledges
 * it, never written or logged. Failures are retried with exponential backoff.
 */
export class DynsecSync {
  private readonly pending = new Map<string, { secret: string; issuedAt: number }>();
  private readonly dirty = new Set<string>();
  private reconcileWanted = true;
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: TimerHandle | null = null;
  private failures = 0;
  private stopped = false;
  private keeping: boolean;
  /** When each account was first seen stale (epoch ms), while the grace runs. */
  private readonly staleSince = new Map<string, number>();
  /** Looks again at accounts whose grace runs out, or that were just disabled. */
  private readonly rechecks = new Map<string, TimerHandle>();
  /** When the plugin last matched the registry in full (epoch ms), for health. */
  lastReconciledAt: number | null = null;
  /** When the platform's own account and role were last found in place (epoch ms). */
  platformReadyAt: number | null = null;
  lastError: string | null = null;

  constructor(private readonly options: DynsecSyncOptions) {
    this.keeping = options.keeping ?? true;
  }

  /**
   * Whether this instance keeps every account in step (it holds the `dynsec` lease). The others
   * only hand over the secrets issued through them, which exist nowhere else in plaintext, and
   * check the platform's own account; the keeper follows every registry change and reconciles.
   */
  get keeper(): boolean {
    return this.keeping;
  }

  /** In step as far as this instance's part goes: every account when keeping, else its own. */
  get ready(): boolean {
    return this.keeping ? this.lastReconciledAt !== null : this.platformReadyAt !== null;
  }

  keep(keeping: boolean): void {
    if (keeping === this.keeping) return;
    this.keeping = keeping;
    if (keeping) this.connected();
  }

  /** The broker connection is (again) up: everything may have changed meanwhile. */
  connected(): void {
    this.reconcileWanted = true;
    this.kick();
  }

  /** A device was created, changed or deleted in the registry. */
  deviceChanged(id: string): void {
    this.dirty.add(id);
    this.kick();
  }

  /** A secret was issued: the plugin must take it, and the earlier one must stop working. */
  secretIssued(id: string, secret: string, issuedAt: number): void {
    this.pending.set(id, { secret, issuedAt });
    this.deviceChanged(id);
  }

  get failingAttempts(): number {
    return this.failures;
  }

  /** Secrets issued and not yet acknowledged by the plugin (the secrets themselves stay inside). */
  get pendingSecrets(): number {
    return this.pending.size;
  }

  /** Resolves once nothing is waiting to be sent (or the last attempt failed and a retry is due). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    for (const timer of this.rechecks.values()) this.options.clock.clearTimeout(timer);
    this.rechecks.clear();
    await this.settled();
    this.pending.clear();
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.retryTimer) return; // a retry is already due; it takes everything marked meanwhile
    this.running = this.runAll().finally(() => {
      this.running = null;
      if (this.again && !this.stopped && !this.retryTimer) {
        this.again = false;
        this.kick();
      }
    });
  }

  private async runAll(): Promise<void> {
    this.again = false;
    const { control, logger } = this.options;
    if (!control.connected) return; // the next connection reconciles
    const reconciling = this.reconcileWanted;
    try {
      if (reconciling && this.keeping) {
        this.reconcileWanted = false;
        this.dirty.clear();
        await this.reconcile();
      } else {
        if (reconciling) {
          this.reconcileWanted = false;
          if ((await this.ensurePlatform()) === 'dropped') return;
        }
        // Not the keeper: only the secrets issued here, which no other instance can hand over.
        const ids = this.keeping ? [...this.dirty] : [...this.pending.keys()];
        this.dirty.clear();
        try {
          for (const id of ids) await this.syncDevice(id);
        } catch (error) {
          for (const id of ids) this.dirty.add(id);
          throw error;
        }
      }
      this.failures = 0;
      this.lastError = null;
    } catch (error) {
      this.failures += 1;
      this.lastError = (error as Error).message;
      const delay = Math.min(
        this.options.maxRetryMs ?? 60_000,
        (this.options.retryMs ?? 1_000) * 2 ** Math.min(this.failures - 1, 16),
      );
      // One line per failed attempt, whatever the number of devices waiting.
      logger.warn(
        {
          err: { message: this.lastError },
          retryInMs: delay,
          waiting: this.dirty.size,
          failures: this.failures,
        },
        'could not update the broker accounts; retrying',
      );
      this.retryTimer = this.options.clock.setTimeout(() => {
        this.retryTimer = null;
        this.kick();
      }, delay);
      // A failed reconcile is tried again in full.
      if (reconciling) this.reconcileWanted = true;
    }
  }

  private desired(device: DeviceAccount): DesiredDevice {
    return { ...device, pendingSecret: this.pending.get(device.id) };
  }

  /** What the plugin holds for one account and one role (null where it has none). */
  private async current(
    username: string,
    rolename: string,
  ): Promise<{ client: DynsecClient | null; role: DynsecRole | null }> {
    const [clientAnswer, roleAnswer] = await this.options.control.send([
      { command: 'getClient', username },
      { command: 'getRole', rolename },
    ]);
    return {
      client: clientAnswer?.error
        ? null
        : ((clientAnswer?.data as { client?: DynsecClient } | undefined)?.client ?? null),
      role: roleAnswer?.error
        ? null
        : ((roleAnswer?.data as { role?: DynsecRole } | undefined)?.role ?? null),
    };
  }

  /**
   * Gives the platform's account its role when it lacks it: 'ready' when it had it, 'given' when
   * it has it now. Giving it makes the plugin drop that account's connections, this one included:
   * 'dropped' then, and the reconnection starts again.
   */
  private async ensurePlatform(listed?: {
    clients: DynsecClient[];
    roles: DynsecRole[];
  }): Promise<'ready' | 'given' | 'dropped'> {
    const { control, platformUser, logger, clock } = this.options;
    const current = listed
      ? {
          client: listed.clients.find((c) => c.username === platformUser) ?? null,
          role: listed.roles.find((r) => r.rolename === PLATFORM_ROLE) ?? null,
        }
      : await this.current(platformUser, PLATFORM_ROLE);
    const platform = planPlatform(platformUser, current);
    if (platform.length === 0) {
      this.platformReadyAt = clock.now();
      return 'ready';
    }
    logger.info('giving the platform its broker role; its connections start again');
    let dropped = false;
    await control.send(platform).catch((error: Error) => {
      if (control.connected) throw error;
      dropped = true;
    });
    if (dropped) {
      this.reconcileWanted = true;
      return 'dropped';
    }
    return (await this.ensurePlatform()) === 'dropped' ? 'dropped' : 'given';
  }

  private async reconcile(): Promise<void> {
    const { control, devices, platformUser, logger, clock } = this.options;
    const [clients, roles] = [await control.listClients(), await control.listRoles()];
    const platform = await this.ensurePlatform({ clients, roles });
    if (platform === 'dropped') return;
    // The platform's role was just given: the lists are from before it.
    if (platform === 'given') return this.reconcile();
    const registered = devices.list();
    const planned = planReconcile({
      platformUser,
      devices: registered.map((d) => this.desired(d)),
      clients,
      roles,
    });
    const { conflicts } = planned;
    const byName = new Map(clients.map((c) => [c.username, c]));
    const commands = this.holdOrphans(
      this.holdStale(
        planned.commands,
        registered.map((d) => d.id),
        (id) => byName.get(id) ?? null,
      ),
    );
    if (conflicts.length > 0)
      logger.warn(
        { count: conflicts.length, devices: conflicts.slice(0, MAX_LOGGED_IDS) },
        'broker accounts with a device id that the platform did not create are left alone',
      );
    await this.apply(commands);
    this.lastReconciledAt = clock.now();
    const counts: Record<string, number> = {};
    for (const c of commands) counts[c.command] = (counts[c.command] ?? 0) + 1;
    logger.info(
      { changes: counts, devices: registered.length },
      'broker accounts reconciled with the registry',
    );
  }

  private async syncDevice(id: string): Promise<void> {
    const { devices, logger } = this.options;
    const { client, role } = await this.current(id, deviceRole(id));
    if (client && !isManaged(client)) {
      logger.warn(
        { deviceId: id },
        'a broker account with this device id was not created by the platform; left alone',
      );
      return;
    }
    const device = devices.find(id);
    if (!device) {
      this.pending.delete(id);
      // Not the keeper: the keeper removes it when its copy of the registry says so.
      if (!this.keeping) return;
      await this.apply(planRemoval(id, { client: client !== null, role: role !== null }));
      return;
    }
    await this.apply(this.holdStale(planDevice(this.desired(device), { client, role }), [id], () => client));
  }

  /**
   * With several instances (staleGraceMs). An account whose password is newer than this
   * instance's copy of the registry says (the copy has not caught up with a secret issued on
   * another instance) is disabled only if it still looks so once the grace has run out. An older
   * one (a secret replaced, not yet handed over) is disabled at once, and looked at again after
   * the grace, in case the issuing instance handed the new one over just before the disable.
   */
  private holdStale(
    commands: DynsecCommand[],
    examined: string[],
    clientOf: (id: string) => DynsecClient | null,
  ): DynsecCommand[] {
    const grace = this.options.staleGraceMs ?? 0;
    if (grace <= 0) return commands;
    const now = this.options.clock.now();
    const disabling = new Set(
      commands.filter((c) => c.command === 'disableClient').map((c) => String(c.username)),
    );
    for (const id of examined) if (!disabling.has(id)) this.staleSince.delete(id);
    return commands.filter((command) => {
      if (command.command !== 'disableClient') return true;
      const id = String(command.username);
      const client = clientOf(id);
      const held = client ? stampedIssuedAt(client) : null;
      const registered = this.options.devices.find(id)?.issuedAt ?? null;
      const ahead = held !== null && (registered === null || held > registered);
      const since = ahead ? (this.staleSince.get(id) ?? now) : now - grace;
      if (now - since >= grace) {
        this.staleSince.delete(id);
        this.recheck(id, grace);
        return true;
      }
      this.staleSince.set(id, since);
      this.recheck(id, since + grace - now);
      return false;
    });
  }

  /**
   * With several instances: the accounts a full reconcile finds for clusters this instance's copy
   * does not have are removed only after the grace, by looking at each again, as another instance
   * may have just registered the cluster and handed its secret over. A cluster deleted is removed
   * at once when the copy tells of the deletion (syncDevice).
   */
  private holdOrphans(commands: DynsecCommand[]): DynsecCommand[] {
    const grace = this.options.staleGraceMs ?? 0;
    if (grace <= 0) return commands;
    return commands.filter((command) => {
      const id =
        command.command === 'deleteClient'
          ? String(command.username)
          : command.command === 'deleteRole'
            ? String(command.rolename).slice(DEVICE_ROLE_PREFIX.length)
            : null;
      if (id === null) return true;
      this.recheck(id, grace);
      return false;
    });
  }

  private recheck(id: string, afterMs: number): void {
    const { clock } = this.options;
    const earlier = this.rechecks.get(id);
    if (earlier) clock.clearTimeout(earlier);
    this.rechecks.set(
      id,
      clock.setTimeout(() => {
        this.rechecks.delete(id);
        if (this.keeping) this.deviceChanged(id);
      }, afterMs),
    );
  }

  /** Sends commands; a refused one fails the attempt (after what was accepted took effect). */
  private async apply(commands: DynsecCommand[]): Promise<void> {
    if (commands.length === 0) return;
    const responses = await this.options.control.send(commands);
    this.acknowledge(commands, responses);
    const refused = responses
      .map((r, i) => ({ r, c: commands[i] }))
      .filter(({ r }) => r.error !== undefined)
      .map(({ r, c }) => `${r.command}${c?.username ? ` ${String(c.username)}` : ''}: ${r.error}`);
    if (refused.length > 0)
      throw new Error(
        `the broker refused ${refused.length} change(s): ${refused.slice(0, 3).join('; ').slice(0, 300)}`,
      );
  }

  /** Forgets each secret the plugin took, unless a newer one was issued meanwhile. */
  private acknowledge(commands: DynsecCommand[], responses: DynsecResponse[]): void {
    commands.forEach((command, i) => {
      if (typeof command.password !== 'string' || responses[i]?.error !== undefined) return;
      const id = String(command.username);
      if (this.pending.get(id)?.secret === command.password) this.pending.delete(id);
    });
  }
}
