import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { call, connectCam, nodeOnvif, PASSWORD, startCamera, USERNAME } from './onvif-harness.js';

describe('simulated ONVIF camera with real client libraries', () => {
  let camera: SimulatedCamera | undefined;
  afterEach(async () => {
    await camera?.stop();
    camera = undefined;
  });

  it('lets the onvif package connect and read stream, snapshot and device information', async () => {
    ({ camera } = await startCamera());
    const { httpPort, rtspPort } = camera.addresses();
    const cam = await connectCam('127.0.0.1', httpPort);

    expect(cam.profiles.map((p) => p.$.token)).toEqual(['Profile_1', 'Profile_2']);
    expect(cam.videoSources.map((s) => s.$.token)).toEqual(['VideoSource_1']);
    expect(cam.activeSource).toMatchObject({
      sourceToken: 'VideoSource_1',
      profileToken: 'Profile_1',
      // What the RTSP server serves: Motion JPEG, 320×184.
      encoding: 'JPEG',
      width: 320,
      height: 184,
    });
    const stream = await call<{ uri: string }>((cb) => cam.getStreamUri({ protocol: 'RTSP' }, cb));
    expect(stream.uri).toBe(`rtsp://127.0.0.1:${rtspPort}/Streaming/Channels/101`);
    const snapshot = await call<{ uri: string }>((cb) => cam.getSnapshotUri(cb));
    expect(snapshot.uri).toBe(`http://127.0.0.1:${httpPort}/snapshot.jpg`);
    const info = await call<Record<string, unknown>>((cb) => cam.getDeviceInformation(cb));
    expect(info).toMatchObject({
      manufacturer: 'SmartCommune',
      model: 'SC-IPC-2MP',
      serialNumber: camera.identity.serialNumber,
      hardwareId: 'SC-IPC-2MP-HW1',
    });
    expect(String(info.firmwareVersion)).toContain('V5.7.3');
  });

  it('answers the onvif package with ter:NotAuthorized for a wrong password', async () => {
    ({ camera } = await startCamera());
    // The library treats media failures during connect as warnings, so connect itself succeeds.
    const cam = await connectCam('127.0.0.1', camera.addresses().httpPort, 'wrong');
    expect(cam.videoSources).toEqual([]);
    await expect(call((cb) => cam.getDeviceInformation(cb))).rejects.toThrow(
      'ONVIF SOAP Fault: Sender not Authorized',
    );
  });

  it('lets node-onvif init and list profiles with stream and snapshot URLs', async () => {
    ({ camera } = await startCamera());
    const { deviceXAddr, rtspPort, snapshotUri } = camera.addresses();
    const device = new nodeOnvif.OnvifDevice({ xaddr: deviceXAddr, user: USERNAME, pass: PASSWORD });
    const info = await device.init();
    expect(info).toMatchObject({ Manufacturer: 'SmartCommune', Model: 'SC-IPC-2MP' });
    const profiles = device.getProfileList();
    expect(profiles.map((p) => p.token)).toEqual(['Profile_1', 'Profile_2']);
    expect(profiles[0]).toMatchObject({
      snapshot: snapshotUri,
      stream: { rtsp: `rtsp://127.0.0.1:${rtspPort}/Streaming/Channels/101` },
      video: { encoder: { encoding: 'JPEG', resolution: { width: 320, height: 184 }, framerate: 5 } },
    });
    expect(profiles[1]?.stream.rtsp).toBe(`rtsp://127.0.0.1:${rtspPort}/Streaming/Channels/102`);
  });

  it('fails node-onvif init with a wrong password', async () => {
    ({ camera } = await startCamera());
    const device = new nodeOnvif.OnvifDevice({
      xaddr: camera.addresses().deviceXAddr,
      user: USERNAME,
      pass: 'x',
    });
    await expect(device.init()).rejects.toThrow(/400 Bad Request - Sender not Authorized/);
  });
});
