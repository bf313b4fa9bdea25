import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { RtspAuthenticator } from '../../devices/onvif-camera/rtsp-auth.js';
import { startCameraForTest } from '../support/simulator-fixtures.js';
import { fetchSnapshot, PASSWORD, postSoap, rtspExchange, soapRequest, USERNAME } from './onvif-harness.js';

describe('simulated ONVIF camera protocol', () => {
  it('answers GetSystemDateAndTime without credentials with the clock in UTC', async () => {
    const { camera } = await startCameraForTest();
    const { status, text } = await postSoap(
      camera.addresses().deviceXAddr,
      soapRequest('GetSystemDateAndTime'),
    );
    expect(status).toBe(200);
    // ManualClock starts at 2026-11-22T00:00:00Z.
    expect(text).toContain(
      '<tt:UTCDateTime><tt:Time><tt:Hour>0</tt:Hour><tt:Minute>0</tt:Minute><tt:Second>0</tt:Second></tt:Time>' +
        '<tt:Date><tt:Year>2026</tt:Year><tt:Month>11</tt:Month><tt:Day>22</tt:Day></tt:Date></tt:UTCDateTime>',
    );
  });

  it('answers a wrong password with a ter:NotAuthorized fault and HTTP 400', async () => {
    const { camera } = await startCameraForTest();
    const { status, text } = await postSoap(
      camera.addresses().deviceXAddr,
      soapRequest('GetDeviceInformation', {
        password: 'wrong',
        created: new Date(Date.UTC(2026, 10, 22)).toISOString(),
      }),
    );
    expect(status).toBe(400);
    expect(text).toMatch(/<s:Value>s:Sender<\/s:Value><s:Subcode><s:Value>ter:NotAuthorized<\/s:Value>/);
  });

  it('answers a missing UsernameToken with ter:NotAuthorized', async () => {
    const { camera } = await startCameraForTest();
    const { status, text } = await postSoap(
      camera.addresses().deviceXAddr,
      soapRequest('GetDeviceInformation'),
    );
    expect(status).toBe(400);
    expect(text).toContain('ter:NotAuthorized');
  });

  it('accepts a Created within five minutes of the camera clock and rejects a stale one', async () => {
    const { camera, clock } = await startCameraForTest();
    const { deviceXAddr } = camera.addresses();
    const at = (ms: number) => new Date(clock.now() + ms).toISOString();
    const fresh = await postSoap(
      deviceXAddr,
      soapRequest('GetDeviceInformation', { password: PASSWORD, created: at(-4 * 60_000) }),
    );
    expect(fresh.status).toBe(200);
    const stale = await postSoap(
      deviceXAddr,
      soapRequest('GetDeviceInformation', { password: PASSWORD, created: at(-6 * 60_000) }),
    );
    expect(stale.status).toBe(400);
    expect(stale.text).toContain('ter:NotAuthorized');
  });

  it('answers an unknown action with ter:ActionNotSupported', async () => {
    const { camera, clock } = await startCameraForTest();
    const { status, text } = await postSoap(
      camera.addresses().deviceXAddr,
      soapRequest('SystemReboot', { password: PASSWORD, created: new Date(clock.now()).toISOString() }),
    );
    expect(status).toBe(500);
    expect(text).toMatch(/<s:Value>s:Receiver<\/s:Value><s:Subcode><s:Value>ter:ActionNotSupported/);
  });

  it('challenges a snapshot without digest and serves a JPEG with it', async () => {
    const { camera } = await startCameraForTest();
    const { snapshotUri } = camera.addresses();
    const bare = await fetch(snapshotUri);
    await bare.arrayBuffer();
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(
      /^Digest realm="[^"]+", qop="auth", nonce="[0-9a-f]{32}"/,
    );
    const response = await fetchSnapshot(snapshotUri);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const image = jpeg.decode(Buffer.from(await response.arrayBuffer()), { useTArray: true });
    expect([image.width, image.height]).toEqual([320, 180]);
  });

  it('serves different snapshots at different clock times', async () => {
    const { camera, clock } = await startCameraForTest();
    const { snapshotUri } = camera.addresses();
    const first = Buffer.from(await (await fetchSnapshot(snapshotUri)).arrayBuffer());
    clock.advance(61_000);
    const second = Buffer.from(await (await fetchSnapshot(snapshotUri)).arrayBuffer());
    expect(first.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(second.equals(first)).toBe(false);
  });

  it('answers RTSP OPTIONS openly, and DESCRIBE only with Digest credentials, with a Motion JPEG SDP', async () => {
    const { camera } = await startCameraForTest();
    const { rtspUri, rtspPort } = camera.addresses();
    const [options, refused] = await rtspExchange(rtspPort, [
      `OPTIONS ${rtspUri} RTSP/1.0\r\nCSeq: 1\r\n\r\n`,
      `DESCRIBE ${rtspUri} RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n`,
    ]);
    expect(options).toMatch(/^RTSP\/1\.0 200 OK\r\nCSeq: 1\r\n/);
    expect(options).toContain('Public: OPTIONS, DESCRIBE');
    expect(refused).toMatch(/^RTSP\/1\.0 401 Unauthorized\r\nCSeq: 2\r\n/);
    const auth = new RtspAuthenticator(USERNAME, PASSWORD);
    expect(auth.accept(/WWW-Authenticate: (.*)\r\n/.exec(refused as string)?.[1])).toBe(true);
    const [describe] = await rtspExchange(rtspPort, [
      `DESCRIBE ${rtspUri} RTSP/1.0\r\nCSeq: 3\r\nAuthorization: ${auth.authorization('DESCRIBE', rtspUri)}\r\n\r\n`,
    ]);
    expect(describe).toMatch(/^RTSP\/1\.0 200 OK\r\nCSeq: 3\r\n/);
    expect(describe).toContain('Content-Type: application/sdp');
    expect(describe).toContain('a=rtpmap:26 JPEG/90000');
  });
});
