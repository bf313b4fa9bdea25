import { join } from 'node:path';
import type { TimerHandle } from '../../devices/index.js';
import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { AuditLog } from './audit-log.js';
import { auditRoutes } from './audit-routes.js';
import { SecurityEventDigest } from './security-digest.js';

declare module '../platform/feature.js' {
  interface Provides {
    audit: AuditLog;
  }
}

const DAY = 86_400_000;

/**
 * The audit log: every state change and refused device, its daily archive of old entries, and
 * `/audit`. Refused devices (`security.refused`) are written through a bounded digest.
 */
export function auditFeature(): Feature<'audit'> {
  let audit: AuditLog | null = null;
  let digest: SecurityEventDigest | null = null;
  let pruneTimer: TimerHandle | null = null;
  let clear = () => {};
  return {
    name: 'audit',
    dependsOn: ['storage'],
    async start(ctx) {
      const { config, clock, logger } = ctx;
      const log = new AuditLog(ctx.get('storage').state, clock, logger);
      audit = log;
      digest = new SecurityEventDigest({ audit: log, clock, logger });
      digest.start();
      const security = digest;
      ctx.on('security.refused', ({ at: _at, ...event }) => {
        if (event.type !== 'oversized-packet') security.record(event);
      });
      if (config.AUDIT_RETENTION_DAYS > 0) {
        const prune = () =>
          log
            .prune(clock.now() - config.AUDIT_RETENTION_DAYS * DAY, join(config.DATA_DIR, 'audit-archive'))
            .catch((error: unknown) => {
              logger.error({ err: error }, 'could not archive old audit entries; trying again tomorrow');
            });
        await prune();
        pruneTimer = clock.setInterval(() => void prune(), DAY);
        clear = () => {
          if (pruneTimer) clock.clearInterval(pruneTimer);
          pruneTimer = null;
        };
      }
      ctx.keptRunning('audit-write', () => log.writeFailures);
      ctx.routes(routePlugin('audit-routes', auditRoutes, { audit: log, clock }));
      return log;
    },
    async stop() {
      clear();
      digest?.stop();
      digest = null;
      // Entries recorded by the features stopped before this one are written before storage closes.
      await audit?.stop();
      audit = null;
    },
    health: () => (audit ? { problems: { auditWriteFailures: audit.writeFailures } } : {}),
  };
}
