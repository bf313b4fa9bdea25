import { randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../devices/index.js';
import { encodeRtp } from '../../devices/onvif-camera/rtp.js';
import { packetizeJpeg, RTP_JPEG_PAYLOAD_TYPE } from '../../devices/onvif-camera/rtp-jpeg.js';
import {
  formatResponse,
  interleave,
  parseTransport,
  RtspReader,
  type RtspRequest,
} from '../../devices/onvif-camera/rtsp-message.js';
import { verifyDigest } from './http-digest.js';
import { VIDEO_FPS, VIDEO_HEIGHT, VIDEO_WIDTH, type VideoFrameSource } from './video-frames.js';
import type { Credentials } from './ws-security.js';

/** What the RTSP server of one camera counts, for `status()` and tests. */
export interface RtspStats {
  /** RTSP connections accepted. */
  connections: number;
  /** Requests answered 401: no credentials, wrong ones, or a stale nonce. */
  unauthorized: number;
  /** Sessions set up, and those still open. */
  sessionsOpened: number;
  sessionsOpen: number;
  /** Video frames sent, over all sessions. */
  framesSent: number;
}

export const newRtspStats = (): RtspStats => ({
  connections: 0,
  unauthorized: 0,
  sessionsOpened: 0,
  sessionsOpen: 0,
  framesSent: 0,
});

export interface RtspContext {
  /** `rtsp://host:port`, the base DESCRIBE's Content-Base is built from. */
  base: string;
  /** Paths that carry a stream; others answer 404. */
  paths: readonly string[];
  sessionName: string;
  /** Delays an answer (the `slow` fault); resolves at once otherwise. */
  delay: () => Promise<void>;
  /** HTTP Digest as RTSP uses it (RFC 2326 §D.2): the camera's realm, nonce of this boot, account. */
  realm: string;
  nonce: () => string;
  account: () => Credentials;
  video: VideoFrameSource;
  clock: Clock;
  stats: RtspStats;
}

/** Session timeout announced in SETUP (RFC 2326 §12.37); clients send a keep-alive within it. */
const SESSION_TIMEOUT_S = 60;
/** A client this far behind loses frames instead of making the camera buffer without end. */
const MAX_BUFFERED_BYTES = 512 * 1024;
const TRACK = 'trackID=1';

/** SDP (RFC 4566) of the one Motion JPEG track (RFC 2435, static payload type 26). */
export function describeSdp(sessionName: string, host: string): string {
  return [
    'v=0',
    `o=- 0 0 IN IP4 ${host}`,
    `s=${sessionName}`,
    `c=IN IP4 ${host}`,
    't=0 0',
    'a=control:*',
    'a=range:npt=0-',
    `m=video 0 RTP/AVP ${RTP_JPEG_PAYLOAD_TYPE}`,
    `a=rtpmap:${RTP_JPEG_PAYLOAD_TYPE} JPEG/90000`,
    `a=framerate:${VIDEO_FPS}`,
    `a=x-dimensions:${VIDEO_WIDTH},${VIDEO_HEIGHT}`,
    `a=control:${TRACK}`,
    '',
  ].join('\r\n');
}

type Delivery =
  | { kind: 'tcp'; channel: number }
  | { kind: 'udp'; socket: UdpSocket; rtcp: UdpSocket; address: string; port: number };

interface StreamSession {
  id: string;
  path: string;
  delivery: Delivery;
  timer: TimerHandle | null;
  sending: boolean;
  sequence: number;
  ssrc: number;
  startedAt: number;
}

type Reply = { status: number; reason: string; headers?: [string, string][]; body?: string };

/**
 * RTSP/1.0 (RFC 2326) on one connection: OPTIONS, DESCRIBE, SETUP (RTP/AVP/TCP interleaved or
 * RTP/AVP over UDP), PLAY, GET_PARAMETER (keep-alive) and TEARDOWN, with the camera's video as
 * RTP/JPEG at VIDEO_FPS. Everything but OPTIONS needs HTTP Digest credentials, as on the cameras
 * it imitates. Sessions belong to their connection and end with it.
 */
export function serveRtsp(socket: Socket, context: RtspContext, onError: (error: Error) => void): void {
  const reader = new RtspReader();
  const sessions = new Map<string, StreamSession>();
  let queue: Promise<void> = Promise.resolve();
  context.stats.connections += 1;

  socket.on('error', onError);
  socket.on('close', () => {
    for (const session of sessions.values()) endSession(session);
    sessions.clear();
  });
  socket.on('data', (chunk: Buffer) => {
    let messages: ReturnType<RtspReader['push']>;
    try {
      messages = reader.push(chunk);
    } catch (error) {
      onError(error as Error);
      socket.destroy();
      return;
    }
    for (const message of messages) {
      // RTCP receiver reports arrive interleaved on the odd channel; nothing here needs them.
      if (message.kind !== 'request') continue;
      queue = queue
        .then(async () => {
          const cseq = message.headers.get('cseq') ?? '0';
          const reply = await answer(message);
          await context.delay();
          if (socket.destroyed) return;
          socket.write(
            formatResponse(
              reply.status,
              reply.reason,
              [['CSeq', cseq], ['Server', 'smart-commune-camera-sim'], ...(reply.headers ?? [])],
              reply.body ?? '',
            ),
          );
          if (message.method === 'PLAY' && reply.status === 200) {
            const session = sessions.get(sessionIdOf(message) ?? '');
            if (session) play(session);
          }
        })
        .catch(onError);
    }
  });

  async function answer(request: RtspRequest): Promise<Reply> {
    if (request.method === 'OPTIONS')
      return {
        status: 200,
        reason: 'OK',
        headers: [['Public', 'OPTIONS, DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN']],
      };
    const known = ['DESCRIBE', 'SETUP', 'PLAY', 'GET_PARAMETER', 'TEARDOWN'];
    if (!known.includes(request.method)) return { status: 501, reason: 'Not Implemented' };
    let url: URL;
    try {
      url = new URL(request.uri);
    } catch {
      // RFC 2326 §11.3.5: an unparsable Request-URI is the client's error.
      return { status: 400, reason: 'Bad Request' };
    }
    const verdict = verifyDigest(
      request.headers.get('authorization'),
      request.method,
      context.account(),
      context.realm,
      context.nonce(),
    );
    if (verdict !== 'ok') {
      context.stats.unauthorized += 1;
      const stale = verdict === 'stale' ? ', stale=TRUE' : '';
      // RFC 2069-style, as cameras send it: no qop, which every RTSP client answers.
      return {
        status: 401,
        reason: 'Unauthorized',
        headers: [
          ['WWW-Authenticate', `Digest realm="${context.realm}", nonce="${context.nonce()}"${stale}`],
        ],
      };
    }
    const path = url.pathname.replace(new RegExp(`/(${TRACK})?$`), '');
    if (request.method !== 'GET_PARAMETER' && !context.paths.includes(path))
      return { status: 404, reason: 'Not Found' };
    switch (request.method) {
      case 'DESCRIBE':
        return {
          status: 200,
          reason: 'OK',
          headers: [
            ['Content-Type', 'application/sdp'],
            ['Content-Base', `${context.base}${path}/`],
          ],
          body: describeSdp(context.sessionName, url.hostname),
        };
      case 'SETUP':
        return setup(request, path);
      default:
        return inSession(request);
    }
  }

  async function setup(request: RtspRequest, path: string): Promise<Reply> {
    if (sessionIdOf(request)) return { status: 459, reason: 'Aggregate Operation Not Allowed' };
    const offers = parseTransport(request.headers.get('transport') ?? '');
    const id = randomBytes(6).toString('hex');
    const session: StreamSession = {
      id,
      path,
      delivery: { kind: 'tcp', channel: 0 },
      timer: null,
      sending: false,
      sequence: randomBytes(2).readUInt16BE(0),
      ssrc: randomBytes(4).readUInt32BE(0),
      startedAt: 0,
    };
    let transport: string | null = null;
    for (const offer of offers) {
      if (!offer.unicast) continue;
      if (offer.lower === 'TCP') {
        const [rtp, rtcp] = offer.interleaved ?? [0, 1];
        session.delivery = { kind: 'tcp', channel: rtp };
        transport = `RTP/AVP/TCP;unicast;interleaved=${rtp}-${rtcp};ssrc=${session.ssrc.toString(16).padStart(8, '0')}`;
        break;
      }
      if (offer.clientPort && socket.remoteAddress) {
        const udp = await openUdp(socket.localAddress?.includes(':') ? 'udp6' : 'udp4');
        session.delivery = {
          kind: 'udp',
          socket: udp.rtp,
          rtcp: udp.rtcp,
          address: socket.remoteAddress,
          port: offer.clientPort[0],
        };
        const port = udp.rtp.address().port;
        transport =
          `RTP/AVP;unicast;client_port=${offer.clientPort[0]}-${offer.clientPort[1]};` +
          `server_port=${port}-${port + 1};ssrc=${session.ssrc.toString(16).padStart(8, '0')}`;
        break;
      }
    }
    if (!transport) return { status: 461, reason: 'Unsupported Transport' };
    sessions.set(id, session);
    context.stats.sessionsOpened += 1;
    context.stats.sessionsOpen += 1;
    return {
      status: 200,
      reason: 'OK',
      headers: [
        ['Transport', transport],
        ['Session', `${id};timeout=${SESSION_TIMEOUT_S}`],
      ],
    };
  }

  function inSession(request: RtspRequest): Reply {
    const id = sessionIdOf(request);
    const session = id ? sessions.get(id) : undefined;
    // GET_PARAMETER without a session is a plain keep-alive ping (§10.8).
    if (!session && !(request.method === 'GET_PARAMETER' && !id))
      return { status: 454, reason: 'Session Not Found' };
    const headers: [string, string][] = session
      ? [['Session', `${session.id};timeout=${SESSION_TIMEOUT_S}`]]
      : [];
    if (session && request.method === 'TEARDOWN') {
      endSession(session);
      sessions.delete(session.id);
    }
    if (session && request.method === 'PLAY')
      headers.push(['Range', 'npt=0.000-'], ['RTP-Info', `url=${context.base}${session.path}/${TRACK}`]);
    return { status: 200, reason: 'OK', headers };
  }

  function play(session: StreamSession): void {
    if (session.timer) return;
    session.startedAt = context.clock.now();
    const tick = () => {
      if (session.sending) return; // an encode still running: this frame is skipped
      session.sending = true;
      sendFrame(session)
        .catch(onError)
        .finally(() => {
          session.sending = false;
        });
    };
    session.timer = context.clock.setInterval(tick, 1000 / VIDEO_FPS);
    tick();
  }

  async function sendFrame(session: StreamSession): Promise<void> {
    const frame = await context.video.frame();
    if (!sessions.has(session.id) || socket.destroyed) return;
    const delivery = session.delivery;
    if (delivery.kind === 'tcp' && socket.writableLength > MAX_BUFFERED_BYTES) return;
    const timestamp = Math.round((context.clock.now() - session.startedAt) * 90) >>> 0;
    const payloads = packetizeJpeg(frame);
    payloads.forEach((payload, i) => {
      const packet = encodeRtp({
        payloadType: RTP_JPEG_PAYLOAD_TYPE,
        marker: i === payloads.length - 1,
        sequence: session.sequence,
        timestamp,
        ssrc: session.ssrc,
        payload,
      });
      session.sequence = (session.sequence + 1) & 0xffff;
      if (delivery.kind === 'tcp') socket.write(interleave(delivery.channel, packet));
      else delivery.socket.send(packet, delivery.port, delivery.address);
    });
    context.stats.framesSent += 1;
  }

  function endSession(session: StreamSession): void {
    if (session.timer) context.clock.clearInterval(session.timer);
    session.timer = null;
    if (session.delivery.kind === 'udp') {
      session.delivery.socket.close();
      session.delivery.rtcp.close();
    }
    context.stats.sessionsOpen -= 1;
  }

  /** An RTP socket and the RTCP one on the next port, as clients assume (RFC 3550 §11). */
  async function openUdp(type: 'udp4' | 'udp6'): Promise<{ rtp: UdpSocket; rtcp: UdpSocket }> {
    for (let attempt = 0; ; attempt++) {
      const rtp = await bindUdp(type, 0);
      try {
        return { rtp, rtcp: await bindUdp(type, rtp.address().port + 1) };
      } catch (error) {
        rtp.close();
        if (attempt >= 10) throw error;
      }
    }
  }

  function bindUdp(type: 'udp4' | 'udp6', port: number): Promise<UdpSocket> {
    const udp = createSocket(type);
    return new Promise((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, socket.localAddress, () => {
        udp.off('error', reject);
        udp.on('error', onError);
        resolve(udp);
      });
    });
  }
}

function sessionIdOf(request: RtspRequest): string | undefined {
  return request.headers.get('session')?.split(';')[0]?.trim();
}
