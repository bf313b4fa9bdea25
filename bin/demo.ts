import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULT_CAMERA_NETWORKS } from '../devices/onvif-camera/address-policy.js';
import type { Config } from '../services/config.js';
import { ensureDemoAccounts } from '../services/demo/demo-accounts.js';
import { demoSimulators } from '../services/demo/demo-simulators.js';
import { NotFoundError } from '../services/errors.js';
import { Platform } from '../services/platform/platform.js';
import { parseCameraEvent } from '../simulators/onvif-camera/event-messages.js';
import { parseCameraFault } from '../simulators/onvif-camera/faults.js';
import { HUONG_DAO_CAMERA_SITES, SimulatedCameraFleet } from '../simulators/onvif-camera/fleet.js';
import type { SimulatedCamera } from '../simulators/onvif-camera/simulated-camera.js';
import { CONSOLE_HELP, runConsoleCommand } from '../simulators/speaker-cluster/console-commands.js';
import { SimulatedFleet } from '../simulators/speaker-cluster/fleet.js';
import { configOrExit, hostForUrl, loggerFor, stopOnSignal } from './run.js';

/*
 * `npm run demo`: the platform with the Hướng Đạo registry and all 18 of its clusters simulated
 * over real MQTT connections, in one process, beside three illustrative pilot communes of the same
 * province (Lãng Công, Thổ Tang, Tam Đảo; 4 clusters each) for the province's view. Each start issues the simulated clusters fresh
 * secrets (secrets are stored only as hashes, so the previous ones cannot be read back).
 */

const DEMO_COMMUNE = 'huong-dao';
const DEMO_PROVINCE = 'phu-tho';
const DEMO_CAMERAS = 8;
const ONLINE_WAIT_MS = 30_000;

// The demo is the Hướng Đạo fleet whatever SEED_PRESET says, and keeps its data apart from a real
// installation's unless DATA_DIR says otherwise; everything else comes from the environment.
const config = configOrExit({
  SEED_PRESET: 'phu-tho-pilots',
  DATA_DIR: process.env.DATA_DIR || './data/demo',
  // Quiet unless asked: an hour of info lines (about 19,000) scrolled the printed passwords away.
  LOG_LEVEL: (process.env.LOG_LEVEL as Config['LOG_LEVEL'] | undefined) || 'warn',
  // The demo's simulated cameras listen on this machine's loopback.
  CAMERA_NETWORKS: [...DEFAULT_CAMERA_NETWORKS, '127.0.0.0/8', '::1'],
});
const logger = loggerFor(config);
// The demo prints every account's password itself, below.
// The fleets below start after the platform; the fault panel finds them once they exist.
let clusterFleet: SimulatedFleet | null = null;
const camerasById = new Map<string, SimulatedCamera>();
const platform = new Platform({
  // The demo's simulated clusters run on this PC: they download media over loopback.
  mediaHost: '127.0.0.1',
  config,
  logger,
  announce: () => undefined,
  demo: true,
  simulators: demoSimulators({ clusters: () => clusterFleet, cameras: () => camerasById }),
});
await platform.start();
const accounts = await ensureDemoAccounts(platform.auth, platform.audit, {
  communeId: DEMO_COMMUNE,
  provinceId: DEMO_PROVINCE,
  adminPassword: config.ADMIN_PASSWORD,
});

const provinceCommunes = platform.registry.communesOfProvince(DEMO_PROVINCE);
const clusters = platform.registry.listClusters(
  { communeIds: provinceCommunes },
  { limit: 10_000, offset: 0 },
).items;
const huongDao = clusters.filter((c) => c.communeId === DEMO_COMMUNE);
const devices = [];
for (const cluster of clusters) {
  devices.push({ deviceId: cluster.id, secret: (await platform.registry.issueSecret(cluster.id)).secret });
}
const fleet = new SimulatedFleet({
  devices,
  url: `mqtt://127.0.0.1:${platform.mqttPort}`,
  logger: logger.child({ component: 'simulator' }),
  heartbeatIntervalS: config.HEARTBEAT_INTERVAL_S,
});
await fleet.start();
clusterFleet = fleet;

// Crossroads cameras: simulated ONVIF cameras on loopback, onboarded with a password that is new on
// every start (the platform keeps it sealed; the simulator is told it here).
const cameraPassword = randomBytes(12).toString('base64url');
const cameraFleet = new SimulatedCameraFleet({
  count: DEMO_CAMERAS,
  username: 'admin',
  password: cameraPassword,
  logger: logger.child({ component: 'camera-simulator' }),
  clock: platform.clock,
});
await cameraFleet.start();
for (const [i, camera] of cameraFleet.cameras.entries()) {
  const id = `hd-cam${String(i + 1).padStart(2, '0')}`;
  camerasById.set(id, camera);
  const status = camera.status();
  const fields = {
    name: camera.name,
    address: HUONG_DAO_CAMERA_SITES[i]?.location ?? null,
    xaddr: status.addresses.deviceXAddr,
    username: 'admin',
    password: cameraPassword,
    endpointUrn: `urn:uuid:${status.addresses.uuid}`,
  };
  // Updated when a previous demo run left it; only a camera that is not there is created. Any
  // other error (a locked or full database) stops the demo with its cause.
  try {
    await platform.cameras.update(id, fields);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    await platform.cameras.create({ id, communeId: DEMO_COMMUNE, ...fields });
  }
}
await platform.cameraHealth.sweep();
const camerasOk = cameraFleet.cameras.filter(
  (_, i) => platform.cameraHealth.status(`hd-cam${String(i + 1).padStart(2, '0')}`).state === 'ok',
).length;

const deadline = Date.now() + ONLINE_WAIT_MS;
while (clusters.some((c) => !platform.presence.isOnline(c.id)) && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
const online = clusters.filter((c) => platform.presence.isOnline(c.id)).length;

const http = `http://${hostForUrl(config.HTTP_HOST)}:${platform.httpPort}`;
const internal = platform.internalMqttCredential;
process.stdout.write(
  [
    '',
    'smart-commune demo: Hướng Đạo (formerly Tam Dương, Vĩnh Phúc; province of Phú Thọ since 1 July 2025)',
    `  clusters online:  ${online}/${clusters.length}  (Hướng Đạo ${huongDao.filter((c) => platform.presence.isOnline(c.id)).length}/${huongDao.length}; pilot communes Lãng Công, Thổ Tang, Tam Đảo are illustrative)`,
    `  cameras ok:       ${camerasOk}/${cameraFleet.cameras.length}  (police: ${http}/api/v1/cameras)`,
    `  console:          ${http}/`,
    `  API:              ${http}/api/v1`,
    `  clusters:         ${http}/api/v1/clusters`,
    `  API reference:    ${http}/docs`,
    `  health:           ${http}/healthz`,
    `  MQTT:             mqtt://${hostForUrl(config.MQTT_HOST)}:${platform.mqttPort}  (WebSocket: ws://${hostForUrl(config.HTTP_HOST)}:${platform.httpPort}/mqtt)`,
    `  watch traffic:    mosquitto_sub -h 127.0.0.1 -p ${platform.mqttPort} -u ${internal.username} -P '${internal.password}' -t 'sc/v1/#' -v`,
    `  data:             ${config.DATA_DIR}`,
    '',
    'Accounts (passwords are new on every demo start):',
    ...accounts.map((a) => `  ${a.role.padEnd(11)} ${a.username.padEnd(20)} ${a.password}  (${a.scope})`),
    `  sign in:          curl -c cookies.txt -H 'content-type: application/json' -d '{"username":"admin","password":"…"}' ${http}/api/v1/auth/login`,
    '',
    'Simulator console: type "help" for commands (e.g. "fault hd-c03 power-cut"; cameras:',
    '"camera-fault 2 offline", "camera-clear all", "camera-event 2 motion"); Ctrl-C stops.',
    '',
  ].join('\n'),
);

// The accounts also go to a file only this user can read, for when the terminal has scrolled on.
const accountsFile = join(config.DATA_DIR, 'demo-accounts.txt');
writeFileSync(
  accountsFile,
  `${accounts.map((a) => `${a.role}\t${a.username}\t${a.password}\t${a.scope}`).join('\n')}\n`,
  { mode: 0o600 },
);
chmodSync(accountsFile, 0o600);
process.stdout.write(`Accounts saved in ${accountsFile} (readable by you only).\n\n`);

const stop = async () => {
  await fleet.stop();
  await cameraFleet.stop();
  await platform.stop();
};

// Commands come from a terminal or from a pipe alike (a script, a FIFO, a process manager's
// stdin); with no input at all (stdin closed or /dev/null) the reader simply ends.
{
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: false });
  let pending = Promise.resolve();
  rl.on('line', (line) => {
    pending = pending
      .then(() => {
        const camera = runCameraCommand(line);
        return camera === false
          ? runConsoleCommand(line, fleet, (text) => process.stdout.write(`${text}\n`))
          : camera.then(() => undefined);
      })
      .then(
        (outcome) => {
          if (outcome === 'quit') process.kill(process.pid, 'SIGINT');
        },
        (error: unknown) => {
          process.stdout.write(`error: ${(error as Error).message}\n${CONSOLE_HELP}\n`);
        },
      );
  });
}
stopOnSignal(logger, stop);

/**
 * `camera-fault <n|all> <kind> [arg]`, `camera-clear <n|all>` and
 * `camera-event <n|all> <motion|tamper|video-loss> [seconds|on|off] [channel]`; false for other commands.
 */
function runCameraCommand(line: string): Promise<void> | false {
  const [command, target = 'all', kind, arg, channel] = line.trim().split(/\s+/);
  if (command === 'camera-event') {
    if (!kind)
      throw new Error('usage: camera-event <n|all> <motion|tamper|video-loss> [seconds|on|off] [channel]');
    const spec = parseCameraEvent(kind, arg, channel);
    for (const camera of cameraFleet.select(target)) camera.raiseEvent(spec);
    process.stdout.write(`camera ${target}: ${kind} ${spec.active ? 'started' : 'ended'}\n`);
    return Promise.resolve();
  }
  if (command === 'camera-fault') {
    if (!kind)
      throw new Error(
        'usage: camera-fault <n|all> <offline|slow|wrong-credentials|clock-drift|snapshot-fail|stream-down|reboot> [arg]',
      );
    return cameraFleet.injectFault(target, parseCameraFault(kind, arg)).then(() => {
      process.stdout.write(`camera ${target}: ${kind}\n`);
    });
  }
  if (command === 'camera-clear') {
    return cameraFleet.clearFault(target, 'all').then(() => {
      process.stdout.write(`camera ${target}: faults cleared\n`);
    });
  }
  return false;
}
