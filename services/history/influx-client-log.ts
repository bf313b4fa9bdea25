import { setLogger } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';

/**
 * The client logs through one process-wide logger that prints to the console by default. Its
 * messages (write failed, retry buffer trimmed, lines lost at close) repeat what the store already
 * logs with counts and context through the callbacks, so they are routed to the open stores'
 * loggers at debug level rather than printed. The client gives no way to tell which WriteApi a
 * message came from, hence one shared route for all open stores.
 */
const loggers = new Set<Logger>();
let routed = false;

export function routeClientLog(logger: Logger): () => void {
  if (!routed) {
    setLogger({
      error: (message, error) => forward(message, error),
      warn: (message, error) => forward(message, error),
    });
    routed = true;
  }
  loggers.add(logger);
  return () => {
    loggers.delete(logger);
  };
}

function forward(message: string, error: unknown): void {
  const err = error instanceof Error ? error : undefined;
  for (const logger of loggers) logger.debug({ err }, `influxdb-client: ${message}`);
}
