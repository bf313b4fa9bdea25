import { connect } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { parseCameraFault } from '../../simulators/onvif-camera/faults.js';
import { startCameraForTest } from '../support/simulator-fixtures.js';
import { fetchSnapshot, PASSWORD, postSoap, rtspExchange, soapRequest } from './onvif-harness.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('simulated ONVIF camera faults', () => {
  it('goes offline at start and answers again once cleared', async () => {
    const { camera } = await startCameraForTest({ faults: [{ kind: 'offline' }], httpPort: 0 });
    expect(camera.status().online).toBe(false);
    await camera.clearFault('offline');
    const { httpPort, rtspPort } = camera.addresses();
    await camera.injectFault({ kind: 'offline' });
    expect(await refused(httpPort)).toBe(true);
    expect(await refused(rtspPort)).toBe(true);
    await camera.clearFault('offline');
    const { status } = await postSoap(camera.addresses().deviceXAddr, soapRequest('GetSystemDateAndTime'));
    expect(status).toBe(200);
    expect(camera.addresses().httpPort).toBe(httpPort);
  });

  it('delays every answer by the slow fault on the camera clock', async () => {
    const { camera, clock } = await startCameraForTest({ faults: [parseCameraFault('slow', '4000')] });
    let answered = false;
    const pending = postSoap(camera.addresses().deviceXAddr, soapRequest('GetSystemDateAndTime')).then(
      (r) => {
        answered = true;
        return r;
      },
    );
    // The answer is parked on the manual clock; waitFor only polls for the request to arrive.
    await vi.waitFor(() => expect(clock.pendingTimers()).toBe(1));
    clock.advance(3_999);
    expect(answered).toBe(false);
    clock.advance(1);
    expect((await pending).status).toBe(200);
  });

  it('fails authentication after the password changed on site', async () => {
    const { camera, clock } = await startCameraForTest();
    const request = () =>
      postSoap(
        camera.addresses().deviceXAddr,
        soapRequest('GetDeviceInformation', {
          password: PASSWORD,
          created: new Date(clock.now()).toISOString(),
        }),
      );
    expect((await request()).status).toBe(200);
    await camera.injectFault({ kind: 'wrong-credentials' });
    const denied = await request();
    expect(denied.status).toBe(400);
    expect(denied.text).toContain('ter:NotAuthorized');
    expect((await fetchSnapshot(camera.addresses().snapshotUri)).status).toBe(401);
  });

  it('reports a drifted clock and judges token freshness by it', async () => {
    const { camera, clock } = await startCameraForTest({ faults: [{ kind: 'clock-drift', driftS: 3600 }] });
    const { deviceXAddr } = camera.addresses();
    const time = await postSoap(deviceXAddr, soapRequest('GetSystemDateAndTime'));
    expect(time.text).toContain('<tt:UTCDateTime><tt:Time><tt:Hour>1</tt:Hour><tt:Minute>0</tt:Minute>');
    const byHostClock = await postSoap(
      deviceXAddr,
      soapRequest('GetDeviceInformation', {
        password: PASSWORD,
        created: new Date(clock.now()).toISOString(),
      }),
    );
    expect(byHostClock.status).toBe(400);
    const byCameraClock = await postSoap(
      deviceXAddr,
      soapRequest('GetDeviceInformation', {
        password: PASSWORD,
        created: new Date(clock.now() + 3_600_000).toISOString(),
      }),
    );
    expect(byCameraClock.status).toBe(200);
  });

  it('fails snapshots with 500 or a corrupt body', async () => {
    const { camera } = await startCameraForTest({ faults: [{ kind: 'snapshot-fail', mode: 'error' }] });
    const { snapshotUri } = camera.addresses();
    const error = await fetchSnapshot(snapshotUri);
    await error.arrayBuffer();
    expect(error.status).toBe(500);
    await camera.injectFault({ kind: 'snapshot-fail', mode: 'corrupt' });
    const corrupt = await fetchSnapshot(snapshotUri);
    const body = Buffer.from(await corrupt.arrayBuffer());
    expect(corrupt.status).toBe(200);
    expect(body.subarray(0, 2).equals(Buffer.from([0xff, 0xd8]))).toBe(false);
  });

  it('refuses RTSP while the stream is down but keeps answering ONVIF', async () => {
    const { camera } = await startCameraForTest();
    const { rtspPort, rtspUri, deviceXAddr } = camera.addresses();
    await camera.injectFault({ kind: 'stream-down' });
    expect(await refused(rtspPort)).toBe(true);
    expect((await postSoap(deviceXAddr, soapRequest('GetSystemDateAndTime'))).status).toBe(200);
    await camera.clearFault('stream-down');
    const [options] = await rtspExchange(rtspPort, [`OPTIONS ${rtspUri} RTSP/1.0\r\nCSeq: 7\r\n\r\n`]);
    expect(options).toMatch(/CSeq: 7/);
  });

  it('reboots: offline for the given time, then back with the same identity and addresses', async () => {
    const { camera, clock } = await startCameraForTest();
    const before = camera.addresses();
    const serial = camera.identity.serialNumber;
    await camera.injectFault({ kind: 'reboot', downS: 30 });
    expect(await refused(before.httpPort)).toBe(true);
    clock.advance(29_999);
    await camera.settled();
    expect(camera.status().online).toBe(false);
    clock.advance(1);
    await camera.settled();
    expect(camera.status()).toMatchObject({ online: true, streaming: true, boots: 2, faults: [] });
    expect(camera.addresses()).toEqual(before);
    const info = await postSoap(
      before.deviceXAddr,
      soapRequest('GetDeviceInformation', {
        password: PASSWORD,
        created: new Date(clock.now()).toISOString(),
      }),
    );
    expect(info.text).toContain(`<tds:SerialNumber>${serial}</tds:SerialNumber>`);
  });
});
