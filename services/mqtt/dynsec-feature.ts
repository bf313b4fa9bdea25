import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';
import { DynsecControl } from '../../broker/dynsec/dynsec-control.js';
import { systemClock } from '../../devices/index.js';
import { type HeldLoop, heldLoop } from '../cluster/singleton-loop.js';
import type { Feature } from '../platform/feature.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { type DeviceAccounts, DynsecSync } from './dynsec-sync.js';

declare module '../platform/feature.js' {
  interface Provides {
    /** Mosquitto's dynamic security kept in step with the registry; null unless MQTT_DYNSEC. */
    dynsec: DynsecSync | null;
  }
}

/** How long start waits for the first reconcile before carrying on (it keeps retrying after). */
const FIRST_RECONCILE_WAIT_MS = 15_000;
/**
 * With several instances: how long the keeper leaves a password newer than its copy of the
 * registry (which catches up within milliseconds), and after how long it looks again at an
 * account it disabled (which a secret handed over by another instance may have overtaken).
 */
const STALE_GRACE_MS = 5_000;

/** The registry's clusters as broker accounts. */
export function deviceAccounts(registry: RegistryStore): DeviceAccounts {
  const account = (c: { id: string; name: string; credentialIssuedAt: string | null }) => ({
    id: c.id,
    name: c.name,
    issuedAt: c.credentialIssuedAt === null ? null : Date.parse(c.credentialIssuedAt),
  });
  return {
    list: () => registry.listClusters({}, { limit: 1_000_000, offset: 0 }).items.map(account),
    find: (id) => {
      const cluster = registry.findCluster(id);
      return cluster ? account(cluster) : null;
    },
  };
}

/**
 * With MQTT_DYNSEC and an external Mosquitto: device accounts and roles in its dynamic security
 * plugin follow the registry (created, given each new secret, deleted), through the plugin's
 * `$CONTROL` API as the platform's internal user, which must be a dynsec admin. Started before the
 * features that subscribe, so the platform's own role exists by the time they do.
 *
 * With several instances (REDIS_URL) the holder of the `dynsec` lease keeps every account in step;
 * each instance hands over the secrets issued through it, which exist nowhere else in plaintext.
 */
export function dynsecFeature(): Feature<'dynsec'> {
  let control: DynsecControl | null = null;
  let sync: DynsecSync | null = null;
  let keeper: HeldLoop | null = null;
  let unhook = () => {};
  return {
    name: 'dynsec',
    dependsOn: ['registry', 'mqtt', 'cluster'],
    async start(ctx) {
      const { config, clock } = ctx;
      if (!config.MQTT_DYNSEC || !config.MQTT_URL) return null;
      const logger = ctx.logger.child({ component: 'dynsec' });
      const registry = ctx.get('registry');
      const credential = ctx.get('mqtt').internalCredential;
      const several = ctx.get('cluster').redis !== null;
      let firstDone: () => void = () => {};
      const first = new Promise<void>((resolve) => {
        firstDone = resolve;
      });
      const own = new DynsecControl({
        url: config.MQTT_URL,
        username: credential.username,
        password: credential.password,
        clock,
        logger,
        onConnected: () => {
          current.connected();
          void current.settled().then(() => {
            if (current.ready) firstDone();
          });
        },
      });
      const current = new DynsecSync({
        control: own,
        devices: deviceAccounts(registry),
        platformUser: credential.username,
        clock,
        logger,
        ...(several ? { keeping: false, staleGraceMs: STALE_GRACE_MS } : {}),
      });
      control = own;
      sync = current;
      ctx.on('registry.changed', (change) => {
        if (change.entity === 'cluster') current.deviceChanged(change.id);
      });
      unhook = registry.onSecretIssued((id, secret, issuedAt) => current.secretIssued(id, secret, issuedAt));
      metrics(ctx.metrics, own, current);
      if (several) {
        keeper = heldLoop(ctx, 'dynsec', {
          resume: () => current.keep(true),
          pause: () => current.keep(false),
          stop: () => current.keep(false),
        });
        await keeper.start();
      }
      own.start();
      const timer = clock.setTimeout(firstDone, FIRST_RECONCILE_WAIT_MS);
      await first;
      clock.clearTimeout(timer);
      if (!current.ready)
        logger.warn('the broker accounts are not reconciled yet; devices may be refused until they are');
      return current;
    },
    async stop() {
      unhook();
      unhook = () => {};
      const holding = keeper;
      keeper = null;
      await holding?.stop();
      await sync?.stop();
      await control?.close();
      sync = null;
      control = null;
    },
  };
}

function metrics(registry: Registry, control: DynsecControl, sync: DynsecSync): void {
  new Gauge({
    name: 'sc_dynsec_connected',
    help: "1 while the platform is connected to Mosquitto's dynamic security API",
    registers: [registry],
    collect() {
      this.set(control.connected ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sc_dynsec_pending_secrets',
    help: 'Device secrets issued but not yet taken by the broker (held in memory only)',
    registers: [registry],
    collect() {
      this.set(sync.pendingSecrets);
    },
  });
  new Gauge({
    name: 'sc_dynsec_failing_attempts',
    help: 'Consecutive failed attempts to update the broker accounts (0 when in step)',
    registers: [registry],
    collect() {
      this.set(sync.failingAttempts);
    },
  });
  new Gauge({
    name: 'sc_dynsec_keeper',
    help: '1 on the instance that keeps every broker account in step (the dynsec lease holder)',
    registers: [registry],
    collect() {
      this.set(sync.keeper ? 1 : 0);
    },
  });
  new Gauge({
    name: 'sc_dynsec_last_reconcile_seconds',
    help: 'When the broker accounts last matched the registry in full (Unix time; 0 = not yet)',
    registers: [registry],
    collect() {
      this.set(sync.lastReconciledAt === null ? 0 : sync.lastReconciledAt / 1000);
    },
  });
}

/**
 * For a process other than the platform (`npm run credentials`): connects as the internal user,
 * reconciles, hands over the secrets it just issued, and closes. Resolves with how many secrets the
 * broker did not take in time (their clients stay disabled until issued again).
 */
export async function handSecretsToBroker(options: {
  url: string;
  credential: { username: string; password: string };
  registry: RegistryStore;
  secrets: { deviceId: string; secret: string; issuedAt: number }[];
  logger: Logger;
  timeoutMs?: number;
}): Promise<number> {
  const clock = systemClock;
  const control = new DynsecControl({
    url: options.url,
    username: options.credential.username,
    password: options.credential.password,
    clock,
    logger: options.logger,
    onConnected: () => sync.connected(),
  });
  const sync = new DynsecSync({
    control,
    devices: deviceAccounts(options.registry),
    platformUser: options.credential.username,
    clock,
    logger: options.logger,
  });
  for (const { deviceId, secret, issuedAt } of options.secrets) sync.secretIssued(deviceId, secret, issuedAt);
  control.start();
  const deadline = clock.now() + (options.timeoutMs ?? 30_000);
  try {
    while (clock.now() < deadline && (sync.pendingSecrets > 0 || sync.lastReconciledAt === null))
      await new Promise((resolve) => setTimeout(resolve, 100));
    return sync.pendingSecrets;
  } finally {
    await sync.stop();
    await control.close();
  }
}
