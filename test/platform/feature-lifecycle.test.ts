import Fastify from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../devices/index.js';
import { routePlugin } from '../../services/api/route-plugin.js';
import { loadConfig } from '../../services/config.js';
import { EventBus } from '../../services/event-bus.js';
import type { Feature, FeatureName } from '../../services/platform/feature.js';
import { FeatureLifecycle } from '../../services/platform/lifecycle.js';

/**
 * The platform's lifecycle with small features that say what happened to them: the real features
 * need the whole platform, these show the order and the failure rules on their own.
 */
function lifecycle(events = new EventBus()) {
  return new FeatureLifecycle({
    config: loadConfig({}, {}),
    logger: pino({ level: 'silent' }),
    clock: systemClock,
    events,
    metrics: new Registry(),
    options: { config: loadConfig({}, {}), logger: pino({ level: 'silent' }) },
    endpoints: { httpPort: () => null, mqttPort: () => null, mediaServer: () => null },
  });
}

/** A feature under one of the platform's names that records its lifecycle in `log`. */
function recording(
  name: FeatureName,
  log: string[],
  behaviour: Partial<Pick<Feature, 'start' | 'stop' | 'dependsOn'>> = {},
): Feature {
  return {
    name,
    dependsOn: behaviour.dependsOn ?? [],
    async start(ctx) {
      log.push(`start ${name}`);
      return (await behaviour.start?.(ctx)) as never;
    },
    ready: () => {
      log.push(`ready ${name}`);
    },
    async stop() {
      log.push(`stop ${name}`);
      await behaviour.stop?.();
    },
  } as Feature;
}

describe('the feature lifecycle', () => {
  it('starts features in order, tells them ready once all started, and stops them in reverse', async () => {
    const log: string[] = [];
    const run = lifecycle();
    await run.start([
      recording('storage', log),
      recording('registry', log, { dependsOn: ['storage'] }),
      recording('presence', log, { dependsOn: ['registry'] }),
    ]);
    await run.stop();
    expect(log).toEqual([
      'start storage',
      'start registry',
      'start presence',
      'ready storage',
      'ready registry',
      'ready presence',
      'stop presence',
      'stop registry',
      'stop storage',
    ]);
  });

  it('awaits every stop even when an earlier one fails, then reports the failure', async () => {
    const log: string[] = [];
    const run = lifecycle();
    await run.start([
      recording('storage', log),
      recording('registry', log, {
        stop: async () => {
          throw new Error('registry could not stop');
        },
      }),
      recording('presence', log, {
        // Finishes a turn of the event loop later: the next stop waits for it.
        stop: () =>
          new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
            log.push('presence stopped');
          }),
      }),
    ]);
    await expect(run.stop()).rejects.toThrow('registry could not stop');
    expect(log.slice(-4)).toEqual(['stop presence', 'presence stopped', 'stop registry', 'stop storage']);
  });

  it('refuses a list where a feature comes before what it depends on, starting nothing', async () => {
    const log: string[] = [];
    await expect(
      lifecycle().start([
        recording('presence', log, { dependsOn: ['registry'] }),
        recording('registry', log),
      ]),
    ).rejects.toThrow('feature "presence" depends on "registry", which is not listed before it');
    expect(log).toEqual([]);
  });

  it('refuses a dependency a feature did not declare, and stops what had started', async () => {
    const log: string[] = [];
    await expect(
      lifecycle().start([
        recording('storage', log),
        recording('registry', log, { dependsOn: [], start: (ctx) => ctx.get('storage') as never }),
      ]),
    ).rejects.toThrow('feature "registry" uses "storage" without naming it in dependsOn');
    expect(log).toEqual(['start storage', 'start registry', 'stop registry', 'stop storage']);
  });

  it('refuses routes added after the API took them', async () => {
    const run = lifecycle();
    await run.start([recording('storage', [])]);
    run.takeRoutes();
    await expect(
      run.start([recording('registry', [], { start: (ctx) => ctx.routes(async () => undefined) as never })]),
    ).rejects.toThrow('feature "registry" adds routes after the API started: list it before "api"');
  });

  it("removes a feature's event listeners after its stop", async () => {
    const events = new EventBus();
    const heard: string[] = [];
    const run = lifecycle(events);
    await run.start([
      recording('presence', [], {
        start: (ctx) => {
          ctx.on('device.rejected', ({ reason }) => {
            heard.push(reason);
          });
          return undefined as never;
        },
      }),
    ]);
    const rejected = { deviceId: 'hd-c01', topic: 't', at: 0 };
    events.emit('device.rejected', { ...rejected, reason: 'while running' });
    await run.stop();
    events.emit('device.rejected', { ...rejected, reason: 'after the stop' });
    expect(heard).toEqual(['while running']);
    expect(events.listenerCount('device.rejected')).toBe(0);
  });

  it("refuses to serve a feature's routes without the security plugin every route relies on", async () => {
    const app = Fastify();
    await expect(
      app.register(routePlugin('registry-routes', async () => undefined, {})).ready(),
    ).rejects.toThrow(/principal|security/);
    await app.close();
  });
});
