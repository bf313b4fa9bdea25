import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * What leaves no audit entry (refused reads, malformed URLs, broken MQTT framing) still shows in
 * /metrics, one count each, so a scan or a flood is visible.
 */
describe('refusals that are not audited', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(() => t.close());

  const metric = async (pattern: RegExp): Promise<number> => {
    const text = await (
      await fetch(`${t.httpUrl}/metrics`, { headers: await t.headersFor('technician') })
    ).text();
    const line = text.split('\n').find((l) => pattern.test(l));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('counts refused reads and malformed URLs by method and status', async () => {
    for (let i = 0; i < 7; i++) expect((await fetch(`${t.httpUrl}/api/v1/audit`)).status).toBe(401);
    for (let i = 0; i < 3; i++)
      expect((await fetch(`${t.httpUrl}/api/v1/clusters/%E0%A4%A`, { method: 'POST' })).status).toBe(400);
    expect(await metric(/^sc_http_refused_total\{method="GET",status="401"\}/)).toBe(7);
    expect(await metric(/^sc_http_refused_total\{method="POST",status="400"\}/)).toBe(3);
  });

  it('counts every MQTT connection that breaks the protocol, however many arrive at once', async () => {
    const port = Number(new URL(t.mqttUrl).port);
    const garbage = 200;
    await Promise.all(
      Array.from(
        { length: garbage },
        () =>
          new Promise<void>((resolve) => {
            const socket = connect({ host: '127.0.0.1', port }, () =>
              socket.write(Buffer.from([0x10, 0x02, 0xff, 0xff])),
            );
            socket.on('close', () => resolve());
            socket.on('error', () => undefined);
            socket.setTimeout(5_000, () => socket.destroy());
          }),
      ),
    );
    await vi.waitFor(async () =>
      expect(await metric(/^sc_mqtt_connection_errors_total\{stage="before-connect"\}/)).toBe(garbage),
    );
  });
});
