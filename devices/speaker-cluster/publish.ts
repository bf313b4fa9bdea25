import type { DeviceId } from '../shared/device-id.js';
import type { PayloadInput, TopicKind } from './topics.js';
import { TOPICS, topicFor } from './topics.js';

export interface PublishOptions {
  qos: 0 | 1 | 2;
  retain: boolean;
}

/** The raw publish of any MQTT transport: MQTT.js, the in-process broker, a test client. */
export type RawPublish = (topic: string, payload: Buffer, options: PublishOptions) => Promise<void>;

export type TypedPublish = <K extends TopicKind>(
  deviceId: DeviceId,
  kind: K,
  payload: PayloadInput<K>,
) => Promise<void>;

/**
 * Wraps a raw publish so that every message is validated against its topic's schema and sent with
 * the QoS and retain flag the protocol fixes for that topic. A payload that fails its own schema is
 * a programming error on the sending side and throws before anything reaches the wire.
 */
export function typedPublish(raw: RawPublish): TypedPublish {
  return async (deviceId, kind, payload) => {
    const spec = TOPICS[kind];
    const parsed = spec.schema.parse(payload);
    await raw(topicFor(deviceId, kind), Buffer.from(JSON.stringify(parsed)), {
      qos: spec.qos,
      retain: spec.retain,
    });
  };
}
