import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Role } from '../../contracts/accounts.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  type As,
  api,
  type Json,
  startTestPlatform,
  type TestPlatform,
} from '../support/platform-harness.js';

const TOKEN_FORMAT = /^sct_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

/** Creates an account through the admin API and signs it in through the login endpoint. */
async function signedInUser(t: TestPlatform, username: string, roles: Role[]) {
  const password = `${username}-password`;
  const created = await t.api('/api/v1/users', {
    method: 'POST',
    body: { username, displayName: username, password, roles },
  });
  expect(created.status).toBe(201);
  const login = await api(t.httpUrl, '/api/v1/auth/login', { method: 'POST', body: { username, password } });
  expect(login.status).toBe(200);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
  return { id: created.body.id as string, as: { headers: { cookie } } };
}

async function createToken(t: TestPlatform, as: As, body: Json) {
  const response = await t.api('/api/v1/auth/tokens', { as, method: 'POST', body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { token: response.body.token as string, id: response.body.id as string, body: response.body };
}

describe('API tokens', () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await startTestPlatform();
  });
  afterEach(() => t.close());

  it('shows a new token once and never again, in lists, reads or the audit log', async () => {
    const created = await t.api('/api/v1/auth/tokens', {
      method: 'POST',
      body: { name: 'district report pull', expiresInDays: 30 },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const token = created.body.token as string;
    expect(token).toMatch(TOKEN_FORMAT);
    expect(token.split('_')[1]).toBe(created.body.id);
    expect(created.body).toMatchObject({ name: 'district report pull', roles: ['admin'], revokedAt: null });
    const secret = token.slice('sct_'.length + 13);

    const me = await t.api('/api/v1/auth/me', { as: bearer(token) });
    expect(me.body).toMatchObject({ via: 'token', roles: ['admin'], user: { username: 'admin' } });

    const list = await t.api('/api/v1/auth/tokens');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({
      total: 1,
      items: [{ id: created.body.id, name: 'district report pull' }],
    });
    expect(list.body.items[0]).not.toHaveProperty('token');
    expect(list.body.items[0].lastUsedAt).not.toBeNull();
    const audit = await t.api('/api/v1/audit?action=auth.token.create');
    expect(audit.body.total).toBe(1);
    for (const later of [me, list, audit]) expect(JSON.stringify(later.body)).not.toContain(secret);
  });

  it('lets a technician token scrape /metrics as Prometheus text', async () => {
    const { token } = await createToken(t, 'technician', { name: 'prometheus' });
    const metrics = await fetch(`${t.httpUrl}/metrics`, bearer(token));
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toContain('# TYPE sc_devices_online gauge');
    expect(text).toMatch(/^sc_devices_online 0$/m);
    expect((await fetch(`${t.httpUrl}/metrics`)).status).toBe(401);
  });

  it('limits a token to the roles it was given, not all of its owner’s', async () => {
    const tuan = await signedInUser(t, 'tuan', ['operator', 'technician']);
    const { token, body } = await createToken(t, tuan.as, { name: 'dashboard', roles: ['operator'] });
    expect(body.roles).toEqual(['operator']);

    expect((await t.api('/api/v1/clusters', { as: bearer(token) })).status).toBe(200);
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(403);
    const install = await t.api('/api/v1/clusters', {
      as: bearer(token),
      method: 'POST',
      body: { id: 'hd-c09', villageId: 'thon-x', name: 'Cụm', location: { lat: 21, lon: 105 } },
    });
    expect(install.status).toBe(403);
    expect(install.body.error.code).toBe('forbidden');
    // The owner's own session still holds both roles.
    expect((await fetch(`${t.httpUrl}/metrics`, { headers: tuan.as.headers })).status).toBe(200);
  });

  it('mints tokens only from a signed-in session, never from another token', async () => {
    const tuan = await signedInUser(t, 'tuan', ['operator', 'technician']);
    const { token } = await createToken(t, tuan.as, {
      name: 'dashboard',
      roles: ['operator'],
      expiresInDays: 1,
    });
    // A one-day token minting one without expiry would outlive its own revocation.
    for (const body of [{ name: 'forever' }, { name: 'escalated', roles: ['technician'] }]) {
      const minted = await t.api('/api/v1/auth/tokens', { as: bearer(token), method: 'POST', body });
      expect(minted.status).toBe(403);
      expect(minted.body.error.message).toMatch(/sign in/);
    }
    const listed = await t.api('/api/v1/auth/tokens', { as: tuan.as });
    expect(listed.body.items.map((x: Json) => x.name)).toEqual(['dashboard']);
  });

  it('revokes the tokens of an account whose password is changed or reset, and says how many', async () => {
    const lan = await signedInUser(t, 'lan', ['technician']);
    const first = await createToken(t, lan.as, { name: 'prometheus' });
    const second = await createToken(t, lan.as, { name: 'backup' });
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(first.token))).status).toBe(200);
    const changed = await t.api('/api/v1/auth/password', {
      as: lan.as,
      method: 'POST',
      body: { currentPassword: 'lan-password', newPassword: 'lan-new-password-1' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ tokensRevoked: 2 });
    for (const { token } of [first, second])
      expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(401);

    // An admin reset does the same, so a token stolen before the reset stops with it.
    const relogin = await api(t.httpUrl, '/api/v1/auth/login', {
      method: 'POST',
      body: { username: 'lan', password: 'lan-new-password-1' },
    });
    const as = { headers: { cookie: (relogin.headers.get('set-cookie') ?? '').split(';')[0] as string } };
    const third = await createToken(t, as, { name: 'after-change' });
    const reset = await t.api(`/api/v1/users/${lan.id}/password`, {
      method: 'POST',
      body: { password: 'lan-reset-password-2' },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ tokensRevoked: 1 });
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(third.token))).status).toBe(401);
  });

  it('refuses a token with a role its owner does not hold', async () => {
    const refused = await t.api('/api/v1/auth/tokens', {
      as: 'technician',
      method: 'POST',
      body: { name: 'power grab', roles: ['technician', 'admin'] },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('admin'),
    });
    expect((await t.api('/api/v1/auth/tokens', { as: 'technician' })).body.total).toBe(0);
  });

  it('stops a revoked token at once', async () => {
    const { token, id } = await createToken(t, 'technician', { name: 'prometheus' });
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(200);

    const revoked = await t.api(`/api/v1/auth/tokens/${id}`, { as: 'technician', method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expect(JSON.stringify(revoked.body)).not.toContain(token.slice(-43));

    expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(401);
    const me = await t.api('/api/v1/auth/me', { as: bearer(token) });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('unauthenticated');
    const list = await t.api('/api/v1/auth/tokens', { as: 'technician' });
    expect(list.body.items).toEqual([expect.objectContaining({ id, revokedAt: revoked.body.revokedAt })]);
  });

  it('stops the tokens of a disabled account, and narrows them when its roles shrink', async () => {
    const tuan = await signedInUser(t, 'tuan', ['operator', 'technician']);
    const { token } = await createToken(t, tuan.as, { name: 'prometheus', roles: ['technician'] });
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(200);

    // A token never holds more than its owner holds today.
    const demoted = await t.api(`/api/v1/users/${tuan.id}`, {
      method: 'PATCH',
      body: { roles: ['operator'] },
    });
    expect(demoted.status).toBe(200);
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(403);
    expect((await t.api('/api/v1/auth/me', { as: bearer(token) })).body.roles).toEqual([]);

    const disabled = await t.api(`/api/v1/users/${tuan.id}`, { method: 'PATCH', body: { disabled: true } });
    expect(disabled.status).toBe(200);
    const me = await t.api('/api/v1/auth/me', { as: bearer(token) });
    expect(me.status).toBe(401);
    expect((await t.api('/api/v1/clusters', { as: bearer(token) })).status).toBe(401);

    // Disabling revoked the token: enabling the account again does not bring it back.
    await t.api(`/api/v1/users/${tuan.id}`, {
      method: 'PATCH',
      body: { disabled: false, roles: ['technician'] },
    });
    expect((await t.api('/api/v1/auth/me', { as: bearer(token) })).status).toBe(401);
    const listed = await t.api(`/api/v1/auth/tokens?userId=${tuan.id}`);
    expect(listed.body.items[0].revokedAt).not.toBeNull();
  });

  it('accepts the bearer scheme in any letter case', async () => {
    const { token } = await createToken(t, 'technician', { name: 'prometheus' });
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const response = await t.api('/api/v1/auth/me', {
        as: { headers: { authorization: `${scheme} ${token}` } },
      });
      expect(response.status, scheme).toBe(200);
    }
  });

  it('answers 401 to a malformed or forged bearer', async () => {
    const { token } = await createToken(t, 'technician', { name: 'prometheus' });
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const unknownId = `sct_000000000000_${token.slice(-43)}`;
    const wellFormedButWrong = [
      `Bearer ${forged}`,
      `Bearer ${unknownId}`,
      `Bearer ${token.slice(0, 17)}${'x'.repeat(43)}`,
    ];
    const malformed = [
      'Bearer',
      'Bearer sct_',
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Bearer ${token.toUpperCase()}`,
      `Bearer ${token.slice(4)}`,
      `Bearer ${token} ${token}`,
      'Bearer sct_zzzzzzzzzzzz_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      `Bearer ${'a'.repeat(8_000)}`,
    ];
    for (const authorization of [...wellFormedButWrong, ...malformed]) {
      const response = await t.api('/api/v1/auth/me', { as: { headers: { authorization } } });
      expect(response.status, authorization).toBe(401);
      expect(response.body.error.code, authorization).toBe('unauthenticated');
    }
    // A bearer that fails is not rescued by a session cookie sent alongside it.
    const session = await t.headersFor('technician');
    for (const authorization of [...wellFormedButWrong, ...malformed]) {
      const response = await t.api('/api/v1/auth/me', { as: { headers: { ...session, authorization } } });
      expect(response.status, authorization).toBe(401);
    }
  });

  it('keeps other users’ tokens out of a non-admin’s reach', async () => {
    const tuan = await signedInUser(t, 'tuan', ['technician']);
    const other = await createToken(t, 'technician', { name: 'someone else’s' });
    const own = await createToken(t, tuan.as, { name: 'mine' });

    const peek = await t.api(`/api/v1/auth/tokens?userId=${other.body.userId as string}`, { as: tuan.as });
    expect(peek.status).toBe(403);
    const mine = await t.api('/api/v1/auth/tokens', { as: tuan.as });
    expect(mine.body).toMatchObject({ total: 1, items: [{ id: own.id }] });

    const revoke = await t.api(`/api/v1/auth/tokens/${other.id}`, { as: tuan.as, method: 'DELETE' });
    expect(revoke.status).toBe(404);
    expect((await t.api('/api/v1/auth/me', { as: bearer(other.token) })).status).toBe(200);

    // An admin sees and may revoke anyone's.
    const asAdmin = await t.api(`/api/v1/auth/tokens?userId=${other.body.userId as string}`);
    expect(asAdmin.body).toMatchObject({ total: 1, items: [{ id: other.id }] });
    expect((await t.api(`/api/v1/auth/tokens/${other.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await t.api('/api/v1/auth/me', { as: bearer(other.token) })).status).toBe(401);
  });
});

describe('API token expiry', () => {
  let clock: ManualClock;
  let t: TestPlatform;

  beforeEach(async () => {
    clock = new ManualClock();
    t = await startTestPlatform({ clock });
  });
  afterEach(() => t.close());

  it('stops a token when its days run out', async () => {
    const { token, body } = await createToken(t, 'technician', { name: 'one day', expiresInDays: 1 });
    expect(Date.parse(body.expiresAt)).toBe(clock.now() + 86_400_000);

    clock.advance(86_399_000);
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(200);
    clock.advance(1_001);
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(401);
    expect((await t.api('/api/v1/auth/me', { as: bearer(token) })).status).toBe(401);
  });

  it('keeps a token without an expiry working', async () => {
    const { token, body } = await createToken(t, 'technician', { name: 'forever' });
    expect(body.expiresAt).toBeNull();
    // The wall clock 90 days on; advancing through every timer of those days would only run the
    // background loops 130,000 times over.
    clock.jump(90 * 86_400_000);
    expect((await fetch(`${t.httpUrl}/metrics`, bearer(token))).status).toBe(200);
  });
});
