import { describe, expect, it } from 'vitest';
import { authorizePublish, authorizeSubscribe, type Principal } from '../../broker/acl.js';

const device: Principal = { kind: 'device', deviceId: 'hd-c01' };
const platform: Principal = { kind: 'platform' };

describe('topic ACL', () => {
  const publishCases: [string, Principal, string, boolean | string][] = [
    ['device → own state', device, 'sc/v1/hd-c01/state', true],
    ['device → own heartbeat', device, 'sc/v1/hd-c01/heartbeat', true],
    ['device → own ack', device, 'sc/v1/hd-c01/ack', true],
    ['device → own event', device, 'sc/v1/hd-c01/event', true],
    ['device → own cmd', device, 'sc/v1/hd-c01/cmd', 'not-own-topic'],
    ['device → other device heartbeat', device, 'sc/v1/hd-c02/heartbeat', 'not-own-topic'],
    ['device → other device cmd', device, 'sc/v1/hd-c02/cmd', 'not-own-topic'],
    ['device → prefix of its id', device, 'sc/v1/hd-c0/heartbeat', 'not-own-topic'],
    ['device → extra level', device, 'sc/v1/hd-c01/heartbeat/x', 'not-own-topic'],
    ['device → unknown kind', device, 'sc/v1/hd-c01/firmware', 'not-own-topic'],
    ['device → wildcard +', device, 'sc/v1/+/heartbeat', 'wildcard-publish'],
    ['device → wildcard #', device, 'sc/v1/hd-c01/#', 'wildcard-publish'],
    ['device → $SYS', device, '$SYS/broker/x', 'sys-topic'],
    ['device → other root', device, 'other/hd-c01/state', 'not-own-topic'],
    ['platform → any cmd', platform, 'sc/v1/hd-c07/cmd', true],
    ['platform → any state', platform, 'sc/v1/hd-c07/state', true],
    ['platform → wildcard', platform, 'sc/v1/+/cmd', 'wildcard-publish'],
    ['platform → $SYS', platform, '$SYS/x', 'sys-topic'],
    ['platform → outside root', platform, 'elsewhere/x', 'outside-root'],
  ];
  it.each(publishCases)('publish: %s', (_name, principal, topic, expected) => {
    const decision = authorizePublish(principal, topic);
    if (expected === true) expect(decision).toEqual({ allowed: true });
    else expect(decision).toEqual({ allowed: false, reason: expected });
  });

  const subscribeCases: [string, Principal, string, boolean | string][] = [
    ['device ← own cmd', device, 'sc/v1/hd-c01/cmd', true],
    ['device ← #', device, '#', 'not-own-topic'],
    ['device ← sc/v1/#', device, 'sc/v1/#', 'not-own-topic'],
    ['device ← all cmds', device, 'sc/v1/+/cmd', 'not-own-topic'],
    ['device ← other cmd', device, 'sc/v1/hd-c02/cmd', 'not-own-topic'],
    ['device ← own heartbeat', device, 'sc/v1/hd-c01/heartbeat', 'not-own-topic'],
    ['device ← own everything', device, 'sc/v1/hd-c01/#', 'not-own-topic'],
    ['device ← $SYS', device, '$SYS/#', 'sys-topic'],
    ['platform ← #', platform, '#', true],
    ['platform ← all heartbeats', platform, 'sc/v1/+/heartbeat', true],
    ['platform ← $SYS', platform, '$SYS/#', true],
  ];
  it.each(subscribeCases)('subscribe: %s', (_name, principal, filter, expected) => {
    const decision = authorizeSubscribe(principal, filter);
    if (expected === true) expect(decision).toEqual({ allowed: true });
    else expect(decision).toEqual({ allowed: false, reason: expected });
  });
});
