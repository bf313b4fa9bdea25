import type { Targets } from '../../contracts/broadcasts.js';
import { routePlugin } from '../api/route-plugin.js';
import { type HeldLoop, heldLoop } from '../cluster/singleton-loop.js';
import type { Feature } from '../platform/feature.js';
import { exposeShippedLog, ShippedLog } from '../storage/sql/shipped-log.js';
import { CommandService } from './command-service.js';
import { COMMAND_LOG_TABLES, CommandStore } from './command-store.js';
import { controlScheduleRoutes } from './control-schedule-routes.js';
import { ControlScheduler } from './control-schedules.js';
import { deviceRoutes } from './device-routes.js';

declare module '../platform/feature.js' {
  interface Provides {
    commands: CommandService;
  }
}

/**
 * Technicians' direct commands to one device (volume, power, ping, stop, reboot, config), each
 * tracked through its acks, and `/devices/:id` (commands and the presence history).
 */
export function commandsFeature(): Feature<'commands'> {
  let commands: CommandService | null = null;
  let scheduler: HeldLoop | null = null;
  let controlSchedules: ControlScheduler | null = null;
  let log: ShippedLog | null = null;
  return {
    name: 'commands',
    dependsOn: ['storage', 'registry', 'mqtt', 'presence', 'schedules', 'cluster'],
    async start(ctx) {
      const presence = ctx.get('presence');
      const { db, state } = ctx.get('storage');
      // With DATABASE_URL, shipped to PostgreSQL and copied from the other instances.
      log = new ShippedLog(
        db,
        state,
        ctx.logger.child({ component: 'command-log' }),
        'device_commands_log',
        COMMAND_LOG_TABLES,
      );
      await log.start(() => undefined);
      exposeShippedLog(ctx.metrics, ctx.keptRunning, log);
      const service = new CommandService({
        bus: ctx.get('mqtt').bus,
        events: ctx.events,
        store: new CommandStore(db),
        clock: ctx.clock,
        logger: ctx.logger,
        isOnline: (id) => presence.isOnline(id),
        // A `config` command the device acknowledged as done moves its offline timeout with its new
        // heartbeat interval (firmware that does not report the interval in its heartbeats too).
        onAcked: ({ deviceId, status, command }) => {
          if (status === 'done' && command.type === 'config' && command.heartbeatIntervalS)
            presence.setHeartbeatInterval(deviceId, command.heartbeatIntervalS);
        },
      });
      commands = service;
      service.start();
      const resolveTargets = (targets: Targets) => ctx.get('schedules').resolveTargets(targets);
      const controls = new ControlScheduler({
        db: ctx.get('storage').db,
        state: ctx.get('storage').state,
        commands: service,
        isOnline: (id) => presence.isOnline(id),
        resolveTargets,
        clock: ctx.clock,
        logger: ctx.logger,
        defaultTimezone: ctx.config.TZ_DEFAULT,
      });
      controlSchedules = controls;
      await controls.open();
      // With several instances one sends the scheduled commands, so each run reaches a cluster once;
      // the holder reads the schedules again now and then, for one set through another instance.
      scheduler = heldLoop(ctx, 'control-scheduler', {
        resume: () => controls.start(),
        pause: () => controls.stop(),
        recheck: () => controls.arm(),
        stop: () => controls.stop(),
      });
      ctx.routes(
        routePlugin('control-schedule-routes', controlScheduleRoutes, {
          schedules: controls,
          registry: ctx.get('registry'),
          resolveTargets,
        }),
      );
      ctx.routes(
        routePlugin('device-routes', deviceRoutes, {
          registry: ctx.get('registry'),
          presence,
          commands: service,
          clock: ctx.clock,
          resolveTargets: (targets) => ctx.get('schedules').resolveTargets(targets),
        }),
      );
      return service;
    },
    // Once everything runs: a command due now reaches clusters whose acks ingress reads.
    async ready() {
      await scheduler?.start();
    },
    async stop() {
      const stopping = scheduler;
      scheduler = null;
      await stopping?.stop();
      await controlSchedules?.close();
      controlSchedules = null;
      commands?.stop();
      commands = null;
      const shipping = log;
      log = null;
      await shipping?.stop();
    },
  };
}
