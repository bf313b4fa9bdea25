import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  createReadStream,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import type { DeliveryState } from '../../contracts/broadcasts.js';
import {
  type LiveClientToServerEvents,
  type LiveEnded,
  type LiveServerToClientEvents,
  type LiveStarted,
  LiveStartSchema,
} from '../../contracts/live.js';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { homeCommune, type Principal } from '../accounts/roles.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { BroadcastStore } from '../broadcasts/broadcast-store.js';
import type { Dispatcher } from '../broadcasts/dispatcher.js';
import { scopedTargets } from '../broadcasts/targets.js';
import { ConflictError, DomainError } from '../errors.js';
import type { MediaLibrary } from '../media/media-library.js';
import type { Credential } from '../realtime/access.js';
import type { RegistryStore } from '../registry/registry-store.js';
import { type LiveEndReason, LiveSession } from './live-session.js';

const TICK_MS = 200;
const STATUS_EVERY_MS = 1_000;

/** Why a talk's deliveries ended, as the broadcast log says it. */
const STOP_REASONS: Record<LiveEndReason, string> = {
  stopped: 'the operator ended the live talk',
  'operator-lost': "the operator's connection was lost; the talk ended after the silence limit",
  'max-duration': 'the live talk reached its longest allowed duration',
  'pre-empted': 'the live talk was stopped from the broadcast log',
  failed: 'the live talk failed on the platform',
};

export interface LiveServiceOptions {
  dispatcher: Dispatcher;
  broadcasts: BroadcastStore;
  registry: RegistryStore;
  media: MediaLibrary;
  /** Where clusters reach the platform (scheme, host and port), for the stream link. */
  baseUrl(): string;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** DATA_DIR/live: recordings as they are made, with what is needed to keep them after a crash. */
  dir: string;
  signingKey: Buffer;
  maxDurationS: number;
  silenceLimitS: number;
}

type LiveSocketData = { principal: Principal; credential: Credential };
type LiveNamespace = Namespace<
  LiveClientToServerEvents,
  LiveServerToClientEvents,
  Record<string, never>,
  LiveSocketData
>;

interface Running {
  session: LiveSession;
  name: string;
  principal: Principal;
  address: string | null;
  /** The console connection the talk came from, while it is connected. */
  socketId: string | null;
  lastStatusAt: number;
}

/** What a recording needs to be kept after a crash: written beside it when the talk starts. */
interface RecordingNote {
  sessionId: string;
  broadcastId: string | null;
  name: string;
  createdBy: string | null;
  communeId: string | null;
}

/**
 * Live talk: a console's microphone, encoded once on the platform into one MP3 stream that every
 * target cluster plays (a `live`-kind broadcast with a signed stream link), recorded as it goes
 * and kept in the media library, linked from the broadcast log. A clip is the same without
 * targets: the recording alone.
 */
export class LiveService {
  private readonly running = new Map<string, Running>();
  private namespace: LiveNamespace | null = null;
  private timer: TimerHandle | null = null;
  private readonly logger: Logger;

  constructor(private readonly options: LiveServiceOptions) {
    this.logger = options.logger.child({ component: 'live' });
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  }

  /** Serves the console's `/live` namespace and starts the clock that keeps every talk going. */
  attach(namespace: LiveNamespace): void {
    this.namespace = namespace;
    namespace.on('connection', (socket) => {
      let current: string | null = null;
      const { principal } = socket.data;
      const address = socket.handshake.address || null;
      socket.on('live.start', async (raw, ack) => {
        if (typeof ack !== 'function') return;
        if (current && this.running.has(current)) {
          ack({
            ok: false,
            error: { code: 'conflict', message: 'a talk is already under way on this connection' },
          });
          return;
        }
        const parsed = LiveStartSchema.safeParse(raw);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          ack({
            ok: false,
            error: {
              code: 'invalid_request',
              message: `${['start', ...(issue?.path ?? [])].join('.')}: ${issue?.message ?? 'invalid'}`,
            },
          });
          return;
        }
        try {
          const started = await this.start(principal, parsed.data, address, socket.id);
          current = started.sessionId;
          ack({ ok: true, value: started });
        } catch (error) {
          ack({ ok: false, error: errorOf(error) });
        }
      });
      socket.on('live.audio', (pcm) => {
        const running = current ? this.running.get(current) : undefined;
        if (!running || !Buffer.isBuffer(pcm)) return;
        const refusal = running.session.push(pcm, this.options.clock.now());
        if (refusal) this.logger.debug({ sessionId: running.session.id, refusal }, 'audio chunk refused');
      });
      socket.on('live.stop', async (ack) => {
        const running = current ? this.running.get(current) : undefined;
        if (typeof ack !== 'function') return;
        if (!running) {
          ack({
            ok: false,
            error: { code: 'not_found', message: 'no talk is under way on this connection' },
          });
          return;
        }
        ack({ ok: true, value: await this.end(running, 'stopped') });
      });
      socket.on('disconnect', () => {
        // The talk goes on (silence filled in) until the silence limit, then ends everywhere.
        const running = current ? this.running.get(current) : undefined;
        if (running) running.socketId = null;
      });
    });
  }

  /** The clock that keeps talks going runs only while there is one: an idle platform sleeps. */
  private ticking(on: boolean): void {
    if (on && !this.timer) this.timer = this.options.clock.setInterval(() => this.tick(), TICK_MS);
    if (!on && this.timer) {
      this.options.clock.clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Ends every talk (the platform stops) and keeps their recordings. */
  async stop(): Promise<void> {
    if (this.timer) this.options.clock.clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.running.values()].map((running) => this.end(running, 'failed')));
    this.namespace = null;
  }

  /**
   * Keeps the recordings of talks a crash cut short, and ends their broadcasts on the clusters:
   * their stream is gone.
   */
  async recoverInterrupted(): Promise<void> {
    for (const file of readdirSync(this.options.dir).filter((f) => f.endsWith('.json'))) {
      const notePath = join(this.options.dir, file);
      try {
        const note = JSON.parse(readFileSync(notePath, 'utf8')) as RecordingNote;
        if (note.broadcastId && this.options.broadcasts.get(note.broadcastId)?.status === 'active') {
          await this.options.dispatcher.stopAnywhere(
            note.broadcastId,
            null,
            undefined,
            'the platform restarted during the live talk',
          );
        }
        await this.keepRecording(note, this.recordingPath(note.sessionId));
      } catch (error) {
        this.logger.error({ err: error, file }, 'could not keep the recording of an interrupted live talk');
      }
      rmSync(notePath, { force: true });
    }
  }

  /** Whether a stream link is genuine and unexpired. */
  verify(sessionId: string, exp: number, sig: string, now: number): boolean {
    if (exp < now) return false;
    const expected = this.sign(sessionId, exp);
    const given = Buffer.from(sig, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** The talk a cluster's stream request is for, while it runs. */
  session(sessionId: string): LiveSession | null {
    return this.running.get(sessionId)?.session ?? null;
  }

  private async start(
    principal: Principal,
    start: ReturnType<typeof LiveStartSchema.parse>,
    address: string | null,
    socketId: string,
  ): Promise<LiveStarted> {
    const { clock, dispatcher, registry, maxDurationS, silenceLimitS } = this.options;
    const now = clock.now();
    const sessionId = `lt-${randomBytes(6).toString('hex')}`;
    let broadcastId: string | null = null;
    if (start.mode === 'broadcast') {
      const targets = scopedTargets(
        { registry, resolveTargets: (t) => dispatcher.resolveTargets(t) },
        principal.communes,
        start.targets,
      );
      const exp = now + (maxDurationS + 600) * 1000;
      const url = `${this.options.baseUrl()}/api/v1/live/${sessionId}/stream.mp3?exp=${exp}&sig=${this.sign(sessionId, exp).toString('base64url')}`;
      // The session exists before the play goes out, so no cluster asks for a stream not there yet.
      const session = await this.open(sessionId, start.sampleRate, now);
      try {
        const broadcast = dispatcher.live(
          {
            name: start.name,
            url,
            targets,
            level: start.level,
            volume: start.volume,
            durationS: maxDurationS,
            kind: 'talk',
          },
          principal.username,
        );
        broadcastId = broadcast.id;
      } catch (error) {
        await session.end('failed');
        rmSync(this.recordingPath(sessionId), { force: true });
        this.auditTalk(principal, address, 'broadcast.talk.start', null, 'failure', {
          error: errorOf(error),
        });
        throw error;
      }
      this.track(session, broadcastId, start.name, principal, address, socketId);
      this.auditTalk(principal, address, 'broadcast.talk.start', broadcastId, 'success', {
        name: start.name,
        level: start.level,
      });
    } else {
      const session = await this.open(sessionId, start.sampleRate, now);
      this.track(session, null, start.name, principal, address, socketId);
    }
    this.logger.info({ sessionId, broadcastId, user: principal.username }, 'live talk started');
    return { sessionId, broadcastId, maxDurationS, silenceLimitS };
  }

  /** The session opens before its broadcast exists (track() binds it), so the first play finds its stream. */
  private async open(sessionId: string, sampleRate: number, now: number) {
    return LiveSession.open({
      id: sessionId,
      broadcastId: null,
      sampleRate,
      startedAt: now,
      recordingPath: this.recordingPath(sessionId),
      onRecordingError: (error) =>
        this.logger.error({ err: error, sessionId }, 'the live talk cannot be recorded; it goes on'),
    });
  }

  private track(
    session: LiveSession,
    broadcastId: string | null,
    name: string,
    principal: Principal,
    address: string | null,
    socketId: string,
  ): void {
    if (broadcastId) session.bind(broadcastId);
    const note: RecordingNote = {
      sessionId: session.id,
      broadcastId,
      name,
      createdBy: principal.username,
      communeId: homeCommune(principal),
    };
    writeFileSync(join(this.options.dir, `${session.id}.json`), JSON.stringify(note), { mode: 0o600 });
    this.running.set(session.id, { session, name, principal, address, socketId, lastStatusAt: 0 });
    this.ticking(true);
  }

  private tick(): void {
    const now = this.options.clock.now();
    const silenceMs = this.options.silenceLimitS * 1000;
    for (const running of [...this.running.values()]) {
      const { session } = running;
      if (session.ended) continue;
      if (session.silentFor(now) >= silenceMs) {
        void this.end(running, 'operator-lost');
        continue;
      }
      if (now - session.startedAt >= this.options.maxDurationS * 1000) {
        void this.end(running, 'max-duration');
        continue;
      }
      if (session.broadcastId && this.options.broadcasts.get(session.broadcastId)?.status !== 'active') {
        void this.end(running, 'pre-empted');
        continue;
      }
      session.fillSilence(now);
      if (now - running.lastStatusAt >= STATUS_EVERY_MS && running.socketId) {
        running.lastStatusAt = now;
        this.namespace
          ?.to(running.socketId)
          .emit('live.status', session.status(now, this.deliveriesOf(session)));
      }
    }
  }

  private deliveriesOf(session: LiveSession): Partial<Record<DeliveryState, number>> {
    const counts: Partial<Record<DeliveryState, number>> = {};
    if (!session.broadcastId) return counts;
    for (const d of this.options.broadcasts.deliveries(session.broadcastId))
      counts[d.state] = (counts[d.state] ?? 0) + 1;
    return counts;
  }

  /** Ends a talk: its deliveries (with why), then the stream, then the recording is kept. */
  private async end(running: Running, reason: LiveEndReason): Promise<LiveEnded> {
    const { session, principal } = running;
    if (!this.running.delete(session.id)) {
      return { sessionId: session.id, broadcastId: session.broadcastId, reason, recordingMediaId: null };
    }
    if (this.running.size === 0) this.ticking(false);
    if (session.broadcastId && reason !== 'pre-empted') {
      try {
        await this.options.dispatcher.stopAnywhere(
          session.broadcastId,
          principal.username,
          undefined,
          STOP_REASONS[reason],
        );
      } catch (error) {
        if (!(error instanceof ConflictError))
          this.logger.error({ err: error }, 'could not stop the talk broadcast');
      }
    }
    await session.end(reason);
    const note: RecordingNote = {
      sessionId: session.id,
      broadcastId: session.broadcastId,
      name: running.name,
      createdBy: principal.username,
      communeId: homeCommune(principal),
    };
    const recordingMediaId = session.recordingKept
      ? await this.keepRecording(note, this.recordingPath(session.id)).catch((error: unknown) => {
          this.logger.error({ err: error, sessionId: session.id }, 'could not keep the live talk recording');
          return null;
        })
      : null;
    rmSync(join(this.options.dir, `${session.id}.json`), { force: true });
    const ended: LiveEnded = {
      sessionId: session.id,
      broadcastId: session.broadcastId,
      reason,
      recordingMediaId,
    };
    if (running.socketId) this.namespace?.to(running.socketId).emit('live.ended', ended);
    this.auditTalk(
      principal,
      running.address,
      session.broadcastId ? 'broadcast.talk.stop' : 'media.record',
      session.broadcastId ?? recordingMediaId,
      'success',
      { reason, recordedS: Math.round(session.recordedSeconds), recordingMediaId },
    );
    this.logger.info({ sessionId: session.id, reason, recordingMediaId }, 'live talk ended');
    return ended;
  }

  /** Puts a recording into the media library, linked from its broadcast; null when it is empty. */
  private async keepRecording(note: RecordingNote, path: string): Promise<string | null> {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      return null;
    }
    try {
      if (size === 0) return null;
      const record = await this.options.media.ingest(
        { stream: createReadStream(path), filename: `${note.sessionId}.mp3` },
        { name: note.name, createdBy: note.createdBy, communeId: note.communeId },
      );
      if (note.broadcastId) this.options.broadcasts.setRecording(note.broadcastId, record.id);
      return record.id;
    } finally {
      rmSync(path, { force: true });
    }
  }

  private auditTalk(
    principal: Principal,
    address: string | null,
    action: string,
    targetId: string | null,
    outcome: 'success' | 'failure',
    detail: unknown,
  ): void {
    this.options.audit.record({
      actor: { type: 'user', id: principal.userId, name: principal.username, roles: principal.roles },
      action,
      target: { type: action === 'media.record' ? 'media' : 'broadcast', id: targetId },
      outcome,
      address,
      detail,
    });
  }

  private recordingPath(sessionId: string): string {
    return join(this.options.dir, `${sessionId}.mp3`);
  }

  private sign(sessionId: string, exp: number): Buffer {
    return createHmac('sha256', this.options.signingKey)
      .update(`live\u0000${sessionId}\u0000${exp}`)
      .digest();
  }
}

function errorOf(error: unknown): { code: string; message: string } {
  if (error instanceof DomainError) return { code: error.code, message: error.message };
  return { code: 'internal', message: 'the talk could not be started' };
}
