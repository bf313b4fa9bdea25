import { DEVICE_TOPIC_KINDS, TOPIC_ROOT, topicFor } from '../devices/index.js';

/** Who is behind an authenticated MQTT connection. */
export type Principal = { kind: 'device'; deviceId: string } | { kind: 'platform' };

export type AclDecision = { allowed: true } | { allowed: false; reason: AclDenialReason };
export type AclDenialReason = 'wildcard-publish' | 'sys-topic' | 'not-own-topic' | 'outside-root';

const ALLOW: AclDecision = { allowed: true };
const deny = (reason: AclDenialReason): AclDecision => ({ allowed: false, reason });

function hasWildcard(topic: string): boolean {
  return topic.includes('+') || topic.includes('#');
}

/**
 * May this principal publish to this topic? Devices write only their own state, heartbeat, ack and
 * event topics; the platform writes anywhere under the protocol root. Nobody writes `$SYS`.
 */
export function authorizePublish(principal: Principal, topic: string): AclDecision {
  // [MQTT-3.3.2-2] a PUBLISH topic must not contain wildcards; refuse before any matching.
  if (hasWildcard(topic)) return deny('wildcard-publish');
  // [MQTT-4.7.2-1] `$` topics belong to the server.
  if (topic.startsWith('$')) return deny('sys-topic');
  if (principal.kind === 'platform') {
    return topic.startsWith(`${TOPIC_ROOT}/`) ? ALLOW : deny('outside-root');
  }
  const own = DEVICE_TOPIC_KINDS.some((kind) => topicFor(principal.deviceId, kind) === topic);
  return own ? ALLOW : deny('not-own-topic');
}

/** May this principal subscribe to this filter? Devices read only their own command topic. */
export function authorizeSubscribe(principal: Principal, filter: string): AclDecision {
  if (principal.kind === 'platform') return ALLOW;
  if (filter.startsWith('$')) return deny('sys-topic');
  return filter === topicFor(principal.deviceId, 'cmd') ? ALLOW : deny('not-own-topic');
}
