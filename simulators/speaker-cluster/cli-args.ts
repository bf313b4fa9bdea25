import { isDeviceId } from '../../devices/index.js';
import {
  CliUsageError,
  integerFlag,
  isLogLevel,
  LOG_LEVELS,
  type LogLevel,
  numberFlag,
  parseFlags,
  parseLogLevel,
  splitFaultSpec,
} from '../shared/cli.js';
import { CLUSTER_DEFAULTS, TIME_SCALE_RANGE } from './cluster-options.js';
import type { Fault } from './faults.js';
import { FAULT_KINDS, FAULT_SUMMARIES, FaultSpecError, parseFault } from './faults.js';
import { BrokerUrlSchema } from './fleet-file.js';

export const DEFAULT_BROKER_URL = 'mqtt://localhost:1883';

export interface FaultSpec {
  /** `all` or a device id. */
  target: string;
  fault: Fault;
}

export interface CliOptions {
  help: boolean;
  fleetFile: string | undefined;
  /** A single device given on the command line instead of a fleet file. */
  device: { deviceId: string; secret: string } | undefined;
  /** From --url; the fleet file's url applies when this is undefined. */
  url: string | undefined;
  heartbeatIntervalS: number;
  speakers: number;
  count: number | undefined;
  oversizeBytes: number | undefined;
  seed: number | undefined;
  /** Playing times are divided by this (--time-scale). */
  timeScale: number;
  /** From --media-timeout (seconds on the command line). */
  mediaTimeoutMs: number;
  faults: FaultSpec[];
  logLevel: LogLevel;
}

export const USAGE = `Usage: npm run sim -- --fleet <file> [options]
       npm run sim -- --device <id> --secret <secret> [options]

Runs simulated speaker clusters that speak protocol v1 to an MQTT broker.

Options:
  --fleet <file>          credentials file {"url"?, "devices": [{"deviceId", "secret"}]}
  --device <id>           run one cluster with this id (instead of --fleet)
  --secret <secret>       its MQTT password (with --device)
  --url <url>             broker address (default: the file's "url", else ${DEFAULT_BROKER_URL})
  --heartbeat <s>         heartbeat interval in seconds (default: $HEARTBEAT_INTERVAL_S, else ${CLUSTER_DEFAULTS.heartbeatIntervalS})
  --speakers <n>          speaker outputs per cluster, 1..16 (default ${CLUSTER_DEFAULTS.speakers})
  --count <n>             run only the first n devices of the fleet file
  --fault <target>:<fault>[:<arg>]
                          inject a fault from the start; target is a device id or "all"; repeatable
  --oversize-bytes <n>    add an oversized payload of n bytes to the "malformed" rotation
  --seed <n>              seed for the telemetry noise (default: per device id)
  --time-scale <factor>   divide playing times by this, e.g. 60 plays a one-minute bulletin in 1 s (default ${CLUSTER_DEFAULTS.timeScale})
  --media-timeout <s>     a media download, or a stream's first audio, not done in time fails the item (default ${CLUSTER_DEFAULTS.mediaTimeoutMs / 1000})
  --log-level <level>     ${LOG_LEVELS.join(' | ')} (default: $LOG_LEVEL, else info)
  -h, --help              show this help

Faults:
${FAULT_KINDS.map((kind) => `  ${kind.padEnd(16)}${FAULT_SUMMARIES[kind]}`).join('\n')}

Examples:
  npm run sim -- --fleet fleet.json
  npm run sim -- --fleet fleet.json --count 3 --fault all:weak-signal --fault hd-01:speaker-fault:2
  npm run sim -- --fleet fleet.json --time-scale 60 --fault hd-02:download-fail:1
`;

/** Parses the command line; env supplies HEARTBEAT_INTERVAL_S and LOG_LEVEL defaults. */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv): CliOptions {
  const values = parse(argv);
  if (values.help) return { ...defaults(env), help: true };

  const fleetFile = values.fleet;
  let device: CliOptions['device'];
  if (values.device !== undefined || values.secret !== undefined) {
    if (fleetFile !== undefined) throw new CliUsageError('use either --fleet or --device/--secret, not both');
    if (values.device === undefined || values.secret === undefined) {
      throw new CliUsageError('--device and --secret go together');
    }
    if (!isDeviceId(values.device)) {
      throw new CliUsageError(
        `--device "${values.device}" is not a valid device id (lower-case letters, digits, "-")`,
      );
    }
    device = { deviceId: values.device, secret: values.secret };
  } else if (fleetFile === undefined) {
    throw new CliUsageError(
      '--fleet <file> is required (or --device <id> --secret <secret> for one cluster)',
    );
  }

  const url = values.url;
  if (url !== undefined && !BrokerUrlSchema.safeParse(url).success) {
    throw new CliUsageError(`--url "${url}" must be an mqtt://, mqtts://, ws:// or wss:// address`);
  }
  const envHeartbeat = env.HEARTBEAT_INTERVAL_S;
  const heartbeatIntervalS =
    values.heartbeat !== undefined
      ? numberFlag('--heartbeat', values.heartbeat, 1, 3600)
      : envHeartbeat !== undefined && envHeartbeat !== ''
        ? numberFlag('HEARTBEAT_INTERVAL_S', envHeartbeat, 1, 3600)
        : CLUSTER_DEFAULTS.heartbeatIntervalS;

  return {
    help: false,
    fleetFile,
    device,
    url,
    heartbeatIntervalS,
    speakers:
      values.speakers === undefined
        ? CLUSTER_DEFAULTS.speakers
        : integerFlag('--speakers', values.speakers, 1, 16),
    count: values.count === undefined ? undefined : integerFlag('--count', values.count, 1, 100_000),
    oversizeBytes:
      values['oversize-bytes'] === undefined
        ? undefined
        : integerFlag('--oversize-bytes', values['oversize-bytes'], 1, 256 * 1024 * 1024),
    seed: values.seed === undefined ? undefined : integerFlag('--seed', values.seed, 0, 0xffffffff),
    timeScale:
      values['time-scale'] === undefined
        ? CLUSTER_DEFAULTS.timeScale
        : numberFlag('--time-scale', values['time-scale'], TIME_SCALE_RANGE.min, TIME_SCALE_RANGE.max),
    mediaTimeoutMs:
      values['media-timeout'] === undefined
        ? CLUSTER_DEFAULTS.mediaTimeoutMs
        : Math.round(numberFlag('--media-timeout', values['media-timeout'], 0.001, 3600) * 1000),
    faults: (values.fault ?? []).map(parseFaultSpec),
    logLevel: parseLogLevel(values['log-level'] ?? env.LOG_LEVEL),
  };
}

/** `<target>:<fault>[:<arg>]`, e.g. `all:weak-signal` or `hd-01:slow-acks:3000`. */
export function parseFaultSpec(spec: string): FaultSpec {
  const { target, kind, arg } = splitFaultSpec(spec, 'deviceId|all');
  if (target !== 'all' && !isDeviceId(target)) {
    throw new CliUsageError(`--fault "${spec}": "${target}" is neither "all" nor a device id`);
  }
  try {
    return { target, fault: parseFault(kind, arg) };
  } catch (error) {
    if (error instanceof FaultSpecError) throw new CliUsageError(`--fault "${spec}": ${error.message}`);
    throw error;
  }
}

function parse(argv: readonly string[]) {
  return parseFlags(argv, {
    fleet: { type: 'string' },
    device: { type: 'string' },
    secret: { type: 'string' },
    url: { type: 'string' },
    heartbeat: { type: 'string' },
    speakers: { type: 'string' },
    count: { type: 'string' },
    fault: { type: 'string', multiple: true },
    'oversize-bytes': { type: 'string' },
    seed: { type: 'string' },
    'time-scale': { type: 'string' },
    'media-timeout': { type: 'string' },
    'log-level': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
}

function defaults(env: NodeJS.ProcessEnv): CliOptions {
  return {
    help: false,
    fleetFile: undefined,
    device: undefined,
    url: undefined,
    heartbeatIntervalS: CLUSTER_DEFAULTS.heartbeatIntervalS,
    speakers: CLUSTER_DEFAULTS.speakers,
    count: undefined,
    oversizeBytes: undefined,
    seed: undefined,
    timeScale: CLUSTER_DEFAULTS.timeScale,
    mediaTimeoutMs: CLUSTER_DEFAULTS.mediaTimeoutMs,
    faults: [],
    logLevel: isLogLevel(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info',
  };
}
