import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  startTestPlatform,
  TEST_ADMIN_PASSWORD,
  type TestPlatform,
} from '../support/platform-harness.js';

const INDEX = '<!doctype html><title>Bảng điều khiển</title><div id="app"></div>';

describe('the built console', () => {
  let t: TestPlatform;
  let webRoot: string;
  let base: string;
  const html = { accept: 'text/html,application/xhtml+xml' };

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'sc-web-'));
    writeFileSync(join(webRoot, 'index.html'), INDEX);
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'assets', 'x.js'), 'console.log("x");');
    t = await startTestPlatform({
      webRoot,
      demo: true,
      config: {
        CONSOLE_TILE_URL: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
        CONSOLE_TILE_ATTRIBUTION: '© Tile Example',
      },
    });
    base = t.httpUrl;
  });
  afterAll(async () => {
    await t.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('serves index.html at / and for any console page, never cached', async () => {
    for (const path of ['/', '/console/whatever', '/clusters/c-1?tab=history']) {
      const response = await api(base, path, { headers: html });
      expect(response.status, path).toBe(200);
      expect(response.body, path).toBe(INDEX);
      expect(response.headers.get('content-type'), path).toMatch(/^text\/html/);
      expect(response.headers.get('cache-control'), path).toBe('no-cache');
    }
  });

  it('serves hashed assets with immutable caching', async () => {
    const response = await api(base, '/assets/x.js');
    expect(response.status).toBe(200);
    expect(response.body).toBe('console.log("x");');
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('keeps JSON 404s for the API and for missing assets', async () => {
    for (const path of ['/api/v1/nope', '/assets/missing.js']) {
      const response = await api(base, path, { headers: html });
      expect(response.status, path).toBe(404);
      expect(response.body, path).toMatchObject({ error: { code: 'not_found' } });
    }
  });

  it("allows the tile server's images in the CSP and nothing else foreign", async () => {
    const csp = (await api(base, '/', { headers: html })).headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("img-src 'self' data: blob: https://*.tile.example.org");
    expect(csp).not.toContain('upgrade-insecure-requests');
  });

  it('tells a signed-in console the tile server, time zone and demo mode', async () => {
    expect((await api(base, '/api/v1/console/settings')).status).toBe(401);
    const login = await api(base, '/api/v1/auth/login', {
      method: 'POST',
      body: { username: 'admin', password: TEST_ADMIN_PASSWORD },
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const settings = await api(base, '/api/v1/console/settings', { headers: { cookie } });
    expect(settings.status).toBe(200);
    expect(settings.body).toEqual({
      tileUrl: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
      tileAttribution: '© Tile Example',
      timeZone: 'Asia/Ho_Chi_Minh',
      demo: true,
      version: expect.any(String),
    });
  });
});
