import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../devices/index.js';
import type { Config } from '../config.js';
import { EmbeddedTelemetryStore } from './embedded-store.js';
import { InfluxTelemetryStore } from './influx-store.js';
import type { TelemetryStore } from './telemetry-store.js';

/** The history backend the configuration asks for: InfluxDB when INFLUX_URL is set, else embedded. */
export function createTelemetryStore(config: Config, deps: { clock: Clock; logger: Logger }): TelemetryStore {
  const buffering = {
    batchSize: config.HISTORY_BATCH_SIZE,
    flushIntervalMs: config.HISTORY_FLUSH_MS,
    maxBufferPoints: config.HISTORY_BUFFER_POINTS,
  };
  if (config.INFLUX_URL) {
    return new InfluxTelemetryStore({
      url: config.INFLUX_URL,
      api: config.INFLUX_API,
      database: config.INFLUX_BUCKET,
      ...(config.INFLUX_ORG ? { org: config.INFLUX_ORG } : {}),
      ...(config.INFLUX_TOKEN ? { token: config.INFLUX_TOKEN } : {}),
      logger: deps.logger,
      ...buffering,
    });
  }
  return new EmbeddedTelemetryStore({
    file: join(config.DATA_DIR, 'history.sqlite'),
    clock: deps.clock,
    logger: deps.logger,
    rawRetentionDays: config.HISTORY_RAW_DAYS,
    retentionDays: config.HISTORY_RETENTION_DAYS,
    ...buffering,
  });
}
