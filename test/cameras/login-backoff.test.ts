import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localTimeAsUtcS, posixTzOffsetS, readCameraClock } from '../../devices/onvif-camera/camera-clock.js';
import { DigestSession, parseChallenges } from '../../devices/onvif-camera/http-auth.js';
import {
  afterLoginPoll,
  defaultLoginBackoffConfig,
  type LoginBackoff,
  loginBackoffDelayMs,
  nextLoginAt,
  noLoginBackoff,
  resetLoginBackoff,
} from '../../devices/onvif-camera/login-backoff.js';
import { createSoapParser } from '../../devices/onvif-camera/soap.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** Polls every `everyMs` for `forMs`, each refused when credentials go out; returns the refusal times. */
function simulate(options: { everyMs: number; forMs: number; manualAt?: (t: number) => boolean }): number[] {
  let state: LoginBackoff = noLoginBackoff;
  const refused: number[] = [];
  for (let t = 0; t < options.forMs; t += options.everyMs) {
    if (options.manualAt?.(t)) state = resetLoginBackoff(state);
    if (nextLoginAt(state, t) !== null) continue;
    refused.push(t);
    state = afterLoginPoll(state, { at: t, refused: 1, loggedIn: false, cause: 'ter:NotAuthorized' });
  }
  return refused;
}

const maxInAnyHour = (times: number[]) =>
  Math.max(0, ...times.map((start) => times.filter((t) => t >= start && t < start + HOUR).length));

describe('login backoff', () => {
  it('waits 1, 2, 4 … minutes between refused logins, capped at an hour', () => {
    expect([1, 2, 3, 4, 7, 8, 30].map((n) => loginBackoffDelayMs(n) / MIN)).toEqual([1, 2, 4, 8, 60, 60, 60]);
    expect(simulate({ everyMs: 30_000, forMs: 3 * HOUR }).map((t) => t / MIN)).toEqual([
      0, 1, 3, 7, 15, 31, 63, 123,
    ]);
  });

  it('ends the wait on a login that is accepted, and on a reset, but keeps the hourly bound', () => {
    let state = afterLoginPoll(noLoginBackoff, { at: 0, refused: 1, loggedIn: false });
    expect(nextLoginAt(state, 30_000)).toBe(MIN);
    expect(nextLoginAt(resetLoginBackoff(state), 30_000)).toBeNull();
    state = afterLoginPoll(state, { at: MIN, refused: 0, loggedIn: true });
    expect(state).toMatchObject({ failures: 0, lastRefusedAt: null, cause: null });
    expect(nextLoginAt(state, MIN)).toBeNull();
    // A poll that never reached the login (camera unreachable) changes nothing.
    const waiting = afterLoginPoll(noLoginBackoff, { at: 0, refused: 1, loggedIn: false });
    expect(afterLoginPoll(waiting, { at: 10_000, refused: 0, loggedIn: false })).toEqual(waiting);
  });

  it('never allows more refused logins in an hour than the bound, however often a technician polls', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5_000, max: 120_000 }),
        fc.array(fc.integer({ min: 0, max: 4 * 60 }), { maxLength: 200 }),
        (everyMs, manualMinutes) => {
          const manual = new Set(manualMinutes);
          const times = simulate({
            everyMs,
            forMs: 4 * HOUR,
            manualAt: (t) => manual.has(Math.floor(t / MIN)),
          });
          expect(maxInAnyHour(times)).toBeLessThanOrEqual(defaultLoginBackoffConfig.maxRefusedPerHour);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('camera clock', () => {
  const parser = createSoapParser();
  const body = (xml: string) =>
    (parser.parse(`<Envelope><Body>${xml}</Body></Envelope>`) as { Envelope: { Body: unknown } }).Envelope
      .Body;
  const dt = (h: number) =>
    `<Time><Hour>${h}</Hour><Minute>0</Minute><Second>0</Second></Time><Date><Year>2026</Year><Month>11</Month><Day>22</Day></Date>`;

  it('reads POSIX time zones, east of UTC positive', () => {
    expect(posixTzOffsetS('ICT-7')).toBe(25_200);
    expect(posixTzOffsetS('CST-8:00:00')).toBe(28_800);
    expect(posixTzOffsetS('<+07>-7')).toBe(25_200);
    expect(posixTzOffsetS('EST5EDT,M3.2.0,M11.1.0')).toBe(-18_000);
    expect(posixTzOffsetS('GMT0')).toBe(0);
    expect(posixTzOffsetS('')).toBeNull();
  });

  it('takes UTCDateTime, or LocalDateTime less the camera zone, or the commune zone when it names none', () => {
    const utc = Date.UTC(2026, 10, 22, 0, 0, 0);
    expect(
      readCameraClock(
        body(
          `<GetSystemDateAndTimeResponse><SystemDateAndTime><UTCDateTime>${dt(0)}</UTCDateTime></SystemDateAndTime></GetSystemDateAndTimeResponse>`,
        ),
        25_200,
      ),
    ).toEqual({ utcMs: utc, source: 'UTCDateTime', zoneAssumed: false });
    expect(
      readCameraClock(
        body(
          `<GetSystemDateAndTimeResponse><SystemDateAndTime><TimeZone><TZ>ICT-7</TZ></TimeZone><LocalDateTime>${dt(7)}</LocalDateTime></SystemDateAndTime></GetSystemDateAndTimeResponse>`,
        ),
        0,
      ),
    ).toEqual({ utcMs: utc, source: 'LocalDateTime', zoneAssumed: false });
    expect(
      readCameraClock(
        body(
          `<GetSystemDateAndTimeResponse><SystemDateAndTime><LocalDateTime>${dt(7)}</LocalDateTime></SystemDateAndTime></GetSystemDateAndTimeResponse>`,
        ),
        25_200,
      ),
    ).toEqual({ utcMs: utc, source: 'LocalDateTime', zoneAssumed: true });
  });

  it('tells local time sent as UTC from drift', () => {
    expect(localTimeAsUtcS(25_200, 25_200)).toBe(25_200);
    expect(localTimeAsUtcS(25_230, 25_200)).toBe(25_200);
    // A factory default of China time, near enough to Vietnam's to be the same mistake.
    expect(localTimeAsUtcS(28_800, 25_200)).toBe(28_800);
    expect(localTimeAsUtcS(600, 25_200)).toBeNull();
    expect(localTimeAsUtcS(25_700, 25_200)).toBeNull();
    expect(localTimeAsUtcS(-25_200, 25_200)).toBeNull();
    expect(localTimeAsUtcS(0, 25_200)).toBeNull();
  });
});

describe('HTTP authentication challenges', () => {
  it('splits several challenges in one header and answers Digest as RFC 7616 does', () => {
    const [digest, basic] = parseChallenges(
      'Digest realm="IP Camera", qop="auth,auth-int", nonce="abc", algorithm=MD5, Basic realm="IP Camera"',
    );
    expect(digest?.scheme).toBe('digest');
    expect(digest?.params.get('qop')).toBe('auth,auth-int');
    expect(basic).toEqual({ scheme: 'basic', params: new Map([['realm', 'IP Camera']]) });
    // RFC 2617 §3.5's worked example.
    const session = new DigestSession({
      scheme: 'digest',
      params: new Map([
        ['realm', 'testrealm@host.com'],
        ['qop', 'auth'],
        ['nonce', 'dcd98b7102dd2f0e8b11d0f600bfb0c093'],
        ['opaque', '5ccc069c403ebaf9f0171e9517f40e41'],
      ]),
    });
    (session as unknown as { cnonce: string }).cnonce = '0a4f113b';
    const header = session.authorize('GET', '/dir/index.html', {
      username: 'Mufasa',
      password: 'Circle Of Life',
    });
    expect(header).toContain('response="6629fae49393a05397450978507c4ef1"');
    expect(header).toContain('nc=00000001');
  });
});
