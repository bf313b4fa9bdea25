import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { uploadWav } from '../support/media-upload.js';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { PostgresServer, postgresSkipReason } from '../support/postgres.js';
import { wavTone } from '../support/wav.js';

/*
 * Two platforms, each with its own DATA_DIR, on one PostgreSQL: an audio file uploaded to one is
 * served by the other, as a cluster sent to either would download it.
 */

const skip = postgresSkipReason();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe.skipIf(skip !== null)('media shared through PostgreSQL', () => {
  let server: PostgresServer;
  let a: TestPlatform | null = null;
  let b: TestPlatform | null = null;
  const dirs: string[] = [];

  beforeAll(async () => {
    server = await PostgresServer.create();
  }, 60_000);
  afterAll(async () => {
    await server?.cleanup();
  });
  afterEach(async () => {
    await Promise.all([a?.close(), b?.close()]);
    a = null;
    b = null;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("serves an upload to one instance byte for byte from the other's API at once, and removes it there when deleted", async () => {
    const url = await server.createDatabase();
    // Instances on one PostgreSQL share their key files (KEYS_DIR).
    const keys = mkdtempSync(join(tmpdir(), 'sc-media-keys-'));
    const config = { DATABASE_URL: url, KEYS_DIR: keys };
    const [dirA, dirB] = [
      mkdtempSync(join(tmpdir(), 'sc-media-a-')),
      mkdtempSync(join(tmpdir(), 'sc-media-b-')),
    ];
    dirs.push(dirA, dirB, keys);
    a = await startTestPlatform({ dataDir: dirA, config });
    b = await startTestPlatform({ dataDir: dirB, config });

    // Forty seconds of tone (640 KB): several chunks in PostgreSQL.
    const id = await uploadWav(a, 40);
    const expected = wavTone(40);
    // At once: no wait between A's answer and B's download.
    const headers = await b.headersFor('operator');
    const response = await fetch(`${b.httpUrl}/api/v1/media/${id}/content`, { headers });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBe(`"${sha256(expected)}"`);
    expect(bytes.length).toBe(expected.length);
    expect(sha256(bytes)).toBe(sha256(expected));
    expect(bytes.equals(expected)).toBe(true);
    expect(existsSync(join(dirB, 'media', `${id}.wav`))).toBe(true);

    // Served from B's own file from then on, byte ranges included.
    const range = await fetch(`${b.httpUrl}/api/v1/media/${id}/content`, {
      headers: { ...headers, range: 'bytes=300000-300099' },
    });
    expect(range.status).toBe(206);
    expect(Buffer.from(await range.arrayBuffer()).equals(expected.subarray(300_000, 300_100))).toBe(true);

    expect((await a.api(`/api/v1/media/${id}`, { method: 'DELETE' })).status).toBe(204);
    await vi.waitFor(() => expect(existsSync(join(dirB, 'media', `${id}.wav`))).toBe(false));
    await vi.waitFor(async () => expect((await b?.api(`/api/v1/media/${id}`))?.status).toBe(404));
    const gone = await fetch(`${b.httpUrl}/api/v1/media/${id}/content`, { headers });
    expect(gone.status).toBe(404);
  });
});
