import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Role } from '../../contracts/accounts.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { emptyWav, SILENT_MP3_SECONDS, silentMp3, wavTone } from './audio-fixtures.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface UploadInit {
  filename?: string;
  type?: string;
  name?: string;
  as?: Role;
  /** Extra parts appended after the file, as [field, value] or [field, file bytes]. */
  after?: [string, string | Buffer][];
}

/** A real multipart upload through fetch, signed in through the role's session cookie. */
async function upload(t: TestPlatform, bytes: Buffer, init: UploadInit = {}) {
  const form = new FormData();
  if (init.name !== undefined) form.append('name', init.name);
  form.append('file', new Blob([bytes], { type: init.type ?? 'audio/wav' }), init.filename ?? 'tone.wav');
  for (const [field, value] of init.after ?? []) {
    if (typeof value === 'string') form.append(field, value);
    else form.append(field, new Blob([value]), `${field}.bin`);
  }
  const response = await fetch(`${t.httpUrl}/api/v1/media`, {
    method: 'POST',
    headers: await t.headersFor(init.as ?? 'operator'),
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const filesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

describe('media library: uploads', () => {
  let t: TestPlatform;
  let mediaDir: string;

  beforeAll(async () => {
    t = await startTestPlatform();
    mediaDir = join(t.dataDir, 'media');
  });
  afterAll(() => t.close());

  it('stores a WAV with its sniffed type, exact size, SHA-256 and the playing time read from it', async () => {
    const wav = wavTone(3);
    const { status, body } = await upload(t, wav, { name: 'Thông báo tiêm phòng' });
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({
      name: 'Thông báo tiêm phòng',
      mime: 'audio/wav',
      ext: 'wav',
      sizeBytes: wav.length,
      sha256: sha256(wav),
      createdBy: 'operator-all',
    });
    expect(body.id).toMatch(/^m-[0-9a-f]{10}$/);
    expect(body.durationS).toBeCloseTo(3, 1);
    expect(Math.abs(body.durationS - 3)).toBeLessThan(0.05);
    const stored = join(mediaDir, `${body.id}.wav`);
    expect(readFileSync(stored).equals(wav)).toBe(true);
    expect(filesIn(mediaDir).filter((f) => f.endsWith('.part'))).toEqual([]);
  });

  it('stores an MP3 and reads its playing time from the frames', async () => {
    const mp3 = silentMp3();
    const { status, body } = await upload(t, mp3, { filename: 'ban-tin.mp3', type: 'audio/mpeg' });
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body).toMatchObject({ name: 'ban-tin', mime: 'audio/mpeg', ext: 'mp3', sha256: sha256(mp3) });
    expect(Math.abs(body.durationS - SILENT_MP3_SECONDS)).toBeLessThan(0.05);
  });

  it('judges the type by the bytes, not the file name or the declared Content-Type', async () => {
    const wav = wavTone(1);
    const { status, body } = await upload(t, wav, { filename: 'lies.mp3', type: 'audio/mpeg' });
    expect(status).toBe(201);
    expect(body).toMatchObject({ mime: 'audio/wav', ext: 'wav', name: 'lies' });
    expect(existsSync(join(mediaDir, `${body.id}.wav`))).toBe(true);
  });

  it('refuses a text file renamed .mp3 with 415 and keeps nothing', async () => {
    const before = filesIn(mediaDir);
    const text = Buffer.from('Kính thưa bà con thôn Đông, đây không phải tệp âm thanh.\n'.repeat(40));
    const { status, body } = await upload(t, text, { filename: 'ban-tin.mp3', type: 'audio/mpeg' });
    expect(status).toBe(415);
    expect(body.error.code).toBe('unsupported_media_type');
    expect(filesIn(mediaDir)).toEqual(before);
  });

  it('names what it found when refusing another real file type', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex'),
    ]);
    const { status, body } = await upload(t, png, { filename: 'anh.wav' });
    expect(status).toBe(415);
    expect(body.error.details).toEqual({ detected: 'image/png' });
    expect(body.error.message).toContain('image/png');
  });

  it('refuses with 422 a WAV that plays for no time', async () => {
    const before = filesIn(mediaDir);
    const { status, body } = await upload(t, emptyWav());
    expect(status).toBe(422);
    expect(body.error.code).toBe('unprocessable');
    expect(filesIn(mediaDir)).toEqual(before);
  });

  it('takes a name sent after the file', async () => {
    const { status, body } = await upload(t, wavTone(1), { after: [['name', 'Loa phát thanh xã']] });
    expect(status).toBe(201);
    expect(body.name).toBe('Loa phát thanh xã');
    expect((await t.api(`/api/v1/media/${body.id}`)).body.name).toBe('Loa phát thanh xã');
  });

  it('refuses a second file in one upload and keeps neither', async () => {
    const { total } = (await t.api('/api/v1/media?limit=1')).body;
    const before = filesIn(mediaDir);
    const { status, body } = await upload(t, wavTone(1), { after: [['file', wavTone(1)]] });
    expect(status, JSON.stringify(body)).toBe(400);
    expect((await t.api('/api/v1/media?limit=1')).body.total).toBe(total);
    expect(filesIn(mediaDir)).toEqual(before);
  });

  it('answers a body that is not multipart, or has no file, in the error shape', async () => {
    const json = await t.api('/api/v1/media', { as: 'operator', method: 'POST', body: { name: 'x' } });
    expect(json.status).toBe(415);
    const form = new FormData();
    form.append('name', 'chỉ có tên');
    const response = await fetch(`${t.httpUrl}/api/v1/media`, {
      method: 'POST',
      headers: await t.headersFor('operator'),
      body: form,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Json).error.message).toContain('file');
    const broken = await t.api('/api/v1/media', {
      as: 'operator',
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF',
    });
    expect(broken.status).toBe(400);
    expect(Object.keys(broken.body)).toEqual(['error']);
  });

  it('lists newest first with a total, gets one, and deletes it with its file', async () => {
    const a = (await upload(t, wavTone(1), { name: 'Cũ' })).body;
    const b = (await upload(t, wavTone(2), { name: 'Mới' })).body;
    const page = await t.api('/api/v1/media?limit=2&offset=0', { as: 'technician' });
    expect(page.status).toBe(200);
    expect(page.body.items.map((m: Json) => m.id)).toEqual([b.id, a.id]);
    expect(page.body.total).toBeGreaterThanOrEqual(2);
    expect((await t.api(`/api/v1/media/${a.id}`, { as: 'technician' })).body).toEqual(a);

    const removed = await t.api(`/api/v1/media/${a.id}`, { as: 'operator', method: 'DELETE' });
    expect(removed.status).toBe(204);
    expect(existsSync(join(mediaDir, `${a.id}.wav`))).toBe(false);
    expect((await t.api(`/api/v1/media/${a.id}`)).status).toBe(404);
    expect((await t.api(`/api/v1/media/${a.id}`, { method: 'DELETE', as: 'operator' })).status).toBe(404);
  });

  it('refuses to delete an item a schedule still uses, naming who uses it', async () => {
    const item = (await upload(t, wavTone(1))).body;
    let scheduled = true;
    t.platform.addMediaReferenceCheck((id) => (id === item.id && scheduled ? ['Bản tin sáng thứ Hai'] : []));
    const refused = await t.api(`/api/v1/media/${item.id}`, { as: 'operator', method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toEqual({ usedBy: ['Bản tin sáng thứ Hai'] });
    expect(existsSync(join(mediaDir, `${item.id}.wav`))).toBe(true);

    scheduled = false;
    expect((await t.api(`/api/v1/media/${item.id}`, { as: 'operator', method: 'DELETE' })).status).toBe(204);
  });

  it('audits uploads and deletions with what was stored', async () => {
    const wav = wavTone(1);
    const item = (await upload(t, wav, { name: 'Kiểm tra nhật ký' })).body;
    await t.api(`/api/v1/media/${item.id}`, { as: 'operator', method: 'DELETE' });
    const { items } = await t.platform.audit.query({ targetId: item.id }, { limit: 10, offset: 0 });
    expect(items.map((e) => [e.action, e.outcome, e.actorName])).toEqual([
      ['media.delete', 'success', 'operator-all'],
      ['media.upload', 'success', 'operator-all'],
    ]);
    expect(items[1]?.after).toMatchObject({
      name: 'Kiểm tra nhật ký',
      sha256: sha256(wav),
      sizeBytes: wav.length,
    });
    expect(items[0]?.before).toMatchObject({ id: item.id, name: 'Kiểm tra nhật ký' });
  });
});

describe('media library: size limit', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await startTestPlatform({ config: { MEDIA_MAX_MB: 1 } });
  });
  afterEach(() => t.close());

  it('refuses an upload over MEDIA_MAX_MB with 413 and leaves no file behind', async () => {
    // 70 s of 8 kHz 16-bit audio is about 1.1 MB.
    const big = wavTone(70);
    expect(big.length).toBeGreaterThan(1024 * 1024);
    const { status, body } = await upload(t, big);
    expect(status).toBe(413);
    expect(body.error).toMatchObject({ code: 'payload_too_large', details: { limitBytes: 1024 * 1024 } });
    expect(filesIn(join(t.dataDir, 'media'))).toEqual([]);
    expect((await t.api('/api/v1/media')).body.total).toBe(0);
  });

  it('accepts a file of exactly the limit', async () => {
    const header = 44;
    const samples = (1024 * 1024 - header) / 2;
    const exact = wavTone(samples / 8_000);
    expect(exact.length).toBe(1024 * 1024);
    const { status, body } = await upload(t, exact);
    expect(status, JSON.stringify(body)).toBe(201);
    expect(statSync(join(t.dataDir, 'media', `${body.id}.wav`)).size).toBe(1024 * 1024);
  });
});
