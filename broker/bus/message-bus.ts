import type { PublishOptions } from '../../devices/index.js';

export type MessageHandler = (topic: string, payload: Buffer) => void;
export type Unsubscribe = () => Promise<void>;

/**
 * The one way services reach MQTT. Two adapters: the embedded Aedes (no socket hop) and an MQTT.js
 * client for an external broker (EMQX, Mosquitto, clustered Aedes).
 */
export interface MessageBus {
  publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void>;
  subscribe(filter: string, handler: MessageHandler): Promise<Unsubscribe>;
  close(): Promise<void>;
}

/** [MQTT-4.7] topic filter matching: `+` one level, `#` the rest; `$` topics only by `$` filters. */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  if (topic.startsWith('$') !== filter.startsWith('$')) return false; // [MQTT-4.7.2-1]
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}
