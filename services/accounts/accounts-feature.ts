import type { TimerHandle } from '../../devices/index.js';
import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { AccountStore, registryPlaces } from './account-store.js';
import { authRoutes } from './auth-routes.js';
import { AuthService } from './auth-service.js';
import { userRoutes } from './user-routes.js';

declare module '../platform/feature.js' {
  interface Provides {
    accounts: AuthService;
  }
}

/**
 * People's accounts: sign-in, sessions, API tokens, `/auth` and `/users`. On the first start it
 * creates `admin` (ADMIN_PASSWORD, or a generated password shown once). Changes are
 * `accounts.changed` events, whoever made them.
 */
export function accountsFeature(): Feature<'accounts'> {
  let pruneTimer: TimerHandle | null = null;
  let clear = () => {};
  return {
    name: 'accounts',
    dependsOn: ['storage', 'audit'],
    async start(ctx) {
      const { config, clock, logger, options } = ctx;
      const audit = ctx.get('audit');
      const auth = new AuthService({
        store: new AccountStore(ctx.get('storage').state, registryPlaces(ctx.get('storage').db)),
        clock,
        logger,
        sessionMaxMs: config.SESSION_MAX_H * 3_600_000,
        sessionIdleMs: config.SESSION_IDLE_MIN * 60_000,
        ...(options.passwordParams ? { passwordParams: options.passwordParams } : {}),
        onChange: (change) => ctx.events.emit('accounts.changed', { ...change, at: clock.now() }),
      });
      const admin = await auth.ensureAdmin(config.ADMIN_PASSWORD);
      if (admin) {
        audit.record({
          actor: { type: 'system', name: 'first-start' },
          action: 'user.create',
          target: { type: 'user', id: admin.user.id },
          outcome: 'success',
        });
        if (admin.generatedPassword) {
          (options.announce ?? ((m: string) => process.stdout.write(`${m}\n`)))(
            `First start: created the account "${admin.user.username}" with password ${admin.generatedPassword}\n` +
              'It is shown only this once. Sign in and change it (POST /api/v1/auth/password), or set ADMIN_PASSWORD before the first start.',
          );
        }
      }
      const prune = () =>
        auth.pruneSessions().catch((error: unknown) => {
          logger.warn({ err: error }, 'could not remove expired sessions; trying again in an hour');
        });
      pruneTimer = clock.setInterval(() => void prune(), 3_600_000);
      clear = () => {
        if (pruneTimer) clock.clearInterval(pruneTimer);
        pruneTimer = null;
      };
      ctx.routes(
        routePlugin('auth-routes', authRoutes, {
          auth,
          loginRateLimitPerMinute: config.LOGIN_RATE_LIMIT_PER_MIN,
          cookieSecure: config.COOKIE_SECURE === 'auto' ? 'auto' : config.COOKIE_SECURE === 'true',
        }),
      );
      ctx.routes(routePlugin('user-routes', userRoutes, { auth }));
      return auth;
    },
    stop() {
      clear();
    },
  };
}
