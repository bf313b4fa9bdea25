import { createHash } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../contracts/accounts.js';
import { systemClock } from '../../devices/index.js';
import { SimulatedCamera } from '../../simulators/onvif-camera/simulated-camera.js';
import { api, startTestPlatform, type TestPlatform } from '../support/platform-harness.js';

type Caller = Role | 'anonymous';
type Access = 'public' | 'authenticated' | Role[];
interface Call {
  url: string;
  body?: unknown;
  /** A fresh account's session, for self-service routes that would disturb the shared one. */
  headers?: Record<string, string>;
  actor?: string;
}
interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  access: Access;
  call(caller: Caller): Promise<Call> | Call;
}

const CALLERS: Caller[] = ['anonymous', ...ROLES];
const EMQX_HOOK_TOKEN = 'route-matrix-emqx-hook-token-0123456789';
const STATE_CHANGING = new Set(['POST', 'PATCH', 'DELETE']);
const usernameOf = (role: Role) => (role === 'admin' ? 'admin' : `${role}-all`);

/**
 * The access policy, written out route by route as the operators were promised it: this table is
 * the specification, and the first test fails when a route exists that it does not cover.
 */
describe('route × role matrix', () => {
  let t: TestPlatform;
  let camera: SimulatedCamera;
  let fresh = 0;
  const made: { method: string; url: string; requestId: string; status: number; actor: string | null }[] = [];

  /** A new account with one role, signed in: for logout, password change and token routes. */
  const newAccount = async (
    role: Role | 'anonymous',
  ): Promise<{ headers: Record<string, string>; actor?: string }> => {
    if (role === 'anonymous') return { headers: {} };
    const username = `fresh-${role}-${++fresh}`;
    await t.platform.auth.createUser({
      username,
      displayName: username,
      password: `${username}-password`,
      roles: [role],
    });
    const login = await api(t.httpUrl, '/api/v1/auth/login', {
      method: 'POST',
      body: { username, password: `${username}-password` },
    });
    return {
      headers: { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] as string },
      actor: username,
    };
  };
  const id = (kind: string, caller: Caller) => `${kind}-${caller.slice(0, 4)}`;

  const ROUTES: RouteSpec[] = [
    { method: 'GET', path: '/healthz', access: 'public', call: () => ({ url: '/healthz' }) },
    { method: 'GET', path: '/metrics', access: ['technician'], call: () => ({ url: '/metrics' }) },
    { method: 'GET', path: '/favicon.ico', access: 'public', call: () => ({ url: '/favicon.ico' }) },
    {
      method: 'GET',
      path: '/api/v1/communes',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/communes' }),
    },
    {
      method: 'POST',
      path: '/api/v1/communes',
      access: ['admin'],
      call: (c) => ({ url: '/api/v1/communes', body: { id: id('new', c), name: `Xã ${c}` } }),
    },
    {
      method: 'GET',
      path: '/api/v1/communes/{id}',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/communes/base' }),
    },
    {
      method: 'PATCH',
      path: '/api/v1/communes/{id}',
      access: ['admin'],
      call: () => ({ url: '/api/v1/communes/base', body: { district: 'Tam Dương' } }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/communes/{id}',
      access: ['admin'],
      call: async (c) => {
        await t.platform.registry.createCommune({ id: id('gone', c), name: 'Xoá' });
        return { url: `/api/v1/communes/${id('gone', c)}` };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/villages',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/villages' }),
    },
    {
      method: 'POST',
      path: '/api/v1/villages',
      access: ['admin'],
      call: (c) => ({ url: '/api/v1/villages', body: { communeId: 'base', name: `Thôn ${c}` } }),
    },
    {
      method: 'GET',
      path: '/api/v1/villages/{id}',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/villages/v-base' }),
    },
    {
      method: 'PATCH',
      path: '/api/v1/villages/{id}',
      access: ['admin'],
      call: () => ({ url: '/api/v1/villages/v-base', body: { namePlaceholder: true } }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/villages/{id}',
      access: ['admin'],
      call: async (c) => {
        await t.platform.registry.createVillage({ id: id('vgone', c), communeId: 'base', name: `Xoá ${c}` });
        return { url: `/api/v1/villages/${id('vgone', c)}` };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/clusters',
      access: ['operator', 'viewer', 'technician'],
      call: () => ({ url: '/api/v1/clusters' }),
    },
    {
      method: 'POST',
      path: '/api/v1/clusters',
      access: ['technician'],
      call: (c) => ({
        url: '/api/v1/clusters',
        body: {
          id: id('cnew', c),
          villageId: 'v-base',
          name: 'Cụm mới',
          location: { lat: 21.3, lon: 105.5 },
        },
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/clusters/{id}',
      access: ['operator', 'viewer', 'technician'],
      call: () => ({ url: '/api/v1/clusters/c-base' }),
    },
    {
      method: 'PATCH',
      path: '/api/v1/clusters/{id}',
      access: ['technician'],
      call: () => ({ url: '/api/v1/clusters/c-base', body: { address: 'Nhà văn hoá' } }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/clusters/{id}',
      access: ['technician'],
      call: async (c) => {
        await t.platform.registry.createCluster({
          id: id('cgone', c),
          villageId: 'v-base',
          name: 'Xoá',
          location: { lat: 21, lon: 105 },
        });
        return { url: `/api/v1/clusters/${id('cgone', c)}` };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/clusters/{id}/credentials',
      access: ['technician'],
      call: () => ({ url: '/api/v1/clusters/c-base/credentials' }),
    },
    {
      method: 'POST',
      path: '/api/v1/devices/{id}/commands',
      // Operators set the volume and the power; a ping or a reboot is a technician's (tested apart).
      access: ['technician', 'operator'],
      call: () => ({
        url: '/api/v1/devices/c-base/commands?force=true',
        body: { type: 'volume', level: 40 },
      }),
    },
    {
      method: 'POST',
      path: '/api/v1/clusters/control',
      access: ['operator', 'technician'],
      call: () => ({
        url: '/api/v1/clusters/control',
        body: { targets: { clusterIds: ['c-base'] }, command: { type: 'power', on: true } },
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/devices/{id}/commands',
      access: ['technician', 'operator'],
      call: () => ({ url: '/api/v1/devices/c-base/commands' }),
    },
    {
      method: 'GET',
      path: '/api/v1/devices/{id}/presence',
      access: ['technician', 'operator'],
      call: () => ({ url: '/api/v1/devices/c-base/presence' }),
    },
    {
      method: 'POST',
      path: '/api/v1/auth/login',
      access: 'public',
      call: async (c) => {
        const username = `login-${c}-${++fresh}`;
        await t.platform.auth.createUser({
          username,
          displayName: username,
          password: `${username}-password`,
          roles: ['police'],
        });
        return {
          url: '/api/v1/auth/login',
          body: { username, password: `${username}-password` },
          headers: {},
          actor: username,
        };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/auth/logout',
      access: 'authenticated',
      call: async (c) => ({ url: '/api/v1/auth/logout', ...(await newAccount(c)) }),
    },
    {
      method: 'GET',
      path: '/api/v1/auth/me',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/auth/me' }),
    },
    {
      method: 'POST',
      path: '/api/v1/auth/password',
      access: 'authenticated',
      call: async (c) => {
        const account = await newAccount(c);
        const current = account.actor ? `${account.actor}-password` : 'whatever-it-was';
        return {
          url: '/api/v1/auth/password',
          body: { currentPassword: current, newPassword: 'a-brand-new-password' },
          ...account,
        };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/auth/tokens',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/auth/tokens', body: { name: 'report pull' } }),
    },
    {
      method: 'GET',
      path: '/api/v1/auth/tokens',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/auth/tokens' }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/auth/tokens/{id}',
      access: 'authenticated',
      call: async (c) => {
        const owner = await newAccount(c === 'anonymous' ? 'police' : c);
        const created = await api(t.httpUrl, '/api/v1/auth/tokens', {
          method: 'POST',
          body: { name: 'x' },
          headers: owner.headers,
        });
        return c === 'anonymous'
          ? { url: `/api/v1/auth/tokens/${created.body.id}`, headers: {} }
          : { url: `/api/v1/auth/tokens/${created.body.id}`, ...owner };
      },
    },
    { method: 'GET', path: '/api/v1/users', access: ['admin'], call: () => ({ url: '/api/v1/users' }) },
    {
      method: 'POST',
      path: '/api/v1/users',
      access: ['admin'],
      call: (c) => ({
        url: '/api/v1/users',
        body: {
          username: `made-by-${c}`,
          displayName: 'Mới',
          password: 'mot-mat-khau-dai',
          roles: ['police'],
        },
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/users/{id}',
      access: ['admin'],
      call: () => ({ url: `/api/v1/users/${targetUser}` }),
    },
    {
      method: 'PATCH',
      path: '/api/v1/users/{id}',
      access: ['admin'],
      call: () => ({ url: `/api/v1/users/${targetUser}`, body: { displayName: 'Đổi tên' } }),
    },
    {
      method: 'POST',
      path: '/api/v1/users/{id}/password',
      access: ['admin'],
      call: () => ({ url: `/api/v1/users/${targetUser}/password`, body: { password: 'mat-khau-dat-lai' } }),
    },
    { method: 'GET', path: '/api/v1/audit', access: ['admin'], call: () => ({ url: '/api/v1/audit' }) },
    // [media] routes
    {
      method: 'POST',
      path: '/api/v1/media',
      access: ['operator'],
      call: async (c) => {
        // This table's requests carry text bodies, so the upload is a WAV whose bytes are all ASCII.
        const { asciiSafeWav, multipartText } = await import('../media/audio-fixtures.js');
        const form = multipartText({ bytes: asciiSafeWav(), filename: `${c}.wav`, type: 'audio/wav' });
        const session = c === 'anonymous' ? {} : await t.headersFor(c);
        return {
          url: '/api/v1/media',
          body: form.body,
          headers: { ...session, 'content-type': form.contentType },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/media',
      access: ['operator', 'approver', 'viewer', 'technician'],
      call: () => ({ url: '/api/v1/media' }),
    },
    {
      method: 'GET',
      path: '/api/v1/media/{id}',
      access: ['operator', 'approver', 'viewer', 'technician'],
      call: async () => {
        const { storeWav } = await import('../media/audio-fixtures.js');
        return { url: `/api/v1/media/${await storeWav(t.platform.media)}` };
      },
    },
    {
      method: 'DELETE',
      path: '/api/v1/media/{id}',
      access: ['operator'],
      call: async () => {
        const { storeWav } = await import('../media/audio-fixtures.js');
        return { url: `/api/v1/media/${await storeWav(t.platform.media)}` };
      },
    },
    {
      // Declared public because devices (not accounts) download with a signed link or their MQTT
      // secret (test/media/download.test.ts); to sessions it answers as operator/approver/technician-only.
      method: 'GET',
      path: '/api/v1/media/{id}/content',
      access: ['operator', 'approver', 'viewer', 'technician'],
      call: async () => {
        const { storeWav } = await import('../media/audio-fixtures.js');
        return { url: `/api/v1/media/${await storeWav(t.platform.media)}/content` };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/provinces',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/provinces' }),
    },
    {
      method: 'GET',
      path: '/api/v1/administrative-units',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/administrative-units?provinceId=phu-tho&q=tam' }),
    },
    // [schedules] routes
    ...((): RouteSpec[] => {
      let slot = 0;
      /** A one-off an hour apart from every other fixture, so none clash; a stream needs no media. */
      const schedule = (name: string) => ({
        name,
        level: 'normal' as const,
        content: { kind: 'stream' as const, url: 'https://radio.example.vn/truc-tiep' },
        durationS: 600,
        // Wall time in Asia/Ho_Chi_Minh (+07:00), a month ahead: inside the conflict horizon.
        start: new Date(Date.now() + (30 * 24 + ++slot + 7) * 3_600_000).toISOString().slice(0, 16),
        targets: { clusterIds: ['c-base'] },
      });
      const saved = async (name: string) =>
        (await t.platform.schedules.create(schedule(name), null)).schedule.id;
      /** In the commune that requires approval: saved as a draft. */
      const draft = async (name: string) =>
        (await t.platform.schedules.create({ ...schedule(name), targets: { clusterIds: ['c-appr'] } }, null))
          .schedule.id;
      const submitted = async (name: string) =>
        (
          await t.platform.schedules.submit(await draft(name), {
            userId: 'u-operator',
            username: 'operator-all',
          })
        ).id;
      const group = async (name: string) =>
        (await t.platform.schedules.groups.create({ communeId: 'base', name, clusterIds: ['c-base'] })).id;
      const calendar = () =>
        `from=${new Date().toISOString()}&to=${new Date(Date.now() + 40 * 86_400_000).toISOString()}`;
      return [
        {
          method: 'GET',
          path: '/api/v1/schedules',
          access: ['operator', 'approver'],
          call: () => ({ url: '/api/v1/schedules' }),
        },
        {
          method: 'POST',
          path: '/api/v1/schedules',
          access: ['operator'],
          call: (c) => ({ url: '/api/v1/schedules', body: schedule(`Lịch ${c}`) }),
        },
        {
          method: 'GET',
          path: '/api/v1/schedules/occurrences',
          access: ['operator', 'approver', 'viewer', 'technician'],
          call: () => ({ url: `/api/v1/schedules/occurrences?${calendar()}` }),
        },
        {
          method: 'GET',
          path: '/api/v1/schedules/{id}',
          access: ['operator', 'approver'],
          call: async (c) => ({ url: `/api/v1/schedules/${await saved(`Xem ${c}`)}` }),
        },
        {
          method: 'POST',
          path: '/api/v1/schedules/{id}/submit',
          access: ['operator'],
          call: async (c) => ({ url: `/api/v1/schedules/${await draft(`Gửi duyệt ${c}`)}/submit` }),
        },
        {
          method: 'POST',
          path: '/api/v1/schedules/{id}/approve',
          access: ['approver'],
          call: async (c) => ({
            url: `/api/v1/schedules/${await submitted(`Duyệt ${c}`)}/approve`,
            body: { comment: 'Đồng ý' },
          }),
        },
        {
          method: 'POST',
          path: '/api/v1/schedules/{id}/return',
          access: ['approver'],
          call: async (c) => ({
            url: `/api/v1/schedules/${await submitted(`Trả lại ${c}`)}/return`,
            body: { comment: 'Sửa lại giờ phát' },
          }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/schedules/{id}',
          access: ['operator'],
          call: async (c) => ({
            url: `/api/v1/schedules/${await saved(`Sửa ${c}`)}`,
            body: { name: `Đã sửa ${c}`, volume: 80 },
          }),
        },
        {
          method: 'DELETE',
          path: '/api/v1/schedules/{id}',
          access: ['operator'],
          call: async (c) => ({ url: `/api/v1/schedules/${await saved(`Xoá ${c}`)}` }),
        },
        {
          method: 'GET',
          path: '/api/v1/groups',
          access: ['operator'],
          call: () => ({ url: '/api/v1/groups' }),
        },
        {
          method: 'POST',
          path: '/api/v1/groups',
          access: ['operator'],
          call: (c) => ({
            url: '/api/v1/groups',
            body: { communeId: 'base', name: `Nhóm ${c}`, clusterIds: ['c-base'] },
          }),
        },
        {
          method: 'GET',
          path: '/api/v1/groups/{id}',
          access: ['operator'],
          call: async (c) => ({ url: `/api/v1/groups/${await group(`Xem nhóm ${c}`)}` }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/groups/{id}',
          access: ['operator'],
          call: async (c) => ({
            url: `/api/v1/groups/${await group(`Sửa nhóm ${c}`)}`,
            body: { name: `Nhóm đã sửa ${c}` },
          }),
        },
        {
          method: 'DELETE',
          path: '/api/v1/groups/{id}',
          access: ['operator'],
          call: async (c) => ({ url: `/api/v1/groups/${await group(`Xoá nhóm ${c}`)}` }),
        },
      ];
    })(),
    // [control schedules] routes
    ...(() => {
      const schedule = async (name: string) => {
        const made = await t.api('/api/v1/control-schedules', {
          method: 'POST',
          as: 'operator',
          body: {
            name,
            targets: { clusterIds: ['c-base'] },
            command: { type: 'volume', level: 30 },
            start: '2030-01-01T22:00',
          },
        });
        if (made.status !== 201) throw new Error(`control schedule: ${made.status}`);
        return made.body.id as string;
      };
      return [
        {
          method: 'GET',
          path: '/api/v1/control-schedules',
          access: ['operator', 'technician'],
          call: () => ({ url: '/api/v1/control-schedules' }),
        },
        {
          method: 'POST',
          path: '/api/v1/control-schedules',
          access: ['operator', 'technician'],
          call: (c) => ({
            url: '/api/v1/control-schedules',
            body: {
              name: `Tắt ${c}`,
              targets: { clusterIds: ['c-base'] },
              command: { type: 'power', on: false },
              start: '2030-01-01T22:00',
              rrule: 'FREQ=DAILY',
            },
          }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/control-schedules/{id}',
          access: ['operator', 'technician'],
          call: async (c) => ({
            url: `/api/v1/control-schedules/${await schedule(`Sửa ${c}`)}`,
            body: { enabled: false },
          }),
        },
        {
          method: 'DELETE',
          path: '/api/v1/control-schedules/{id}',
          access: ['operator', 'technician'],
          call: async (c) => ({ url: `/api/v1/control-schedules/${await schedule(`Xoá ${c}`)}` }),
        },
      ] satisfies RouteSpec[];
    })(),
    // [tts] routes
    {
      method: 'POST',
      path: '/api/v1/tts/preview',
      access: ['operator', 'approver'],
      call: () => ({ url: '/api/v1/tts/preview', body: { text: 'Xin chào bà con', voice: 'northern' } }),
    },
    {
      method: 'POST',
      path: '/api/v1/tts/media',
      access: ['operator'],
      call: (c) => ({ url: '/api/v1/tts/media', body: { text: 'Xin chào bà con', name: `Lời chào ${c}` } }),
    },
    // [stations] routes
    ...(() => {
      let n = 0;
      const station = async (name: string) => {
        const id = `st-${++n}`;
        const made = await t.api('/api/v1/stations', {
          method: 'POST',
          as: 'admin',
          body: { id, name, url: 'http://radio.invalid/live.mp3' },
        });
        if (made.status !== 201) throw new Error(`station: ${made.status}`);
        return id;
      };
      return [
        {
          method: 'GET',
          path: '/api/v1/stations',
          access: ['operator', 'technician'],
          call: () => ({ url: '/api/v1/stations' }),
        },
        {
          method: 'POST',
          path: '/api/v1/stations',
          access: ['admin'],
          call: (c) => ({
            url: '/api/v1/stations',
            body: { id: `new-${c}-${++n}`, name: `Đài ${c}`, url: 'http://radio.invalid/live.mp3' },
          }),
        },
        {
          method: 'GET',
          path: '/api/v1/stations/{id}',
          access: ['operator', 'technician'],
          call: async (c) => ({ url: `/api/v1/stations/${await station(`Xem ${c}`)}` }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/stations/{id}',
          access: ['admin'],
          call: async (c) => ({
            url: `/api/v1/stations/${await station(`Sửa ${c}`)}`,
            body: { kind: 'provincial' },
          }),
        },
        {
          method: 'DELETE',
          path: '/api/v1/stations/{id}',
          access: ['admin'],
          call: async (c) => ({ url: `/api/v1/stations/${await station(`Xoá ${c}`)}` }),
        },
        {
          method: 'POST',
          path: '/api/v1/stations/{id}/check',
          access: ['operator', 'technician'],
          call: async (c) => ({ url: `/api/v1/stations/${await station(`Kiểm tra ${c}`)}/check` }),
        },
      ] satisfies RouteSpec[];
    })(),
    // [broadcasts] routes
    {
      method: 'GET',
      path: '/api/v1/broadcasts',
      access: ['operator', 'approver', 'viewer'],
      call: () => ({ url: '/api/v1/broadcasts?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z' }),
    },
    {
      method: 'POST',
      path: '/api/v1/broadcasts/emergency',
      access: ['operator'],
      call: () => ({
        url: '/api/v1/broadcasts/emergency?waitMs=0',
        body: {
          content: { kind: 'stream', url: 'http://radio.example/live' },
          durationS: 60,
          targets: { clusterIds: ['c-base'] },
        },
      }),
    },
    {
      method: 'POST',
      path: '/api/v1/broadcasts/live',
      access: ['operator'],
      call: () => ({
        url: '/api/v1/broadcasts/live',
        body: {
          name: 'Đài tỉnh',
          url: 'http://radio.example/live',
          durationS: 600,
          targets: { clusterIds: ['c-base'] },
        },
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/broadcasts/{id}',
      access: ['operator', 'approver', 'viewer', 'technician'],
      call: async () => ({ url: `/api/v1/broadcasts/${await liveBroadcast()}` }),
    },
    {
      method: 'GET',
      path: '/api/v1/broadcasts/{id}/reach',
      access: ['operator', 'approver', 'viewer', 'technician'],
      call: async () => ({ url: `/api/v1/broadcasts/${await liveBroadcast()}/reach` }),
    },
    {
      method: 'POST',
      path: '/api/v1/broadcasts/{id}/reach/notify',
      access: ['operator'],
      call: async () => {
        // Stopped: every delivery final, so its reach gap is known.
        const id = await liveBroadcast();
        await t.api(`/api/v1/broadcasts/${id}/stop`, { method: 'POST' });
        return { url: `/api/v1/broadcasts/${id}/reach/notify`, body: { channels: ['email'] } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/broadcasts/{id}/review',
      access: ['approver'],
      call: async () => {
        // An emergency in the commune that requires approval: it aired at once, reviewed afterwards.
        const sent = await t.api('/api/v1/broadcasts/emergency?waitMs=0', {
          method: 'POST',
          body: {
            content: { kind: 'stream', url: 'http://radio.example/live' },
            durationS: 60,
            targets: { clusterIds: ['c-appr'] },
          },
        });
        return { url: `/api/v1/broadcasts/${sent.body.id}/review`, body: { comment: 'Đã xem' } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/broadcasts/{id}/stop',
      access: ['operator'],
      call: async () => ({ url: `/api/v1/broadcasts/${await liveBroadcast()}/stop` }),
    },
    // [bulletins] routes: from the province (Phú Thọ) to its commune 'prov'
    ...((): RouteSpec[] => {
      let slot = 0;
      const stream = { kind: 'stream', url: 'http://radio.example/tinh' };
      /** A bulletin sent by admin (for the province), at an hour of its own so none clash. */
      const bulletin = async (level: 'normal' | 'priority') => {
        const start = new Date(Date.now() + (40 * 24 + ++slot) * 3_600_000);
        if (level === 'priority') {
          // A commune priority item at the same time: the commune must order the two.
          await t.platform.schedules.create(
            {
              name: `Việc xã ${slot}`,
              level: 'priority',
              content: stream as never,
              durationS: 600,
              timezone: 'UTC',
              start: start.toISOString().slice(0, 16),
              targets: { communeIds: ['prov'] },
            },
            null,
          );
        }
        const sent = await t.api('/api/v1/provincial-bulletins', {
          method: 'POST',
          body: {
            name: `Tin ${slot}`,
            level,
            content: stream,
            durationS: 300,
            start: start.toISOString(),
            provinceId: 'phu-tho',
          },
        });
        return sent.body.id as string;
      };
      const readers: Role[] = ['operator', 'approver', 'viewer'];
      return [
        {
          method: 'POST',
          path: '/api/v1/provincial-bulletins',
          access: ['operator'],
          call: (c) => ({
            url: '/api/v1/provincial-bulletins',
            body: {
              name: `Tin của ${c}`,
              level: 'normal',
              content: stream,
              durationS: 60,
              provinceId: 'phu-tho',
            },
          }),
        },
        {
          method: 'GET',
          path: '/api/v1/provincial-bulletins',
          access: readers,
          call: () => ({ url: '/api/v1/provincial-bulletins' }),
        },
        {
          method: 'GET',
          path: '/api/v1/provincial-bulletins/{id}',
          access: readers,
          call: async () => ({ url: `/api/v1/provincial-bulletins/${await bulletin('normal')}` }),
        },
        {
          method: 'GET',
          path: '/api/v1/inbox',
          access: readers,
          call: () => ({ url: '/api/v1/inbox?state=pending' }),
        },
        {
          method: 'GET',
          path: '/api/v1/provinces/{id}/overview',
          access: readers,
          call: () => ({ url: '/api/v1/provinces/phu-tho/overview' }),
        },
        {
          method: 'POST',
          path: '/api/v1/inbox/{id}/{communeId}/schedule',
          access: ['operator'],
          call: async () => ({ url: `/api/v1/inbox/${await bulletin('normal')}/prov/schedule`, body: {} }),
        },
        {
          method: 'POST',
          path: '/api/v1/inbox/{id}/{communeId}/decline',
          access: ['operator'],
          call: async () => ({
            url: `/api/v1/inbox/${await bulletin('normal')}/prov/decline`,
            body: { reason: 'Không phù hợp' },
          }),
        },
        {
          method: 'POST',
          path: '/api/v1/inbox/{id}/{communeId}/order',
          access: ['operator'],
          call: async () => ({
            url: `/api/v1/inbox/${await bulletin('priority')}/prov/order`,
            body: { first: 'commune' },
          }),
        },
      ];
    })(),
    // [alarms] routes
    ...((): RouteSpec[] => {
      let n = 0;
      /** An open alarm on the base cluster, made as the engine makes them. */
      const alarm = async () => {
        const id = `al-${(++n).toString(16).padStart(12, '0')}`;
        await t.platform.alarms.store.insert({
          id,
          kind: 'overheating',
          severity: 'warning',
          state: 'open',
          deviceId: 'c-base',
          deviceKind: 'cluster',
          communeId: 'base',
          villageId: 'v-base',
          detail: '80 °C',
          incidentId: null,
          held: false,
          openedAt: Date.now(),
          acknowledgedAt: null,
          acknowledgedBy: null,
          note: null,
          clearedAt: null,
        });
        return id;
      };
      const window = async () => {
        const made = await t.api('/api/v1/maintenance', {
          method: 'POST',
          body: {
            deviceIds: ['c-base'],
            endsAt: new Date(Date.now() + 3_600_000).toISOString(),
            reason: 'Sửa',
          },
        });
        return made.body.id as string;
      };
      const readers: Role[] = ['operator', 'technician', 'viewer'];
      return [
        { method: 'GET', path: '/api/v1/alarms', access: readers, call: () => ({ url: '/api/v1/alarms' }) },
        {
          method: 'POST',
          path: '/api/v1/alarms/{id}/acknowledge',
          access: ['operator', 'technician'],
          call: async () => ({
            url: `/api/v1/alarms/${await alarm()}/acknowledge`,
            body: { note: 'Đang xử lý' },
          }),
        },
        {
          method: 'GET',
          path: '/api/v1/incidents',
          access: readers,
          call: () => ({ url: '/api/v1/incidents' }),
        },
        {
          method: 'GET',
          path: '/api/v1/outages',
          access: [...readers, 'police'],
          call: () => ({ url: '/api/v1/outages' }),
        },
        {
          method: 'GET',
          path: '/api/v1/alarm-rules/{communeId}',
          access: readers,
          call: () => ({ url: '/api/v1/alarm-rules/base' }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/alarm-rules/{communeId}/{kind}',
          access: ['technician'],
          call: () => ({ url: '/api/v1/alarm-rules/base/overheating', body: { forS: 60 } }),
        },
        {
          method: 'GET',
          path: '/api/v1/maintenance',
          access: readers,
          call: () => ({ url: '/api/v1/maintenance' }),
        },
        {
          method: 'POST',
          path: '/api/v1/maintenance',
          access: ['technician'],
          call: () => ({
            url: '/api/v1/maintenance',
            body: {
              deviceIds: ['c-base'],
              endsAt: new Date(Date.now() + 3_600_000).toISOString(),
              reason: 'Sửa',
            },
          }),
        },
        {
          method: 'DELETE',
          path: '/api/v1/maintenance/{id}',
          access: ['technician'],
          call: async () => ({ url: `/api/v1/maintenance/${await window()}` }),
        },
      ];
    })(),
    // [notifications] routes: technicians keep who is told; operators, technicians and viewers read.
    ...((): RouteSpec[] => {
      const readers: Role[] = ['operator', 'technician', 'viewer'];
      const made = async (path: string, body: Record<string, unknown>) => {
        const answer = await t.api(path, { method: 'POST', body });
        if (answer.status !== 201) throw new Error(`${path}: ${answer.status}`);
        return answer.body.id as string;
      };
      const contact = () =>
        made('/api/v1/notification-contacts', {
          communeId: 'base',
          name: 'Trưởng thôn',
          email: 'tt@base.test',
        });
      const rule = () =>
        made('/api/v1/notification-rules', { communeId: 'base', name: 'Mọi cảnh báo', channels: ['email'] });
      return [
        {
          method: 'GET',
          path: '/api/v1/notification-contacts',
          access: readers,
          call: () => ({ url: '/api/v1/notification-contacts' }),
        },
        {
          method: 'POST',
          path: '/api/v1/notification-contacts',
          access: ['technician'],
          call: (c) => ({
            url: '/api/v1/notification-contacts',
            body: { communeId: 'base', name: `Người nhận ${c}`, email: `${c}@base.test` },
          }),
        },
        {
          method: 'GET',
          path: '/api/v1/notification-contacts/{id}',
          access: readers,
          call: async () => ({ url: `/api/v1/notification-contacts/${await contact()}` }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/notification-contacts/{id}',
          access: ['technician'],
          call: async () => ({
            url: `/api/v1/notification-contacts/${await contact()}`,
            body: { name: 'Đổi tên' },
          }),
        },
        {
          method: 'DELETE',
          path: '/api/v1/notification-contacts/{id}',
          access: ['technician'],
          call: async () => ({ url: `/api/v1/notification-contacts/${await contact()}` }),
        },
        {
          method: 'POST',
          path: '/api/v1/notification-contacts/{id}/test',
          access: ['technician'],
          // No SMTP server here: the answer says the e-mail channel is not configured.
          call: async () => ({ url: `/api/v1/notification-contacts/${await contact()}/test` }),
        },
        {
          method: 'GET',
          path: '/api/v1/notification-rules',
          access: readers,
          call: () => ({ url: '/api/v1/notification-rules' }),
        },
        {
          method: 'POST',
          path: '/api/v1/notification-rules',
          access: ['technician'],
          call: (c) => ({
            url: '/api/v1/notification-rules',
            body: { communeId: 'base', name: `Quy tắc ${c}`, channels: ['email'] },
          }),
        },
        {
          method: 'GET',
          path: '/api/v1/notification-rules/{id}',
          access: readers,
          call: async () => ({ url: `/api/v1/notification-rules/${await rule()}` }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/notification-rules/{id}',
          access: ['technician'],
          call: async () => ({
            url: `/api/v1/notification-rules/${await rule()}`,
            body: { minSeverity: 'critical' },
          }),
        },
        {
          method: 'DELETE',
          path: '/api/v1/notification-rules/{id}',
          access: ['technician'],
          call: async () => ({ url: `/api/v1/notification-rules/${await rule()}` }),
        },
        {
          method: 'GET',
          path: '/api/v1/notification-settings/{communeId}',
          access: readers,
          call: () => ({ url: '/api/v1/notification-settings/base' }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/notification-settings/{communeId}',
          access: ['technician'],
          call: () => ({ url: '/api/v1/notification-settings/base', body: { digestWindowMin: 15 } }),
        },
        {
          method: 'GET',
          path: '/api/v1/notifications',
          access: readers,
          call: () => ({ url: '/api/v1/notifications' }),
        },
      ];
    })(),
    // [firmware] routes: technicians upload images and roll them out; clusters download by signed link.
    ...((): RouteSpec[] => {
      /** A multipart upload with text fields and an ASCII image (this table's bodies are text). */
      const form = (version: string) => {
        const bytes = `SC-FIRMWARE ${version} `.repeat(64);
        const sha256 = createHash('sha256').update(bytes, 'latin1').digest('hex');
        const boundary = 'firmware-test-boundary-5c1e';
        const field = (name: string, value: string) =>
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
        const body =
          field('version', version) +
          field('sha256', sha256) +
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="sc-${version}.bin"\r\n` +
          `Content-Type: application/octet-stream\r\n\r\n${bytes}\r\n--${boundary}--\r\n`;
        return { body, contentType: `multipart/form-data; boundary=${boundary}` };
      };
      let n = 0;
      let image: string | null = null;
      /** One image uploaded by the admin, for the routes that read or roll one out. */
      const firmware = async () => {
        if (image) return image;
        const upload = form('9.9.9');
        const made = await api(t.httpUrl, '/api/v1/firmware', {
          method: 'POST',
          body: upload.body,
          headers: { ...(await t.headersFor('admin')), 'content-type': upload.contentType },
        });
        if (made.status !== 201) throw new Error(`firmware: ${made.status} ${JSON.stringify(made.body)}`);
        image = made.body.id as string;
        return image;
      };
      /** A rollout to the base cluster (offline, so skipped: it completes at once). */
      const rollout = async () => {
        const made = await t.api(`/api/v1/firmware/${await firmware()}/rollouts`, {
          method: 'POST',
          body: { targets: { clusterIds: ['c-base'] } },
        });
        return made.body.id as string;
      };
      return [
        {
          method: 'POST',
          path: '/api/v1/firmware',
          access: ['technician'],
          call: async (c) => {
            const upload = form(`1.0.${++n}`);
            const session = c === 'anonymous' ? {} : await t.headersFor(c);
            return {
              url: '/api/v1/firmware',
              body: upload.body,
              headers: { ...session, 'content-type': upload.contentType },
            };
          },
        },
        {
          method: 'GET',
          path: '/api/v1/firmware',
          access: ['technician'],
          call: () => ({ url: '/api/v1/firmware' }),
        },
        {
          method: 'GET',
          path: '/api/v1/firmware/{id}',
          access: ['technician'],
          call: async () => ({ url: `/api/v1/firmware/${await firmware()}` }),
        },
        {
          // Declared public because clusters download with the signed link of their command; to
          // sessions it answers as technician-only.
          method: 'GET',
          path: '/api/v1/firmware/{id}/content',
          access: ['technician'],
          call: async () => ({ url: `/api/v1/firmware/${await firmware()}/content` }),
        },
        {
          method: 'POST',
          path: '/api/v1/firmware/{id}/rollouts',
          access: ['technician'],
          call: async () => ({
            url: `/api/v1/firmware/${await firmware()}/rollouts`,
            body: { targets: { clusterIds: ['c-base'] }, batchSize: 1 },
          }),
        },
        {
          method: 'GET',
          path: '/api/v1/firmware/rollouts',
          access: ['technician'],
          call: () => ({ url: '/api/v1/firmware/rollouts' }),
        },
        {
          method: 'GET',
          path: '/api/v1/firmware/rollouts/{id}',
          access: ['technician'],
          call: async () => ({ url: `/api/v1/firmware/rollouts/${await rollout()}` }),
        },
        {
          method: 'POST',
          path: '/api/v1/firmware/rollouts/{id}/halt',
          access: ['technician'],
          call: async () => ({ url: `/api/v1/firmware/rollouts/${await rollout()}/halt` }),
        },
      ];
    })(),
    // [readiness] routes: operators and technicians run drills and set the weekly one; viewers read.
    ...((): RouteSpec[] => {
      const readers: Role[] = ['operator', 'technician', 'viewer'];
      const drill = async () => {
        const made = await t.api('/api/v1/readiness/drills', {
          method: 'POST',
          body: { targets: { clusterIds: ['c-base'] } },
        });
        return made.body.id as string;
      };
      return [
        {
          method: 'POST',
          path: '/api/v1/readiness/drills',
          access: ['operator', 'technician'],
          call: () => ({ url: '/api/v1/readiness/drills', body: { targets: { communeIds: ['base'] } } }),
        },
        {
          method: 'GET',
          path: '/api/v1/readiness/drills',
          access: readers,
          call: () => ({ url: '/api/v1/readiness/drills' }),
        },
        {
          method: 'GET',
          path: '/api/v1/readiness/drills/{id}',
          access: readers,
          call: async () => ({ url: `/api/v1/readiness/drills/${await drill()}` }),
        },
        {
          method: 'GET',
          path: '/api/v1/readiness/schedules/{communeId}',
          access: readers,
          call: () => ({ url: '/api/v1/readiness/schedules/base' }),
        },
        {
          method: 'PATCH',
          path: '/api/v1/readiness/schedules/{communeId}',
          access: ['operator', 'technician'],
          call: () => ({
            url: '/api/v1/readiness/schedules/base',
            body: { enabled: true, weekday: 7, hour: 9 },
          }),
        },
        {
          // Declared public because clusters fetch it with the signed link of their selftest; to
          // sessions it answers as operator/technician-only.
          method: 'GET',
          path: '/api/v1/readiness/test-audio.wav',
          access: ['operator', 'technician'],
          call: () => ({ url: '/api/v1/readiness/test-audio.wav' }),
        },
      ];
    })(),
    // [cameras] routes
    {
      method: 'GET',
      path: '/api/v1/cameras',
      access: ['police', 'technician'],
      call: () => ({ url: '/api/v1/cameras' }),
    },
    {
      method: 'POST',
      path: '/api/v1/cameras',
      access: ['technician'],
      call: (c) => ({
        url: '/api/v1/cameras',
        body: {
          id: id('cam', c),
          communeId: 'base',
          name: `Camera ${c}`,
          xaddr: `http://10.0.0.${CALLERS.indexOf(c) + 10}/onvif/device_service`,
          username: 'admin',
          password: 'camera-password',
        },
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/cameras/{id}',
      access: ['police', 'technician'],
      call: () => ({ url: '/api/v1/cameras/cam-base' }),
    },
    {
      method: 'GET',
      path: '/api/v1/cameras/{id}/snapshot',
      access: ['police', 'technician'],
      call: () => ({ url: '/api/v1/cameras/cam-base/snapshot' }),
    },
    {
      method: 'GET',
      path: '/api/v1/cameras/{id}/incidents',
      access: ['police', 'technician'],
      call: () => ({ url: '/api/v1/cameras/cam-base/incidents' }),
    },
    {
      method: 'GET',
      path: '/api/v1/cameras/{id}/live',
      // Watching people live is for police; technicians check a camera with its snapshot and poll.
      access: ['police'],
      // One frame, then the live view ends: the answer completes like any other.
      call: () => ({ url: '/api/v1/cameras/cam-base/live?frames=1' }),
    },
    {
      method: 'POST',
      path: '/api/v1/cameras/{id}/poll',
      access: ['technician'],
      call: () => ({ url: '/api/v1/cameras/cam-base/poll' }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/cameras/{id}/certificate',
      // Trusting a camera's new certificate is a technician's call, made after checking it on site.
      access: ['technician'],
      call: () => ({ url: '/api/v1/cameras/cam-base/certificate' }),
    },
    {
      method: 'POST',
      path: '/api/v1/cameras/discovery',
      access: ['technician'],
      call: () => ({ url: '/api/v1/cameras/discovery', body: { timeoutMs: 500 } }),
    },
    {
      method: 'POST',
      path: '/api/v1/cameras/probe-channels',
      access: ['technician'],
      call: () => ({
        url: '/api/v1/cameras/probe-channels',
        body: { xaddr: camera.addresses().deviceXAddr, username: 'admin', password: 'camera-password' },
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/camera-events',
      access: ['police', 'technician'],
      call: () => ({ url: '/api/v1/camera-events' }),
    },
    {
      method: 'PATCH',
      path: '/api/v1/cameras/{id}',
      access: ['technician'],
      call: (c) => ({ url: '/api/v1/cameras/cam-base', body: { name: `Ngã tư ${c}` } }),
    },
    {
      method: 'DELETE',
      path: '/api/v1/cameras/{id}',
      access: ['technician'],
      call: async (c) => {
        const camera = id('gone', c);
        await t.platform.cameras.create({
          id: camera,
          communeId: 'base',
          name: camera,
          xaddr: `http://10.1.0.${CALLERS.indexOf(c) + 10}/onvif/device_service`,
          username: 'admin',
          password: 'x',
        });
        return { url: `/api/v1/cameras/${camera}` };
      },
    },
    // [history] routes
    {
      method: 'GET',
      path: '/api/v1/devices/{id}/history',
      access: ['operator', 'technician'],
      call: () => ({ url: '/api/v1/devices/c-base/history?field=signal&window=1h' }),
    },
    {
      method: 'GET',
      path: '/api/v1/reports/availability',
      access: ['operator', 'technician'],
      call: () => ({ url: '/api/v1/reports/availability?communeId=base' }),
    },
    // [console] routes
    {
      method: 'GET',
      path: '/api/v1/console/settings',
      access: 'authenticated',
      call: () => ({ url: '/api/v1/console/settings' }),
    },
    // [sharing] routes: the share API takes API tokens only; webhooks and the push of a bulletin
    // are for admins and a province account's operators.
    ...(() => {
      const tokens = new Map<string, Record<string, string>>();
      /** The caller's API token, made from its session (a province account's for a province one). */
      const tokenOf = async (caller: Caller, scope: { provinceId?: string } = {}) => {
        if (caller === 'anonymous') return {};
        const key = `${caller}:${scope.provinceId ?? ''}`;
        const known = tokens.get(key);
        if (known) return known;
        const made = await api(t.httpUrl, '/api/v1/auth/tokens', {
          method: 'POST',
          body: { name: 'provincial system' },
          headers: await t.headersFor(caller, scope),
        });
        if (made.status !== 201) throw new Error(`token: ${made.status}`);
        const headers = { authorization: `Bearer ${made.body.token}` };
        tokens.set(key, headers);
        return headers;
      };
      const province = { provinceId: 'phu-tho' };
      /** An operator acts as a province account's operator here; other callers as themselves. */
      const manager = async (c: Caller) =>
        c === 'operator'
          ? { headers: await t.headersFor('operator', province), actor: 'operator-tinh-phu-tho' }
          : {};
      let provinceCommune = false;
      const webhook = async () => {
        const made = await t.api('/api/v1/webhooks', {
          method: 'POST',
          as: 'admin',
          body: { url: 'https://203.0.113.10/hook', events: ['delivery.final'], provinceId: 'phu-tho' },
        });
        if (made.status !== 201) throw new Error(`webhook: ${made.status}`);
        return made.body.id as string;
      };
      const readers: Role[] = ['operator', 'approver', 'viewer'];
      const read = (path: string, url: () => Promise<string> | string): RouteSpec => ({
        method: 'GET',
        path,
        access: readers,
        call: async (c) => ({ url: await url(), headers: await tokenOf(c) }),
      });
      return [
        read('/api/share/v1/stations', () => '/api/share/v1/stations'),
        read('/api/share/v1/clusters', () => '/api/share/v1/clusters'),
        read('/api/share/v1/bulletins', () => '/api/share/v1/bulletins'),
        read('/api/share/v1/bulletins/{id}', async () => `/api/share/v1/bulletins/${await liveBroadcast()}`),
        {
          method: 'POST',
          path: '/api/share/v1/bulletins',
          access: ['operator'],
          call: async (c) => {
            if (!provinceCommune) {
              await t.platform.registry.createCommune({
                id: 'tinh-xa',
                name: 'Xã của tỉnh',
                provinceId: 'phu-tho',
              });
              provinceCommune = true;
            }
            return {
              url: '/api/share/v1/bulletins',
              headers: await tokenOf(c, c === 'operator' ? province : {}),
              ...(c === 'operator' ? { actor: 'operator-tinh-phu-tho' } : {}),
              body: {
                name: `Bản tin tỉnh ${c}`,
                level: 'normal',
                content: { kind: 'stream', url: 'http://radio.example/tinh' },
                durationS: 600,
                provinceId: 'phu-tho',
              },
            };
          },
        },
        {
          method: 'GET',
          path: '/api/v1/webhooks',
          access: ['operator'],
          call: async (c) => ({ url: '/api/v1/webhooks', ...(await manager(c)) }),
        },
        {
          method: 'POST',
          path: '/api/v1/webhooks',
          access: ['operator'],
          call: async (c) => ({
            url: '/api/v1/webhooks',
            body: { url: 'https://203.0.113.10/hook', events: ['cluster.status'] },
            ...(await manager(c)),
          }),
        },
        {
          method: 'DELETE',
          path: '/api/v1/webhooks/{id}',
          access: ['operator'],
          call: async (c) => ({ url: `/api/v1/webhooks/${await webhook()}`, ...(await manager(c)) }),
        },
        {
          method: 'POST',
          path: '/api/v1/webhooks/{id}/rotate-secret',
          access: ['operator'],
          call: async (c) => ({
            url: `/api/v1/webhooks/${await webhook()}/rotate-secret`,
            ...(await manager(c)),
          }),
        },
        {
          method: 'GET',
          path: '/api/v1/webhooks/{id}/deliveries',
          access: ['operator'],
          call: async (c) => ({
            url: `/api/v1/webhooks/${await webhook()}/deliveries`,
            ...(await manager(c)),
          }),
        },
      ] satisfies RouteSpec[];
    })(),
    // [broker] routes: EMQX's hooks answer whoever holds the hook token, whatever the account.
    {
      method: 'POST',
      path: '/api/v1/broker/emqx/authn',
      access: 'public',
      call: () => ({
        url: '/api/v1/broker/emqx/authn',
        headers: { authorization: `Bearer ${EMQX_HOOK_TOKEN}` },
        body: { clientid: 'c-base', username: 'c-base', password: 'not-issued' },
        actor: 'c-base',
      }),
    },
    {
      method: 'GET',
      path: '/api/v1/broker/emqx/authz',
      access: 'public',
      call: () => ({
        url: '/api/v1/broker/emqx/authz?clientid=c-base&username=c-base&action=subscribe&topic=sc/v1/c-base/cmd',
        headers: { authorization: `Bearer ${EMQX_HOOK_TOKEN}` },
      }),
    },
    // [reports] routes
    {
      method: 'GET',
      path: '/api/v1/reports/summary',
      access: ['operator', 'approver', 'viewer'],
      call: () => ({
        url: '/api/v1/reports/summary?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&communeId=base',
      }),
    },
  ];
  let targetUser = '';
  /** A live relay started by the admin, for the routes that read or stop one. */
  const liveBroadcast = async () => {
    const started = await t.api('/api/v1/broadcasts/live', {
      method: 'POST',
      body: {
        name: 'Tiếp sóng',
        url: 'http://radio.example/live',
        durationS: 600,
        targets: { clusterIds: ['c-base'] },
      },
    });
    return started.body.id as string;
  };

  beforeAll(async () => {
    // Every role signs in fresh accounts here, more than one address may in a minute by default.
    t = await startTestPlatform({ config: { LOGIN_RATE_LIMIT_PER_MIN: 1_000, EMQX_HOOK_TOKEN } });
    await t.platform.registry.createCommune({ id: 'base', name: 'Xã Gốc' });
    await t.platform.registry.createVillage({ id: 'v-base', communeId: 'base', name: 'Thôn Gốc' });
    camera = new SimulatedCamera({
      name: 'Ngã tư Gốc',
      username: 'admin',
      password: 'camera-password',
      discoveryPort: null,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
    });
    await camera.start();
    await t.platform.cameras.create({
      id: 'cam-base',
      communeId: 'base',
      name: 'Ngã tư Gốc',
      xaddr: camera.addresses().deviceXAddr,
      username: 'admin',
      password: 'camera-password',
    });
    // One sweep, so the camera has health and a snapshot to read.
    await t.platform.cameraHealth.sweep();
    await t.platform.registry.createCluster({
      id: 'c-base',
      villageId: 'v-base',
      name: 'Cụm Gốc',
      location: { lat: 21, lon: 105 },
    });
    await t.platform.registry.createCommune({ id: 'prov', name: 'Xã Tỉnh', provinceId: 'phu-tho' });
    await t.platform.registry.createVillage({ id: 'v-prov', communeId: 'prov', name: 'Thôn Tỉnh' });
    await t.platform.registry.createCluster({
      id: 'c-prov',
      villageId: 'v-prov',
      name: 'Cụm Tỉnh',
      location: { lat: 21, lon: 105.2 },
    });
    await t.platform.registry.createCommune({ id: 'appr', name: 'Xã Duyệt', approvalRequired: true });
    await t.platform.registry.createVillage({ id: 'v-appr', communeId: 'appr', name: 'Thôn Duyệt' });
    await t.platform.registry.createCluster({
      id: 'c-appr',
      villageId: 'v-appr',
      name: 'Cụm Duyệt',
      location: { lat: 21, lon: 105.1 },
    });
    targetUser = (
      await t.platform.auth.createUser({
        username: 'target',
        displayName: 'T',
        password: 'target-password',
        roles: ['police'],
      })
    ).id;
    for (const role of ROLES) await t.headersFor(role);
  });
  afterAll(async () => {
    await t.close();
    await camera.stop();
  });

  it('covers every route the platform serves', async () => {
    const { body: doc } = await t.api('/docs/json');
    const served = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const specified = ROUTES.map((r) => `${r.method} ${r.path}`);
    // /metrics and the icon are left out of the API reference but declared like the rest.
    expect([...served, 'GET /metrics', 'GET /favicon.ico'].sort()).toEqual([...specified].sort());
  });

  const cases = ROUTES.flatMap((route) => CALLERS.map((caller) => [route, caller] as const));
  it.each(cases.map(([route, caller]) => [`${route.method} ${route.path}`, caller, route] as const))(
    '%s as %s',
    async (_name, caller, route) => {
      const call = await route.call(caller);
      const headers = call.headers ?? (caller === 'anonymous' ? {} : await t.headersFor(caller));
      const response = await api(t.httpUrl, call.url, { method: route.method, body: call.body, headers });
      const expected =
        route.access === 'public'
          ? 'ok'
          : caller === 'anonymous'
            ? 401
            : route.access === 'authenticated' || caller === 'admin' || route.access.includes(caller)
              ? 'ok'
              : 403;
      if (expected === 'ok') {
        expect(response.status, JSON.stringify(response.body)).toBeGreaterThanOrEqual(200);
        expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
      } else {
        expect(response.status).toBe(expected);
      }
      if (STATE_CHANGING.has(route.method)) {
        made.push({
          method: route.method,
          url: call.url,
          requestId: response.headers.get('x-request-id') as string,
          status: response.status,
          actor: call.actor ?? (caller === 'anonymous' ? null : usernameOf(caller)),
        });
      }
    },
  );

  it('left exactly one audit entry, with the right actor and outcome, for every state-changing request above', async () => {
    expect(made.length).toBeGreaterThan(80);
    for (const request of made) {
      const { items } = await t.platform.audit.query(
        { requestId: request.requestId },
        { limit: 10, offset: 0 },
      );
      const label = `${request.method} ${request.url} → ${request.status}`;
      expect(items, label).toHaveLength(1);
      const entry = items[0];
      expect(entry?.actorName ?? null, label).toBe(request.actor);
      expect(entry?.status, label).toBe(request.status);
      expect(entry?.outcome, label).toBe(
        request.status < 400
          ? 'success'
          : request.status === 401 || request.status === 403
            ? 'denied'
            : 'failure',
      );
    }
  });
});
