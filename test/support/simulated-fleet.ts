import { pino } from 'pino';
import { expect, vi } from 'vitest';
import type { Clock } from '../../devices/index.js';
import { SimulatedFleet } from '../../simulators/speaker-cluster/fleet.js';
import { type PlayLog, playLogSink } from '../../simulators/speaker-cluster/play-log.js';
import type { TestPlatform } from './platform-harness.js';

/**
 * Simulated clusters for registered ids, each with a fresh secret, connected over real MQTT and
 * online before this resolves.
 */
export async function startFleet(
  t: TestPlatform,
  clusterIds: readonly string[],
  options: {
    clock?: Clock;
    heartbeatIntervalS?: number;
    /** Filled with the clusters' own log of what they played, to count it. */
    plays?: PlayLog[];
    /** Playing times divided by this (60: a minute plays in a second). */
    timeScale?: number;
  } = {},
): Promise<SimulatedFleet> {
  const devices = [];
  for (const id of clusterIds)
    devices.push({ deviceId: id, secret: (await t.platform.registry.issueSecret(id)).secret });
  const fleet = new SimulatedFleet({
    devices,
    url: t.mqttUrl,
    logger: options.plays ? pino({ level: 'info' }, playLogSink(options.plays)) : pino({ level: 'silent' }),
    heartbeatIntervalS: options.heartbeatIntervalS ?? 5,
    ...(options.timeScale ? { timeScale: options.timeScale } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  await fleet.start();
  await vi.waitFor(
    () => expect(t.platform.presence.onlineCount()).toBeGreaterThanOrEqual(clusterIds.length),
    {
      timeout: 15_000,
    },
  );
  return fleet;
}

/** A commune "xa" with two villages: xa-c1 and xa-c2 in thon-1, xa-c3 in thon-2. */
export async function twoVillages(t: TestPlatform): Promise<string[]> {
  const { registry } = t.platform;
  await registry.createCommune({ id: 'xa', name: 'Xã Thử' });
  await registry.createVillage({ id: 'thon-1', communeId: 'xa', name: 'Thôn 1' });
  await registry.createVillage({ id: 'thon-2', communeId: 'xa', name: 'Thôn 2' });
  const clusters = [
    ['xa-c1', 'thon-1'],
    ['xa-c2', 'thon-1'],
    ['xa-c3', 'thon-2'],
  ] as const;
  for (const [id, villageId] of clusters)
    await registry.createCluster({ id, villageId, name: `Cụm ${id}`, location: { lat: 21.3, lon: 105.5 } });
  return clusters.map(([id]) => id);
}
