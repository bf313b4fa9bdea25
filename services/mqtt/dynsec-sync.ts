import type { Logger } from 'pino';
import type { DynsecControl, DynsecResponse } from '../../broker/dynsec/dynsec-control.js';
import {
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
  /** When the plugin last matched the registry in full (epoch ms), for health. */
  lastReconciledAt: number | null = null;
  lastError: string | null = null;

  constructor(private readonly options: DynsecSyncOptions) {}

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
      if (reconciling) {
        this.reconcileWanted = false;
        this.dirty.clear();
        await this.reconcile();
      } else {
        const ids = [...this.dirty];
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

  private async reconcile(): Promise<void> {
    const { control, devices, platformUser, logger, clock } = this.options;
    const [clients, roles] = [await control.listClients(), await control.listRoles()];
    const platform = planPlatform(platformUser, {
      client: clients.find((c) => c.username === platformUser) ?? null,
      role: roles.find((r) => r.rolename === PLATFORM_ROLE) ?? null,
    });
    if (platform.length > 0) {
      // Giving the platform's account its role makes the plugin drop that account's connections,
      // this one included: the reconnection reconciles the rest.
      logger.info('giving the platform its broker role; its connections start again');
      let dropped = false;
      await control.send(platform).catch((error: Error) => {
        if (control.connected) throw error;
        dropped = true;
      });
      if (dropped) {
        this.reconcileWanted = true;
        return;
      }
      return this.reconcile();
    }
    const registered = devices.list();
    const { commands, conflicts } = planReconcile({
      platformUser,
      devices: registered.map((d) => this.desired(d)),
      clients,
      roles,
    });
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
    const { control, devices, logger } = this.options;
    const [clientAnswer, roleAnswer] = await control.send([
      { command: 'getClient', username: id },
      { command: 'getRole', rolename: deviceRole(id) },
    ]);
    const client = clientAnswer?.error
      ? null
      : ((clientAnswer?.data as { client?: DynsecClient } | undefined)?.client ?? null);
    const role = roleAnswer?.error
      ? null
      : ((roleAnswer?.data as { role?: DynsecRole } | undefined)?.role ?? null);
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
      await this.apply(planRemoval(id, { client: client !== null, role: role !== null }));
      return;
    }
    await this.apply(planDevice(this.desired(device), { client, role }));
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
