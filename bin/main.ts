import { Platform } from '../services/platform/platform.js';
import { configOrExit, hostForUrl, loggerFor, stopOnSignal } from './run.js';

const config = configOrExit();
const logger = loggerFor(config);
const platform = new Platform({ config, logger });
try {
  await platform.start();
} catch (error) {
  logger.fatal({ err: error }, 'platform failed to start');
  await platform.stop();
  process.exit(1);
}
const host = hostForUrl(config.HTTP_HOST);
logger.info(
  {
    api: `${platform.httpScheme}://${host}:${platform.httpPort}/api/v1`,
    docs: `${platform.httpScheme}://${host}:${platform.httpPort}/docs`,
    mqtt: config.MQTT_URL ?? `mqtt://${hostForUrl(config.MQTT_HOST)}:${platform.mqttPort}`,
    dataDir: config.DATA_DIR,
  },
  'smart-commune is running',
);
stopOnSignal(logger, () => platform.stop());
