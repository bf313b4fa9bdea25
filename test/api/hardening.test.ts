import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const CONSOLE = 'http://console.example';
const EVIL = 'http://evil.example';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The headers helmet sets by default, which every answer of the platform should carry. */
function expectSecurityHeaders(headers: Headers, where: string): void {
  expect(headers.get('x-content-type-options'), where).toBe('nosniff');
  expect(headers.get('x-frame-options'), where).toBe('SAMEORIGIN');
  expect(headers.get('content-security-policy'), where).toContain("frame-ancestors 'self'");
  expect(headers.get('content-security-policy'), where).toContain("default-src 'self'");
  expect(headers.get('strict-transport-security'), where).toMatch(/max-age=\d+/);
  expect(headers.get('referrer-policy'), where).toBe('no-referrer');
  expect(headers.get('cross-origin-opener-policy'), where).toBe('same-origin');
  expect(headers.get('x-powered-by'), where).toBeNull();
}

function expectErrorShape(body: unknown, code?: string): void {
  expect(body).toEqual({
    error: expect.objectContaining({ code: code ?? expect.any(String), message: expect.any(String) }),
  });
}

describe('API hardening with default configuration', () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await startTestPlatform();
  });
  afterEach(() => t.close());

  it('sends the security headers on API answers, errors and the health check', async () => {
    const answers = {
      'GET /healthz': await t.api('/healthz', { as: 'anonymous' }),
      'GET /api/v1/clusters': await t.api('/api/v1/clusters'),
      'GET /api/v1/clusters anonymously': await t.api('/api/v1/clusters', { as: 'anonymous' }),
      'GET /api/v1/communes/khong-co': await t.api('/api/v1/communes/khong-co'),
      'GET /api/v1/nowhere': await t.api('/api/v1/nowhere'),
      'POST /api/v1/communes with a bad body': await t.api('/api/v1/communes', { method: 'POST', body: {} }),
    };
    expect(Object.values(answers).map((a) => a.status)).toEqual([200, 200, 401, 404, 404, 400]);
    for (const [where, answer] of Object.entries(answers)) expectSecurityHeaders(answer.headers, where);
  });

  it('keeps CORS closed: a page on another origin gets no access-control headers', async () => {
    const headers = await t.headersFor('admin');
    const simple = await api(t.httpUrl, '/api/v1/clusters', { headers: { ...headers, origin: EVIL } });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect(simple.headers.get('access-control-allow-credentials')).toBeNull();

    const preflight = await fetch(`${t.httpUrl}/api/v1/clusters`, {
      method: 'OPTIONS',
      headers: {
        origin: EVIL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBeGreaterThanOrEqual(400);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('refuses a body over 1 MiB with 413 in the error shape', async () => {
    const huge = JSON.stringify({ name: 'Xã', district: 'x'.repeat(2 * 1024 * 1024) });
    const response = await t.api('/api/v1/communes', { method: 'POST', body: huge });
    expect(response.status).toBe(413);
    expectErrorShape(response.body, 'FST_ERR_CTP_BODY_TOO_LARGE');
    expect((await t.api('/api/v1/communes')).body.total).toBe(0);
  });

  it('tags every answer with a request id and keeps the one a client sends', async () => {
    const generated = await t.api('/healthz', { as: 'anonymous' });
    expect(generated.headers.get('x-request-id')).toMatch(UUID);
    const another = await t.api('/healthz', { as: 'anonymous' });
    expect(another.headers.get('x-request-id')).not.toBe(generated.headers.get('x-request-id'));

    const supplied = 'console-7f3a9c';
    for (const path of [
      '/healthz',
      '/api/v1/clusters',
      '/api/v1/communes/khong-co',
      '/api/v1/communes/%ZZ',
    ]) {
      const response = await t.api(path, { headers: { 'x-request-id': supplied } });
      expect(response.headers.get('x-request-id'), path).toBe(supplied);
    }
    const refused = await t.api('/api/v1/clusters', {
      as: 'anonymous',
      headers: { 'x-request-id': supplied },
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toBe(supplied);
  });

  it('answers a malformed path escape or an over-long id in the error shape, with a request id', async () => {
    const response = await t.api('/api/v1/clusters/%E0%A4%A');
    expect(response.status).toBe(400);
    expectErrorShape(response.body, 'FST_ERR_BAD_URL');
    expect(response.headers.get('x-request-id')).toMatch(UUID);

    const tooLong = await t.api(`/api/v1/communes/${'a'.repeat(500)}`);
    expect(tooLong.status).toBe(414);
    expectErrorShape(tooLong.body, 'FST_ERR_MAX_PARAM_LENGTH');
  });

  it('reveals nothing internal when the database fails under a request', async () => {
    await t.api('/api/v1/communes', { method: 'POST', body: { id: 'xa-a', name: 'Xã A' } });
    expect((await t.api('/api/v1/communes')).status).toBe(200);
    // Another process (a careless maintenance script) renames a table under the running platform.
    const intruder = new Database(join(t.dataDir, 'smart-commune.sqlite'));
    try {
      intruder.exec('ALTER TABLE communes RENAME TO communes_moved_by_script');
    } finally {
      intruder.close();
    }

    const response = await t.api('/api/v1/communes', { headers: { 'x-request-id': 'trace-500' } });
    expect(response.status).toBe(500);
    expect(response.body).toEqual({
      error: { code: 'internal', message: 'Internal error; see the server log.' },
    });
    const text = JSON.stringify(response.body);
    for (const leak of ['communes', 'SQLITE', 'no such table', 'SELECT', '.ts:', 'at ']) {
      expect(text).not.toContain(leak);
    }
    // The id ties the generic answer to the logged error for whoever reads the server log.
    expect(response.headers.get('x-request-id')).toBe('trace-500');
    expectSecurityHeaders(response.headers, 'GET /api/v1/communes → 500');
    expect((await t.api('/healthz', { as: 'anonymous' })).status).toBe(200);
  });
});

describe('API hardening with a configured console origin', () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await startTestPlatform({ config: { CORS_ORIGINS: [CONSOLE] } });
  });
  afterEach(() => t.close());

  it('lets the configured console call the API with credentials', async () => {
    const headers = await t.headersFor('admin');
    const simple = await api(t.httpUrl, '/api/v1/clusters', { headers: { ...headers, origin: CONSOLE } });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBe(CONSOLE);
    expect(simple.headers.get('access-control-allow-credentials')).toBe('true');
  });

  it('answers the console’s preflight for every method the API uses', async () => {
    for (const method of ['POST', 'PATCH', 'DELETE']) {
      const preflight = await fetch(`${t.httpUrl}/api/v1/clusters/hd-c01`, {
        method: 'OPTIONS',
        headers: {
          origin: CONSOLE,
          'access-control-request-method': method,
          'access-control-request-headers': 'content-type',
        },
      });
      expect(preflight.status, method).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin'), method).toBe(CONSOLE);
      expect(preflight.headers.get('access-control-allow-credentials'), method).toBe('true');
      expect(preflight.headers.get('access-control-allow-methods')?.split(/,\s*/), method).toContain(method);
      expect(preflight.headers.get('access-control-allow-headers'), method).toContain('content-type');
    }
  });

  it('still gives other origins nothing', async () => {
    const headers = await t.headersFor('admin');
    const simple = await api(t.httpUrl, '/api/v1/clusters', { headers: { ...headers, origin: EVIL } });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${t.httpUrl}/api/v1/clusters`, {
      method: 'OPTIONS',
      headers: { origin: EVIL, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});
