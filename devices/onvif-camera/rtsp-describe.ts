import { connect, type LookupFunction, type Socket } from 'node:net';
import { authorizationFor, basicAuthorization, type Credentials, parseChallenges } from './http-auth.js';

/**
 * RTSP DESCRIBE (RFC 2326 §10.2) as the stream check. OPTIONS proves only that something listens
 * on the port: a camera whose stream path is gone after a firmware update, or that refuses the
 * login, answers OPTIONS happily and shows no picture. DESCRIBE names the path, is where cameras
 * ask for credentials (Digest or Basic, §16.2 reusing HTTP's), and its SDP is what a player needs.
 */

export interface RtspAnswer {
  status: number;
  reason: string;
  headers: Map<string, string[]>;
  body: string;
}

export interface DescribeResult {
  answer: RtspAnswer;
  /** Credentials were sent and the camera still answered 401/403: a failed login on the camera. */
  loginRefused: boolean;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/** Credentials in the URI (`rtsp://user:pass@host/…`) are used and left out of the request line. */
export async function rtspDescribe(
  uri: string,
  options: { signal: AbortSignal; credentials: Credentials | null; lookup?: LookupFunction | undefined },
): Promise<DescribeResult> {
  const url = new URL(uri);
  const credentials = url.username
    ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    : options.credentials;
  url.username = '';
  url.password = '';
  const requestUri = url.toString();
  const connection = new RtspConnection(url, options.signal, options.lookup);
  try {
    const first = await connection.request('DESCRIBE', requestUri, undefined);
    if (first.status !== 401 || credentials === null) return { answer: first, loginRefused: false };
    const auth = authorizationFor(parseChallenges(first.headers.get('www-authenticate')), true);
    if (!auth) return { answer: first, loginRefused: false };
    const authorization =
      auth.scheme === 'digest'
        ? auth.session.authorize('DESCRIBE', requestUri, credentials)
        : basicAuthorization(credentials);
    // Many cameras close the connection after a 401; a fresh one never races that close.
    connection.close();
    const second = await connection.request('DESCRIBE', requestUri, authorization);
    return { answer: second, loginRefused: second.status === 401 || second.status === 403 };
  } finally {
    connection.close();
  }
}

/** An RTSP control connection, opened by the first request after a close. */
class RtspConnection {
  private socket: Socket | null = null;
  private cseq = 0;

  constructor(
    private readonly url: URL,
    private readonly signal: AbortSignal,
    private readonly lookup: LookupFunction | undefined,
  ) {}

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  request(method: string, uri: string, authorization: string | undefined): Promise<RtspAnswer> {
    this.cseq += 1;
    const head = [
      `${method} ${uri} RTSP/1.0`,
      `CSeq: ${this.cseq}`,
      'User-Agent: smart-commune-health',
      'Accept: application/sdp',
      ...(authorization ? [`Authorization: ${authorization}`] : []),
    ].join('\r\n');
    return new Promise<RtspAnswer>((resolve, reject) => {
      if (this.signal.aborted) {
        reject(this.signal.reason);
        return;
      }
      const socket = this.open();
      let received = Buffer.alloc(0);
      const finish = (err: unknown, answer?: RtspAnswer) => {
        this.signal.removeEventListener('abort', onAbort);
        socket.off('data', onData);
        socket.off('error', finish);
        socket.off('close', onClose);
        if (err || !answer) {
          this.close();
          reject(err ?? new Error('connection closed before an RTSP answer'));
        } else {
          resolve(answer);
        }
      };
      const onAbort = () => finish(this.signal.reason);
      const onClose = () => {
        // A server that closes after the answer without Content-Length ends the body there.
        const answer = parseAnswer(received, true);
        if (answer) this.socket = null;
        finish(answer ? null : new Error('connection closed before an RTSP answer'), answer ?? undefined);
      };
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length > MAX_ANSWER_BYTES) {
          finish(new Error('RTSP answer too large'));
          return;
        }
        const statusLine = received.toString('latin1', 0, Math.min(received.length, 64));
        if (received.length >= 9 && !/^RTSP\/\d\.\d/.test(statusLine)) {
          finish(new Error(`not an RTSP answer: ${statusLine.split('\r\n')[0]?.slice(0, 80)}`));
          return;
        }
        const answer = parseAnswer(received, false);
        if (answer) finish(null, answer);
      };
      this.signal.addEventListener('abort', onAbort, { once: true });
      socket.on('data', onData);
      socket.once('error', finish);
      socket.once('close', onClose);
      socket.write(`${head}\r\n\r\n`);
    });
  }

  private open(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const port = this.url.port ? Number(this.url.port) : 554;
    this.socket = connect({
      host: this.url.hostname.replace(/^\[|\]$/g, ''),
      port,
      ...(this.lookup ? { lookup: this.lookup } : {}),
    });
    return this.socket;
  }
}

/** A complete answer from the buffer, or null while more is due (RFC 2326 §7, §12.14). */
function parseAnswer(data: Buffer, closed: boolean): RtspAnswer | null {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return null;
  const [statusLine = '', ...lines] = data.toString('latin1', 0, end).split('\r\n');
  const match = /^RTSP\/\d\.\d (\d{3})\s*(.*)$/.exec(statusLine);
  if (!match) return null;
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  const length = Number(headers.get('content-length')?.[0] ?? 0);
  const bodyStart = end + 4;
  if (data.length < bodyStart + length && !closed) return null;
  return {
    status: Number(match[1]),
    reason: match[2] ?? '',
    headers,
    body: data.toString('utf8', bodyStart, bodyStart + length),
  };
}
