import { describe, expect, it, vi } from 'vitest';
import { CommandSchema } from '../../devices/index.js';
import { platformWithDeviceEachTest } from '../support/platform-fixture.js';
import { nextMessage } from '../support/platform-harness.js';

describe('device commands', () => {
  const fixture = platformWithDeviceEachTest('hd-c01');

  const send = (body: unknown, query = '') =>
    fixture.t.api(`/api/v1/devices/hd-c01/commands${query}`, { method: 'POST', body });

  /** hd-c01 connected and subscribed to its commands, once the platform has it online. */
  const listeningDevice = async () => {
    const { t, secret } = fixture;
    const device = await t.connectDevice('hd-c01', secret);
    await device.subscribeAsync('sc/v1/hd-c01/cmd', { qos: 1 });
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(true));
    return device;
  };

  it('publishes a valid command and follows the device acks to done', async () => {
    const { t } = fixture;
    const device = await listeningDevice();

    const received = nextMessage(device);
    const pending = send({ type: 'volume', level: 35 }, '?waitMs=5000');
    const command = CommandSchema.parse(JSON.parse((await received).payload.toString()));
    expect(command).toMatchObject({ type: 'volume', level: 35 });
    expect(command.expiresAt - command.issuedAt).toBe(300_000);
    const ack = (status: string) => JSON.stringify({ cmdId: command.id, status, ts: Date.now() });
    await device.publishAsync('sc/v1/hd-c01/ack', ack('accepted'), { qos: 1 });
    await device.publishAsync('sc/v1/hd-c01/ack', ack('done'), { qos: 1 });

    const response = await pending;
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({ id: command.id, status: 'done', error: null });

    // A re-sent ack (the device de-duplicating a retry) and a late "accepted" change nothing.
    await device.publishAsync('sc/v1/hd-c01/ack', ack('accepted'), { qos: 1 });
    const list = await t.api('/api/v1/devices/hd-c01/commands');
    expect(list.body).toMatchObject({ total: 1, items: [{ id: command.id, status: 'done' }] });
  });

  it('records a rejection with its reason', async () => {
    const device = await listeningDevice();
    const received = nextMessage(device);
    const pending = send({ type: 'reboot' }, '?waitMs=5000');
    const { id } = JSON.parse((await received).payload.toString());
    await device.publishAsync(
      'sc/v1/hd-c01/ack',
      JSON.stringify({ cmdId: id, status: 'rejected', error: 'busy', ts: Date.now() }),
    );
    expect((await pending).body).toMatchObject({ status: 'rejected', error: 'busy' });
  });

  it('answers with the status so far when the device does not ack within waitMs', async () => {
    const { t, secret } = fixture;
    const device = await t.connectDevice('hd-c01', secret);
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(true));
    const response = await send({ type: 'ping' }, '?waitMs=100');
    expect(response.body.status).toBe('sent');
    expect(device.connected).toBe(true);
  });

  it('refuses to command an offline device unless forced, and validates the command', async () => {
    const offline = await send({ type: 'ping' });
    expect(offline.status).toBe(409);
    expect(offline.body.error.code).toBe('device_offline');
    expect((await send({ type: 'ping' }, '?force=true')).status).toBe(202);
    const bad = await send({ type: 'volume', level: 140 }, '?force=true');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('body.level');
    expect((await send({ type: 'play' }, '?force=true')).status).toBe(400);
  });

  it('ignores an ack for the command from a different device', async () => {
    const { t, secret } = fixture;
    const otherSecret = await t.addDevice('hd-c02');
    const other = await t.connectDevice('hd-c02', otherSecret);
    await t.connectDevice('hd-c01', secret);
    await vi.waitFor(() => expect(t.platform.presence.isOnline('hd-c01')).toBe(true));
    const { body } = await send({ type: 'ping' });
    await other.publishAsync(
      'sc/v1/hd-c02/ack',
      JSON.stringify({ cmdId: body.id, status: 'done', ts: Date.now() }),
      { qos: 1 },
    );
    await other.publishAsync('sc/v1/hd-c02/heartbeat', 'x'); // processed after the ack: a marker
    await vi.waitFor(() => expect(t.platform.ingress.rejections('hd-c02')).toEqual({ 'invalid-json': 1 }));
    const list = await t.api('/api/v1/devices/hd-c01/commands');
    expect(list.body.items[0].status).toBe('sent');
  });
});
