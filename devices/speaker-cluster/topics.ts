import type { z } from 'zod';
import type { DeviceId } from '../shared/device-id.js';
import { isDeviceId } from '../shared/device-id.js';
import {
  AckSchema,
  CommandSchema,
  DeviceEventSchema,
  HeartbeatSchema,
  StateMessageSchema,
} from './messages.js';

export const TOPIC_ROOT = 'sc/v1';

/** The one map from topic kind to payload schema, direction and delivery options (docs/protocol.md). */
export const TOPICS = {
  state: { schema: StateMessageSchema, from: 'device', qos: 1, retain: true },
  heartbeat: { schema: HeartbeatSchema, from: 'device', qos: 0, retain: false },
  ack: { schema: AckSchema, from: 'device', qos: 1, retain: false },
  event: { schema: DeviceEventSchema, from: 'device', qos: 1, retain: false },
  cmd: { schema: CommandSchema, from: 'platform', qos: 1, retain: false },
} as const;

export type TopicKind = keyof typeof TOPICS;
export type Payload<K extends TopicKind> = z.infer<(typeof TOPICS)[K]['schema']>;
/** What a publisher hands in: defaults (such as a play command's repeat) may be left out. */
export type PayloadInput<K extends TopicKind> = z.input<(typeof TOPICS)[K]['schema']>;

export const DEVICE_TOPIC_KINDS = [
  'state',
  'heartbeat',
  'ack',
  'event',
] as const satisfies readonly TopicKind[];
export type DeviceTopicKind = (typeof DEVICE_TOPIC_KINDS)[number];

export function topicFor(deviceId: DeviceId, kind: TopicKind): string {
  return `${TOPIC_ROOT}/${deviceId}/${kind}`;
}

/** Subscription filter for one kind across every device, e.g. `sc/v1/+/heartbeat`. */
export function filterFor(kind: TopicKind | '#'): string {
  return kind === '#' ? `${TOPIC_ROOT}/#` : `${TOPIC_ROOT}/+/${kind}`;
}

export interface ParsedTopic {
  deviceId: DeviceId;
  kind: TopicKind;
}

/** Splits `sc/v1/{deviceId}/{kind}`; anything else (other roots, extra levels, bad ids) is null. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length !== 4 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return null;
  const [, , deviceId, kind] = parts as [string, string, string, string];
  if (!isDeviceId(deviceId) || !Object.hasOwn(TOPICS, kind)) return null;
  return { deviceId, kind: kind as TopicKind };
}
