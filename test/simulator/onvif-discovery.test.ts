import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { nodeOnvif, type OnvifCam, onvif, startCamera } from './onvif-harness.js';

function unicastProbe(
  port: number,
  messageId: string,
  types = 'dn:NetworkVideoTransmitter',
): Promise<string[]> {
  const socket = createSocket('udp4');
  const replies: string[] = [];
  const probe =
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    `<s:Header><a:MessageID>${messageId}</a:MessageID><a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>` +
    '<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action></s:Header>' +
    `<s:Body><d:Probe><d:Types>${types}</d:Types></d:Probe></s:Body></s:Envelope>`;
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('message', (message) => {
      replies.push(message.toString('utf8'));
      socket.close();
      resolve(replies);
    });
    socket.send(probe, port, '127.0.0.1');
  });
}

describe('simulated ONVIF camera discovery', () => {
  const cameras: SimulatedCamera[] = [];
  afterEach(async () => {
    await Promise.all(cameras.splice(0).map((camera) => camera.stop()));
  });

  it('answers a unicast Probe with a ProbeMatch relating to it', async () => {
    const { camera } = await startCamera({ discoveryPort: 0 });
    cameras.push(camera);
    const { discoveryPort, uuid, deviceXAddr } = camera.addresses();
    const messageId = `uuid:${randomUUID()}`;
    const [reply] = await unicastProbe(discoveryPort ?? 0, messageId);
    expect(reply).toContain(`<a:RelatesTo>${messageId}</a:RelatesTo>`);
    expect(reply).toContain(`<a:Address>urn:uuid:${uuid}</a:Address>`);
    expect(reply).toContain(`<d:XAddrs>${deviceXAddr}</d:XAddrs>`);
    expect(reply).toContain('onvif://www.onvif.org/name/Nga_tu_Dong_Tinh');
    expect(reply).toContain('onvif://www.onvif.org/location/Thon_Dong_Tinh');
    expect(reply).toContain('onvif://www.onvif.org/hardware/SC-IPC-2MP');
    expect(reply).toContain('onvif://www.onvif.org/type/video_encoder');
  });

  // Multicast to 239.255.255.250:3702 loops back on this machine, so both libraries probe unchanged.
  it('is found by onvif Discovery.probe and node-onvif startProbe over multicast', async () => {
    for (const name of ['Ngã ba Hướng Đạo', 'Cổng UBND xã']) {
      const { camera } = await startCamera({ name, discoveryPort: 3702, seed: 7 });
      cameras.push(camera);
    }
    const uuids = cameras.map((camera) => `urn:uuid:${camera.identity.uuid}`);

    const found = await new Promise<OnvifCam[]>((resolve, reject) =>
      onvif.Discovery.probe({ timeout: 1_500, resolve: false }, (err, cams) =>
        err && !Array.isArray(cams) ? reject(err) : resolve(cams),
      ),
    );
    const addresses = found.map(
      (cam) =>
        (cam as unknown as { probeMatches: { probeMatch: { endpointReference: { address: string } } } })
          .probeMatches.probeMatch.endpointReference.address,
    );
    expect(addresses).toEqual(expect.arrayContaining(uuids));

    const probed = await nodeOnvif.startProbe();
    const ours = probed.filter((device) => uuids.includes(device.urn));
    expect(ours.map((device) => device.name).sort()).toEqual(['Cong UBND xa', 'Nga ba Huong Dao']);
    expect(ours[0]?.xaddrs).toHaveLength(1);
    expect(ours[0]?.hardware).toBe('SC-IPC-2MP');
  });
});
