import { expect } from 'vitest';
import type { Json, TestPlatform } from './platform-harness.js';
import { wavTone } from './wav.js';

/** Uploads a tone of `seconds` as the operator through `POST /api/v1/media`; answers the media id. */
export async function uploadWav(t: TestPlatform, seconds: number): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([wavTone(seconds)], { type: 'audio/wav' }), 'ban-tin.wav');
  const response = await fetch(`${t.httpUrl}/api/v1/media`, {
    method: 'POST',
    body: form,
    headers: await t.headersFor('operator'),
  });
  const body = (await response.json()) as Json;
  expect(response.status, JSON.stringify(body)).toBe(201);
  return body.id as string;
}
