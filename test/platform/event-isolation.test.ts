import { afterEach, describe, expect, it, vi } from 'vitest';
import { connected, consoleSocket } from '../realtime/console-socket.js';
import { heartbeat, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

describe('a failing event listener', () => {
  let t: TestPlatform;
  afterEach(() => t.close());

  it('is counted and logged while presence, history and the console still get the event', async () => {
    t = await startTestPlatform({
      // Registered before the platform's services, so each event reaches the failing ones first.
      beforeStart: (platform) => {
        platform.events.on(
          'device.heartbeat',
          () => {
            throw new Error('a listener that throws');
          },
          'faulty',
        );
        platform.events.on(
          'device.presence',
          async () => {
            throw new Error('a listener that rejects');
          },
          'faulty-async',
        );
      },
    });
    const secret = await t.addDevice('hd-iso');
    const consoleClient = consoleSocket(t.httpUrl, { headers: await t.headersFor('operator') });
    await connected(consoleClient);
    const device = await t.connectDevice('hd-iso', secret);
    const sentAt = Date.now();
    device.publish('sc/v1/hd-iso/heartbeat', heartbeat(1, { volume: 42 }, sentAt));

    // Presence took it: online, with the heartbeat's values.
    await vi.waitFor(() => {
      expect(t.platform.presence.isOnline('hd-iso')).toBe(true);
      expect(t.platform.presence.status('hd-iso').volume).toBe(42);
    });
    // The console was told.
    await vi.waitFor(() =>
      expect(
        consoleClient
          .of('clusters.delta')
          .flat()
          .some((c) => c.id === 'hd-iso' && c.volume === 42),
      ).toBe(true),
    );
    // History stored it.
    await t.platform.telemetry.flush();
    const history = await t.api(
      `/api/v1/devices/hd-iso/history?field=volume&from=${new Date(sentAt - 60_000).toISOString()}&to=${new Date(sentAt + 60_000).toISOString()}`,
      { as: 'technician' },
    );
    expect(history.body.points).toEqual([{ at: new Date(sentAt).toISOString(), value: 42 }]);

    // The failures are counted by owner, and the bus stays usable.
    await vi.waitFor(async () => {
      const metrics = await (
        await fetch(`${t.httpUrl}/metrics`, { headers: await t.headersFor('technician') })
      ).text();
      expect(metrics).toContain(
        'sc_event_listener_failures_total{owner="faulty",event="device.heartbeat"} 1',
      );
      expect(metrics).toMatch(
        /sc_event_listener_failures_total\{owner="faulty-async",event="device.presence"\} [1-9]/,
      );
    });
    consoleClient.socket.close();
    await device.endAsync();
  });

  it('are removed with their owner', async () => {
    t = await startTestPlatform();
    const owned = t.platform.events.owner('watcher');
    const seen: string[] = [];
    owned.on('device.heartbeat', ({ deviceId }) => seen.push(deviceId));
    owned.on('device.presence', ({ deviceId }) => seen.push(`presence:${deviceId}`));
    const before = t.platform.events.listenerCount('device.heartbeat');
    owned.removeAll();
    expect(t.platform.events.listenerCount('device.heartbeat')).toBe(before - 1);
    const secret = await t.addDevice('hd-own');
    const device = await t.connectDevice('hd-own', secret);
    device.publish('sc/v1/hd-own/heartbeat', heartbeat(1));
    await vi.waitFor(() => expect(t.platform.presence.status('hd-own').volume).not.toBeNull());
    expect(seen).toEqual([]);
    await device.endAsync();
  });
});
