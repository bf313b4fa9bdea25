import type { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Clock } from '../../devices/index.js';
import { systemClock } from '../../devices/index.js';
import {
  CliUsageError,
  integerFlag,
  isEntryPoint,
  parseFlags,
  parseLogLevel,
  splitFaultSpec,
} from '../shared/cli.js';
import { CAMERA_DEFAULTS } from './camera-options.js';
import { DISCOVERY_PORT } from './discovery.js';
import {
  CAMERA_FAULT_KINDS,
  CAMERA_FAULT_SUMMARIES,
  CameraFaultSpecError,
  parseCameraFault,
} from './faults.js';
import { SimulatedCameraFleet, UnknownCameraError } from './fleet.js';

export const CAMERA_USAGE = `Usage: npm run sim:cameras -- [options]

Runs simulated ONVIF cameras (SOAP device/media services, digest snapshot, RTSP, WS-Discovery).

Options:
  --count <n>             number of cameras, named after Huong Dao crossroads (default 4)
  --host <addr>           address to listen on (default ${CAMERA_DEFAULTS.host}; 0.0.0.0 for the LAN)
  --http-port <port>      first camera's HTTP port, the next ones +1 each (default 8080; 0 = ephemeral)
  --rtsp-port <port>      first camera's RTSP port, the next ones +1 each (default 8554; 0 = ephemeral)
  --discovery-port <port> WS-Discovery UDP port (default ${DISCOVERY_PORT}; "off" to not answer probes)
  --username <name>       ONVIF and snapshot user (default ${CAMERA_DEFAULTS.username})
  --password <secret>     its password (default ${CAMERA_DEFAULTS.password})
  --channels <n>          make each camera an NVR with n channels (video sources, streams, snapshots; default 1)
  --no-events             no ONVIF Events service (motion, tamper, video loss)
  --seed <n>              seed for uuids, serial numbers and snapshots
  --fault <target>:<fault>[:<arg>]
                          inject a fault from the start; target is a camera number (1..n) or "all"; repeatable
  --log-level <level>     fatal | error | warn | info | debug | trace | silent (default info)
  -h, --help              show this help

Faults:
${CAMERA_FAULT_KINDS.map((kind) => `  ${kind.padEnd(18)}${CAMERA_FAULT_SUMMARIES[kind]}`).join('\n')}
`;

export interface CameraCliIo {
  stdout: Writable;
  stderr: Writable;
  clock?: Clock;
  /** Resolves when the simulator should stop; defaults to SIGINT/SIGTERM. */
  until?: Promise<unknown>;
}

/** Runs the camera fleet until a stop signal; resolves to the exit code (0 ok, 1 failure, 2 usage). */
export async function runCameraCli(argv: readonly string[], io: CameraCliIo): Promise<number> {
  const print = (line: string) => io.stdout.write(`${line}\n`);
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    io.stderr.write(`error: ${error.message}\nRun with --help for usage.\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(CAMERA_USAGE);
    return 0;
  }
  let fleet: SimulatedCameraFleet;
  try {
    const discovery = values['discovery-port'];
    fleet = new SimulatedCameraFleet({
      count: integerFlag('--count', values.count ?? '4', 1, 1000),
      host: values.host ?? CAMERA_DEFAULTS.host,
      httpBasePort: integerFlag('--http-port', values['http-port'] ?? '8080', 0, 65535),
      rtspBasePort: integerFlag('--rtsp-port', values['rtsp-port'] ?? '8554', 0, 65535),
      discoveryPort:
        discovery === 'off'
          ? null
          : integerFlag('--discovery-port', discovery ?? String(DISCOVERY_PORT), 0, 65535),
      username: values.username ?? CAMERA_DEFAULTS.username,
      password: values.password ?? CAMERA_DEFAULTS.password,
      channels: integerFlag('--channels', values.channels ?? '1', 1, 64),
      events: values['no-events'] !== true,
      clock: io.clock ?? systemClock,
      logger: pino({ level: parseLogLevel(values['log-level']) }, io.stderr),
      ...(values.seed === undefined ? {} : { seed: integerFlag('--seed', values.seed, 0, 0xffffffff) }),
    });
    for (const spec of values.fault ?? []) {
      const { target, kind, arg } = splitFaultSpec(spec, 'n|all');
      await fleet.injectFault(target, parseCameraFault(kind, arg));
    }
  } catch (error) {
    if (
      !(
        error instanceof CliUsageError ||
        error instanceof CameraFaultSpecError ||
        error instanceof UnknownCameraError
      )
    ) {
      throw error;
    }
    io.stderr.write(`error: ${error.message}\nRun with --help for usage.\n`);
    return 2;
  }
  try {
    await fleet.start();
  } catch (error) {
    io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    await fleet.stop();
    return 1;
  }
  fleet.status().forEach((status, i) => {
    const a = status.addresses;
    print(
      `${i + 1}. ${status.name}  urn:uuid:${a.uuid}${status.faults.length > 0 ? `  faults: ${status.faults.join(', ')}` : ''}`,
    );
    print(`   ONVIF    ${a.deviceXAddr}`);
    if (a.channels.length > 1) {
      for (const c of a.channels)
        print(`   ch${c.channel} ${c.videoSourceToken}  ${c.rtspUri}  ${c.snapshotUri}`);
    } else {
      print(`   snapshot ${a.snapshotUri}`);
      print(`   RTSP     ${a.rtspUri}`);
    }
  });
  print(`${fleet.cameras.length} simulated cameras up. Ctrl-C stops them.`);
  await (io.until ?? untilSignal());
  await fleet.stop();
  print('stopped');
  return 0;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

function parse(argv: readonly string[]) {
  return parseFlags(argv, {
    count: { type: 'string' },
    host: { type: 'string' },
    'http-port': { type: 'string' },
    'rtsp-port': { type: 'string' },
    'discovery-port': { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    seed: { type: 'string' },
    channels: { type: 'string' },
    'no-events': { type: 'boolean' },
    fault: { type: 'string', multiple: true },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await runCameraCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
  });
}
