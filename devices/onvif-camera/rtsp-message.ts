/*
 * RTSP/1.0 messages (RFC 2326) as both ends of a camera stream see them on one TCP connection:
 * requests or responses (a request line or status line, headers, an optional body sized by
 * Content-Length, §4.3 and §5–7) mixed with interleaved binary frames ('$', channel, 16-bit
 * length, §10.12). No maintained npm package parses this today (`rtsp-server` and `rtsp-stream`
 * were last published in 2016), so it is small and here.
 */

export interface RtspRequest {
  kind: 'request';
  method: string;
  uri: string;
  /** Lower-case names. */
  headers: Map<string, string>;
  body: Buffer;
}

export interface RtspResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: Map<string, string>;
  body: Buffer;
}

export interface InterleavedFrame {
  kind: 'interleaved';
  channel: number;
  data: Buffer;
}

export type RtspMessage = RtspRequest | RtspResponse | InterleavedFrame;

export class RtspParseError extends Error {
  override readonly name = 'RtspParseError';
}

/** A message head longer than this is refused rather than buffered without end. */
const MAX_HEAD_BYTES = 16 * 1024;
const MAX_BODY_BYTES = 64 * 1024;

/** Splits a byte stream into RTSP messages and interleaved frames, whatever the chunking. */
export class RtspReader {
  private buffer: Buffer = Buffer.alloc(0);

  /** Adds bytes; returns every message now complete. Throws RtspParseError on a malformed stream. */
  push(chunk: Buffer): RtspMessage[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const messages: RtspMessage[] = [];
    for (;;) {
      const message = this.next();
      if (!message) return messages;
      messages.push(message);
    }
  }

  private next(): RtspMessage | null {
    const buffer = this.buffer;
    if (buffer.length === 0) return null;
    if (buffer[0] === 0x24) {
      if (buffer.length < 4) return null;
      const length = buffer.readUInt16BE(2);
      if (buffer.length < 4 + length) return null;
      this.buffer = buffer.subarray(4 + length);
      return { kind: 'interleaved', channel: buffer[1] as number, data: buffer.subarray(4, 4 + length) };
    }
    const end = buffer.indexOf('\r\n\r\n');
    if (end < 0) {
      if (buffer.length > MAX_HEAD_BYTES) throw new RtspParseError('message head too long');
      return null;
    }
    const [startLine = '', ...lines] = buffer.subarray(0, end).toString('utf8').split('\r\n');
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new RtspParseError(`malformed header line "${line.slice(0, 80)}"`);
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const length = Number(headers.get('content-length') ?? '0');
    if (!Number.isSafeInteger(length) || length < 0 || length > MAX_BODY_BYTES)
      throw new RtspParseError(`bad Content-Length "${headers.get('content-length')}"`);
    if (buffer.length < end + 4 + length) return null;
    const body = buffer.subarray(end + 4, end + 4 + length);
    this.buffer = buffer.subarray(end + 4 + length);
    const status = /^RTSP\/1\.\d (\d{3}) ?(.*)$/.exec(startLine);
    if (status)
      return { kind: 'response', status: Number(status[1]), reason: status[2] ?? '', headers, body };
    const request = /^([A-Z_]+) (\S+) RTSP\/1\.\d$/.exec(startLine);
    if (!request) throw new RtspParseError(`not an RTSP start line: "${startLine.slice(0, 80)}"`);
    return { kind: 'request', method: request[1] as string, uri: request[2] as string, headers, body };
  }
}

/** A request with its headers in order; the body's Content-Length is added. */
export function formatRequest(method: string, uri: string, headers: [string, string][], body = ''): Buffer {
  return formatMessage(`${method} ${uri} RTSP/1.0`, headers, body);
}

export function formatResponse(
  status: number,
  reason: string,
  headers: [string, string][],
  body: Buffer | string = '',
): Buffer {
  return formatMessage(`RTSP/1.0 ${status} ${reason}`, headers, body);
}

function formatMessage(startLine: string, headers: [string, string][], body: Buffer | string): Buffer {
  const content = typeof body === 'string' ? Buffer.from(body) : body;
  const lines = [startLine, ...headers.map(([name, value]) => `${name}: ${value}`)];
  if (content.length > 0) lines.push(`Content-Length: ${content.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), content]);
}

/** An interleaved frame (§10.12). */
export function interleave(channel: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x24;
  head[1] = channel;
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
}

/** One alternative of a Transport header (§12.39). */
export interface TransportSpec {
  /** `RTP/AVP/TCP` or `RTP/AVP` (UDP, also written `RTP/AVP/UDP`). */
  lower: 'TCP' | 'UDP';
  unicast: boolean;
  interleaved: [number, number] | null;
  clientPort: [number, number] | null;
  serverPort: [number, number] | null;
}

/** The alternatives a client offers, in its order of preference; unknown profiles are left out. */
export function parseTransport(value: string): TransportSpec[] {
  const specs: TransportSpec[] = [];
  for (const alternative of value.split(',')) {
    const [profile = '', ...params] = alternative.trim().split(';');
    const lower = /^RTP\/AVP(\/(TCP|UDP))?$/i.exec(profile.trim());
    if (!lower) continue;
    const param = (name: string) =>
      params.find((p) => p.trim().toLowerCase().startsWith(`${name}=`))?.split('=')[1];
    const range = (text: string | undefined): [number, number] | null => {
      const m = text ? /^(\d+)(?:-(\d+))?$/.exec(text.trim()) : null;
      if (!m) return null;
      const first = Number(m[1]);
      return [first, m[2] === undefined ? first + 1 : Number(m[2])];
    };
    specs.push({
      lower: lower[2]?.toUpperCase() === 'TCP' ? 'TCP' : 'UDP',
      unicast: !params.some((p) => p.trim().toLowerCase() === 'multicast'),
      interleaved: range(param('interleaved')),
      clientPort: range(param('client_port')),
      serverPort: range(param('server_port')),
    });
  }
  return specs;
}

/** The id of a Session header (`12345678;timeout=60`, §12.37), and its timeout in seconds. */
export function parseSession(value: string | undefined): { id: string; timeoutS: number | null } | null {
  if (!value) return null;
  const [id = '', ...params] = value.split(';');
  const timeout = params.find((p) => p.trim().toLowerCase().startsWith('timeout='))?.split('=')[1];
  return id.trim() === '' ? null : { id: id.trim(), timeoutS: timeout ? Number(timeout) : null };
}
