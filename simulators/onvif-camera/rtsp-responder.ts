import type { Socket } from 'node:net';

export interface RtspSession {
  /** `rtsp://host:port`, the base DESCRIBE's Content-Base is built from. */
  base: string;
  /** Paths that carry a stream; others answer 404. */
  paths: readonly string[];
  sessionName: string;
  /** Delays an answer (the `slow` fault); resolves at once otherwise. */
  delay: () => Promise<void>;
}

/** Minimal SDP (RFC 4566) for one H264 video track, what stream-liveness probes parse. */
export function describeSdp(sessionName: string, host: string): string {
  return [
    'v=0',
    `o=- 0 0 IN IP4 ${host}`,
    `s=${sessionName}`,
    `c=IN IP4 ${host}`,
    't=0 0',
    'a=control:*',
    'm=video 0 RTP/AVP 96',
    'a=rtpmap:96 H264/90000',
    'a=fmtp:96 packetization-mode=1;profile-level-id=4D001F',
    'a=control:trackID=1',
    '',
  ].join('\r\n');
}

/**
 * Answers RTSP/1.0 (RFC 2326) OPTIONS and DESCRIBE on one connection, echoing CSeq (§12.17);
 * everything else is 501, since no media is ever sent.
 */
export function serveRtsp(socket: Socket, session: RtspSession, onError: (error: Error) => void): void {
  let buffered = '';
  let queue: Promise<void> = Promise.resolve();
  socket.setEncoding('utf8');
  socket.on('error', onError);
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (;;) {
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) break;
      const head = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      queue = queue
        .then(async () => {
          const reply = answer(head, session);
          await session.delay();
          if (!socket.destroyed) socket.write(reply);
        })
        .catch(onError);
    }
  });
}

function answer(head: string, session: RtspSession): string {
  const [requestLine = '', ...headerLines] = head.split('\r\n');
  const [method = '', uri = ''] = requestLine.split(' ');
  const cseq =
    headerLines
      .find((line) => line.toLowerCase().startsWith('cseq:'))
      ?.slice(5)
      .trim() ?? '0';
  const reply = (status: string, headers: string[], body = '') =>
    [`RTSP/1.0 ${status}`, `CSeq: ${cseq}`, 'Server: smart-commune-camera-sim', ...headers].join('\r\n') +
    `\r\n${body === '' ? '' : `Content-Length: ${Buffer.byteLength(body)}\r\n`}\r\n${body}`;
  switch (method) {
    case 'OPTIONS':
      return reply('200 OK', ['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN']);
    case 'DESCRIBE': {
      let path: string;
      let host: string;
      try {
        const url = new URL(uri);
        path = url.pathname;
        host = url.hostname;
      } catch {
        // RFC 2326 §11.3.5: an unparsable Request-URI is the client's error.
        return reply('400 Bad Request', []);
      }
      if (!session.paths.includes(path)) return reply('404 Not Found', []);
      return reply(
        '200 OK',
        ['Content-Type: application/sdp', `Content-Base: ${session.base}${path}/`],
        describeSdp(session.sessionName, host),
      );
    }
    default:
      return reply('501 Not Implemented', []);
  }
}
