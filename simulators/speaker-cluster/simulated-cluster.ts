import { setMaxListeners } from 'node:events';
import { connect } from 'mqtt';
import type { Logger } from 'pino';
import type {
  AckStatus,
  Command,
  DeviceId,
  Heartbeat,
  ItemOutcome,
  PayloadInput,
  ProgrammeItemSource,
  PublishOptions,
  TimerHandle,
  TypedPublish,
} from '../../devices/index.js';
import { StateMessageSchema, TOPICS, topicFor, typedPublish } from '../../devices/index.js';
import { seededRandom } from '../shared/prng.js';
import { ClockTimers } from './clock-timers.js';
import type { ResolvedClusterOptions, SimulatedClusterOptions } from './cluster-options.js';
import { resolveClusterOptions } from './cluster-options.js';
import type { AckRecord, ClusterStatus } from './cluster-status.js';
import { classifyCommand } from './command-intake.js';
import type { RememberedAck } from './command-memory.js';
import { CommandMemory } from './command-memory.js';
import type { Fault, FaultKind } from './faults.js';
import { describeFault, faultKey, SPEAKER_FAULT_CODE } from './faults.js';
import { Maintenance } from './maintenance.js';
import { malformedHeartbeat, malformedRotation } from './malformed-payloads.js';
import type { MediaInfo, MediaSource, PlayCommand, PlayOf } from './media-fetcher.js';
import { MediaFetchError, redactUrl } from './media-fetcher.js';
import type { MqttSession } from './mqtt-session.js';
import { SessionClosedError, untilAborted, untilClosed } from './mqtt-session.js';
import type { FinishCode } from './playback.js';
import { Playback } from './playback.js';
import { PROTOCOL_BACKOFF, ReconnectBackoff } from './reconnect-backoff.js';
import { StreamPlayer } from './stream-player.js';
import type { StreamEnd, StreamRecorder, StreamReport } from './stream-report.js';
import { TelemetryModel } from './telemetry-model.js';

export type { AckRecord, ClusterStatus } from './cluster-status.js';
export type { StreamReport } from './stream-report.js';

type BootReason = 'power-on' | 'reboot-command' | 'firmware-update';
/** What a final ack says besides its status. */
type AckOutcome = Pick<RememberedAck, 'error' | 'items'>;

const LAST_ACKS_KEPT = 16;
const STREAM_REPORTS_KEPT = 20;
/** CONNACK return codes 4 and 5: the broker refused this device's credentials. */
const REFUSED_LOGIN_CODES: readonly unknown[] = [4, 5];

/**
 * A speaker cluster speaking protocol v1 (docs/protocol.md) over a real MQTT connection, with
 * injectable faults. Every timer runs on the injected clock.
 */
export class SimulatedCluster {
  private readonly options: ResolvedClusterOptions;
  private readonly log: Logger;
  private readonly timers: ClockTimers;
  private readonly memory = new CommandMemory();
  private readonly telemetry: TelemetryModel;
  private readonly jitter: () => number;
  private readonly playback: Playback;
  /** Readiness drills and firmware updates, and the firmware version in flash. */
  private readonly maintenance: Maintenance;
  private readonly faults = new Map<string, Fault>();
  private readonly tasks = new Set<Promise<void>>();
  private readonly publish: TypedPublish;
  private readonly acks: AckRecord[] = [];
  /** The stream items being opened or played, by command id. */
  private readonly streams = new Map<string, StreamPlayer>();
  /** What the last stream items received, newest last. */
  private readonly streamRecords: StreamRecorder[] = [];
  private readonly counters = {
    executed: 0,
    duplicates: 0,
    invalid: 0,
    errors: 0,
    dropped: 0,
    mediaFetches: 0,
    mediaFailures: 0,
  };

  private started = false;
  private powered = false;
  private rebooting = false;
  /** Changes on every boot and power loss, so work begun before one does not carry on after it. */
  private powerCycle = 0;
  private bootedAt = 0;
  private bootReason: BootReason = 'power-on';
  private bootEventDue = false;
  private session: MqttSession | null = null;
  private heartbeatTimer: TimerHandle | null = null;
  private heartbeatIntervalS: number;
  private volume: number;
  private power = true;
  private seq = 0;
  private malformedIndex = 0;
  private ackChain: Promise<void> = Promise.resolve();
  /** Resolves once the latest queued ack has been published (or given up on). */
  private lastAckSent: Promise<void> = Promise.resolve();
  private lastConnectError: string | null = null;

  constructor(options: SimulatedClusterOptions) {
    this.options = resolveClusterOptions(options);
    this.log = options.logger.child({ component: 'simulator', deviceId: options.deviceId });
    this.timers = new ClockTimers(this.options.clock);
    this.telemetry = new TelemetryModel(seededRandom(this.options.seed));
    this.jitter = seededRandom(this.options.seed ^ 0x5bd1e995);
    this.heartbeatIntervalS = this.options.heartbeatIntervalS;
    this.volume = this.options.volume;
    this.publish = typedPublish((topic, payload, opts) => this.send(topic, payload, opts));
    this.maintenance = new Maintenance(
      {
        timers: this.timers,
        log: this.log,
        now: () => this.now(),
        connected: () => this.connected,
        playing: () => this.playback.current !== null,
        hasFault: (kind) => this.hasFault(kind),
        takeDownloadFault: () => this.takeDownloadFault(),
        speakerLines: () => this.speakerLines(),
        queueAck: (cmdId, status, outcome) => this.queueAck(cmdId, status, outcome),
        publishEvent: (event) => this.publish(this.deviceId, 'event', event),
        powerCycle: () => this.powerCycle,
        restart: (cycle, reason) => this.restart(cycle, reason),
        track: (work) => this.track(work),
      },
      {
        downloadTimeoutMs: this.options.mediaTimeoutMs,
        installMs: this.options.installMs,
        selftestMs: this.options.selftestMs,
      },
      this.options.fw,
    );
    this.playback = new Playback({
      clock: this.options.clock,
      timers: this.timers,
      timeScale: this.options.timeScale,
      prepare: (play, signal) => this.prepare(play, signal),
      track: (work) => this.track(work),
      breakAfterMs: () => {
        const fault = this.faults.get('playback-fail');
        return fault?.kind === 'playback-fail' ? fault.afterMs : null;
      },
      hooks: {
        started: (play, lateMs) => this.onPlaybackStarted(play, lateMs),
        finished: (play, code, items) => this.onPlaybackFinished(play, code, items),
        failed: (play, code, message, items) => this.onPlaybackFailed(play, code, message, items),
        // A cancelled item gets ack done without playback events (docs/protocol.md section 7).
        cancelled: (play, items) => {
          this.log.info({ cmdId: play.id, broadcastId: play.broadcastId }, 'scheduled item cancelled');
          this.closeStream(play, 'stopped');
          this.queueAck(play.id, 'done', { items });
        },
        itemEnded: (play, report) =>
          this.log.info({ cmdId: play.id, broadcastId: play.broadcastId, ...report }, 'programme item'),
        late: (play) =>
          this.log.warn(
            { cmdId: play.id, broadcastId: play.broadcastId, startAt: play.startAt },
            'media still downloading at startAt; the item will start late, when the download ends',
          ),
      },
    });
  }

  get deviceId(): DeviceId {
    return this.options.deviceId;
  }

  /** The firmware version the cluster runs (and reports in its state message). */
  get firmwareVersion(): string {
    return this.maintenance.fw;
  }

  get connected(): boolean {
    return this.session?.ready === true && this.session.client.connected;
  }

  /** Powers the cluster on and resolves after its first connection attempt, whatever the outcome. */
  async start(): Promise<void> {
    if (this.started) throw new Error(`simulator ${this.deviceId} is already started`);
    this.started = true;
    this.log.info({ url: this.options.url, faults: this.faultList() }, 'simulated cluster starting');
    if (this.faults.has('power-cut')) {
      this.log.info('power is cut; the cluster stays off until the fault is cleared');
      return;
    }
    await this.boot('power-on');
  }

  /** Clean shutdown: state online:false, DISCONNECT, every timer cancelled, all work awaited. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.connected) await this.guard(this.publishOffline());
    this.powerOff('simulator stopped');
    await this.closeSession('disconnect');
    await this.settle();
    this.log.info('simulated cluster stopped');
  }

  status(): ClusterStatus {
    const current = this.playback.current;
    return {
      deviceId: this.deviceId,
      started: this.started,
      powered: this.powered,
      connected: this.connected,
      volume: this.volume,
      power: this.power,
      playing: current !== null,
      broadcastId: current?.broadcastId ?? null,
      seq: this.seq,
      uptimeS: this.uptimeS(),
      heartbeatIntervalS: this.heartbeatIntervalS,
      faults: this.faultList(),
      commandsSeen: this.memory.size,
      commandsExecuted: this.counters.executed,
      duplicateCommands: this.counters.duplicates,
      invalidCommands: this.counters.invalid,
      lastAcks: [...this.acks],
      errors: this.counters.errors,
      dropped: this.counters.dropped,
      mediaFetches: this.counters.mediaFetches,
      mediaFailures: this.counters.mediaFailures,
      timeScale: this.options.timeScale,
      stream: this.streamRecords.at(-1)?.report(this.now()) ?? null,
    };
  }

  /** What each of the last 20 stream items received and decoded, newest last. */
  streamReports(): StreamReport[] {
    const now = this.now();
    return this.streamRecords.map((record) => record.report(now));
  }

  hasFault(kind: FaultKind): boolean {
    return [...this.faults.values()].some((fault) => fault.kind === kind);
  }

  /** Starts a fault now (or at start() when not started yet); resolves once its effect is in place. */
  async injectFault(fault: Fault): Promise<void> {
    if (fault.kind === 'speaker-fault' && fault.speaker > this.options.speakers) {
      throw new RangeError(`${this.deviceId} has speakers 1..${this.options.speakers}, not ${fault.speaker}`);
    }
    const key = faultKey(fault);
    const isNew = !this.faults.has(key);
    this.faults.set(key, fault);
    this.log.warn({ fault: describeFault(fault) }, 'fault injected');
    if (!this.started) return;
    switch (fault.kind) {
      case 'drop':
        await this.closeSession('disconnect');
        return;
      case 'power-cut':
        this.powerOff('power cut');
        await this.closeSession('vanish');
        return;
      case 'speaker-fault':
        if (isNew && this.connected) this.publishSpeakerFault(fault.speaker);
        return;
      default:
        return;
    }
  }

  /** Ends faults of a kind (or all); a speaker number ends only that speaker's fault. */
  async clearFault(kind: FaultKind | 'all', speaker?: number): Promise<void> {
    const cleared = [...this.faults.entries()].filter(
      ([, fault]) =>
        (kind === 'all' || fault.kind === kind) &&
        (speaker === undefined || fault.kind !== 'speaker-fault' || fault.speaker === speaker),
    );
    for (const [key, fault] of cleared) {
      this.faults.delete(key);
      this.log.info({ fault: describeFault(fault) }, 'fault cleared');
      if (fault.kind === 'speaker-fault' && this.connected) {
        const event: PayloadInput<'event'> = {
          type: 'fault-cleared',
          ts: this.now(),
          speaker: fault.speaker,
          code: SPEAKER_FAULT_CODE,
        };
        this.track(this.publish(this.deviceId, 'event', event));
      }
    }
    await this.reconcile();
  }

  /** Brings power and network back in line with the faults still active. */
  private async reconcile(): Promise<void> {
    if (!this.started) return;
    if (!this.powered && !this.rebooting && !this.faults.has('power-cut')) {
      await this.boot(this.bootReason);
      return;
    }
    if (this.powered && this.session === null && !this.faults.has('drop')) await this.openSession();
  }

  private async boot(reason: BootReason): Promise<void> {
    this.powerCycle += 1;
    this.powered = true;
    this.rebooting = false;
    this.seq = 0;
    this.malformedIndex = 0;
    this.bootedAt = this.now();
    this.bootReason = reason;
    this.bootEventDue = true;
    this.log.info({ reason }, 'booted');
    if (this.faults.has('drop')) return;
    await this.openSession();
  }

  /** Everything volatile is lost; volume, power setting, interval and command memory live in flash. */
  private powerOff(why: string): void {
    for (const player of this.streams.values()) player.close(`error: ${why}`);
    this.maintenance.powerLost(why);
    this.powerCycle += 1;
    this.powered = false;
    this.rebooting = false;
    this.bootReason = 'power-on';
    this.timers.cancelAll();
    this.heartbeatTimer = null;
    if (this.session) this.session.reconnectTimer = null;
    this.playback.reset();
  }

  // --- connection -------------------------------------------------------------------------------

  private openSession(): Promise<void> {
    const { deviceId } = this;
    const client = connect(this.options.url, {
      protocolVersion: 4,
      clientId: deviceId,
      username: deviceId,
      password: this.options.secret,
      clean: true,
      keepalive: this.options.keepaliveS,
      // Reconnects follow the protocol's backoff on the cluster's clock, not MQTT.js's fixed period.
      reconnectPeriod: 0,
      resubscribe: false,
      // Heartbeats are not buffered while disconnected (docs/protocol.md section 4, step 6).
      queueQoSZero: false,
      will: this.will(),
    });
    const session: MqttSession = {
      client,
      ready: false,
      closed: new AbortController(),
      backoff: new ReconnectBackoff(
        { ...PROTOCOL_BACKOFF, initialMs: this.options.reconnectInitialMs },
        this.jitter,
      ),
      reconnectTimer: null,
    };
    // Every publish in flight waits on this signal; a burst of heartbeats and acks exceeds the default 10.
    setMaxListeners(0, session.closed.signal);
    this.session = session;
    return new Promise<void>((resolve) => {
      const settled = () => resolve();
      session.closed.signal.addEventListener('abort', settled, { once: true });
      client.on('connect', () => {
        this.track(this.onConnect(session).finally(settled));
      });
      client.on('error', (error) => this.onConnectionError(session, error));
      client.on('close', () => {
        if (session.ready) this.log.info('connection lost');
        session.ready = false;
        settled();
        if (this.session === session) this.scheduleReconnect(session);
      });
      client.on('message', (topic, payload) => {
        if (this.session === session) this.track(this.onCommand(topic, payload));
      });
    });
  }

  /** docs/protocol.md section 4: subscribe, state online, boot event once per boot, heartbeat at once. */
  private async onConnect(session: MqttSession): Promise<void> {
    session.backoff.connected(this.now());
    this.lastConnectError = null;
    const cmdTopic = topicFor(this.deviceId, 'cmd');
    const grants = await untilClosed(
      session,
      session.client.subscribeAsync(cmdTopic, { qos: TOPICS.cmd.qos }),
    );
    if (grants.some((grant) => grant.qos === 128)) {
      // [MQTT-3.9.3-2] 0x80 is a refused subscription: the broker's ACL does not allow this id.
      throw new Error(`broker refused the subscription to ${cmdTopic}`);
    }
    await this.publish(this.deviceId, 'state', this.onlineState());
    if (this.session !== session) return;
    session.ready = true;
    this.log.info('online');
    if (this.bootEventDue) {
      this.bootEventDue = false;
      const event: PayloadInput<'event'> = {
        type: 'boot',
        ts: this.now(),
        code: this.bootReason,
        message: `fw ${this.maintenance.fw}`,
      };
      await this.publish(this.deviceId, 'event', event);
      this.maintenance.booted();
      for (const fault of this.faults.values()) {
        if (fault.kind === 'speaker-fault') this.publishSpeakerFault(fault.speaker);
      }
      if (this.session !== session) return;
    }
    this.heartbeatTick();
    this.restartHeartbeat();
  }

  private onConnectionError(session: MqttSession, error: Error): void {
    this.counters.errors += 1;
    if (REFUSED_LOGIN_CODES.includes((error as { code?: unknown }).code)) session.backoff.refusedLogin();
    // A refused or unreachable broker fails every attempt the same way: warn once per change.
    const repeated = error.message === this.lastConnectError;
    this.lastConnectError = error.message;
    this.log[repeated ? 'debug' : 'warn']({ err: error }, 'connection error');
  }

  private scheduleReconnect(session: MqttSession): void {
    if (session.reconnectTimer !== null || !this.powered) return;
    const delayMs = session.backoff.nextDelay(this.now());
    this.log.debug({ delayMs }, 'reconnecting after a delay');
    session.reconnectTimer = this.timers.timeout(() => {
      session.reconnectTimer = null;
      if (this.session !== session) return;
      // The will goes out in every CONNECT, so it gets a fresh timestamp [MQTT-3.1.2-9].
      session.client.options.will = this.will();
      session.client.reconnect();
    }, delayMs);
  }

  /**
   * `disconnect` sends DISCONNECT, so the broker discards the will [MQTT-3.14.4-3]; `vanish` drops
   * the socket without it, so the broker publishes the will [MQTT-3.1.2-8].
   */
  private async closeSession(how: 'disconnect' | 'vanish'): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.session = null;
    session.ready = false;
    if (session.reconnectTimer !== null) this.timers.cancel(session.reconnectTimer);
    const graceful = how === 'disconnect' && session.client.connected;
    if (graceful) {
      // MQTT.js holds a graceful end until every in-flight QoS 1 publish is acknowledged; one sent
      // over an earlier connection (before the broker restarted) never will be, and the stop would
      // wait forever. The cluster is leaving: what is still in flight is abandoned.
      for (const messageId of Object.keys(session.client.outgoing))
        session.client.removeOutgoingMessage(Number(messageId));
    }
    try {
      await session.client.endAsync(!graceful);
    } finally {
      session.closed.abort();
    }
    this.log.info({ how: graceful ? 'disconnect' : 'socket-closed' }, 'connection ended');
  }

  // --- heartbeats -------------------------------------------------------------------------------

  private restartHeartbeat(): void {
    if (this.heartbeatTimer !== null) this.timers.cancel(this.heartbeatTimer);
    this.heartbeatTimer = this.timers.interval(() => this.heartbeatTick(), this.heartbeatIntervalS * 1000);
  }

  private heartbeatTick(): void {
    if (!this.connected || this.faults.has('heartbeat-stop')) return;
    const heartbeat = this.buildHeartbeat();
    this.seq += 1;
    if (!this.faults.has('malformed')) {
      this.track(this.publish(this.deviceId, 'heartbeat', heartbeat));
      return;
    }
    const rotation = malformedRotation(this.options.oversizeBytes);
    const kind = rotation[this.malformedIndex % rotation.length] ?? 'not-json';
    this.malformedIndex += 1;
    const payload = malformedHeartbeat(kind, heartbeat, this.options.oversizeBytes);
    this.log.debug({ kind, bytes: payload.length }, 'sending a malformed heartbeat');
    const { qos, retain } = TOPICS.heartbeat;
    this.track(this.send(topicFor(this.deviceId, 'heartbeat'), payload, { qos, retain }));
  }

  private buildHeartbeat(): Heartbeat {
    const sample = this.telemetry.next({
      weakSignal: this.faults.has('weak-signal'),
      overheat: this.faults.has('overheat'),
    });
    const playing = this.playback.current !== null;
    return {
      ts: this.now(),
      seq: this.seq,
      uptimeS: this.uptimeS(),
      rssiDbm: sample.rssiDbm,
      net: '4g',
      volume: this.volume,
      // A play powers the amplifiers out of standby for its item (docs/protocol.md, `power`).
      power: this.power || playing,
      playing,
      speakers: this.speakerLines(),
      tempC: sample.tempC,
      supplyV: sample.supplyV,
      heartbeatIntervalS: this.heartbeatIntervalS,
      ...this.streamHealth(),
    };
  }

  /** Each speaker output's health, as heartbeats and selftests report it. */
  private speakerLines(): Heartbeat['speakers'] {
    return Array.from({ length: this.options.speakers }, (_, i) => {
      const idx = i + 1;
      return this.faults.has(`speaker-fault:${idx}`)
        ? { idx, ok: false, fault: SPEAKER_FAULT_CODE }
        : { idx, ok: true };
    });
  }

  /** The stream playing now, for the heartbeat: how it is going, as technicians see it. */
  private streamHealth(): Pick<Heartbeat, 'stream'> {
    const report = this.streamRecords.at(-1)?.report(this.now());
    if (!report || report.health === 'ended') return {};
    return {
      stream: {
        broadcastId: report.broadcastId,
        state: report.health,
        decodedS: Math.round(report.decodedS * 10) / 10,
        gaps: report.gaps.length,
        reconnects: report.reconnects.length,
      },
    };
  }

  // --- commands ---------------------------------------------------------------------------------

  private async onCommand(topic: string, payload: Buffer): Promise<void> {
    if (topic !== topicFor(this.deviceId, 'cmd')) return;
    const intake = classifyCommand(payload, this.memory, this.now());
    switch (intake.action) {
      case 'drop':
        this.counters.invalid += 1;
        this.log.warn({ reason: intake.reason, bytes: payload.length }, 'command dropped');
        return;
      case 'repeat-ack':
        this.counters.duplicates += 1;
        this.log.info(
          { cmdId: intake.cmdId, status: intake.ack.status },
          'duplicate command; re-sending its ack',
        );
        this.queueAck(intake.cmdId, intake.ack.status, intake.ack);
        return;
      case 'reject':
        if (intake.error !== 'expired') this.counters.invalid += 1;
        this.log.warn(
          { cmdId: intake.cmdId, error: intake.error, detail: intake.detail },
          'command rejected',
        );
        this.queueAck(intake.cmdId, 'rejected', { error: intake.error });
        return;
      case 'execute':
        this.counters.executed += 1;
        this.log.info({ cmdId: intake.command.id, type: intake.command.type }, 'command');
        await this.execute(intake.command);
        return;
    }
  }

  private async execute(command: Command): Promise<void> {
    switch (command.type) {
      case 'volume':
        this.queueAck(command.id, 'accepted');
        this.volume = command.level;
        this.queueAck(command.id, 'done');
        return;
      case 'power':
        this.power = command.on;
        this.queueAck(command.id, 'done');
        return;
      case 'ping':
        this.queueAck(command.id, 'done');
        return;
      case 'stop':
        this.playback.stop(command.broadcastId);
        this.queueAck(command.id, 'done');
        return;
      case 'config':
        if (command.heartbeatIntervalS !== undefined) {
          this.heartbeatIntervalS = command.heartbeatIntervalS;
          this.restartHeartbeat();
        }
        this.queueAck(command.id, 'done');
        return;
      case 'reboot':
        await this.reboot(command.id);
        return;
      case 'play':
        this.play(command);
        return;
      case 'selftest':
        this.maintenance.selftest(command);
        return;
      case 'firmware':
        this.maintenance.updateFirmware(command);
        return;
    }
  }

  /** Ack done and its PUBACK, state online:false, DISCONNECT, then boot after the reboot time. */
  private async reboot(cmdId: string): Promise<void> {
    const cycle = this.powerCycle;
    this.queueAck(cmdId, 'done');
    await this.lastAckSent;
    await this.restart(cycle, 'reboot-command');
  }

  /** State online:false, DISCONNECT, then boot after the reboot time (unless the power went first). */
  private async restart(cycle: number, reason: BootReason): Promise<void> {
    if (cycle !== this.powerCycle) return;
    if (this.connected) await this.guard(this.publishOffline());
    if (cycle !== this.powerCycle) return;
    this.powerOff('reboot');
    this.rebooting = true;
    this.bootReason = reason;
    this.log.info({ rebootMs: this.options.rebootMs, reason }, 'rebooting');
    this.timers.timeout(() => {
      this.rebooting = false;
      this.track(this.reconcile());
    }, this.options.rebootMs);
    await this.closeSession('disconnect');
  }

  /** Ack accepted, then the download starts at once (media, programme) and the item waits for its startAt. */
  private play(play: PlayCommand): void {
    if (!this.playback.canStartNow(play)) {
      this.queueAck(play.id, 'rejected', { error: 'busy' });
      return;
    }
    this.memory.record(play.id, { status: 'accepted', attempt: play.attempt ?? 1 });
    this.queueAck(play.id, 'accepted');
    this.playback.schedule(play);
  }

  /** Makes a play's audio ready for Playback: its download(s), or its stream opened. */
  private prepare(play: PlayCommand, signal: AbortSignal): Promise<MediaInfo> {
    const { source } = play;
    switch (source.kind) {
      case 'media':
        return this.fetchMedia(play, source, signal);
      case 'programme':
        return this.fetchProgramme(play, source.items, signal);
      case 'stream':
        return this.openStream({ ...play, source });
    }
  }

  /**
   * Every media item of a programme, one after the other, each checked against its own size and
   * SHA-256; the first failure fails the whole play before its first sound.
   */
  private async fetchProgramme(
    play: PlayCommand,
    sources: readonly ProgrammeItemSource[],
    signal: AbortSignal,
  ): Promise<MediaInfo> {
    const items: MediaInfo[] = [];
    for (const source of sources) {
      signal.throwIfAborted();
      items.push(source.kind === 'media' ? await this.fetchMedia(play, source, signal) : {});
    }
    return { items };
  }

  /**
   * One media download, with the cluster's timeout on its clock; the signal is aborted when the item
   * is stopped or the power goes. The `download-fail` fault fails it before any request. A
   * programme's items are fetched as if each were the play's only source.
   */
  private async fetchMedia(play: PlayCommand, source: MediaSource, signal: AbortSignal): Promise<MediaInfo> {
    const url = redactUrl(source.url);
    this.counters.mediaFetches += 1;
    try {
      const fault = this.takeDownloadFault();
      if (fault) throw fault;
      this.log.debug({ cmdId: play.id, kind: source.kind, url }, 'fetching media');
      const timeout = new AbortController();
      const relay = () => timeout.abort(signal.reason);
      signal.addEventListener('abort', relay, { once: true });
      const timeoutS = this.options.mediaTimeoutMs / 1000;
      const timedOut = `GET ${url}: download not complete within ${timeoutS} s`;
      const timer = this.timers.timeout(
        () => timeout.abort(new MediaFetchError('fetch-failed', timedOut)),
        this.options.mediaTimeoutMs,
      );
      try {
        // A fetcher that ignores the signal still ends at the timeout.
        const info = await untilAborted(
          this.options.fetchMedia({ ...play, source }, { signal: timeout.signal }),
          timeout.signal,
        );
        this.log.info(
          { cmdId: play.id, kind: source.kind, url, bytes: info?.bytes, durationS: info?.durationS },
          'media downloaded',
        );
        return info ?? {};
      } finally {
        this.timers.cancel(timer);
        signal.removeEventListener('abort', relay);
      }
    } catch (error) {
      if (!signal.aborted) this.counters.mediaFailures += 1;
      throw error;
    }
  }

  /**
   * Opens a stream item at its startAt; resolves at its first decoded audio, when the item starts.
   * The player reads on until the stream ends or the item does (closeStream); its report is kept.
   */
  private openStream(play: PlayOf<'stream'>): Promise<MediaInfo> {
    this.counters.mediaFetches += 1;
    const player = new StreamPlayer(play, {
      clock: this.options.clock,
      timers: this.timers,
      log: this.log,
      openTimeoutMs: this.options.mediaTimeoutMs,
      ended: (outcome) =>
        outcome.kind === 'end-of-stream'
          ? this.playback.finish(play.id, 'completed')
          : this.playback.fail(play.id, outcome.code, outcome.message),
    });
    this.streams.set(play.id, player);
    this.streamRecords.push(player.recorder);
    if (this.streamRecords.length > STREAM_REPORTS_KEPT) this.streamRecords.shift();
    this.log.debug({ cmdId: play.id, url: redactUrl(play.source.url) }, 'opening stream');
    this.track(
      player.run().then(() => {
        if (this.streams.get(play.id) === player) this.streams.delete(play.id);
        const stream = player.recorder.report(this.now());
        this.log.info({ cmdId: play.id, broadcastId: play.broadcastId, stream }, 'stream report');
      }),
    );
    return player.firstAudio.then(
      () => ({}),
      (error: unknown) => {
        // A stream closed by its owner before any audio (stop, power) failed nothing.
        if (error instanceof MediaFetchError) this.counters.mediaFailures += 1;
        throw error;
      },
    );
  }

  /** Ends a stream item's connection, if it has one, recording how the item ended. */
  private closeStream(play: PlayCommand, how: StreamEnd): void {
    if (play.source.kind === 'stream') this.streams.get(play.id)?.close(how);
  }

  /** The download-fail fault's error, counting down (and clearing) a fault limited to n downloads; else null. */
  private takeDownloadFault(): MediaFetchError | null {
    const fault = this.faults.get('download-fail');
    if (fault?.kind !== 'download-fail') return null;
    if (fault.remaining !== undefined && fault.remaining > 1) {
      this.faults.set('download-fail', { kind: 'download-fail', remaining: fault.remaining - 1 });
    } else if (fault.remaining !== undefined) {
      this.faults.delete('download-fail');
      this.log.info('fault download-fail used up; downloads work again');
    }
    return new MediaFetchError(
      'fetch-failed',
      'simulated network failure: no response (download-fail fault)',
    );
  }

  private onPlaybackStarted(play: PlayCommand, lateMs: number): void {
    if (lateMs > 0) {
      const why =
        play.source.kind === 'stream'
          ? 'the stream gave its first audio only then'
          : 'the media download outlasted startAt';
      this.log.warn(
        { cmdId: play.id, broadcastId: play.broadcastId, lateMs },
        `playback started ${lateMs} ms late: ${why}`,
      );
    } else {
      this.log.info({ cmdId: play.id, broadcastId: play.broadcastId }, 'playback started');
    }
    this.memory.markStarted(play.id, this.now());
    this.streams.get(play.id)?.playing();
    const event: PayloadInput<'event'> = {
      type: 'playback-started',
      ts: this.now(),
      cmdId: play.id,
      broadcastId: play.broadcastId,
    };
    this.track(this.publish(this.deviceId, 'event', event));
  }

  private onPlaybackFinished(play: PlayCommand, code: FinishCode, items: ItemOutcome[] | undefined): void {
    this.log.info({ cmdId: play.id, broadcastId: play.broadcastId, code }, 'playback finished');
    // `completed` is the stream's own end, already recorded.
    if (code !== 'completed') this.closeStream(play, code === 'end-at' ? 'endAt' : 'stopped');
    const event: PayloadInput<'event'> = {
      type: 'playback-finished',
      ts: this.now(),
      cmdId: play.id,
      broadcastId: play.broadcastId,
      code,
    };
    this.track(this.publish(this.deviceId, 'event', event));
    this.queueAck(play.id, 'done', { items });
  }

  private onPlaybackFailed(
    play: PlayCommand,
    code: string,
    message: string,
    items: ItemOutcome[] | undefined,
  ): void {
    this.log.warn(
      { cmdId: play.id, broadcastId: play.broadcastId, code, reason: message },
      'playback failed',
    );
    this.closeStream(play, `error: ${code}: ${message}`);
    const event: PayloadInput<'event'> = {
      type: 'playback-failed',
      ts: this.now(),
      cmdId: play.id,
      broadcastId: play.broadcastId,
      code,
      message: message.slice(0, 200),
    };
    this.track(this.publish(this.deviceId, 'event', event));
    this.queueAck(play.id, 'failed', { error: code, items });
  }

  private publishSpeakerFault(speaker: number): void {
    const event: PayloadInput<'event'> = { type: 'fault', ts: this.now(), speaker, code: SPEAKER_FAULT_CODE };
    this.track(this.publish(this.deviceId, 'event', event));
  }

  /**
   * Records the ack as the command's latest and sends it in order behind earlier acks, after the
   * slow-acks delay counted from now; `no-acks` records it but never sends it. `ts` is when the
   * status was reached (docs/protocol.md section 6.4), whatever the delay.
   */
  private queueAck(cmdId: string, status: AckStatus, { error, items }: AckOutcome = {}): void {
    const ts = this.now();
    this.memory.record(cmdId, { status, error, items });
    // A play's acks say when it was first heard: the playback-started event may have been lost
    // while the platform was away, and a repeated ack is then all the platform hears of it.
    const startedAt = this.memory.get(cmdId)?.startedAt;
    const record: AckRecord = {
      cmdId,
      status,
      ...(error === undefined ? {} : { error }),
      ts,
      ...(startedAt === undefined ? {} : { startedAt }),
      ...(items === undefined ? {} : { items }),
    };
    this.acks.push(record);
    if (this.acks.length > LAST_ACKS_KEPT) this.acks.shift();
    // A selftest's done ack, and every repeat of it, carries its result (docs/protocol.md 6.4).
    const selftest = status === 'done' ? this.maintenance.resultOf(cmdId) : undefined;
    if (this.faults.has('no-acks')) {
      this.log.debug({ cmdId, status }, 'ack withheld (no-acks)');
      return;
    }
    const slow = this.faults.get('slow-acks');
    const dueAt = ts + (slow?.kind === 'slow-acks' ? slow.delayMs : 0);
    // The chain keeps acks in order and holds each for the slow-acks delay; it hands each to the
    // client without waiting for the previous one's PUBACK (MQTT.js writes in call order). A
    // publish left in flight by a broker crash may never complete, and must not hold back every
    // later ack. `handed` resolves once this ack's publish has completed or failed.
    let handed: Promise<void> = Promise.resolve();
    const link = this.ackChain
      .then(async () => {
        if (!(await this.timers.delay(dueAt - this.now()))) return;
        const sending = this.publish(this.deviceId, 'ack', { ...record, ...(selftest ? { selftest } : {}) });
        handed = sending.catch((failure: unknown) => this.countFailure(failure, 'ack not sent'));
        this.track(handed);
      })
      .catch((failure: unknown) => this.countFailure(failure, 'ack not sent'));
    this.ackChain = link;
    this.lastAckSent = link.then(() => handed);
    this.track(link);
  }

  // --- plumbing ---------------------------------------------------------------------------------

  /** Sends on the current connection; with none (dropped, powered off) the message is lost, as on a device. */
  private async send(topic: string, payload: Buffer, options: PublishOptions): Promise<void> {
    const session = this.session;
    if (!session) {
      this.counters.dropped += 1;
      this.log.debug({ topic }, 'not on the network; message dropped');
      return;
    }
    try {
      await untilClosed(session, session.client.publishAsync(topic, payload, options));
    } catch (error) {
      // Ending a client fails its in-flight publishes ("Connection closed"); that is the drop or
      // power cut being simulated, not a fault of the simulator.
      if (!(error instanceof SessionClosedError) && this.session === session) throw error;
      this.counters.dropped += 1;
      this.log.debug({ topic }, 'connection ended before the message was sent');
    }
  }

  private publishOffline(): Promise<void> {
    return this.publish(this.deviceId, 'state', { online: false, ts: this.now() });
  }

  /** Runs work in the background; stop() waits for it, and a failure is logged and counted. */
  private track(work: Promise<void>): void {
    const tracked: Promise<void> = work.then(
      () => {
        this.tasks.delete(tracked);
      },
      (error: unknown) => {
        this.tasks.delete(tracked);
        // The cluster ended the connection itself while this was waiting on it: nothing failed.
        if (error instanceof SessionClosedError) this.log.debug('work abandoned with its connection');
        else this.countFailure(error, 'simulator task failed');
      },
    );
    this.tasks.add(tracked);
  }

  /** Awaits work in line, logging and counting a failure instead of throwing it. */
  private guard(work: Promise<void>): Promise<void> {
    return work.catch((error: unknown) => this.countFailure(error, 'simulator step failed'));
  }

  private countFailure(error: unknown, message: string): void {
    this.counters.errors += 1;
    this.log.error({ err: error }, message);
  }

  private async settle(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }

  private will() {
    const payload = StateMessageSchema.parse({ online: false, ts: this.now() });
    const { qos, retain } = TOPICS.state;
    return {
      topic: topicFor(this.deviceId, 'state'),
      payload: Buffer.from(JSON.stringify(payload)),
      qos,
      retain,
    };
  }

  private onlineState(): PayloadInput<'state'> {
    const { model, speakers } = this.options;
    return { online: true, ts: this.now(), fw: this.maintenance.fw, model, speakers };
  }

  private faultList(): string[] {
    return [...this.faults.values()].map(describeFault);
  }

  private uptimeS(): number {
    return this.powered ? Math.round((this.now() - this.bootedAt) / 100) / 10 : 0;
  }

  /** Whole milliseconds, as a device's clock reports them (a manual clock may stand between two). */
  private now(): number {
    return Math.floor(this.options.clock.now());
  }
}
