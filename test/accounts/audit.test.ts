import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

describe('audit log', () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await startTestPlatform();
  });
  afterEach(() => t.close());

  const entries = async (query = '') => (await t.api(`/api/v1/audit?limit=500${query}`)).body;

  it('records who changed what, with a before/after summary of the changed fields only', async () => {
    await t.addDevice('hd-c01');
    const tech = await t.headersFor('technician');
    const patch = await t.api('/api/v1/clusters/hd-c01', {
      method: 'PATCH',
      body: { name: 'Cụm loa chợ Hướng Đạo', address: 'Chợ xã' },
      as: { headers: tech },
    });
    expect(patch.status).toBe(200);
    const { items } = await entries('&action=cluster.update');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      actorType: 'user',
      actorName: 'technician-all',
      actorRoles: ['technician'],
      action: 'cluster.update',
      targetType: 'cluster',
      targetId: 'hd-c01',
      before: { name: 'Cụm hd-c01', address: null },
      after: { name: 'Cụm loa chợ Hướng Đạo', address: 'Chợ xã' },
      outcome: 'success',
      status: 200,
      address: '127.0.0.1',
      requestId: patch.headers.get('x-request-id'),
    });
  });

  it('records refused and failed attempts with their outcome', async () => {
    const police = await t.headersFor('police');
    expect(
      (await t.api('/api/v1/communes', { method: 'POST', body: { name: 'X' }, as: { headers: police } }))
        .status,
    ).toBe(403);
    expect(
      (await t.api('/api/v1/communes', { method: 'POST', body: { name: 'X' }, as: 'anonymous' })).status,
    ).toBe(401);
    expect((await t.api('/api/v1/communes', { method: 'POST', body: { name: '' } })).status).toBe(400);
    const { items } = await entries('&action=commune.create');
    expect(
      items.map((e: { outcome: string; actorName: string | null; status: number }) => [
        e.outcome,
        e.actorName,
        e.status,
      ]),
    ).toEqual([
      ['failure', 'admin', 400],
      ['denied', null, 401],
      ['denied', 'police-all', 403],
    ]);
    expect(items[2].detail).toMatchObject({ code: 'forbidden' });
  });

  it('never stores secrets: device secrets, passwords and API tokens stay out of the log', async () => {
    await t.addDevice('hd-c02');
    const issued = await t.api('/api/v1/clusters/hd-c02/credentials', { method: 'POST' });
    await t.api('/api/v1/users', {
      method: 'POST',
      body: {
        username: 'can-bo',
        displayName: 'Cán bộ',
        password: 'mat-khau-rat-bi-mat',
        roles: ['operator'],
      },
    });
    const token = await t.api('/api/v1/auth/tokens', { method: 'POST', body: { name: 'huyện' } });
    const csv = (await t.api('/api/v1/audit?format=csv&limit=1000')).body as string;
    const json = JSON.stringify(await entries());
    for (const secret of [
      issued.body.secret,
      'mat-khau-rat-bi-mat',
      token.body.token,
      'admin-password-for-tests',
    ]) {
      expect(json).not.toContain(secret);
      expect(csv).not.toContain(secret);
    }
    const { items } = await entries('&action=cluster.credentials.issue');
    expect(items[0].after).toMatchObject({ rotated: true });
  });

  it('filters by actor, action, outcome, target and time, and pages', async () => {
    for (let i = 0; i < 6; i++)
      await t.api('/api/v1/communes', { method: 'POST', body: { id: `xa-${i}`, name: `Xã ${i}` } });
    await t.api('/api/v1/communes/xa-0', { method: 'PATCH', body: { name: 'Xã Không' } });
    const page = await t.api('/api/v1/audit?action=commune.create&limit=4&offset=4');
    expect(page.body).toMatchObject({ total: 6, limit: 4, offset: 4 });
    expect(page.body.items).toHaveLength(2);
    expect((await entries('&targetId=xa-0')).total).toBe(2);
    expect((await entries('&actor=admin&outcome=success&action=commune.update')).total).toBe(1);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await entries(`&from=${future}`)).total).toBe(0);
    expect((await t.api('/api/v1/audit?outcome=maybe')).status).toBe(400);
  });

  it('exports CSV for a spreadsheet, Vietnamese text intact', async () => {
    await t.api('/api/v1/communes', { method: 'POST', body: { id: 'huong-dao', name: 'Hướng Đạo' } });
    const response = await fetch(`${t.httpUrl}/api/v1/audit?format=csv`, {
      headers: await t.headersFor('admin'),
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(response.headers.get('content-disposition')).toMatch(
      /^attachment; filename="audit-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const text = await response.text();
    const [header, ...rows] = text
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\n');
    expect(header).toBe(
      'at,actorType,actorName,actorId,actorRoles,action,targetType,targetId,outcome,status,address,before,after,detail,requestId',
    );
    const row = rows.find((r) => r.includes('commune.create'));
    expect(row).toContain('"{""id"":""huong-dao"",""name"":""Hướng Đạo""}"');
  });

  it('records refused device logins and ACL denials from the MQTT side', async () => {
    const secret = await t.addDevice('hd-c03');
    await expect(
      mqtt.connectAsync(t.mqttUrl, {
        clientId: 'hd-c03',
        username: 'hd-c03',
        password: 'doan-bua',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow();
    const device = await t.connectDevice('hd-c03', secret);
    await device.subscribeAsync('sc/v1/hd-c04/cmd').catch((error: Error) => error);
    await vi.waitFor(async () => {
      const { items } = await entries('&outcome=denied');
      const mqttEntries = items.filter((e: { action: string }) => e.action.startsWith('mqtt.'));
      expect(
        mqttEntries.map((e: { action: string; actorType: string; targetId: string }) => [
          e.action,
          e.actorType,
          e.targetId,
        ]),
      ).toEqual([
        ['mqtt.subscribe', 'device', 'sc/v1/hd-c04/cmd'],
        ['mqtt.login', 'device', 'hd-c03'],
      ]);
      expect(mqttEntries[1].detail).toMatchObject({ reason: 'unknown-or-bad-secret' });
      expect(mqttEntries[1].address).toBe('127.0.0.1');
    });
  });

  it('is readable by admins only', async () => {
    expect((await t.api('/api/v1/audit', { as: 'technician' })).status).toBe(403);
    expect((await t.api('/api/v1/audit', { as: 'anonymous' })).status).toBe(401);
  });
});
