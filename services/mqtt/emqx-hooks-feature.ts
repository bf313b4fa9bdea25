import { LoginThrottle } from '../../broker/login-throttle.js';
import { routePlugin } from '../api/route-plugin.js';
import type { Feature } from '../platform/feature.js';
import { emqxHookRoutes } from './emqx-hook-routes.js';

declare module '../platform/feature.js' {
  interface Provides {
    'emqx-hooks': null;
  }
}

/**
 * `/broker/emqx/authn` and `/broker/emqx/authz`, the HTTP backends an EMQX 5 cluster calls so that
 * devices log in with their registry secrets and stay in their own topics. Always routed; without
 * EMQX_HOOK_TOKEN every call is refused (401), so the hooks are never open.
 */
export function emqxHooksFeature(): Feature<'emqx-hooks'> {
  return {
    name: 'emqx-hooks',
    dependsOn: ['registry', 'mqtt'],
    start(ctx) {
      const { config, clock, events } = ctx;
      ctx.routes(
        routePlugin('emqx-hook-routes', emqxHookRoutes, {
          registry: ctx.get('registry'),
          tokens: {
            current: config.EMQX_HOOK_TOKEN,
            previous:
              config.EMQX_HOOK_TOKEN_PREVIOUS && config.EMQX_HOOK_TOKEN_PREVIOUS_UNTIL
                ? {
                    token: config.EMQX_HOOK_TOKEN_PREVIOUS,
                    until: Date.parse(config.EMQX_HOOK_TOKEN_PREVIOUS_UNTIL),
                  }
                : undefined,
          },
          internalCredential: ctx.get('mqtt').internalCredential,
          throttle: new LoginThrottle(ctx.options.loginThrottle),
          events,
          clock,
          rateLimitPerMinute: config.EMQX_HOOK_RATE_LIMIT_PER_MIN,
        }),
      );
      return null;
    },
    stop() {},
  };
}
