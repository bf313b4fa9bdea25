import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

const BULLETIN = 'UBND xã thông báo: lúc 14h30 ngày 2/12 họp dân tại nhà văn hoá thôn 3.';

/** The playing time of a 16-bit mono PCM WAV. */
function seconds(wav: Buffer): number {
  expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
  return wav.readUInt32LE(40) / wav.readUInt32LE(28);
}

describe('text read aloud', () => {
  let t: TestPlatform;
  const dirs: string[] = [];
  afterEach(async () => {
    await t?.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('reads a bulletin in the northern and southern voices (eSpeak NG, nothing installed), and keeps it as media', async () => {
    t = await startTestPlatform();
    const preview = async (voice: string) => {
      const response = await fetch(`${t.httpUrl}/api/v1/tts/preview`, {
        method: 'POST',
        headers: { ...(await t.headersFor('operator')), 'content-type': 'application/json' },
        body: JSON.stringify({ text: BULLETIN, voice }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('audio/wav');
      return Buffer.from(await response.arrayBuffer());
    };
    const north = await preview('northern');
    const south = await preview('southern');
    // Twenty-odd words, read out with the time and the date in words: several seconds of speech.
    expect(seconds(north)).toBeGreaterThan(3);
    expect(north.equals(south)).toBe(false);

    const kept = await t.api('/api/v1/tts/media', {
      method: 'POST',
      as: 'operator',
      body: { text: BULLETIN, voice: 'northern', name: 'Thông báo họp dân' },
    });
    expect(kept.status, JSON.stringify(kept.body)).toBe(201);
    // Kept as MP3 for the clusters' downloads; the encoder's frames add a fraction of a second.
    expect(kept.body).toMatchObject({ name: 'Thông báo họp dân', mime: 'audio/mpeg' });
    expect(Math.abs(kept.body.durationS - seconds(north))).toBeLessThan(0.2);
    const audit = await t.api('/api/v1/audit?action=media.tts', { as: 'admin' });
    expect(audit.body.items).toHaveLength(1);
    expect(
      (await t.api('/api/v1/tts/preview', { method: 'POST', as: 'police', body: { text: 'x' } })).status,
    ).toBe(403);
  }, 60_000);

  it('hands a configured voice program the text as it is read, and the voice of the region', async () => {
    // A stand-in for a neural voice or a cloud service (which cannot run here): it writes what it
    // was given beside a short silent WAV.
    const dir = mkdtempSync(join(tmpdir(), 'sc-voice-'));
    dirs.push(dir);
    const script = join(dir, 'voice.mjs');
    writeFileSync(
      script,
      `import { readFileSync, writeFileSync } from 'node:fs';
const [out, voice] = process.argv.slice(2);
writeFileSync(${JSON.stringify(join(dir, 'heard.json'))}, JSON.stringify({ text: readFileSync(0, 'utf8'), voice }));
const pcm = Buffer.alloc(16000);
const h = Buffer.alloc(44);
h.write('RIFF', 0); h.writeUInt32LE(36 + pcm.length, 4); h.write('WAVE', 8); h.write('fmt ', 12);
h.writeUInt32LE(16, 16); h.writeUInt16LE(1, 20); h.writeUInt16LE(1, 22); h.writeUInt32LE(8000, 24);
h.writeUInt32LE(16000, 28); h.writeUInt16LE(2, 32); h.writeUInt16LE(16, 34); h.write('data', 36); h.writeUInt32LE(pcm.length, 40);
writeFileSync(out, Buffer.concat([h, pcm]));
`,
    );
    t = await startTestPlatform({ config: { TTS_COMMAND: `node ${script} {out} {dialect}` as never } });
    const kept = await t.api('/api/v1/tts/media', {
      method: 'POST',
      as: 'operator',
      body: { text: 'Gọi 0912 345 678 trước 7h', voice: 'southern', name: 'Số điện thoại' },
    });
    expect(kept.status, JSON.stringify(kept.body)).toBe(201);
    expect(Math.abs(kept.body.durationS - 1)).toBeLessThan(0.2);
    expect(JSON.parse(readFileSync(join(dir, 'heard.json'), 'utf8'))).toEqual({
      text: 'Gọi không chín một hai, ba bốn năm, sáu bảy tám trước bảy giờ',
      voice: 'southern',
    });
  }, 60_000);
});
