import { HttpError } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { linesRefused } from '../../services/history/influx-store.js';
import {
  parseTarget,
  presenceBeforeStatement,
  presenceTransitionsStatement,
  quoteIdent,
  quoteString,
  seriesStatement,
  timeLiteral,
} from '../../services/history/influxql.js';

const T0 = Date.UTC(2026, 10, 20);

describe('InfluxQL quoting', () => {
  it('quotes identifiers with double quotes, escaping backslashes, quotes and line breaks', () => {
    expect(quoteIdent('heartbeat')).toBe('"heartbeat"');
    expect(quoteIdent('a "b" \\ c\nd')).toBe('"a \\"b\\" \\\\ c\\nd"');
    // A single quote needs no escape inside double quotes.
    expect(quoteIdent("it's")).toBe('"it\'s"');
  });

  it('quotes string literals with single quotes, so input cannot end the literal', () => {
    expect(quoteString('cum-1')).toBe("'cum-1'");
    expect(quoteString("x' OR '1'='1")).toBe("'x\\' OR \\'1\\'=\\'1'");
    expect(quoteString('a\\')).toBe("'a\\\\'");
    expect(quoteString('Thôn "Đông"\nxóm')).toBe('\'Thôn "Đông"\\nxóm\'');
  });

  it('writes times as whole milliseconds, rounding a fractional bound up', () => {
    expect(timeLiteral(T0)).toBe(`${T0}ms`);
    expect(timeLiteral(1.5)).toBe('2ms');
    expect(() => timeLiteral(Number.NaN)).toThrow(RangeError);
  });

  it('reads db/rp as a database and retention policy', () => {
    expect(parseTarget('history')).toEqual({ db: 'history', rp: null });
    expect(parseTarget('history/week')).toEqual({ db: 'history', rp: 'week' });
    expect(parseTarget('history/')).toEqual({ db: 'history', rp: null });
  });
});

describe('InfluxQL statements', () => {
  const target = { db: 'h', rp: null };
  const base = {
    measurement: 'heartbeat' as const,
    device: "cum-'1'",
    field: 'volume',
    from: T0,
    to: T0 + 60_000,
  };

  it('asks for one point more than the limit, ascending, for one device', () => {
    expect(seriesStatement(target, { ...base, limit: 10 })).toBe(
      `SELECT "volume" FROM "heartbeat" WHERE "device" = 'cum-\\'1\\'' AND time >= ${T0}ms AND time < ${T0 + 60_000}ms ORDER BY time ASC LIMIT 11`,
    );
  });

  it('groups windows by time with a normalised offset and leaves empty windows out', () => {
    const q = seriesStatement(
      { db: 'h', rp: 'week' },
      { ...base, window: { ms: 86_400_000, offsetMs: -17 * 3_600_000, agg: 'mean' }, limit: 5 },
    );
    expect(q).toBe(
      `SELECT mean("volume") FROM "week"."heartbeat" WHERE "device" = 'cum-\\'1\\'' AND time >= ${T0}ms AND time < ${T0 + 60_000}ms GROUP BY time(86400000ms, 25200000ms) fill(none) LIMIT 6`,
    );
  });

  it('selects presence per device, quoting every device id', () => {
    expect(presenceBeforeStatement(target, ['a', "b'"], T0)).toBe(
      `SELECT last("online") FROM "presence" WHERE time < ${T0}ms AND ("device" = 'a' OR "device" = 'b\\'') GROUP BY "device"`,
    );
    expect(presenceTransitionsStatement(target, ['a'], T0, T0 + 1)).toBe(
      `SELECT "online" FROM "presence" WHERE time >= ${T0}ms AND time < ${T0 + 1}ms AND ("device" = 'a') GROUP BY "device"`,
    );
  });
});

describe('lines a refused write lost', () => {
  const refused = (status: number, body: string) =>
    new HttpError(status, 'Bad Request', body, undefined, 'application/json');

  it('reads dropped=N from InfluxDB 1.x and 2.x partial writes', () => {
    const v1 = refused(
      400,
      '{"error":"partial write: field type conflict: input field \\"volume\\" on measurement \\"heartbeat\\" is type float, already exists as type integer dropped=2"}',
    );
    expect(linesRefused(v1, 10)).toBe(2);
    const v2 = refused(
      422,
      '{"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict: input field \\"volume\\" on measurement \\"heartbeat\\" is type float, already exists as type integer dropped=1"}',
    );
    expect(linesRefused(v2, 10)).toBe(1);
  });

  it('adds the unparsable lines 1.x leaves out of dropped=N', () => {
    const body = JSON.stringify({
      error:
        "partial write: unable to parse 'a b': invalid field format\nunable to parse 'c d': invalid field format dropped=0",
    });
    expect(linesRefused(refused(400, body), 10)).toBe(2);
  });

  it('counts the lines 3.x lists, and the whole batch when the server does not say', () => {
    const v3 = JSON.stringify({
      error: 'partial write of line protocol occurred',
      data: [{ original_line: 'x', line_number: 2, error_message: 'invalid column type' }],
    });
    expect(linesRefused(refused(400, v3), 10)).toBe(1);
    expect(linesRefused(refused(404, '{"error":"database not found: \\"h\\""}'), 10)).toBe(10);
  });
});
