import type { AckStatus, DeviceId, ItemOutcome } from '../../devices/index.js';
import type { StreamReport } from './stream-report.js';

export interface AckRecord {
  readonly cmdId: string;
  readonly status: AckStatus;
  readonly error?: string;
  readonly ts: number;
  readonly startedAt?: number;
  readonly items?: ItemOutcome[];
}

/** What a simulated cluster reports about itself to tests and the simulator console. */
export interface ClusterStatus {
  readonly deviceId: DeviceId;
  /** start() was called and stop() was not. */
  readonly started: boolean;
  /** Booted: false during a power cut and while a reboot is under way. */
  readonly powered: boolean;
  /** Connected to the broker, commands subscribed and state published. */
  readonly connected: boolean;
  /** Master volume. */
  readonly volume: number;
  /** Amplifier power setting (standby when false). */
  readonly power: boolean;
  readonly playing: boolean;
  readonly broadcastId: string | null;
  /** Heartbeats sent since boot; the next heartbeat carries this seq. */
  readonly seq: number;
  readonly uptimeS: number;
  readonly heartbeatIntervalS: number;
  readonly faults: readonly string[];
  /** Distinct command ids remembered for de-duplication. */
  readonly commandsSeen: number;
  /** Commands carried out (duplicates, expired and invalid ones excluded). */
  readonly commandsExecuted: number;
  readonly duplicateCommands: number;
  /** Commands dropped for lack of an id, or rejected as unsupported or invalid. */
  readonly invalidCommands: number;
  /** The most recent acks decided, oldest first, including ones a fault held back. */
  readonly lastAcks: readonly AckRecord[];
  /** Failed publishes, connection errors and other unexpected failures. */
  readonly errors: number;
  /** Messages not sent because the cluster was off the network. */
  readonly dropped: number;
  /** Media downloads and stream openings begun (download-fail failures included). */
  readonly mediaFetches: number;
  /**
   * Of those, the ones that failed before the item started (HTTP error, timeout, size or SHA-256
   * mismatch, a stream that is not MP3, fault).
   */
  readonly mediaFailures: number;
  /** Playing times are divided by this. */
  readonly timeScale: number;
  /**
   * The newest stream item's report: the one opening or playing now, else the last one played
   * (its health `ended` or `fault`); null before the first stream.
   */
  readonly stream: StreamReport | null;
}
