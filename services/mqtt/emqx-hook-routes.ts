import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../broker/acl.js';
import { authorizeAction, deviceAclRules } from '../../broker/emqx-hooks.js';
import type { LoginThrottle } from '../../broker/login-throttle.js';
import { ErrorSchema } from '../../contracts/pages.js';
import { type Clock, isDeviceId } from '../../devices/index.js';
import { AuthenticationError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import type { RegistryStore } from '../registry/registry-store.js';

/** The shared secret EMQX sends; the previous one is accepted until its end during a rotation. */
export interface HookTokens {
  current: string | undefined;
  previous?: { token: string; until: number } | undefined;
}

export interface EmqxHookDeps {
  registry: RegistryStore;
  tokens: HookTokens;
  internalCredential: { username: string; password: string };
  throttle: LoginThrottle;
  events: EventBus;
  clock: Clock;
  rateLimitPerMinute: number;
}

/** An EMQX request-template placeholder, as its configuration spells it. */
const PH = (name: string) => `$\{${name}}`;
const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

/** Fields EMQX fills from its placeholders; an unset one arrives empty. */
const AuthnBody = z.object({
  clientid: z.string().max(256).default(''),
  username: z.string().max(256).default(''),
  password: z.string().max(1024).default(''),
  peerhost: z.string().max(64).default(''),
});
const AuthzQuery = z.object({
  clientid: z.string().max(256).default(''),
  username: z.string().max(256).default(''),
  topic: z.string().min(1).max(1024),
  action: z.enum(['publish', 'subscribe']).describe('publish or subscribe'),
  peerhost: z.string().max(64).default(''),
});
const AuthnAnswer = z.object({
  result: z.enum(['allow', 'deny', 'ignore']),
  is_superuser: z.boolean(),
  acl: z
    .array(
      z.object({
        permission: z.enum(['allow', 'deny']),
        action: z.enum(['publish', 'subscribe', 'all']),
        topic: z.string(),
      }),
    )
    .optional()
    .describe("the device's ACL, taken by EMQX 5.8+ so it need not ask per topic"),
});
const AuthzAnswer = z.object({ result: z.enum(['allow', 'deny', 'ignore']) });

/**
 * The routes EMQX 5's HTTP authentication and authorization backends call: every device login,
 * and each publish or subscription EMQX has not cached. Open to EMQX alone (its bearer token), and
 * answered from the registry and broker/acl.ts, so EMQX applies the embedded broker's policy.
 */
export const emqxHookRoutes: FastifyPluginAsyncZod<{ deps: EmqxHookDeps }> = async (app, { deps }) => {
  const { registry, tokens, internalCredential, throttle, events, clock } = deps;
  const tags = ['broker'];
  const rateLimit = { max: deps.rateLimitPerMinute, timeWindow: 60_000 };

  const requireHookToken = async (request: FastifyRequest) => {
    if (!tokens.current) throw new AuthenticationError('the EMQX hooks are not configured (EMQX_HOOK_TOKEN)');
    const presented = /^bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!presented) throw new AuthenticationError('send the EMQX hook token as a bearer token');
    const previous = tokens.previous;
    const ok =
      same(presented, tokens.current) ||
      (previous !== undefined && clock.now() < previous.until && same(presented, previous.token));
    if (!ok) throw new AuthenticationError('the EMQX hook token is not valid');
  };

  app.post(
    '/broker/emqx/authn',
    {
      config: { access: 'public', audit: 'broker.authn', rateLimit },
      onRequest: requireHookToken,
      schema: {
        tags,
        summary: "EMQX's HTTP authentication backend: may this MQTT client log in?",
        description:
          'Called by EMQX 5 with `Authorization: Bearer <EMQX_HOOK_TOKEN>` and the JSON body ' +
          `\`{"clientid": "${PH('clientid')}", "username": "${PH('username')}", "password": "${PH('password')}", "peerhost": "${PH('peerhost')}"}\`. ` +
          'A device logs in with its id as username and client id and its issued secret; the ' +
          "platform's internal user is a superuser. Answers 200 with EMQX's result.",
        body: AuthnBody,
        response: { 200: AuthnAnswer, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request) => {
      const { clientid, username, password, peerhost } = request.body;
      const address = peerhost || 'unknown';
      // Per address and username, as on the embedded broker: a guesser is refused outright while
      // locked, without the secret being checked.
      const key = `${address}\u0000${username.slice(0, 128)}`;
      const locked = throttle.lockedFor(key, clock.now()) > 0;
      const checked = (ok: boolean) => {
        if (ok) throttle.recordSuccess(key);
        else throttle.recordFailure(key, clock.now());
        return ok;
      };
      if (username === internalCredential.username) {
        const ok = !locked && checked(password.length > 0 && same(password, internalCredential.password));
        request.auditNote = {
          actor: { type: 'system', name: username },
          detail: { result: ok ? 'allow' : 'deny', address },
        };
        if (!ok) refused('unknown-or-bad-secret');
        return { result: ok ? ('allow' as const) : ('deny' as const), is_superuser: ok };
      }
      request.auditNote = {
        actor: { type: 'device', id: username || null, name: username || null },
        target: { type: 'cluster', id: username || null },
      };
      const deny = (reason: 'missing-credentials' | 'identity-mismatch' | 'unknown-or-bad-secret') => {
        request.auditNote.detail = { result: 'deny', reason, address };
        refused(reason);
        return { result: 'deny' as const, is_superuser: false };
      };
      if (!username || !password) return deny('missing-credentials');
      // The device id is the username and the client id at once, as on the embedded broker.
      if (username !== clientid || !isDeviceId(username)) return deny('identity-mismatch');
      if (locked || !checked(await registry.verifySecret(username, password)))
        return deny('unknown-or-bad-secret');
      request.auditNote.detail = { result: 'allow', address };
      return { result: 'allow' as const, is_superuser: false, acl: deviceAclRules(username) };

      function refused(reason: 'missing-credentials' | 'identity-mismatch' | 'unknown-or-bad-secret') {
        events.emit('security.refused', {
          type: 'auth-failed',
          via: 'mqtt',
          clientId: clientid.slice(0, 128),
          username: username.slice(0, 128) || null,
          address,
          reason,
          at: clock.now(),
        });
      }
    },
  );

  app.get(
    '/broker/emqx/authz',
    {
      config: { access: 'public', rateLimit },
      onRequest: requireHookToken,
      schema: {
        tags,
        summary: "EMQX's HTTP authorization backend: may this client publish or subscribe here?",
        description:
          'Called by EMQX 5 (method `get`) with `Authorization: Bearer <EMQX_HOOK_TOKEN>` and the query ' +
          `\`${['clientid', 'username', 'topic', 'action', 'peerhost'].map((k) => `${k}=${PH(k)}`).join('&')}\`. ` +
          'A device publishes its own state, heartbeat, ack and event and subscribes its own cmd; a ' +
          'device no longer registered is refused everything. A read: it changes nothing and is not audited; ' +
          'refusals are counted and logged in the security digest.',
        querystring: AuthzQuery,
        response: { 200: AuthzAnswer, 400: ErrorSchema, 401: ErrorSchema, 429: ErrorSchema },
      },
    },
    async (request) => {
      const { clientid, username, topic, action, peerhost } = request.query;
      let principal: Principal | null = null;
      if (username === internalCredential.username) principal = { kind: 'platform' };
      else if (username && username === clientid && isDeviceId(username) && registry.findCluster(username))
        principal = { kind: 'device', deviceId: username };
      const decision = principal
        ? authorizeAction(principal, action, topic)
        : ({ allowed: false, reason: 'not-own-topic' } as const);
      if (decision.allowed) return { result: 'allow' as const };
      events.emit('security.refused', {
        type: 'acl-denied',
        via: 'mqtt',
        clientId: clientid.slice(0, 128),
        action,
        topic: topic.slice(0, 256),
        reason: principal ? decision.reason : 'unknown-client',
        address: peerhost || 'unknown',
        at: clock.now(),
      });
      return { result: 'deny' as const };
    },
  );
};
