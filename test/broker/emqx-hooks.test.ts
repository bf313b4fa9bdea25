import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { api, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * EMQX itself does not run here (no Debian package); these requests are exactly what its HTTP
 * authentication (POST, JSON body) and authorization (GET, query string) backends send with the
 * request templates docs/scale-out.md gives, and the answers are checked against EMQX 5's format.
 */

const TOKEN = 'emqx-hook-token-for-tests-0123456789abcdef';
const OLD_TOKEN = 'emqx-hook-token-being-rotated-out-0123456789';
const hook = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

describe('EMQX HTTP authentication and authorization hooks', () => {
  let t: TestPlatform;
  let clock: ManualClock;
  let secret: string;

  const authn = (body: Record<string, string>, headers: Record<string, string> = hook()) =>
    api(t.httpUrl, '/api/v1/broker/emqx/authn', { method: 'POST', body, headers });
  const authz = (query: Record<string, string>, headers: Record<string, string> = hook()) =>
    api(t.httpUrl, `/api/v1/broker/emqx/authz?${new URLSearchParams(query)}`, { headers });
  const device = (id: string, password: string) => ({
    clientid: id,
    username: id,
    password,
    peerhost: '198.51.100.7',
  });

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    t = await startTestPlatform({
      clock,
      config: {
        EMQX_HOOK_TOKEN: TOKEN,
        EMQX_HOOK_TOKEN_PREVIOUS: OLD_TOKEN,
        EMQX_HOOK_TOKEN_PREVIOUS_UNTIL: new Date(clock.now() + 3_600_000).toISOString(),
      },
      loginThrottle: { freeFailures: 2, baseDelayMs: 60_000, maxDelayMs: 60_000, forgetAfterMs: 600_000 },
    });
    secret = await t.addDevice('emqx-c1');
    await t.addDevice('emqx-c2');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('lets a device in with its secret, with its own ACL for EMQX 5.8+', async () => {
    const response = await authn(device('emqx-c1', secret));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toMatchObject({ result: 'allow', is_superuser: false });
    expect(response.body.acl).toEqual(
      expect.arrayContaining([
        { permission: 'allow', action: 'publish', topic: 'eq sc/v1/emqx-c1/heartbeat' },
        { permission: 'allow', action: 'subscribe', topic: 'eq sc/v1/emqx-c1/cmd' },
      ]),
    );
    expect(response.body.acl.at(-1)).toEqual({ permission: 'deny', action: 'all', topic: '#' });
  });

  it('refuses a wrong secret, another client id, and missing credentials', async () => {
    expect((await authn(device('emqx-c1', 'not-the-secret'))).body).toEqual({
      result: 'deny',
      is_superuser: false,
    });
    expect((await authn({ ...device('emqx-c1', secret), clientid: 'someone-else' })).body.result).toBe(
      'deny',
    );
    expect((await authn({ clientid: 'emqx-c1', username: 'emqx-c1', password: '' })).body.result).toBe(
      'deny',
    );
    expect((await authn(device('not-registered', secret))).body.result).toBe('deny');
  });

  it("makes the platform's internal user a superuser, and only with its password", async () => {
    const { username, password } = t.platform.internalMqttCredential;
    const ok = await authn({ clientid: `${username}-1`, username, password });
    expect(ok.body).toEqual({ result: 'allow', is_superuser: true });
    const bad = await authn({ clientid: `${username}-1`, username, password: 'wrong-password-0000' });
    expect(bad.body).toEqual({ result: 'deny', is_superuser: false });
  });

  it('authorizes a device on its own topics only', async () => {
    const own = { clientid: 'emqx-c1', username: 'emqx-c1' };
    expect((await authz({ ...own, action: 'subscribe', topic: 'sc/v1/emqx-c1/cmd' })).body).toEqual({
      result: 'allow',
    });
    expect((await authz({ ...own, action: 'publish', topic: 'sc/v1/emqx-c1/heartbeat' })).body.result).toBe(
      'allow',
    );
    expect((await authz({ ...own, action: 'subscribe', topic: 'sc/v1/emqx-c2/cmd' })).body).toEqual({
      result: 'deny',
    });
    expect((await authz({ ...own, action: 'subscribe', topic: 'sc/v1/+/cmd' })).body.result).toBe('deny');
    expect((await authz({ ...own, action: 'publish', topic: 'sc/v1/emqx-c2/heartbeat' })).body.result).toBe(
      'deny',
    );
    expect((await authz({ ...own, action: 'publish', topic: 'sc/v1/emqx-c1/cmd' })).body.result).toBe('deny');
  });

  it('names the field of a malformed question', async () => {
    const response = await authz({ clientid: 'emqx-c1', username: 'emqx-c1', action: 'delete', topic: 'x' });
    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain('action');
  });

  it('refuses every call without the hook token, with a wrong one, and the old one after its end', async () => {
    expect((await authn(device('emqx-c1', secret), {})).status).toBe(401);
    expect(
      (await authz({ clientid: 'emqx-c1', username: 'emqx-c1', action: 'publish', topic: 'a' }, {})).status,
    ).toBe(401);
    expect(
      (await authn(device('emqx-c1', secret), hook('a-wrong-token-0123456789012345678901'))).status,
    ).toBe(401);
    // A signed-in console session is not the hook's credential either.
    const session = await t.headersFor('admin');
    expect((await authn(device('emqx-c1', secret), session)).status).toBe(401);

    expect((await authn(device('emqx-c1', secret), hook(OLD_TOKEN))).body.result).toBe('allow');
    clock.advance(3_600_000);
    expect((await authn(device('emqx-c1', secret), hook(OLD_TOKEN))).status).toBe(401);
    expect((await authn(device('emqx-c1', secret))).body.result).toBe('allow');
  });

  it('records each login decision in the audit log under the device', async () => {
    await authn(device('emqx-c2', 'a-guess'));
    const { items } = await t.platform.audit.query(
      { action: 'broker.authn', targetId: 'emqx-c2' },
      { limit: 10, offset: 0 },
    );
    expect(items[0]).toMatchObject({ actorType: 'device', actorName: 'emqx-c2', detail: { result: 'deny' } });
    expect(JSON.stringify(items)).not.toContain('a-guess');
  });

  it('stops checking secrets for a device after repeated failures, until the lock passes', async () => {
    await t.addDevice('emqx-c3');
    const fresh = await t.platform.registry.issueSecret('emqx-c3');
    for (let i = 0; i < 3; i++) await authn(device('emqx-c3', `guess-${i}`));
    expect((await authn(device('emqx-c3', fresh.secret))).body.result).toBe('deny');
    clock.advance(60_001);
    expect((await authn(device('emqx-c3', fresh.secret))).body.result).toBe('allow');
  });

  it('refuses everything to a device once it is deleted', async () => {
    const mine = {
      clientid: 'emqx-c2',
      username: 'emqx-c2',
      action: 'publish',
      topic: 'sc/v1/emqx-c2/state',
    };
    expect((await authz(mine)).body.result).toBe('allow');
    await t.platform.registry.deleteCluster('emqx-c2');
    expect((await authz(mine)).body.result).toBe('deny');
  });
});

describe('EMQX hooks without a configured token', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('are never open', async () => {
    const response = await api(t.httpUrl, '/api/v1/broker/emqx/authn', {
      method: 'POST',
      body: { clientid: 'x', username: 'x', password: 'y' },
      headers: hook(),
    });
    expect(response.status).toBe(401);
    expect(response.body.error.message).toMatch(/EMQX_HOOK_TOKEN/);
  });
});
