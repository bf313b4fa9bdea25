import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RegistryStore } from '../services/registry/registry-store.js';
import { openDatabase } from '../services/storage/database.js';
import { configOrExit, hostForUrl, loggerFor } from './run.js';

const USAGE = `Usage: npm run credentials -- --out <file> [--ids hd-c01,hd-c02] [--commune <id>] [--url <mqtt-url>]

Issues a NEW secret to each registered cluster (or only the given ones) and writes them, with the
broker address, to <file> (readable by its owner only) in the format the speaker-cluster simulator
reads (npm run sim -- --fleet <file>). Earlier secrets of those clusters stop working.
Uses the database in DATA_DIR; the platform may be running.`;

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
try {
  const registry = new RegistryStore(db, Date.now, config.TZ_DEFAULT);
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
  for (const cluster of clusters) {
    devices.push({ deviceId: cluster.id, secret: (await registry.issueSecret(cluster.id)).secret });
  }
  const url = values.url ?? config.MQTT_URL ?? `mqtt://${hostForUrl(config.MQTT_HOST)}:${config.MQTT_PORT}`;
  writeFileSync(values.out, `${JSON.stringify({ url, devices }, null, 2)}\n`, { mode: 0o600 });
  // `mode` applies only to a new file: an existing one keeps its (maybe world-readable) mode.
  chmodSync(values.out, 0o600);
  process.stdout.write(`Issued new secrets for ${devices.length} clusters; wrote ${values.out}\n`);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  db.close();
}
