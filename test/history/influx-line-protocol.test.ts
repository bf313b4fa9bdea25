import fc from 'fast-check';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sanitizeTagValue, toLineProtocol } from '../../services/history/influx-line-protocol.js';
import { InfluxTelemetryStore } from '../../services/history/influx-store.js';
import { quoteString } from '../../services/history/influxql.js';
import type { TelemetryPoint, TelemetryTags } from '../../services/history/telemetry-store.js';
import { freshDatabase, Influxd, influxdSkipReason } from '../support/influxd.js';

const T0 = Date.UTC(2026, 10, 20);

const tags = (village: string, device = 'cum-1'): TelemetryTags => ({
  commune: 'Hướng Đạo',
  village,
  device,
  kind: 'speaker-cluster',
});

describe('line protocol for history points', () => {
  it('writes integers with the i suffix, floats without, booleans as 0/1 and times in ms', () => {
    const line = toLineProtocol({
      measurement: 'heartbeat',
      tags: tags('Thôn Đồng Sài'),
      fields: { signal: -67, volume: 55, playing: true, power: false, temperature: 39.25 },
      at: T0,
    });
    expect(line).toBe(
      `heartbeat,commune=Hướng\\ Đạo,device=cum-1,kind=speaker-cluster,village=Thôn\\ Đồng\\ Sài ` +
        `playing=1i,power=0i,signal=-67,temperature=39.25,volume=55i ${T0}`,
    );
  });

  it('rounds integer fields instead of changing their type', () => {
    const line = toLineProtocol({
      measurement: 'heartbeat',
      tags: tags('v'),
      fields: { volume: 57.6 },
      at: T0,
    });
    expect(line).toContain(' volume=58i ');
  });

  it('escapes commas, spaces and equals signs in tags and quotes string fields', () => {
    const line = toLineProtocol({
      measurement: 'presence',
      tags: tags('Thôn Hữu Thủ, xóm = Giữa'),
      fields: { online: false, reason: 'said "bye" \\ left' },
      at: T0,
    });
    expect(line).toBe(
      `presence,commune=Hướng\\ Đạo,device=cum-1,kind=speaker-cluster,village=Thôn\\ Hữu\\ Thủ\\,\\ xóm\\ \\=\\ Giữa ` +
        `online=0i,reason="said \\"bye\\" \\\\ left" ${T0}`,
    );
  });

  it('leaves out empty tags and sanitises backslashes and line breaks that would break the line', () => {
    expect(sanitizeTagValue('Giữa \\')).toBe('Giữa');
    expect(sanitizeTagValue('a\\,b\\ c\\=d')).toBe('a,b c=d');
    expect(sanitizeTagValue('a\\b')).toBe('a\\b');
    expect(sanitizeTagValue('x\ny\tz\r')).toBe('x y z');
    const line = toLineProtocol({
      measurement: 'heartbeat',
      tags: tags(' \\\\ '),
      fields: { signal: 1 },
      at: T0,
    });
    expect(line).toBe(`heartbeat,commune=Hướng\\ Đạo,device=cum-1,kind=speaker-cluster signal=1 ${T0}`);
  });

  it('writes only schema fields with usable values, and nothing for a point without any', () => {
    const point = (fields: Record<string, unknown>, at = T0) =>
      toLineProtocol({ measurement: 'heartbeat', tags: tags('v'), fields, at } as TelemetryPoint);
    expect(point({ signal: -1, humidity: 40, volume: Number.NaN, uptime: undefined })).toMatch(/ signal=-1 /);
    expect(point({ humidity: 40 })).toBeNull();
    expect(point({ signal: Number.POSITIVE_INFINITY })).toBeNull();
    expect(point({ signal: 1 }, Number.NaN)).toBeNull();
    expect(
      toLineProtocol({ measurement: 'weather', tags: tags('v'), fields: { t: 1 }, at: T0 } as never),
    ).toBeNull();
  });
});

const skip = influxdSkipReason();

describe.skipIf(skip !== null)(
  `tags and strings through a real influxd${skip ? ` — skipped: ${skip}` : ''}`,
  () => {
    let server: Influxd;
    beforeAll(async () => {
      server = await Influxd.create();
    });
    afterAll(async () => {
      await server?.cleanup();
    });

    it('stores village names exactly as sanitised and finds each again with a quoted literal', async () => {
      const awkward = fc.string({
        unit: fc.constantFrom(
          ' ',
          ',',
          '=',
          '\\',
          '"',
          "'",
          '\n',
          '\t',
          'ữ',
          'Đ',
          'ô',
          'a',
          'Z',
          '1',
          '-',
          '😀',
        ),
        minLength: 1,
        maxLength: 12,
      });
      const villages = [
        'Thôn Hữu Thủ, xóm = Giữa',
        'Thôn Hữu Thủ, xóm = Giữa \\',
        'Xóm \'Trại\' "Mới"',
        ...fc.sample(awkward, { numRuns: 150, seed: 20261120 }),
      ];
      const db = freshDatabase('tags');
      const store = new InfluxTelemetryStore({
        url: server.url,
        api: 'v1',
        database: db,
        logger: pino({ level: 'silent' }),
      });
      await store.start();
      store.write(
        villages.map((village, i) => ({
          measurement: 'presence' as const,
          tags: tags(village, `cum-${i}`),
          fields: { online: true, reason: village },
          at: T0 + i,
        })),
      );
      await store.flush();
      await store.close();
      expect(store.stats()).toMatchObject({ written: villages.length, dropped: 0 });

      const expected = new Set(villages.map(sanitizeTagValue).filter((v) => v !== ''));
      expect(expected).toContain('Thôn Hữu Thủ, xóm = Giữa');
      const shown = await server.column(db, 'SHOW TAG VALUES FROM "presence" WITH KEY = "village"');
      expect(new Set(shown)).toEqual(expected);

      for (const village of expected) {
        const [n] = await server.column(
          db,
          `SELECT count("online") FROM "presence" WHERE "village" = ${quoteString(village)}`,
        );
        expect(n, village).toBe(villages.filter((v) => sanitizeTagValue(v) === village).length);
      }
      // String fields keep every character, quotes, backslashes and line breaks included.
      const reasons = await server.column(db, 'SELECT "reason" FROM "presence"');
      expect(reasons).toEqual(villages);
    });
  },
);
