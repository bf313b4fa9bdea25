import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { describe, expect, it, vi } from 'vitest';
import { scryptHash } from '../../services/crypto/scrypt-hash.js';
import { ManualClock } from '../support/manual-clock.js';
import { platformWithDeviceEachTest } from '../support/platform-fixture.js';
import { startTestPlatform } from '../support/platform-harness.js';

describe('device authentication', () => {
  const fixture = platformWithDeviceEachTest('hd-c01');

  const refusal = (options: mqtt.IClientOptions) =>
    mqtt.connectAsync(fixture.t.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5_000, ...options }).then(
      async (client) => {
        await client.endAsync();
        return 'connected';
      },
      (error: Error & { code?: number }) => error.code ?? error.message,
    );

  it('accepts a device with its id as username and client id and its issued secret', async () => {
    const { t, secret } = fixture;
    const client = await t.connectDevice('hd-c01', secret);
    expect(client.connected).toBe(true);
  });

  it('refuses a wrong secret, a missing secret and an unknown device with "bad username or password"', async () => {
    const { secret } = fixture;
    expect(await refusal({ clientId: 'hd-c01', username: 'hd-c01', password: `${secret}x` })).toBe(4);
    expect(await refusal({ clientId: 'hd-c01', username: 'hd-c01' })).toBe(4);
    expect(await refusal({ clientId: 'hd-c01' })).toBe(4);
    expect(await refusal({ clientId: 'hd-c99', username: 'hd-c99', password: secret })).toBe(4);
  });

  it('refuses a client id that is not the username', async () => {
    const { secret } = fixture;
    expect(await refusal({ clientId: 'hd-c02', username: 'hd-c01', password: secret })).toBe(2);
  });

  it('stops accepting the old secret once the secret is rotated', async () => {
    const { t, secret } = fixture;
    const first = await t.connectDevice('hd-c01', secret);
    await first.endAsync();
    const rotated = await t.platform.registry.issueSecret('hd-c01');
    expect(rotated.rotated).toBe(true);
    expect(await refusal({ clientId: 'hd-c01', username: 'hd-c01', password: secret })).toBe(4);
    const again = await t.connectDevice('hd-c01', rotated.secret);
    expect(again.connected).toBe(true);
  });

  it('lets in a device whose secret an earlier version stored as scrypt, and keeps only the fast form after', async () => {
    const { t, secret } = fixture;
    // Earlier versions stored device secrets with scrypt; the row is written as they wrote it.
    const db = new Database(join(t.dataDir, 'smart-commune.sqlite'));
    try {
      const legacy = await scryptHash(secret, { N: 1024, r: 8, p: 1 });
      db.prepare('UPDATE device_credentials SET secret_hash = ? WHERE device_id = ?').run(legacy, 'hd-c01');
      const stored = () =>
        (
          db.prepare('SELECT secret_hash FROM device_credentials WHERE device_id = ?').get('hd-c01') as {
            secret_hash: string;
          }
        ).secret_hash;

      expect(await refusal({ clientId: 'hd-c01', username: 'hd-c01', password: `${secret}x` })).toBe(4);
      expect(stored()).toBe(legacy);
      const first = await t.connectDevice('hd-c01', secret);
      await first.endAsync();
      expect(stored()).toMatch(/^sha256\$/);
      const again = await t.connectDevice('hd-c01', secret);
      expect(again.connected).toBe(true);
      await again.endAsync();
      expect(await refusal({ clientId: 'hd-c01', username: 'hd-c01', password: `${secret}x` })).toBe(4);
    } finally {
      db.close();
    }
  });

  it('counts refused logins in the metrics', async () => {
    const { t } = fixture;
    await refusal({ clientId: 'hd-c01', username: 'hd-c01', password: 'nope' });
    const metrics = (await t.api('/metrics', { as: 'technician' })).body;
    expect(metrics).toMatch(/sc_mqtt_auth_failures_total\{reason="unknown-or-bad-secret"\} 1/);
  });
});

describe('repeated failed logins', () => {
  it('holds back answers to an address that keeps failing, while the right secret still gets in', async () => {
    const clock = new ManualClock();
    const t = await startTestPlatform({
      clock,
      loginThrottle: { freeFailures: 3, baseDelayMs: 2_000, maxDelayMs: 30_000, forgetAfterMs: 600_000 },
    });
    try {
      const secret = await t.addDevice('hd-c01');
      const attempt = () =>
        mqtt.connectAsync(t.mqttUrl, {
          clientId: 'hd-c01',
          username: 'hd-c01',
          password: 'guess',
          reconnectPeriod: 0,
          connectTimeout: 60_000,
        });
      for (let i = 0; i < 3; i++) await expect(attempt()).rejects.toThrow();

      // The fourth wrong guess is held: the broker arms a 2 s timer on the clock before answering.
      let answered = false;
      // Counted among timers due within the throttle's 2 s: features' own timers (presence checks,
      // an alarm's five minutes for a cluster that is not online) are further away.
      const held = () => clock.dueWithin(2_000);
      const timersBefore = held();
      const fourth = attempt().catch(() => {
        answered = true;
      });
      await vi.waitFor(() => expect(held()).toBe(timersBefore + 1));
      clock.advance(1_999);
      expect(clock.dueWithin(1)).toBeGreaterThanOrEqual(1);
      expect(answered).toBe(false);
      clock.advance(1);
      await fourth;
      expect(answered).toBe(true);

      // Another device behind the same address (a carrier NAT, a proxy) with its right secret is
      // answered at once: no timer is armed for it, it is not held for its neighbour's failures.
      const neighbourSecret = await t.addDevice('hd-c02');
      const timersNow = held();
      const neighbour = await Promise.race([
        mqtt.connectAsync(t.mqttUrl, {
          clientId: 'hd-c02',
          username: 'hd-c02',
          password: neighbourSecret,
          reconnectPeriod: 0,
        }),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('held back')), 3_000)),
      ]);
      expect(neighbour.connected).toBe(true);
      expect(held()).toBeLessThanOrEqual(timersNow);
      await neighbour.endAsync();

      // The right secret is also held back from that address (the throttle does not know it is
      // right before checking), but is accepted and resets the address.
      const beforeGood = clock.dueWithin(4_000);
      const good = mqtt.connectAsync(t.mqttUrl, {
        clientId: 'hd-c01',
        username: 'hd-c01',
        password: secret,
        reconnectPeriod: 0,
      });
      await vi.waitFor(() => expect(clock.dueWithin(4_000)).toBe(beforeGood + 1));
      clock.advance(4_000);
      const client = await good;
      expect(client.connected).toBe(true);
      await client.endAsync();
    } finally {
      await t.close();
    }
  });
});
