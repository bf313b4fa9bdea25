import { describe, expect, it, vi } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { RtspAuthenticator } from '../../devices/onvif-camera/rtsp-auth.js';
import { jpegTrackOf, RtspJpegClient, RtspStreamError } from '../../devices/onvif-camera/rtsp-client.js';
import {
  formatResponse,
  interleave,
  parseSession,
  parseTransport,
  RtspParseError,
  RtspReader,
} from '../../devices/onvif-camera/rtsp-message.js';
import { verifyDigest } from '../../simulators/onvif-camera/http-digest.js';
import { rtspExchange } from '../simulator/onvif-harness.js';
import { startCameraForTest } from '../support/simulator-fixtures.js';

describe('RTSP messages (RFC 2326)', () => {
  it('splits responses with bodies and interleaved frames, however the bytes are chunked', () => {
    const sdp = 'v=0\r\ns=x\r\n';
    const stream = Buffer.concat([
      formatResponse(
        200,
        'OK',
        [
          ['CSeq', '2'],
          ['Content-Type', 'application/sdp'],
        ],
        sdp,
      ),
      interleave(0, Buffer.from([1, 2, 3])),
      interleave(1, Buffer.alloc(0)),
      Buffer.from('ANNOUNCE rtsp://cam/x RTSP/1.0\r\nCSeq: 9\r\n\r\n'),
    ]);
    const reader = new RtspReader();
    const messages = [...stream].flatMap((byte) => reader.push(Buffer.from([byte])));
    expect(messages.map((m) => m.kind)).toEqual(['response', 'interleaved', 'interleaved', 'request']);
    expect(messages[0]).toMatchObject({ status: 200, reason: 'OK' });
    expect(messages[0]?.kind === 'response' && messages[0].body.toString()).toBe(sdp);
    expect(messages[0]?.kind === 'response' && messages[0].headers.get('cseq')).toBe('2');
    expect(messages[1]).toMatchObject({ channel: 0, data: Buffer.from([1, 2, 3]) });
    expect(messages[3]).toMatchObject({ method: 'ANNOUNCE', uri: 'rtsp://cam/x' });
  });

  it('refuses garbage and heads without end instead of buffering them', () => {
    expect(() => new RtspReader().push(Buffer.from('HELLO\r\n\r\n'))).toThrow(RtspParseError);
    expect(() => new RtspReader().push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n'))).toThrow(
      /Content-Length/,
    );
    expect(() => new RtspReader().push(Buffer.alloc(20_000, 0x41))).toThrow(/too long/);
  });

  it('reads Transport alternatives and Session headers', () => {
    expect(
      parseTransport('RTP/AVP/TCP;unicast;interleaved=2-3, RTP/AVP;unicast;client_port=5000-5001'),
    ).toEqual([
      { lower: 'TCP', unicast: true, interleaved: [2, 3], clientPort: null, serverPort: null },
      { lower: 'UDP', unicast: true, interleaved: null, clientPort: [5000, 5001], serverPort: null },
    ]);
    expect(parseTransport('RTP/AVP;multicast')[0]?.unicast).toBe(false);
    expect(parseTransport('RAW/RAW/UDP;unicast')).toEqual([]);
    expect(parseSession('a1b2c3;timeout=30')).toEqual({ id: 'a1b2c3', timeoutS: 30 });
    expect(parseSession(undefined)).toBeNull();
  });

  it('answers a Digest challenge the way the camera checks it, with and without qop', () => {
    const account = { username: 'admin', password: 'pässword' };
    for (const challenge of [
      'Digest realm="Cam", nonce="abc"',
      'Digest realm="Cam", qop="auth", nonce="abc", algorithm=MD5',
    ]) {
      const auth = new RtspAuthenticator(account.username, account.password);
      expect(auth.accept(challenge)).toBe(true);
      const header = auth.authorization('DESCRIBE', 'rtsp://cam/s') as string;
      expect(verifyDigest(header, 'DESCRIBE', account, 'Cam', 'abc')).toBe('ok');
      expect(verifyDigest(header, 'DESCRIBE', { ...account, password: 'x' }, 'Cam', 'abc')).toBe('denied');
    }
    // Digest is taken over Basic whatever the order the camera lists them in.
    const both = new RtspAuthenticator('a', 'b');
    expect(both.accept('Basic realm="x", Digest realm="y", nonce="n"')).toBe(true);
    expect(both.authorization('PLAY', 'rtsp://cam/s')).toMatch(/^Digest /);
    expect(new RtspAuthenticator('a', 'b').accept('Bearer x')).toBe(false);
  });

  it('finds the Motion JPEG track of an SDP, and none in an H.264-only one', () => {
    const h264 = 'v=0\r\ns=x\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:track1\r\n';
    expect(jpegTrackOf(h264, 'rtsp://cam/s/')).toBeNull();
    const both = `${h264}m=video 0 RTP/AVP 97\r\na=rtpmap:97 JPEG/90000\r\na=control:track2\r\n`;
    expect(jpegTrackOf(both, 'rtsp://cam:554/s/')).toBe('rtsp://cam:554/s/track2');
    const absolute = 'v=0\r\nm=video 0 RTP/AVP 26\r\na=control:rtsp://cam/other/t\r\n';
    expect(jpegTrackOf(absolute, 'rtsp://cam/s')).toBe('rtsp://cam/other/t');
    expect(jpegTrackOf('v=0\r\nm=video 0 RTP/AVP 26\r\n', 'rtsp://cam/s')).toBe('rtsp://cam/s');
  });
});

describe('RTSP client against the camera simulator', () => {
  it('pulls frames over TCP interleaved, paced by the camera clock, and tears the session down', async () => {
    const { camera, clock } = await startCameraForTest();
    const frames: Buffer[] = [];
    const client = new RtspJpegClient({
      uri: camera.addresses().rtspUri,
      username: 'admin',
      password: 'Hd@2026',
      clock: systemClock,
      timeoutMs: 3000,
      onFrame: (jpeg) => frames.push(jpeg),
      onEnd: () => undefined,
    });
    await client.open();
    await vi.waitFor(() => expect(frames).toHaveLength(1));
    clock.advance(200);
    await vi.waitFor(() => expect(frames).toHaveLength(2));
    expect(frames[0]?.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(camera.rtspStats().sessionsOpen).toBe(1);
    await client.close();
    await vi.waitFor(() => expect(camera.rtspStats().sessionsOpen).toBe(0));
    expect(client.stats).toEqual({ frames: 2, dropped: 0 });
  });

  it('reports refused credentials and a closed port as such', async () => {
    const { camera } = await startCameraForTest();
    const open = (password: string) =>
      new RtspJpegClient({
        uri: camera.addresses().rtspUri,
        username: 'admin',
        password,
        clock: systemClock,
        timeoutMs: 3000,
        onFrame: () => undefined,
        onEnd: () => undefined,
      }).open();
    await expect(open('wrong')).rejects.toMatchObject({ code: 'unauthorized' });
    await camera.injectFault({ kind: 'stream-down' });
    await expect(open('Hd@2026')).rejects.toBeInstanceOf(RtspStreamError);
    await expect(open('Hd@2026')).rejects.toMatchObject({ code: 'refused' });
  });

  it('answers SETUP it cannot serve and requests outside a session with RTSP errors', async () => {
    const { camera } = await startCameraForTest();
    const { rtspUri, rtspPort } = camera.addresses();
    const [challenge] = await rtspExchange(rtspPort, [`DESCRIBE ${rtspUri} RTSP/1.0\r\nCSeq: 1\r\n\r\n`]);
    const auth = new RtspAuthenticator('admin', 'Hd@2026');
    auth.accept(/WWW-Authenticate: (.*)\r\n/.exec(challenge as string)?.[1]);
    const signed = (method: string, uri: string, extra = '') =>
      `${method} ${uri} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: ${auth.authorization(method, uri)}\r\n${extra}\r\n`;
    const [multicast] = await rtspExchange(rtspPort, [
      signed('SETUP', `${rtspUri}/trackID=1`, 'Transport: RTP/AVP;multicast\r\n'),
    ]);
    expect(multicast).toMatch(/^RTSP\/1\.0 461 /);
    const [noSession] = await rtspExchange(rtspPort, [signed('PLAY', rtspUri, 'Session: 1234\r\n')]);
    expect(noSession).toMatch(/^RTSP\/1\.0 454 /);
    const [unknownPath] = await rtspExchange(rtspPort, [signed('DESCRIBE', rtspUri.replace('101', '999'))]);
    expect(unknownPath).toMatch(/^RTSP\/1\.0 404 /);
  });
});
