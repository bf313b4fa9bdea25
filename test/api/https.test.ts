import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type Browser, chromium } from 'playwright-core';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wavTone } from '../media/audio-fixtures.js';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/** A GET over HTTPS that trusts only `ca` (the platform's local authority). */
function httpsGet(url: string, ca: string): Promise<{ status: number; body: Buffer; type: string }> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: Buffer.concat(chunks),
          type: String(response.headers['content-type'] ?? ''),
        }),
      );
    })
      .on('error', reject)
      .end();
  });
}

/*
 * Browsers give a page the microphone only on a secure origin, and a commune LAN has no
 * certificate: with TLS_SELF_SIGNED the platform issues its own from a local authority kept in
 * DATA_DIR/tls, which a PC or phone trusts once.
 */
describe('HTTPS with a certificate the platform issues itself', () => {
  let t: TestPlatform;
  let ca = '';
  const dataDir = mkdtempSync(join(tmpdir(), 'sc-https-'));
  const start = () => startTestPlatform({ dataDir, config: { TLS_SELF_SIGNED: true, MEDIA_HTTP_PORT: 0 } });
  const skipBrowser = chromiumSkipReason();
  let browser: Browser | undefined;

  beforeAll(async () => {
    t = await start();
    ca = readFileSync(join(t.dataDir, 'tls', 'ca-cert.pem'), 'utf8');
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the API over HTTPS with a certificate for its addresses, signed by the local authority', async () => {
    expect(t.httpUrl.startsWith('https://')).toBe(true);
    const health = await httpsGet(`${t.httpUrl}/healthz`, ca);
    expect(health.status).toBe(200);
    const body = JSON.parse(health.body.toString()) as { https: { source: string; fingerprint: string } };
    expect(body.https).toMatchObject({
      source: 'self-signed',
      fingerprint: new X509Certificate(ca).fingerprint256,
    });
    const server = new X509Certificate(readFileSync(join(t.dataDir, 'tls', 'server-cert.pem')));
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.verify(new X509Certificate(ca).publicKey)).toBe(true);
    // At most 397 days, or browsers refuse it; the authority's key stays readable by its owner only.
    expect(Date.parse(server.validTo) - Date.now()).toBeLessThanOrEqual(397 * 86_400_000);
    expect(statSync(join(t.dataDir, 'tls', 'ca-key.pem')).mode & 0o077).toBe(0);
    // What a phone downloads to trust it.
    const download = await httpsGet(`${t.httpUrl}/ca.crt`, ca);
    expect(download.type).toBe('application/x-x509-ca-cert');
    expect(download.body.toString()).toBe(ca);
  });

  it('keeps the same authority and certificate across a restart, so a device trusts it once', async () => {
    const before = readFileSync(join(t.dataDir, 'tls', 'server-cert.pem'), 'utf8');
    await t.close();
    t = await start();
    expect(readFileSync(join(t.dataDir, 'tls', 'ca-cert.pem'), 'utf8')).toBe(ca);
    expect(readFileSync(join(t.dataDir, 'tls', 'server-cert.pem'), 'utf8')).toBe(before);
    expect((await httpsGet(`${t.httpUrl}/healthz`, ca)).status).toBe(200);
  });

  it('gives clusters plain-HTTP media links on MEDIA_HTTP_PORT, which serves nothing else', async () => {
    const wav = wavTone(1);
    const { id } = await t.platform.media.ingest(
      { stream: Readable.from([wav]), filename: 'ban-tin.wav' },
      { name: 'Bản tin', createdBy: null },
    );
    const link = t.platform.media.signedUrl(id, Date.now() + 60_000);
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1\/media\//);
    expect(new URL(link).port).not.toBe(String(t.platform.httpPort));
    const download = await fetch(link);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(wav)).toBe(true);
    // Sign-in, the API and the console stay on HTTPS.
    const origin = new URL(link).origin;
    expect((await fetch(`${origin}/api/v1/auth/me`)).status).toBe(404);
    expect((await fetch(`${origin}/healthz`)).status).toBe(404);
  });

  it.skipIf(skipBrowser)(
    'is a secure origin in Chromium that trusts it, where a page may use the microphone',
    async () => {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          ...CHROMIUM_ARGS,
          // Trusts exactly this server key, as a PC that installed the authority would.
          `--ignore-certificate-errors-spki-list=${spkiOf(join(t.dataDir, 'tls', 'server-cert.pem'))}`,
          '--use-fake-device-for-media-stream',
          '--use-fake-ui-for-media-stream',
        ],
      });
      const page = await browser.newPage();
      const response = await page.goto(`${t.httpUrl}/docs`);
      expect(response?.status()).toBe(200);
      expect(await page.evaluate('window.isSecureContext')).toBe(true);
      // Runs in the page (a string: the suite is compiled without the DOM's types).
      const tracks =
        await page.evaluate(`navigator.mediaDevices.getUserMedia({ audio: true }).then((stream) => {
        const kinds = stream.getTracks().map((track) => track.kind);
        for (const track of stream.getTracks()) track.stop();
        return kinds;
      })`);
      expect(tracks).toEqual(['audio']);
    },
    60_000,
  );
});

/** Base64 SHA-256 of a certificate's public key (Chromium's SPKI allow-list format). */
function spkiOf(certFile: string): string {
  const key = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(key).digest('base64');
}

describe("HTTPS with the commune's own certificate", () => {
  it('serves the configured certificate and key files, and says so on /healthz', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sc-tls-files-'));
    const made = await generate([{ name: 'commonName', value: 'loa.huongdao.vn' }], {
      keyType: 'ec',
      curve: 'P-256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    writeFileSync(join(dir, 'cert.pem'), made.cert);
    writeFileSync(join(dir, 'key.pem'), made.private);
    const t = await startTestPlatform({
      config: { TLS_CERT_FILE: join(dir, 'cert.pem'), TLS_KEY_FILE: join(dir, 'key.pem') },
    });
    try {
      const health = await httpsGet(`${t.httpUrl}/healthz`, made.cert);
      expect(JSON.parse(health.body.toString()).https).toMatchObject({
        source: 'files',
        fingerprint: new X509Certificate(made.cert).fingerprint256,
        mediaHttpPort: null,
      });
      // Without MEDIA_HTTP_PORT, clusters download over HTTPS too.
      expect(t.platform.media.signedUrl('m-0000000000', Date.now() + 60_000)).toMatch(/^https:\/\//);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
