import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../services/config.js';
import { Platform } from '../../services/platform/platform.js';
import { api, TEST_ADMIN_PASSWORD, TEST_PASSWORD_PARAMS } from '../support/platform-harness.js';

const INDEX = '<!doctype html><title>Bảng điều khiển</title><div id="app"></div>';

describe('the built console', () => {
  let platform: Platform;
  let dataDir: string;
  let webRoot: string;
  let base: string;
  const html = { accept: 'text/html,application/xhtml+xml' };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sc-console-'));
    webRoot = mkdtempSync(join(tmpdir(), 'sc-web-'));
    writeFileSync(join(webRoot, 'index.html'), INDEX);
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'assets', 'x.js'), 'console.log("x");');
    const config = loadConfig(
      {},
      {
        ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: 0,
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: 0,
        DATA_DIR: dataDir,
        CONSOLE_TILE_URL: 'https://{s}.tile.example.org/{z}/{x}/{y}.png',
        CONSOLE_TILE_ATTRIBUTION: '© Tile Example',
      },
    );
    platform = new Platform({
      config,
      logger: pino({ level: 'silent' }),
      passwordParams: TEST_PASSWORD_PARAMS,
      announce: () => undefined,
      webRoot,
      demo: true,
    });
    await platform.start();
    base = `http://127.0.0.1:${platform.httpPort}`;
  });
  afterAll(async () => {
    await platform.stop();
    rmSync(dataDir, { recursive: true, force: true });
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
