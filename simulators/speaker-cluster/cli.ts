import { fstatSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { pino } from 'pino';
import pretty from 'pino-pretty';
import type { Clock } from '../../devices/index.js';
import { systemClock } from '../../devices/index.js';
import { CliUsageError, isEntryPoint, type LogLevel } from '../shared/cli.js';
import type { CliOptions } from './cli-args.js';
import { DEFAULT_BROKER_URL, parseCliArgs, USAGE } from './cli-args.js';
import { runConsoleCommand } from './console-commands.js';
import { SimulatedFleet, UnknownDeviceError } from './fleet.js';
import type { FleetDevice } from './fleet-file.js';
import { FleetFileError, loadFleetFile } from './fleet-file.js';

type StopSignal = 'SIGINT' | 'SIGTERM';

export interface SignalSource {
  once(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

export interface CliIo {
  /** Where run-time commands come from; null runs without a console (stdin is /dev/null). */
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
  env?: NodeJS.ProcessEnv;
  /** Defaults to the process: SIGINT and SIGTERM stop the fleet cleanly. */
  signals?: SignalSource;
  clock?: Clock;
  /** Defaults to pino on stderr, pretty when stderr is a terminal. */
  logger?: Logger;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Runs the simulator until `quit`, a signal or (on a terminal) end of input; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const print = (text: string) => {
    io.stdout.write(`${text}\n`);
  };
  const complain = (text: string) => {
    io.stderr.write(`error: ${text}\n`);
  };

  let options: CliOptions;
  try {
    options = parseCliArgs(argv, io.env ?? {});
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    complain(`${error.message}\nRun with --help for usage.`);
    return EXIT_USAGE;
  }
  if (options.help) {
    io.stdout.write(USAGE);
    return EXIT_OK;
  }

  let devices: readonly FleetDevice[];
  let fileUrl: string | undefined;
  if (options.device) {
    devices = [options.device];
  } else {
    try {
      const file = await loadFleetFile(options.fleetFile ?? '');
      devices = file.devices;
      fileUrl = file.url;
    } catch (error) {
      if (!(error instanceof FleetFileError)) throw error;
      complain(error.message);
      return EXIT_FAILURE;
    }
  }
  if (options.count !== undefined) devices = devices.slice(0, options.count);
  const url = options.url ?? fileUrl ?? DEFAULT_BROKER_URL;

  const logger = io.logger ?? createLogger(options.logLevel, io.stderr);
  const fleet = new SimulatedFleet({
    devices,
    url,
    logger,
    clock: io.clock ?? systemClock,
    heartbeatIntervalS: options.heartbeatIntervalS,
    speakers: options.speakers,
    oversizeBytes: options.oversizeBytes,
    seed: options.seed,
    timeScale: options.timeScale,
    mediaTimeoutMs: options.mediaTimeoutMs,
  });
  for (const spec of options.faults) {
    try {
      await fleet.injectFault(spec.target, spec.fault);
    } catch (error) {
      if (!(error instanceof UnknownDeviceError || error instanceof RangeError)) throw error;
      complain(`--fault ${spec.target}: ${error.message}`);
      return EXIT_USAGE;
    }
  }

  await fleet.start();
  const connected = fleet.status().filter((status) => status.connected).length;
  print(
    `${fleet.size} simulated cluster${fleet.size === 1 ? '' : 's'} on ${url}, ${connected} connected.` +
      (io.stdin ? ' Type "help" for commands.' : ''),
  );

  const reason = await runConsole(fleet, io, print, complain);
  print(`stopping (${reason})`);
  try {
    await fleet.stop();
  } catch (error) {
    complain(error instanceof Error ? error.message : String(error));
    return EXIT_FAILURE;
  }
  print('stopped');
  return EXIT_OK;
}

/** Reads commands one line at a time, in order, until quit or a stop signal; resolves to the reason. */
function runConsole(
  fleet: SimulatedFleet,
  io: CliIo,
  print: (text: string) => void,
  complain: (text: string) => void,
): Promise<string> {
  const signals = io.signals ?? process;
  const input = io.stdin;
  return new Promise<string>((resolve) => {
    let done = false;
    let pending: Promise<void> = Promise.resolve();
    const rl = input
      ? createInterface({ input, terminal: false, crlfDelay: Number.POSITIVE_INFINITY })
      : null;

    const finish = (reason: string) => {
      if (done) return;
      done = true;
      signals.off('SIGINT', onInterrupt);
      signals.off('SIGTERM', onTerminate);
      rl?.close();
      // A fault being injected when the signal came finishes before the fleet stops.
      pending = pending.then(() => resolve(reason));
    };
    // `once`: a second Ctrl-C finds no handler and kills the process, the way out of a stuck stop.
    const onInterrupt = () => finish('SIGINT');
    const onTerminate = () => finish('SIGTERM');
    signals.once('SIGINT', onInterrupt);
    signals.once('SIGTERM', onTerminate);

    rl?.on('line', (line) => {
      pending = pending
        .then(() => (done ? 'continue' : runConsoleCommand(line, fleet, print)))
        .then(
          (outcome) => {
            if (outcome === 'quit') finish('quit');
          },
          (error: unknown) => complain(error instanceof Error ? error.message : String(error)),
        );
    });
    rl?.on('close', () => {
      // Ctrl-D on a terminal means quit; a pipe that ends (echo "fault all drop" | …) leaves the fleet running.
      if ((input as { isTTY?: boolean } | null)?.isTTY === true) finish('end of input');
    });
  });
}

function createLogger(level: LogLevel, stderr: Writable): Logger {
  const onTerminal = (stderr as { isTTY?: boolean }).isTTY === true;
  const destination = onTerminal
    ? pretty({ destination: stderr, colorize: true, singleLine: true, ignore: 'pid,hostname,component' })
    : stderr;
  return pino({ level }, destination);
}

/** Console input only from a terminal, pipe, socket or file; never from /dev/null. */
function commandInput(): Readable | null {
  if (process.stdin.isTTY) return process.stdin;
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket() || stat.isFile() ? process.stdin : null;
  } catch (error) {
    // No stdin at all (closed descriptor): run without a console.
    process.stderr.write(
      `note: no console input (${error instanceof Error ? error.message : String(error)})\n`,
    );
    return null;
  }
}

if (isEntryPoint(import.meta.url)) {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdin: commandInput(),
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
}
