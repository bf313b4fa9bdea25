import { pino } from 'pino';
import { describe } from 'vitest';
import { InfluxTelemetryStore } from '../../services/history/influx-store.js';
import type { TelemetryStore } from '../../services/history/telemetry-store.js';
import { describeTelemetryContract } from './history-contract.js';

/**
 * The contract against InfluxDB 2.x or 3.x, which Debian does not package: it runs only when
 * INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG and INFLUX_BUCKET point at a server (docker-compose starts
 * a 2.x one), and is skipped otherwise. The contract fixes its device ids and timestamps, so each
 * store gets a bucket of its own (named after INFLUX_BUCKET), with a DBRP mapping for the
 * InfluxQL reads, deleted again at close. 3.x has no /api/v2 management API; there the database
 * appears on the first write.
 */
const env = {
  url: process.env.INFLUX_URL?.replace(/\/+$/, ''),
  token: process.env.INFLUX_TOKEN,
  org: process.env.INFLUX_ORG,
  bucket: process.env.INFLUX_BUCKET,
};
const missing = Object.entries(env)
  .filter(([, value]) => !value)
  .map(([key]) => `INFLUX_${key.toUpperCase()}`);
const skip = missing.length > 0 ? `set ${missing.join(', ')} to run it against InfluxDB 2.x/3.x` : null;

let buckets = 0;

async function call(path: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(`${env.url}${path}`, {
    ...init,
    headers: { authorization: `Token ${env.token}`, 'content-type': 'application/json' },
  });
  return response;
}

async function json<T>(response: Response, what: string): Promise<T> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Creates a bucket and its DBRP mapping; returns how to delete it. */
async function createBucket(name: string): Promise<() => Promise<void>> {
  const orgs = await call(`/api/v2/orgs?${new URLSearchParams({ org: env.org ?? '' })}`);
  if (orgs.status === 404) return async () => undefined;
  const { orgs: found } = await json<{ orgs: { id: string }[] }>(orgs, 'looking up INFLUX_ORG');
  const orgID = found[0]?.id;
  if (!orgID) throw new Error(`no organisation ${env.org}`);
  const bucket = await json<{ id: string }>(
    await call('/api/v2/buckets', {
      method: 'POST',
      body: JSON.stringify({ orgID, name, retentionRules: [] }),
    }),
    'creating a bucket',
  );
  await json(
    await call('/api/v2/dbrps', {
      method: 'POST',
      body: JSON.stringify({
        orgID,
        bucketID: bucket.id,
        database: name,
        retention_policy: 'autogen',
        default: true,
      }),
    }),
    'mapping the bucket for InfluxQL',
  );
  return async () => {
    await call(`/api/v2/buckets/${bucket.id}`, { method: 'DELETE' });
  };
}

describe.skipIf(skip !== null)(`InfluxDB 2.x/3.x${skip ? ` — skipped: ${skip}` : ''}`, () => {
  describeTelemetryContract({
    label: 'influxdb-v2',
    async open() {
      buckets++;
      const name = `${env.bucket}-contract-${process.pid}-${Date.now()}-${buckets}`;
      const deleteBucket = await createBucket(name);
      const store = new InfluxTelemetryStore({
        url: env.url ?? '',
        api: 'v2',
        database: name,
        org: env.org ?? '',
        token: env.token ?? '',
        logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      });
      await store.start();
      const close = store.close.bind(store);
      return Object.assign(store, {
        async close() {
          await close();
          await deleteBucket();
        },
      }) satisfies TelemetryStore;
    },
  });
});
