import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { type CameraFault, parseCameraFault } from '../../simulators/onvif-camera/faults.js';
import type { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { MjpegReader } from '../support/mjpeg-stream.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { registerCamera, startSimulatedCamera } from '../support/simulated-cameras.js';

/*
 * The police live view logs in to cameras as the health poller does, so it goes through the same
 * login backoff and the same certificates trusted on first use: a camera held back is not sent a
 * password by a viewer either, and a camera that is not the one trusted is not watched. Simulated
 * cameras on real sockets, the real platform; the simulators count every refused login.
 */
describe('the live view within the poller’s trust and login backoff', () => {
  let t: TestPlatform;
  const cameras = new Map<string, SimulatedCamera>();
  const readers: MjpegReader[] = [];
  const camera = (id: string) => cameras.get(id) as SimulatedCamera;
  const watch = async (id: string, query = '?frames=1') => {
    const response = await fetch(`${t.httpUrl}/api/v1/cameras/${id}/live${query}`, {
      headers: await t.headersFor('police'),
    });
    if (response.status !== 200)
      return { response, body: (await response.json()) as { error: Record<string, string> } };
    const reader = new MjpegReader(response);
    readers.push(reader);
    return { response, reader };
  };

  const add = async (
    id: string,
    faults: CameraFault[],
    password: string,
    extra: Record<string, string> = {},
  ) => {
    const name = `Ngã tư ${id}`;
    const sim = await startSimulatedCamera({
      name,
      username: 'admin',
      password: `pw-${id}`,
      clock: systemClock,
      faults,
      // Only the poller and the live view log in.
      events: false,
    });
    cameras.set(id, sim);
    await registerCamera(t, sim, { id, communeId: 'huong-dao', name, username: 'admin', password, ...extra });
  };

  beforeAll(async () => {
    t = await startTestPlatform({
      config: { SEED_PRESET: 'huong-dao', CAMERA_POLL_INTERVAL_S: 3600, CAMERA_CALL_TIMEOUT_MS: 2000 },
    });
    await add('cam-held', [], 'changed-on-site');
    await add('cam-refused', [], 'changed-on-site');
    await add('cam-tls', [{ kind: 'https' }], 'pw-cam-tls');
    await add(
      'cam-viewer',
      [parseCameraFault('snapshot-user', 'viewer/Xem@2026'), { kind: 'stream-down' }],
      'pw-cam-viewer',
      {
        snapshotUsername: 'viewer',
        snapshotPassword: 'Xem@2026',
      },
    );
  });

  afterAll(async () => {
    await Promise.all(readers.map((r) => r.cancel().catch(() => undefined)));
    await t?.close();
    await Promise.all([...cameras.values()].map((c) => c.stop()));
  });

  it('answers a viewer of a camera held back with the reason, without logging in', async () => {
    await t.platform.cameraHealth.poll('cam-held');
    expect(camera('cam-held').failedLogins()).toBe(1);
    const { response, body } = await watch('cam-held');
    expect(response.status).toBe(503);
    expect(body?.error).toMatchObject({
      code: 'camera_login_held_back',
      message: expect.stringMatching(
        /login refused 1 time in a row; next try in 1 min to avoid locking the account/,
      ),
    });
    expect(camera('cam-held').failedLogins()).toBe(1);
  });

  it('counts a login the camera refused to a viewer in the backoff the poller keeps', async () => {
    const { response, body } = await watch('cam-refused');
    expect(response.status).toBe(503);
    expect(body?.error.code).toBe('camera_auth_failed');
    expect(camera('cam-refused').failedLogins()).toBe(1);
    // The poller's next sweep sends nothing: the refusal was the live view's, the backoff is shared.
    await t.platform.cameraHealth.sweep();
    expect(camera('cam-refused').failedLogins()).toBe(1);
    expect(t.platform.cameraHealth.status('cam-refused').detail).toMatch(/next try in 1 min/);
    const viewAgain = await watch('cam-refused');
    expect(viewAgain.body?.error.code).toBe('camera_login_held_back');
    expect(camera('cam-refused').failedLogins()).toBe(1);
  });

  it('does not show a camera whose certificate changed until a technician trusts the new one', async () => {
    await t.platform.cameraHealth.poll('cam-tls');
    const trusted = t.platform.cameraHealth.certificates('cam-tls');
    expect(Object.keys(trusted)).toHaveLength(1);
    const first = await watch('cam-tls');
    expect(first.response.status).toBe(200);
    expect(await first.reader?.next()).toBeInstanceOf(Buffer);

    await camera('cam-tls').injectFault({ kind: 'new-certificate' });
    const changed = await watch('cam-tls');
    expect(changed.response.status).toBe(503);
    expect(changed.body?.error.code).toBe('camera_certificate_changed');
    expect(camera('cam-tls').failedLogins()).toBe(0);

    const trust = await t.api('/api/v1/cameras/cam-tls/certificate', { method: 'DELETE', as: 'technician' });
    expect(trust.status).toBe(204);
    const after = await watch('cam-tls');
    expect(after.response.status).toBe(200);
    expect(await after.reader?.next()).toBeInstanceOf(Buffer);
    // The view trusted the certificate it met first, for the poller as well.
    const now = t.platform.cameraHealth.certificates('cam-tls');
    expect(Object.keys(now)).toEqual(Object.keys(trusted));
    expect(Object.values(now)).not.toEqual(Object.values(trusted));
  });

  it('polls the snapshot with the camera’s snapshot account when it has no MJPEG stream', async () => {
    const { response, reader } = await watch('cam-viewer', '?frames=2');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-live-source')).toBe('snapshots');
    expect(await reader?.next()).toBeInstanceOf(Buffer);
    expect(await reader?.next()).toBeInstanceOf(Buffer);
    expect(camera('cam-viewer').failedLogins()).toBe(0);
  });
});
