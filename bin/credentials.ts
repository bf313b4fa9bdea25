import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../devices/index.js';
import { AuditLog } from '../services/audit/audit-log.js';
import { handSecretsToBroker } from '../services/mqtt/dynsec-feature.js';
import { loadInternalPassword } from '../services/mqtt/internal-credential.js';
import { RegistryStore } from '../services/registry/registry-store.js';
import { openDatabase } from '../services/storage/database.js';
import { openState, type StateDatabase } from '../services/storage/sql/state-database.js';
import { configOrExit, hostForUrl, loggerFor } from './run.js';

const USAGE = `Usage: npm run credentials -- --out <file> [--ids hd-c01,hd-c02] [--commune <id>] [--url <mqtt-url>]

Issues a NEW secret to each registered cluster (or only the given ones) and writes them, with the
broker address, to <file> (readable by its owner only) in the format the speaker-cluster simulator
reads (npm run sim -- --fleet <file>). Earlier secrets of those clusters stop working.
Uses the database in DATA_DIR; the platform may be running. With MQTT_DYNSEC the new secrets are
handed to Mosquitto's dynamic security plugin as well.`;

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    ids: { type: 'string' },
    commune: { type: 'string' },
    url: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || !values.out) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(values.help ? 0 : 2);
}

const config = configOrExit({ LOG_LEVEL: 'warn' });
const logger = loggerFor(config);
const db = openDatabase(join(config.DATA_DIR, 'smart-commune.sqlite'), logger);
let state: StateDatabase | null = null;
let audit: AuditLog | null = null;
try {
  // The audit log is where the platform keeps it: this file, or DATABASE_URL's PostgreSQL.
  state = await openState(config, db, logger);
  audit = new AuditLog(state, systemClock, logger);
  const registry = new RegistryStore({
    db,
    state,
    now: Date.now,
    defaultTimezone: config.TZ_DEFAULT,
    logger,
  });
  await registry.start();
  const wanted = values.ids?.split(',').map((id) => id.trim());
  const clusters = registry.listClusters(
    { communeId: values.commune, ids: wanted },
    { limit: 100_000, offset: 0 },
  ).items;
  if (wanted) {
    const missing = wanted.filter((id) => !clusters.some((c) => c.id === id));
    if (missing.length > 0) throw new Error(`not registered: ${missing.join(', ')}`);
  }
  const devices = [];
  const issued: { deviceId: string; secret: string; issuedAt: number }[] = [];
  registry.onSecretIssued((deviceId, secret, issuedAt) => issued.push({ deviceId, secret, issuedAt }));
  for (const cluster of clusters) {
    devices.push({ deviceId: cluster.id, secret: (await registry.issueSecret(cluster.id)).secret });
    audit.record({
      actor: { type: 'system', name: 'npm run credentials' },
      action: 'cluster.credentials.issue',
      target: { type: 'cluster', id: cluster.id },
      outcome: 'success',
    });
  }
  const url = values.url ?? config.MQTT_URL ?? `mqtt://${hostForUrl(config.MQTT_HOST)}:${config.MQTT_PORT}`;
  writeFileSync(values.out, `${JSON.stringify({ url, devices }, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only to a new file: an existing one keeps its (maybe world-readable) mode.
  chmodSync(values.out, 0o600);
  process.stdout.write(`Issued new secrets for ${devices.length} clusters; wrote ${values.out}\n`);
  if (config.MQTT_DYNSEC && config.MQTT_URL) {
    // The running platform does not hear of secrets issued here: hand them to Mosquitto directly,
    // once the file holds them (a broker that does not answer must not lose them).
    const missed = await handSecretsToBroker({
      url: config.MQTT_URL,
      credential: {
        username: config.MQTT_INTERNAL_USERNAME,
        password: loadInternalPassword(
          config.MQTT_INTERNAL_PASSWORD,
          join(config.DATA_DIR, 'mqtt-internal-password'),
        ),
      },
      registry,
      secrets: issued,
      logger,
    });
    if (missed > 0)
      process.stderr.write(
        `Mosquitto did not take ${missed} of the new secrets; those clusters stay refused until issued again\n`,
      );
  }
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  // Secrets already rotated are recorded even when writing the file failed.
  await audit?.stop();
  await state?.close();
  db.close();
}
