import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { api } from '../support/platform-harness.js';

/**
 * Runs the README's command exactly as a newcomer would (`npm run demo`, which builds first), on
 * ephemeral ports and a temporary data directory, and checks what the newcomer would check.
 */
describe('npm run demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sc-demo-'));
  let child: ChildProcess | null = null;
  let output = '';

  afterAll(() => {
    if (child?.pid && child.exitCode === null && child.signalCode === null)
      process.kill(-child.pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('brings all 18 Hướng Đạo clusters online (and the illustrative pilot communes), visible through GET /api/v1/clusters, and stops cleanly', async () => {
    child = spawn('npm', ['run', 'demo'], {
      detached: true, // its own process group, so the whole tree gets the signal
      // Commands on a pipe, as a script or a process manager would send them, not a terminal.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        MQTT_HOST: '127.0.0.1',
        MQTT_PORT: '0',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        SEED_PRESET: '',
      },
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // 'close' fires once every process holding the output pipes (npm, its shell, node) has gone.
    const closed = new Promise<void>((resolve) => child?.once('close', () => resolve()));

    const apiUrl = await vi.waitFor(
      () => {
        const match = /API:\s+(http:\/\/\S+)\/api\/v1\n/.exec(output);
        if (!match?.[1]) throw new Error(`no API address printed yet:\n${output}`);
        return match[1];
      },
      { timeout: 90_000, interval: 200 },
    );
    expect(output).toMatch(/clusters online:\s+30\/30\s+\(Hướng Đạo 18\/18;/);
    expect(output).toMatch(/cameras ok:\s+8\/8/);
    expect(output).toMatch(/API reference:\s+http:\/\/127\.0\.0\.1:\d+\/docs/);

    // One account per role is printed with where it may act, and the province's operator and viewer;
    // the commune's operator signs in and sees the commune's fleet.
    const printed = [...output.matchAll(/^ {2}([a-z]+) +(\S+) +(\S+) +\((\S+)\)$/gm)].map((m) => ({
      role: m[1],
      username: m[2] as string,
      password: m[3] as string,
      scope: m[4],
    }));
    const byUser = Object.fromEntries(printed.map((a) => [a.username, a]));
    expect(printed.map((a) => `${a.role}@${a.scope}`).sort()).toEqual([
      'admin@all',
      'approver@huong-dao',
      'operator@huong-dao',
      'operator@phu-tho',
      'police@huong-dao',
      'technician@huong-dao',
      'viewer@huong-dao',
      'viewer@phu-tho',
    ]);
    const accounts = {
      operator: { username: 'demo-operator', password: byUser['demo-operator']?.password },
      police: { username: 'demo-police', password: byUser['demo-police']?.password },
      province: { username: 'demo-tinh-operator', password: byUser['demo-tinh-operator']?.password },
    };
    // …and kept in a file only this user reads, for when the terminal has scrolled on.
    const saved = join(dataDir, 'demo-accounts.txt');
    expect(statSync(saved).mode & 0o777).toBe(0o600);
    expect(readFileSync(saved, 'utf8')).toContain(
      `operator\t${accounts.operator.username}\t${accounts.operator.password}\thuong-dao`,
    );
    expect((await api(apiUrl, '/api/v1/clusters')).status).toBe(401);
    const login = await api(apiUrl, '/api/v1/auth/login', { method: 'POST', body: accounts.operator });
    expect(login.status).toBe(200);
    const headers = { cookie: (login.headers.get('set-cookie') ?? '').split(';')[0] as string };
    const { body } = await api(apiUrl, '/api/v1/clusters?limit=100', { headers });
    expect(body.total).toBe(18);
    expect(body.items.filter((c: { status: { online: boolean } }) => c.status.online)).toHaveLength(18);
    for (const cluster of body.items) {
      expect(cluster.communeId).toBe('huong-dao');
      expect(cluster.status.lastSeen).not.toBeNull();
      expect(cluster.speakers).toHaveLength(2);
    }
    // The province's operator sees every commune of Phú Thọ: Hướng Đạo and the three pilots.
    const province = await api(apiUrl, '/api/v1/auth/login', { method: 'POST', body: accounts.province });
    const provinceHeaders = { cookie: (province.headers.get('set-cookie') ?? '').split(';')[0] as string };
    const overview = await api(apiUrl, '/api/v1/provinces/phu-tho/overview', { headers: provinceHeaders });
    expect(overview.body.communes.map((c: { name: string }) => c.name).sort()).toEqual([
      'Hướng Đạo',
      'Lãng Công',
      'Tam Đảo',
      'Thổ Tang',
    ]);
    expect(overview.body.totals).toMatchObject({ clusters: 30, online: 30 });
    // The simulated clusters heartbeat at once on connect, so live readings are already there.
    await vi.waitFor(async () => {
      const { body: one } = await api(apiUrl, '/api/v1/clusters/hd-c01', { headers });
      expect(one.status.signalDbm).toBeLessThan(0);
      expect(one.status.volume).toBeGreaterThanOrEqual(0);
    });

    // Police see the crossroads cameras, healthy, with a snapshot each.
    const police = await api(apiUrl, '/api/v1/auth/login', { method: 'POST', body: accounts.police });
    const policeHeaders = { cookie: (police.headers.get('set-cookie') ?? '').split(';')[0] as string };
    const cameras = await api(apiUrl, '/api/v1/cameras', { headers: policeHeaders });
    expect(cameras.body.total).toBe(8);
    for (const camera of cameras.body.items) expect(camera.health.state).toBe('ok');
    const snapshot = await fetch(`${apiUrl}/api/v1/cameras/hd-cam01/snapshot`, { headers: policeHeaders });
    expect(snapshot.headers.get('content-type')).toBe('image/jpeg');

    // The fault console reads its pipe: a power cut takes hd-c03 offline by its will.
    child.stdin?.write('fault hd-c03 power-cut\n');
    await vi.waitFor(
      async () => {
        const { body: cut } = await api(apiUrl, '/api/v1/clusters/hd-c03', { headers });
        expect(cut.status).toMatchObject({ online: false, reason: 'will' });
      },
      { timeout: 20_000, interval: 200 },
    );

    if (!child.pid) throw new Error('demo has no pid');
    process.kill(-child.pid, 'SIGINT');
    await closed;
    expect(output).not.toMatch(/shutdown failed|"level":50|"level":60/);
    // A clean stop closes every online period in the database.
    const db = new Database(join(dataDir, 'smart-commune.sqlite'), { readonly: true });
    try {
      const open = db
        .prepare('SELECT COUNT(*) AS n FROM presence_periods WHERE ended_at IS NULL AND online = 1')
        .get();
      const periods = db.prepare('SELECT COUNT(DISTINCT device_id) AS n FROM presence_periods').get();
      expect(open).toEqual({ n: 0 });
      expect(periods).toEqual({ n: 30 });
    } finally {
      db.close();
    }
  }, 120_000);
});
