import type { Logger } from 'pino';
import { type Config, ConfigError, loadConfig } from '../services/config.js';
import { createLogger } from '../services/logger.js';

/** Loads the configuration or exits with one line per bad variable. */
export function configOrExit(overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env, overrides);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

export function loggerFor(config: Config): Logger {
  return createLogger(config.LOG_LEVEL);
}

/** Runs until SIGINT or SIGTERM, then awaits the given shutdown and exits. */
export function stopOnSignal(logger: Logger, shutdown: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

export function hostForUrl(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}
