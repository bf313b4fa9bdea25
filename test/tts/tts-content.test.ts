import { afterEach, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/*
 * Text content in schedules: read aloud once when saved and kept as media with its playing time;
 * the same text in the same voice is not synthesized again, a changed text or voice is.
 */
describe('text content kept as speech', () => {
  let t: TestPlatform;
  afterEach(async () => t?.close());

  it('synthesizes once per text and voice, keeps the audio while a schedule plays it, and reads a new text anew', async () => {
    t = await startTestPlatform();
    await t.addDevice('tts-c1');
    let slot = 0;
    const save = async (text: string, voice = 'northern') => {
      const response = await t.api('/api/v1/schedules', {
        method: 'POST',
        as: 'operator',
        body: {
          name: `Bản tin ${++slot}`,
          level: 'normal',
          content: { kind: 'tts', text, voice },
          // A day apart, so none clash.
          start: new Date(Date.now() + (slot + 1) * 86_400_000).toISOString().slice(0, 16),
          targets: { clusterIds: ['tts-c1'] },
        },
      });
      expect(response.status, JSON.stringify(response.body)).toBe(201);
      return response.body.schedule as { id: string; durationS: number; content: { mediaId: string } };
    };

    const first = await save('Thông báo: 7h30 sáng mai tiêm chủng tại trạm y tế xã.');
    const same = await save('Thông báo: 7h30 sáng mai tiêm chủng tại trạm y tế xã.');
    const south = await save('Thông báo: 7h30 sáng mai tiêm chủng tại trạm y tế xã.', 'southern');
    const other = await save('Thông báo: 8h00 sáng mai tiêm chủng tại trạm y tế xã.');
    expect(same.content.mediaId).toBe(first.content.mediaId);
    expect(new Set([first, south, other].map((s) => s.content.mediaId)).size).toBe(3);

    const audio = await t.api(`/api/v1/media/${first.content.mediaId}`, { as: 'operator' });
    expect(audio.body).toMatchObject({
      mime: 'audio/mpeg',
      name: expect.stringMatching(/^Giọng đọc: Thông báo/),
    });
    expect(first.durationS).toBe(Math.ceil(audio.body.durationS));

    // The audio stays while a schedule will play it.
    const removing = await t.api(`/api/v1/media/${first.content.mediaId}`, {
      method: 'DELETE',
      as: 'operator',
    });
    expect(removing.status).toBe(409);
    for (const s of [first, same])
      await t.api(`/api/v1/schedules/${s.id}`, { method: 'DELETE', as: 'operator' });
    const removed = await t.api(`/api/v1/media/${first.content.mediaId}`, {
      method: 'DELETE',
      as: 'operator',
    });
    expect(removed.status).toBe(204);
    // Removed from the library, the same text is read again when next saved.
    const again = await save('Thông báo: 7h30 sáng mai tiêm chủng tại trạm y tế xã.');
    expect(again.content.mediaId).not.toBe(first.content.mediaId);
    expect((await t.api(`/api/v1/media/${again.content.mediaId}`, { as: 'operator' })).status).toBe(200);

    // A patch without content keeps the audio; a new text in a patch is read aloud.
    const renamed = await t.api(`/api/v1/schedules/${other.id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { name: 'Tiêm chủng' },
    });
    expect(renamed.body.schedule.content.mediaId).toBe(other.content.mediaId);
    const reworded = await t.api(`/api/v1/schedules/${other.id}`, {
      method: 'PATCH',
      as: 'operator',
      body: { content: { kind: 'tts', text: 'Hoãn tiêm chủng sang tuần sau.', voice: 'northern' } },
    });
    expect(reworded.body.schedule.content.mediaId).not.toBe(other.content.mediaId);

    // A mediaId sent by a client is not believed: the text decides the audio.
    const forged = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        name: 'Giả',
        level: 'normal',
        content: { kind: 'tts', text: 'Hoãn tiêm chủng sang tuần sau.', mediaId: 'm-0000000000' },
        start: new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 16),
        targets: { clusterIds: ['tts-c1'] },
      },
    });
    expect(forged.body.schedule.content.mediaId).toBe(reworded.body.schedule.content.mediaId);
  }, 60_000);

  it('refuses a programme that repeats, or a text content with a relay window, naming the field', async () => {
    t = await startTestPlatform();
    await t.addDevice('tts-c2');
    const base = {
      name: 'Sai',
      level: 'normal',
      start: new Date(Date.now() + 86_400_000).toISOString().slice(0, 16),
      targets: { clusterIds: ['tts-c2'] },
    };
    const repeated = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: {
        ...base,
        repeat: 2,
        content: {
          kind: 'programme',
          items: [
            { kind: 'silence', durationS: 1 },
            { kind: 'tts', text: 'A' },
          ],
        },
      },
    });
    expect(repeated.status).toBe(400);
    expect(repeated.body.error.message).toMatch(/^body\.repeat: /);
    const silent = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: { ...base, content: { kind: 'programme', items: [{ kind: 'silence', durationS: 1 }] } },
    });
    expect(silent.status).toBe(400);
    expect(silent.body.error.message).toMatch(/^body\.content\.items: a programme needs something to hear/);
    const windowed = await t.api('/api/v1/schedules', {
      method: 'POST',
      as: 'operator',
      body: { ...base, durationS: 60, content: { kind: 'tts', text: 'A' } },
    });
    expect(windowed.status).toBe(400);
    expect(windowed.body.error.message).toMatch(/^body\.durationS: /);
  });
});
