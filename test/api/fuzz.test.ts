import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { api, type Json, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

/** Fixed, so a failure reproduces; fast-check prints the shrunk request that broke the rule. */
const SEED = 20_261_122;
const RUNS = 500;

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

interface Route {
  method: Method;
  /** OpenAPI path, e.g. `/api/v1/clusters/{id}`. */
  path: string;
}

interface FuzzRequest {
  method: Method;
  path: string;
  body?: string;
  contentType?: string;
}

/** Every operation the running app publishes in its OpenAPI document. */
function routesOf(doc: Json): Route[] {
  const routes: Route[] = [];
  for (const [path, operations] of Object.entries(doc.paths as Record<string, object>)) {
    for (const method of Object.keys(operations)) {
      const upper = method.toUpperCase();
      // A camera's live picture streams until the viewer leaves, by design (test/cameras/camera-live.test.ts).
      if (path.endsWith('/live')) continue;
      if (upper === 'GET' || upper === 'POST' || upper === 'PATCH' || upper === 'DELETE') {
        routes.push({ method: upper, path });
      }
    }
  }
  return routes;
}

/**
 * Number tokens JSON.stringify never writes (overflow to Infinity, negative zero, beyond 2^53),
 * spliced into the body text in place of their placeholder strings.
 */
const RAW_NUMBERS = ['1e308', '-1e308', '1e400', '-0', '0.0000000000000000000001', '9007199254740993'];
const raw = (token: string) => `__raw_${token}__`;
const toBodyText = (value: unknown) =>
  (JSON.stringify(value) ?? 'null').replace(/"__raw_([^"]+)__"/g, (_match, token: string) => token);

const POLLUTION_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'hasOwnProperty'];

/** Values that probe the edges of every field type. */
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(...RAW_NUMBERS.map(raw)),
  fc.constantFrom('NaN', 'Infinity', '-0', '1e308', '', ' ', '\u0000', '\u202e', 'null', 'true'),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => 'đ'.repeat(n)),
  fc.integer({ min: 100, max: 3_000 }).map((depth) => ({ deep: nested(depth) })),
  fc.constantFrom(...POLLUTION_KEYS).map((key) => ({ [key]: { polluted: true } })),
);

function nested(depth: number): unknown {
  let value: unknown = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** JSON text that a careless parser might choke on or let through. */
const malformedJson = fc.constantFrom(
  '{',
  '{"name": ',
  '[1, 2',
  '{"name": "x"}}',
  '{"name": "x",}',
  '{name: "x"}',
  "{'name': 'x'}",
  '{"name": NaN}',
  '{"lat": Infinity}',
  '{"n": 01}',
  'nul',
  'undefined',
  '\u0000',
  '\uFEFF{"name": "x"}',
  '{"__proto__": {"admin": true}, "name": "x"}',
  '{"constructor": {"prototype": {"admin": true}}, "name": "x"}',
  '{"name": "x", "name": "y"}',
  '"just a string"',
  '12345',
  `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
);

const WRONG_CONTENT_TYPES = [
  'text/plain',
  'text/html',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  'application/json; charset=utf-16',
  'application/jsonx',
  'APPLICATION/JSON',
  'application/json;;;',
  '*/*',
  'garbage',
];

/** Path segments standing in for `{id}`: traversal, NUL, bad percent-encoding, very long, unicode. */
const hostileIds = fc.constantFrom(
  '..',
  '../..',
  '../../../healthz',
  '%2e%2e',
  '%2e%2e%2f%2e%2e',
  '%00',
  'a%00b',
  '%ZZ',
  '%',
  '%E0%A4%A',
  '%C0%AF',
  'x'.repeat(5_000),
  'a'.repeat(49),
  encodeURIComponent('xã-đạo-tú'),
  encodeURIComponent('💥'),
  '%20',
  '__proto__',
  'constructor',
  'null',
  '-1',
  '1e308',
  'NaN',
  'u-',
  'u-zzzzzzzzzz',
  '000000000000',
);

const fuzzedId = fc.oneof(
  hostileIds,
  fc.string({ maxLength: 60 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent),
  fc.stringMatching(/^[a-z0-9-]{1,60}$/),
  fc.stringMatching(/^[0-9a-f]{12}$/),
);

const QUERY_KEYS = [
  'limit',
  'offset',
  'communeId',
  'villageId',
  'online',
  'from',
  'to',
  'format',
  'userId',
  'actor',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'requestId',
  '__proto__',
  'constructor',
  'toString',
  'limit[]',
  'offset[0]',
  'a[b][c]',
];

const queryValue = fc.oneof(
  fc.constantFrom(
    '1e308',
    '-1e308',
    '-0',
    'NaN',
    'Infinity',
    '-1',
    '0',
    '-10000000000',
    '9007199254740993',
    '1'.repeat(400),
    '0x10',
    '1_000',
    ' 5 ',
    'true',
    'false',
    'csv',
    'json',
    '2026-13-45T99:99:99Z',
    '2026-11-22T00:00:00Z',
    '',
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** A query string, either properly encoded or with raw characters (and broken %-escapes) left in. */
const queryString = fc
  .record({
    pairs: fc.array(
      fc.tuple(fc.oneof(fc.constantFrom(...QUERY_KEYS), fc.string({ maxLength: 12 })), queryValue),
      {
        maxLength: 8,
      },
    ),
    repeat: fc.boolean(),
    encoded: fc.boolean(),
  })
  .map(({ pairs, repeat, encoded }) => {
    const all = repeat ? [...pairs, ...pairs] : pairs;
    const part = (s: string) =>
      encoded ? encodeURIComponent(s) : s.replaceAll('#', '%23').replaceAll('&', '%26');
    return all.map(([k, v]) => `${part(k)}=${part(v)}`).join('&');
  });

/** A valid body per state-changing route, so a single mutated field is checked past the rest. */
function templates(ids: { communeId: string; villageId: string }): Record<string, Record<string, unknown>> {
  return {
    'POST /api/v1/communes': { name: 'Xã Thử', district: 'Tam Dương', province: 'Vĩnh Phúc' },
    'PATCH /api/v1/communes/{id}': { name: 'Xã Thử', district: 'Tam Dương' },
    'POST /api/v1/villages': { communeId: ids.communeId, name: 'Thôn Đông' },
    'PATCH /api/v1/villages/{id}': { name: 'Thôn Tây', namePlaceholder: false },
    'POST /api/v1/clusters': {
      id: 'fz-c02',
      villageId: ids.villageId,
      name: 'Cụm loa',
      address: 'Nhà văn hoá',
      location: { lat: 21.3, lon: 105.5 },
      heartbeatTimeoutS: 60,
      speakers: 2,
    },
    'PATCH /api/v1/clusters/{id}': {
      name: 'Cụm loa',
      location: { lat: 21.3, lon: 105.5 },
      speakers: [{ idx: 1, label: 'Loa cổng' }],
      heartbeatTimeoutS: 120,
    },
    'POST /api/v1/devices/{id}/commands': { type: 'volume', level: 50 },
    'POST /api/v1/auth/login': { username: 'fuzz-nobody', password: 'not-the-password' },
    'POST /api/v1/auth/password': { currentPassword: 'not-the-password', newPassword: 'a-new-long-password' },
    'POST /api/v1/auth/tokens': { name: 'fuzz', roles: ['admin'], expiresInDays: 30 },
    'POST /api/v1/users': {
      username: 'fuzz-user',
      displayName: 'Người thử',
      password: 'a-long-enough-password',
      roles: ['operator'],
      communeId: null,
    },
    'PATCH /api/v1/users/{id}': {
      displayName: 'Người thử',
      roles: ['police'],
      communeId: null,
      disabled: false,
    },
    'POST /api/v1/users/{id}/password': { password: 'another-long-password' },
  };
}

function bodyFor(template: Record<string, unknown> | undefined): fc.Arbitrary<{ body: string }> {
  const free = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.object({ key: fc.oneof(fc.string(), fc.constantFrom(...POLLUTION_KEYS)), maxDepth: 3 }),
    fc.anything({ maxDepth: 3 }),
    fc.array(weirdValue, { maxLength: 5 }),
    weirdValue,
  );
  const arbitraries: fc.Arbitrary<unknown>[] = [free];
  if (template) {
    const keys = Object.keys(template);
    arbitraries.push(
      fc
        .record({
          key: fc.oneof(
            fc.constantFrom(...keys),
            fc.constantFrom(...POLLUTION_KEYS),
            fc.string({ maxLength: 10 }),
          ),
          value: weirdValue,
        })
        .map(({ key, value }) => ({ ...template, [key]: value })),
      fc.subarray(keys).map((kept) => Object.fromEntries(kept.map((k) => [k, template[k]]))),
    );
  }
  return fc.oneof(...arbitraries).map((value) => ({ body: toBodyText(value) }));
}

describe('API under fuzzed input', () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await startTestPlatform();
  });
  afterEach(() => t.close());

  it('answers hundreds of hostile requests with 4xx errors in the documented shape and keeps serving', async () => {
    await t.api('/api/v1/communes', { method: 'POST', body: { id: 'fz-xa', name: 'Xã Fuzz' } });
    const village = await t.api('/api/v1/villages', {
      method: 'POST',
      body: { id: 'fz-thon', communeId: 'fz-xa', name: 'Thôn Fuzz' },
    });
    expect(village.status).toBe(201);
    const cluster = await t.api('/api/v1/clusters', {
      method: 'POST',
      body: { id: 'fz-c01', villageId: 'fz-thon', name: 'Cụm Fuzz', location: { lat: 21.3, lon: 105.5 } },
    });
    expect(cluster.status).toBe(201);
    const user = await t.api('/api/v1/users', {
      method: 'POST',
      body: {
        username: 'fuzz-target',
        displayName: 'Đích',
        password: 'fuzz-target-password',
        roles: ['police'],
      },
    });
    expect(user.status).toBe(201);
    // The fuzzer acts through an admin token, so a fuzzed sign-out or password change cannot end
    // the admin session used for the checks afterwards.
    const token = await t.api('/api/v1/auth/tokens', { method: 'POST', body: { name: 'fuzzer' } });
    expect(token.status).toBe(201);
    const bearer = { authorization: `Bearer ${token.body.token as string}` };
    const adminId = token.body.userId as string;

    // Real ids per resource, so some requests get past the lookup; the admin's own id is left out
    // so the fuzzer cannot reset the password the checks below sign in with.
    const realIds: Record<string, string[]> = {
      communes: ['fz-xa'],
      villages: ['fz-thon'],
      clusters: ['fz-c01'],
      devices: ['fz-c01'],
      users: [user.body.id as string],
      tokens: [],
    };
    const allRealIds = new Set([...Object.values(realIds).flat(), adminId, token.body.id as string]);

    const doc = await t.api('/docs/json');
    expect(doc.status).toBe(200);
    const routes = routesOf(doc.body);
    expect(routes.length).toBeGreaterThan(20);
    const bodies = templates({ communeId: 'fz-xa', villageId: 'fz-thon' });

    const pathFor = (route: Route, destructive: boolean): fc.Arbitrary<string> => {
      if (!route.path.includes('{id}')) return fc.constant(route.path);
      const resource = route.path.split('/')[3] ?? '';
      const known = realIds[resource] ?? [];
      // Only a DELETE must miss every real record; other routes may hit one (a route with more path
      // after its id, such as /inbox/{id}/{communeId}/schedule, would never pass that filter).
      const ids = destructive
        ? fuzzedId.filter((id) => cannotExist(route.path, id))
        : known.length === 0
          ? fuzzedId
          : fc.oneof(fc.constantFrom(...known), fuzzedId);
      return ids.map((id) => route.path.replace('{id}', id));
    };
    // A DELETE may only aim at something that cannot exist: after URL normalisation ("..",
    // "%2e%2e") it must still name this route, and its id must be none of ours.
    const cannotExist = (template: string, id: string) => {
      const path = template.replace('{id}', id);
      const resolved = new URL(path, t.httpUrl).pathname;
      const prefix = template.slice(0, template.indexOf('{id}'));
      if (!resolved.startsWith(prefix) || resolved.slice(prefix.length).includes('/')) return false;
      let decoded: string;
      try {
        decoded = decodeURIComponent(resolved.slice(prefix.length));
      } catch (error) {
        if (error instanceof URIError) return true; // bad %-encoding matches no record
        throw error;
      }
      return !allRealIds.has(decoded);
    };

    const perRoute = routes.map((route): fc.Arbitrary<FuzzRequest> => {
      const { method } = route;
      if (method === 'DELETE') return pathFor(route, true).map((path) => ({ method, path }));
      if (method === 'GET') {
        return fc
          .tuple(pathFor(route, false), queryString)
          .map(([path, query]) => ({ method, path: query ? `${path}?${query}` : path }));
      }
      const template = bodies[`${method} ${route.path}`];
      return fc.tuple(pathFor(route, false), fc.nat(9)).chain(([path, pick]) => {
        if (pick === 0)
          return malformedJson.map((body) => ({ method, path, body, contentType: 'application/json' }));
        if (pick === 1) {
          return fc
            .tuple(fc.constantFrom(...WRONG_CONTENT_TYPES), bodyFor(template))
            .map(([contentType, { body }]) => ({ method, path, body, contentType }));
        }
        return bodyFor(template).map(({ body }) => ({ method, path, body, contentType: 'application/json' }));
      });
    });

    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(...perRoute), async (request) => {
        sent++;
        const response = await api(t.httpUrl, request.path, {
          method: request.method,
          headers: { ...bearer, ...(request.contentType ? { 'content-type': request.contentType } : {}) },
          ...(request.body === undefined ? {} : { body: request.body }),
        });
        const where = `${request.method} ${request.path.slice(0, 200)} → ${response.status}`;
        expect(response.status, where).toBeLessThan(500);
        if (response.status >= 400) expectErrorShape(response.body, where);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(sent).toBeGreaterThanOrEqual(RUNS);

    expect((await t.api('/healthz', { as: 'anonymous' })).status).toBe(200);
    const clusters = await t.api('/api/v1/clusters');
    expect(clusters.status).toBe(200);
    expect(clusters.body.items.map((c: Json) => c.id)).toContain('fz-c01');
  });
});

function expectErrorShape(body: Json, where: string): void {
  expect(body, where).toBeTypeOf('object');
  expect(Object.keys(body ?? {}), where).toEqual(['error']);
  expect(body.error.code, where).toBeTypeOf('string');
  expect(body.error.message, where).toBeTypeOf('string');
}
