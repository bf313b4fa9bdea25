import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * A cluster on a weak 4G link resumes a broken firmware download where it stopped: one byte range,
 * guarded by the image's SHA-256 as ETag.
 */
describe('firmware image download', () => {
  let t: TestPlatform;
  let content: string;
  const image = randomBytes(64 * 1024);
  const sha256 = createHash('sha256').update(image).digest('hex');

  beforeAll(async () => {
    t = await startTestPlatform();
    const form = new FormData();
    form.set('version', '3.1.0');
    form.set('sha256', sha256);
    form.set('file', new Blob([image]), 'sc-3.1.0.bin');
    const response = await fetch(`${t.httpUrl}/api/v1/firmware`, {
      method: 'POST',
      body: form,
      headers: await t.headersFor('technician'),
    });
    const body = (await response.json()) as Json;
    expect(response.status, JSON.stringify(body)).toBe(201);
    content = `${t.httpUrl}/api/v1/firmware/${body.id}/content`;
  });
  afterAll(() => t.close());

  async function download(headers: Record<string, string>) {
    const response = await fetch(content, { headers: { ...(await t.headersFor('technician')), ...headers } });
    return { response, bytes: Buffer.from(await response.arrayBuffer()) };
  }

  it('resumes from a byte offset with 206, and sends the whole image when If-Range names another', async () => {
    const rest = await download({ range: 'bytes=40000-', 'if-range': `"${sha256}"` });
    expect(rest.response.status).toBe(206);
    expect(rest.response.headers.get('content-range')).toBe(
      `bytes 40000-${image.length - 1}/${image.length}`,
    );
    expect(rest.response.headers.get('content-type')).toBe('application/octet-stream');
    expect(rest.bytes.equals(image.subarray(40000))).toBe(true);

    const stale = await download({ range: 'bytes=40000-', 'if-range': '"0000"' });
    expect(stale.response.status).toBe(200);
    expect(stale.response.headers.get('etag')).toBe(`"${sha256}"`);
    expect(stale.bytes.equals(image)).toBe(true);
  });

  it("answers a range past the image's end with 416 and its size", async () => {
    const { response, bytes } = await download({ range: `bytes=${image.length}-` });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe(`bytes */${image.length}`);
    expect(JSON.parse(bytes.toString('utf8'))).toEqual({
      error: {
        code: 'range_not_satisfiable',
        message: `the image has ${image.length} bytes`,
        details: { size: image.length },
      },
    });
  });
});
