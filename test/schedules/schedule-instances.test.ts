import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/manual-clock.js';
import { uploadWav } from '../support/media-upload.js';
import { type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';
import { postgresSkipReason } from '../support/postgres.js';
import { type InstanceLayout, instanceLayout } from '../support/redis-instances.js';

/*
 * Two in-process instances on one real PostgreSQL, each with its own data directory: two
 * operators save clashing schedules at the same moment, one through each instance. Each instance
 * checks clashes against its own copy, which hears of the other's schedule only once it is saved.
 */
const skip = postgresSkipReason();
const SIX_AM = Date.UTC(2026, 11, 1, 23, 0, 0);

describe.skipIf(skip !== null)(
  `schedules saved through two instances${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    const clock = new ManualClock(SIX_AM - 60 * 60_000);
    let layout: InstanceLayout | undefined;
    let a: TestPlatform;
    let b: TestPlatform;

    beforeAll(async () => {
      layout = await instanceLayout(true);
      const config = { SEED_PRESET: 'huong-dao' as const, ...layout.config };
      a = await startTestPlatform({ clock, config, dataDir: layout.dirs[0] });
      b = await startTestPlatform({ clock, config, dataDir: layout.dirs[1] });
    }, 60_000);
    afterAll(async () => {
      await b?.close();
      await a?.close();
      await layout?.cleanup();
    });

    it('refuses the second of two clashing schedules saved at once through different instances', async () => {
      const mediaId = await uploadWav(a, 2);
      const save = (t: TestPlatform, name: string) =>
        t.api('/api/v1/schedules', {
          method: 'POST',

          body: {
            name,
            level: 'normal',
            content: { kind: 'media', mediaId },
            start: '2026-12-02T06:00',
            targets: { clusterIds: ['hd-c01', 'hd-c02'] },
          },
        });
      for (let round = 0; round < 3; round++) {
        const [onA, onB] = await Promise.all([
          save(a, `Bản tin sáng A${round}`),
          save(b, `Bản tin sáng B${round}`),
        ]);
        const answers = [onA, onB].map((r) => r.status).sort();
        expect(answers, JSON.stringify([onA.body, onB.body])).toEqual([201, 409]);
        const [saved, refused] = onA.status === 201 ? [onA, onB] : [onB, onA];
        expect(refused.body.error.details.clashes[0]).toMatchObject({ scheduleId: saved.body.schedule.id });
        for (const t of [a, b]) {
          const listed = await t.api('/api/v1/schedules');
          expect(listed.status, JSON.stringify(listed.body)).toBe(200);
          expect(listed.body.items.map((s: Json) => s.id)).toEqual([saved.body.schedule.id]);
        }
        expect(
          (await a.api(`/api/v1/schedules/${saved.body.schedule.id}`, { method: 'DELETE' })).status,
        ).toBe(204);
      }
    });
  },
);
