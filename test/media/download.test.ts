import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { wavTone } from './audio-fixtures.js';

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

async function fetchBytes(url: string, headers: Record<string, string> = {}, method = 'GET') {
  const response = await fetch(url, { method, headers });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, bytes };
}

describe('media downloads', () => {
  let t: TestPlatform;
  const wav = wavTone(3);
  let id = '';
  let contentUrl = '';
  let deviceSecret = '';
  const logLines: string[] = [];

  beforeAll(async () => {
    t = await startTestPlatform({
      logger: pino({ level: 'info' }, { write: (line: string) => logLines.push(line) }),
    });
    id = (
      await t.platform.media.ingest(
        { stream: Readable.from([wav]), filename: 'ban-tin.wav' },
        { name: 'Bản tin', createdBy: null },
      )
    ).id;
    contentUrl = `${t.httpUrl}/api/v1/media/${id}/content`;
    deviceSecret = await t.addDevice('hd-c01');
  });
  afterAll(() => t.close());

  it('refuses an anonymous download with 401 and a Basic challenge', async () => {
    const response = await fetch(contentUrl);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="media"/);
    expect(Object.keys((await response.json()) as Json)).toEqual(['error']);
  });

  it('serves the exact bytes to a signed link, with type, length, ETag and byte ranges announced', async () => {
    const url = t.platform.media.signedUrl(id, Date.now() + 60_000);
    expect(url.startsWith(`${t.httpUrl}/api/v1/media/${id}/content?exp=`)).toBe(true);
    const { status, headers, bytes } = await fetchBytes(url);
    expect(status).toBe(200);
    expect(bytes.equals(wav)).toBe(true);
    expect(headers.get('content-type')).toBe('audio/wav');
    expect(headers.get('content-length')).toBe(String(wav.length));
    expect(headers.get('accept-ranges')).toBe('bytes');
    const { sha256 } = t.platform.media.get(id);
    expect(headers.get('etag')).toBe(`"${sha256}"`);
    // The request is logged, its signature is not: the log must not hand out working links.
    const sig = new URL(url).searchParams.get('sig') as string;
    const logged = logLines.filter((line) => line.includes(`/api/v1/media/${id}/content`));
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.some((line) => line.includes('sig=[redacted]'))).toBe(true);
    expect(logLines.some((line) => line.includes(sig))).toBe(false);
  });

  it('refuses an expired link, and a link whose signature or expiry was altered', async () => {
    const expired = t.platform.media.signedUrl(id, Date.now() - 1);
    expect((await fetch(expired)).status).toBe(401);

    const valid = new URL(t.platform.media.signedUrl(id, Date.now() + 60_000));
    const sig = valid.searchParams.get('sig') ?? '';
    const tampered = new URL(valid);
    tampered.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
    expect((await fetch(tampered)).status).toBe(401);

    const extended = new URL(valid);
    extended.searchParams.set('exp', String(Number(valid.searchParams.get('exp')) + 86_400_000));
    expect((await fetch(extended)).status).toBe(401);

    const otherItem = await t.platform.media.ingest(
      { stream: Readable.from([wavTone(1)]), filename: 'khac.wav' },
      { createdBy: null },
    );
    const borrowed = new URL(valid);
    borrowed.pathname = `/api/v1/media/${otherItem.id}/content`;
    expect((await fetch(borrowed)).status).toBe(401);
  });

  it('serves a device that presents its own MQTT credential the media it was sent, and refuses a wrong or unknown one', async () => {
    // hd-c01 is sent the bulletin (it is offline, so the delivery waits): it may fetch it.
    const sent = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: 'operator',
      body: { content: { kind: 'media', mediaId: id }, targets: { clusterIds: ['hd-c01'] } },
    });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const ok = await fetchBytes(contentUrl, basic('hd-c01', deviceSecret));
    expect(ok.status).toBe(200);
    expect(ok.bytes.equals(wav)).toBe(true);
    // Another device, with its own right secret, was sent nothing of it.
    const bystander = await t.addDevice('hd-c02');
    expect((await fetch(contentUrl, { headers: basic('hd-c02', bystander) })).status).toBe(403);
    expect((await fetch(contentUrl, { headers: basic('hd-c01', `${deviceSecret}x`) })).status).toBe(401);
    expect((await fetch(contentUrl, { headers: basic('hd-c99', deviceSecret) })).status).toBe(401);
    expect((await fetch(contentUrl, { headers: { authorization: 'Basic !!!' } })).status).toBe(401);
  });

  it("stops a broadcast's signed link the moment the broadcast is stopped", async () => {
    const sent = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
      method: 'POST',
      as: 'operator',
      body: { content: { kind: 'media', mediaId: id }, targets: { clusterIds: ['hd-c01'] } },
    });
    const link = t.platform.media.signedUrl(id, Date.now() + 60_000, sent.body.id);
    expect((await fetchBytes(link)).status).toBe(200);
    // The broadcast id is part of what is signed: moved to another broadcast, the link is void.
    expect((await fetch(link.replace(sent.body.id, 'b-000000000000'))).status).toBe(401);
    const stopped = await t.api(`/api/v1/broadcasts/${sent.body.id}/stop`, {
      method: 'POST',
      as: 'operator',
    });
    expect(stopped.status).toBe(200);
    expect((await fetch(link)).status).toBe(403);
  });

  it('slows, counts and audits guessed device secrets as the broker does', async () => {
    const guessed = await t.addDevice('hd-c03');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await fetch(contentUrl, { headers: basic('hd-c03', `${guessed}-${i}`) })).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses.slice(3)).toContain(429);
    const audit = await t.api('/api/v1/audit?action=media.device-login');
    expect(audit.body.items.length).toBeGreaterThanOrEqual(1);
    expect(audit.body.items[0]).toMatchObject({ outcome: 'denied', address: '127.0.0.1' });
    const metrics = await (
      await fetch(`${t.httpUrl}/metrics`, { headers: await t.headersFor('technician') })
    ).text();
    expect(metrics).toMatch(/sc_mqtt_auth_failures_total\{reason="media-unknown-or-bad-secret"\} [1-9]/);
  });

  it('serves operators and technicians through their session, not other roles', async () => {
    for (const role of ['operator', 'technician', 'admin'] as const) {
      const { status, bytes } = await fetchBytes(contentUrl, await t.headersFor(role));
      expect(status, role).toBe(200);
      expect(bytes.equals(wav), role).toBe(true);
    }
    expect((await fetch(contentUrl, { headers: await t.headersFor('police') })).status).toBe(403);
  });

  it('answers a Range request with 206 and exactly that slice, so a device can resume', async () => {
    const url = t.platform.media.signedUrl(id, Date.now() + 60_000);
    const middle = await fetchBytes(url, { range: 'bytes=1000-1999' });
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe(`bytes 1000-1999/${wav.length}`);
    expect(middle.headers.get('content-length')).toBe('1000');
    expect(middle.bytes.equals(wav.subarray(1000, 2000))).toBe(true);

    const rest = await fetchBytes(url, { range: 'bytes=40000-' });
    expect(rest.status).toBe(206);
    expect(rest.bytes.equals(wav.subarray(40000))).toBe(true);

    const tail = await fetchBytes(url, { range: 'bytes=-100' });
    expect(tail.bytes.equals(wav.subarray(wav.length - 100))).toBe(true);

    const beyond = await fetchBytes(url, { range: `bytes=${wav.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${wav.length}`);
  });

  it('sends the whole file when If-Range names another version, and 304 when the ETag matches', async () => {
    const url = t.platform.media.signedUrl(id, Date.now() + 60_000);
    const etag = `"${t.platform.media.get(id).sha256}"`;
    const stale = await fetchBytes(url, { range: 'bytes=0-9', 'if-range': '"0000"' });
    expect(stale.status).toBe(200);
    expect(stale.bytes.equals(wav)).toBe(true);
    const resumed = await fetchBytes(url, { range: 'bytes=0-9', 'if-range': etag });
    expect(resumed.status).toBe(206);
    expect((await fetchBytes(url, { 'if-none-match': etag })).status).toBe(304);
  });

  it('answers HEAD with the length and no body', async () => {
    const url = t.platform.media.signedUrl(id, Date.now() + 60_000);
    const head = await fetchBytes(url, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(wav.length));
    expect(head.bytes.length).toBe(0);
  });

  it('answers 404 for an unknown item only to a caller who may download', async () => {
    const unknown = `${t.httpUrl}/api/v1/media/m-0000000000/content`;
    expect((await fetch(unknown)).status).toBe(401);
    // A device learns nothing of items it was not sent, whether they exist or not.
    expect((await fetch(unknown, { headers: basic('hd-c01', deviceSecret) })).status).toBe(403);
    expect((await fetch(unknown, { headers: await t.headersFor('operator') })).status).toBe(404);
  });

  it('keeps its signing key across restarts, owner-readable only, so links already sent keep working', async () => {
    const restarted = await startTestPlatform();
    const dataDir = restarted.dataDir;
    const item = await restarted.platform.media.ingest(
      { stream: Readable.from([wavTone(1)]), filename: 'a.wav' },
      { createdBy: null },
    );
    const link = new URL(restarted.platform.media.signedUrl(item.id, Date.now() + 60_000));
    await restarted.platform.stop();
    const again = await startTestPlatform({ dataDir });
    try {
      link.port = String(again.platform.httpPort);
      expect((await fetchBytes(link.href)).status).toBe(200);
      expect(statSync(join(dataDir, 'media-signing.key')).mode & 0o777).toBe(0o600);
    } finally {
      await again.close();
      await restarted.close();
    }
  });
});
