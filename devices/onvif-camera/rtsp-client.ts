import { connect, type LookupFunction, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { decodeRtp } from './rtp.js';
import { RTP_JPEG_PAYLOAD_TYPE, RtpJpegDepacketizer } from './rtp-jpeg.js';
import { RtspAuthenticator } from './rtsp-auth.js';
import {
  formatRequest,
  parseSession,
  parseTransport,
  RtspReader,
  type RtspResponse,
} from './rtsp-message.js';

/*
 * Pulls Motion JPEG from a camera: RTSP DESCRIBE, SETUP with RTP over the RTSP connection
 * (RTP/AVP/TCP interleaved, RFC 2326 §10.12: one TCP connection that crosses a 4G router's NAT and
 * needs no UDP ports), PLAY, and OPTIONS as keep-alive at half the session timeout (§12.37).
 * RTP/JPEG (RFC 2435) frames come out as complete JPEGs.
 */

export type RtspStreamErrorCode =
  | 'unauthorized'
  | 'no-mjpeg'
  | 'refused'
  | 'network'
  | 'protocol'
  | 'timeout'
  | 'stalled';

export class RtspStreamError extends Error {
  override readonly name = 'RtspStreamError';
  constructor(
    readonly code: RtspStreamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface RtspJpegClientOptions {
  /** The stream URI (ONVIF GetStreamUri); user information in it is ignored. */
  uri: string;
  username: string;
  password: string;
  clock: Clock;
  /** Budget for connecting and for each request. */
  timeoutMs: number;
  /** No packet for this long ends the stream (default: 3 × timeoutMs). */
  stallMs?: number;
  /** Resolves host names (the address policy's lookup refuses addresses off CAMERA_NETWORKS). */
  lookup?: LookupFunction;
  onFrame(jpeg: Buffer): void;
  /** Once, when a stream that had opened ends for any reason but close(). */
  onEnd(error: RtspStreamError): void;
}

interface Pending {
  resolve(response: RtspResponse): void;
  reject(error: RtspStreamError): void;
  timer: TimerHandle;
}

/** The control URL of the first Motion JPEG video track of an SDP (RFC 4566, RFC 2326 §C.1.1). */
export function jpegTrackOf(sdp: string, base: string): string | null {
  const sections = sdp.split(/\r?\n(?=m=)/);
  const sessionControl = /^a=control:(.*)$/m.exec(sections[0] ?? '')?.[1]?.trim();
  const absolute = (control: string | undefined): string => {
    if (!control || control === '*') return sessionControl && sessionControl !== '*' ? sessionControl : base;
    if (/^rtsp:\/\//i.test(control)) return control;
    return new URL(control, base.endsWith('/') ? base : `${base}/`).toString();
  };
  for (const section of sections.slice(1)) {
    const media = /^m=video \d+ RTP\/AVP ([\d ]+)/.exec(section);
    if (!media) continue;
    const types = (media[1] as string).trim().split(/\s+/).map(Number);
    const jpeg = types.find(
      (pt) => pt === RTP_JPEG_PAYLOAD_TYPE || new RegExp(`^a=rtpmap:${pt} JPEG/90000`, 'mi').test(section),
    );
    if (jpeg !== undefined) return absolute(/^a=control:(.*)$/m.exec(section)?.[1]?.trim());
  }
  return null;
}

/** One RTSP session of one camera stream. */
export class RtspJpegClient {
  private socket: Socket | null = null;
  private readonly reader = new RtspReader();
  private readonly auth: RtspAuthenticator;
  private readonly depacketizer = new RtpJpegDepacketizer();
  private readonly pending = new Map<number, Pending>();
  private readonly requestUri: string;
  private cseq = 0;
  private session: string | null = null;
  private channel = 0;
  private payloadType = RTP_JPEG_PAYLOAD_TYPE;
  private playing = false;
  private ended = false;
  private lastPacketAt = 0;
  private keepAlive: TimerHandle | null = null;
  private watchdog: TimerHandle | null = null;
  private aggregateUri = '';
  private sessionTimeoutS = 60;

  constructor(private readonly options: RtspJpegClientOptions) {
    this.auth = new RtspAuthenticator(options.username, options.password);
    const url = new URL(options.uri);
    url.username = '';
    url.password = '';
    this.requestUri = url.toString();
  }

  /** Frames received and dropped (a lost fragment drops its frame). */
  get stats() {
    return { ...this.depacketizer.stats };
  }

  /** Connects and starts the stream; resolves once PLAY is answered. */
  async open(): Promise<void> {
    await this.connect();
    try {
      const described = await this.request('DESCRIBE', this.requestUri, [['Accept', 'application/sdp']]);
      const base =
        described.headers.get('content-base') ?? described.headers.get('content-location') ?? this.requestUri;
      const track = jpegTrackOf(described.body.toString('utf8'), base);
      if (!track) throw new RtspStreamError('no-mjpeg', 'the stream has no Motion JPEG track');
      this.aggregateUri = base;
      const rtpmap = /^a=rtpmap:(\d+) JPEG\/90000/im.exec(described.body.toString('utf8'));
      if (rtpmap) this.payloadType = Number(rtpmap[1]);
      const setup = await this.request('SETUP', track, [
        ['Transport', 'RTP/AVP/TCP;unicast;interleaved=0-1'],
      ]);
      const session = parseSession(setup.headers.get('session'));
      if (!session) throw new RtspStreamError('protocol', 'SETUP answered without a Session');
      this.session = session.id;
      this.sessionTimeoutS = session.timeoutS ?? 60;
      this.channel = parseTransport(setup.headers.get('transport') ?? '')[0]?.interleaved?.[0] ?? 0;
      await this.request('PLAY', this.aggregateUri, [['Range', 'npt=0.000-']]);
    } catch (error) {
      this.destroy();
      throw error;
    }
    this.playing = true;
    const { clock } = this.options;
    this.lastPacketAt = clock.now();
    this.keepAlive = clock.setInterval(
      () => {
        this.request('OPTIONS', this.aggregateUri, []).catch((error: RtspStreamError) => this.end(error));
      },
      (Math.max(this.sessionTimeoutS, 10) * 1000) / 2,
    );
    const stallMs = this.options.stallMs ?? this.options.timeoutMs * 3;
    this.watchdog = clock.setInterval(
      () => {
        if (clock.now() - this.lastPacketAt > stallMs)
          this.end(new RtspStreamError('stalled', `no video for ${stallMs} ms`));
      },
      Math.max(250, stallMs / 4),
    );
  }

  /** TEARDOWN (answered or not within the timeout), then the connection closes. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.stopTimers();
    if (this.socket && this.session) {
      await this.request('TEARDOWN', this.aggregateUri, []).catch(() => undefined);
    }
    this.destroy();
  }

  private connect(): Promise<void> {
    const url = new URL(this.requestUri);
    const { clock, timeoutMs, lookup } = this.options;
    return new Promise<void>((resolve, reject) => {
      const socket = connect({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port ? Number(url.port) : 554,
        ...(lookup ? { lookup } : {}),
      });
      this.socket = socket;
      const timer = clock.setTimeout(() => {
        socket.destroy();
        reject(new RtspStreamError('timeout', `no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clock.clearTimeout(timer);
        resolve();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        clock.clearTimeout(timer);
        const failure = new RtspStreamError(
          error.code === 'ECONNREFUSED' ? 'refused' : 'network',
          `${error.code ?? 'error'}: ${error.message}`,
        );
        reject(failure);
        this.end(failure);
      });
      socket.on('close', () => this.end(new RtspStreamError('network', 'the camera closed the connection')));
      socket.on('data', (chunk: Buffer) => this.receive(chunk));
    });
  }

  private receive(chunk: Buffer): void {
    let messages: ReturnType<RtspReader['push']>;
    try {
      messages = this.reader.push(chunk);
    } catch (error) {
      this.end(new RtspStreamError('protocol', (error as Error).message));
      return;
    }
    for (const message of messages) {
      if (message.kind === 'interleaved') {
        if (message.channel !== this.channel) continue; // RTCP on the odd channel
        this.lastPacketAt = this.options.clock.now();
        const packet = decodeRtp(message.data);
        if (!packet || packet.payloadType !== this.payloadType) continue;
        const jpeg = this.depacketizer.push(packet);
        if (jpeg && !this.ended) this.options.onFrame(jpeg);
      } else if (message.kind === 'response') {
        const cseq = Number(message.headers.get('cseq'));
        const pending = this.pending.get(cseq);
        if (!pending) continue;
        this.pending.delete(cseq);
        this.options.clock.clearTimeout(pending.timer);
        pending.resolve(message);
      }
      // A request from the camera (RFC 2326 §10: ANNOUNCE, GET_PARAMETER) needs no answer here.
    }
  }

  /** One request; a 401 is answered once with the camera's challenge. */
  private async request(method: string, uri: string, headers: [string, string][]): Promise<RtspResponse> {
    let response = await this.send(method, uri, headers);
    if (response.status === 401) {
      const challenged = this.auth.accept(response.headers.get('www-authenticate'));
      if (challenged) response = await this.send(method, uri, headers);
      if (response.status === 401)
        throw new RtspStreamError('unauthorized', `${method}: the camera refused the credentials (401)`);
    }
    if (response.status !== 200)
      throw new RtspStreamError('protocol', `${method}: ${response.status} ${response.reason}`);
    return response;
  }

  private send(method: string, uri: string, extra: [string, string][]): Promise<RtspResponse> {
    const socket = this.socket;
    if (!socket || socket.destroyed)
      return Promise.reject(new RtspStreamError('network', 'the connection is closed'));
    const cseq = ++this.cseq;
    const headers: [string, string][] = [
      ['CSeq', String(cseq)],
      ['User-Agent', 'smart-commune-live'],
      ...extra,
    ];
    if (this.session) headers.push(['Session', this.session]);
    const authorization = this.auth.authorization(method, uri);
    if (authorization) headers.push(['Authorization', authorization]);
    const { clock, timeoutMs } = this.options;
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        this.pending.delete(cseq);
        reject(new RtspStreamError('timeout', `${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(cseq, { resolve, reject, timer });
      socket.write(formatRequest(method, uri, headers));
    });
  }

  private end(error: RtspStreamError): void {
    for (const [cseq, pending] of this.pending) {
      this.options.clock.clearTimeout(pending.timer);
      pending.reject(error);
      this.pending.delete(cseq);
    }
    if (this.ended) return;
    this.ended = true;
    this.stopTimers();
    this.destroy();
    if (this.playing) this.options.onEnd(error);
  }

  private stopTimers(): void {
    const { clock } = this.options;
    if (this.keepAlive) clock.clearInterval(this.keepAlive);
    if (this.watchdog) clock.clearInterval(this.watchdog);
    this.keepAlive = null;
    this.watchdog = null;
  }

  private destroy(): void {
    this.socket?.destroy();
    this.socket = null;
  }
}
