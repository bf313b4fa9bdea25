import type { ClusterStatus } from './cluster-status.js';
import type { Fault, FaultKind } from './faults.js';
import { FAULT_KINDS, FaultSpecError, isFaultKind, parseFault } from './faults.js';
import type { SimulatedFleet } from './fleet.js';
import { UnknownDeviceError } from './fleet.js';
import type { StreamReport } from './stream-report.js';

export type ConsoleOutcome = 'continue' | 'quit';

export const CONSOLE_HELP = `Commands:
  list                              one line per cluster: id, connection, volume, power, playing, faults, stream
  status <id>                       everything one cluster reports
  fault <id|all> <fault> [arg]      inject a fault (${FAULT_KINDS.join(', ')})
                                    e.g. "fault all download-fail 2", "fault hd-c01 playback-fail 5000"
  clear <id|all> <fault|all> [n]    clear a fault; "clear <id> speaker-fault 2" clears speaker 2 only
  help                              this list
  quit                              stop every cluster cleanly and exit`;

/** Runs one line typed at the simulator's console and prints its answer. */
export async function runConsoleCommand(
  line: string,
  fleet: SimulatedFleet,
  print: (text: string) => void,
): Promise<ConsoleOutcome> {
  const [command, ...args] = line.trim().split(/\s+/).filter(Boolean);
  try {
    switch (command) {
      case undefined:
        return 'continue';
      case 'help':
      case '?':
        print(CONSOLE_HELP);
        return 'continue';
      case 'list':
        print(formatList(fleet.status()));
        return 'continue';
      case 'status':
        print(formatStatus(single(fleet, args, 'status <id>')));
        return 'continue';
      case 'fault':
        await injectFault(fleet, args, print);
        return 'continue';
      case 'clear':
        await clearFault(fleet, args, print);
        return 'continue';
      case 'quit':
      case 'exit':
        return 'quit';
      default:
        print(`error: unknown command "${command}"; type help`);
        return 'continue';
    }
  } catch (error) {
    // Typing mistakes and impossible faults (a speaker the cluster lacks) are answered, not fatal.
    if (
      error instanceof ConsoleUsageError ||
      error instanceof FaultSpecError ||
      error instanceof UnknownDeviceError ||
      error instanceof RangeError
    ) {
      print(`error: ${error.message}`);
      return 'continue';
    }
    throw error;
  }
}

export function formatList(statuses: readonly ClusterStatus[]): string {
  const width = Math.max(0, ...statuses.map((status) => status.deviceId.length));
  return statuses.map((status) => formatListLine(status, width)).join('\n');
}

export function formatListLine(status: ClusterStatus, idWidth = 0): string {
  return [
    status.deviceId.padEnd(idWidth),
    connection(status).padEnd(12),
    `volume=${status.volume}`.padEnd(10),
    `power=${status.power ? 'on' : 'off'}`.padEnd(9),
    `playing=${status.playing ? (status.broadcastId ?? 'yes') : 'no'}`,
    `faults=${status.faults.length === 0 ? 'none' : status.faults.join(',')}`,
    ...(status.stream ? [`stream=${status.stream.health}`] : []),
  ].join('  ');
}

export function formatStatus(status: ClusterStatus): string {
  const acks = status.lastAcks.map(
    (ack) =>
      `    ${new Date(ack.ts).toISOString()}  ${ack.cmdId}  ${ack.status}${ack.error ? ` (${ack.error})` : ''}`,
  );
  return [
    `${status.deviceId}`,
    `  connection:       ${connection(status)}`,
    `  volume:           ${status.volume}`,
    `  power:            ${status.power ? 'on' : 'off'}`,
    `  playing:          ${status.playing ? (status.broadcastId ?? 'yes') : 'no'}`,
    `  heartbeat:        every ${status.heartbeatIntervalS} s, next seq ${status.seq}`,
    `  uptime:           ${status.uptimeS} s`,
    `  faults:           ${status.faults.length === 0 ? 'none' : status.faults.join(', ')}`,
    `  commands:         ${status.commandsExecuted} executed, ${status.duplicateCommands} duplicate, ${status.invalidCommands} invalid, ${status.commandsSeen} ids remembered`,
    `  media:            ${status.mediaFetches} fetched, ${status.mediaFailures} failed; playing times ÷ ${status.timeScale}`,
    `  stream:           ${status.stream ? formatStream(status.stream) : 'none'}`,
    `  errors:           ${status.errors}, messages dropped offline: ${status.dropped}`,
    `  last acks:${acks.length === 0 ? '        none' : `\n${acks.join('\n')}`}`,
  ].join('\n');
}

/** One line of stream health: `decoding, 12.4 s decoded, 440 Hz, 1 gap, 0 reconnects (bc-1)`. */
export function formatStream(report: StreamReport): string {
  const hz = report.dominantHz === null ? 'no tone' : `${Math.round(report.dominantHz)} Hz`;
  const gaps = `${report.gaps.length} gap${report.gaps.length === 1 ? '' : 's'}`;
  const reconnects = `${report.reconnects.length} reconnect${report.reconnects.length === 1 ? '' : 's'}`;
  const ended = report.ended === null ? '' : `; ${report.ended}`;
  return `${report.health}, ${report.decodedS.toFixed(1)} s decoded, ${hz}, ${gaps}, ${reconnects} (${report.broadcastId})${ended}`;
}

class ConsoleUsageError extends Error {}

function connection(status: ClusterStatus): string {
  if (!status.started) return 'stopped';
  if (!status.powered) return 'powered-off';
  return status.connected ? 'connected' : 'offline';
}

function single(fleet: SimulatedFleet, args: readonly string[], usage: string): ClusterStatus {
  const [id, ...rest] = args;
  if (id === undefined || rest.length > 0 || id === 'all') throw new ConsoleUsageError(`usage: ${usage}`);
  return fleet.require(id).status();
}

async function injectFault(fleet: SimulatedFleet, args: readonly string[], print: (text: string) => void) {
  const [target, kind, arg, ...rest] = args;
  if (target === undefined || kind === undefined || rest.length > 0) {
    throw new ConsoleUsageError('usage: fault <id|all> <fault> [arg]');
  }
  const fault: Fault = parseFault(kind, arg);
  await fleet.injectFault(target, fault);
  print(`ok: ${kind}${arg === undefined ? '' : ` ${arg}`} on ${target}`);
}

async function clearFault(fleet: SimulatedFleet, args: readonly string[], print: (text: string) => void) {
  const [target, kind, arg, ...rest] = args;
  if (target === undefined || kind === undefined || rest.length > 0) {
    throw new ConsoleUsageError('usage: clear <id|all> <fault|all> [speaker]');
  }
  const which = parseClearKind(kind);
  let speaker: number | undefined;
  if (arg !== undefined) {
    if (which !== 'speaker-fault')
      throw new ConsoleUsageError('only speaker-fault takes an argument when clearing');
    const fault = parseFault(kind, arg);
    speaker = fault.kind === 'speaker-fault' ? fault.speaker : undefined;
  }
  await fleet.clearFault(target, which, speaker);
  print(`ok: cleared ${kind}${arg === undefined ? '' : ` ${arg}`} on ${target}`);
}

function parseClearKind(kind: string): FaultKind | 'all' {
  if (kind === 'all' || isFaultKind(kind)) return kind;
  throw new ConsoleUsageError(`unknown fault "${kind}"; expected all or one of ${FAULT_KINDS.join(', ')}`);
}
