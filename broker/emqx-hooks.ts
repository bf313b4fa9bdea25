import { DEVICE_TOPIC_KINDS, topicFor } from '../devices/index.js';
import { type AclDecision, authorizePublish, authorizeSubscribe, type Principal } from './acl.js';

/*
 * EMQX 5's HTTP authentication and authorization backends, answered with broker/acl.ts's rules.
 * Authentication answers HTTP 200 with `{result: allow|deny|ignore, is_superuser}`; authorization
 * with `{result: allow|deny|ignore}` (docs.emqx.com, access-control/authn/http and authz/http).
 * The platform never answers `ignore`: it is the authority for device ids, and an `ignore` would let
 * a later source in EMQX's chain decide for a device.
 */

export type HookResult = 'allow' | 'deny';

/** One rule of the `acl` list EMQX 5.8+ takes in an authentication answer (the "new format"). */
export interface EmqxAclRule {
  permission: 'allow' | 'deny';
  action: 'publish' | 'subscribe' | 'all';
  topic: string;
}

/**
 * A device's whole ACL, handed over at login so EMQX 5.8+ need not ask per topic. `eq` matches the
 * topic literally (no wildcard or placeholder expansion), as broker/acl.ts does; the last rule
 * refuses everything else. Older EMQX ignores the field and asks the authorization hook instead.
 */
export function deviceAclRules(deviceId: string): EmqxAclRule[] {
  return [
    ...DEVICE_TOPIC_KINDS.map((kind) => ({
      permission: 'allow' as const,
      action: 'publish' as const,
      topic: `eq ${topicFor(deviceId, kind)}`,
    })),
    { permission: 'allow', action: 'subscribe', topic: `eq ${topicFor(deviceId, 'cmd')}` },
    { permission: 'deny', action: 'all', topic: '#' },
  ];
}

/** EMQX's `${action}` for a publish (a will counts as one) or a subscription. */
export function authorizeAction(
  principal: Principal,
  action: 'publish' | 'subscribe',
  topic: string,
): AclDecision {
  return action === 'publish' ? authorizePublish(principal, topic) : authorizeSubscribe(principal, topic);
}
