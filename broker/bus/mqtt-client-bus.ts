import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { PublishOptions } from '../../devices/index.js';
import { type MessageBus, type MessageHandler, topicMatchesFilter, type Unsubscribe } from './message-bus.js';

export interface MqttClientBusOptions {
  url: string;
  username: string;
  password: string;
  logger: Logger;
}

/** Services reaching an external broker over MQTT, with the platform's internal credential. */
export class MqttClientBus implements MessageBus {
  private client: MqttClient | null = null;
  private readonly handlers = new Set<{ filter: string; handler: MessageHandler }>();

  constructor(private readonly options: MqttClientBusOptions) {}

  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.options.url, {
      clientId: `${this.options.username}-${randomBytes(4).toString('hex')}`,
      username: this.options.username,
      password: this.options.password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 2_000,
    });
    client.on('message', (topic, payload) => this.dispatch(topic, payload));
    client.on('error', (err) => this.options.logger.error({ err }, 'external broker connection error'));
    client.on('reconnect', () => this.options.logger.warn('reconnecting to the external broker'));
    this.client = client;
  }

  async publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void> {
    await this.connected().publishAsync(topic, payload, { qos: options.qos, retain: options.retain });
  }

  async subscribe(filter: string, handler: MessageHandler): Promise<Unsubscribe> {
    const entry = { filter, handler };
    this.handlers.add(entry);
    await this.connected().subscribeAsync(filter, { qos: 1 });
    return async () => {
      this.handlers.delete(entry);
      if (![...this.handlers].some((h) => h.filter === filter))
        await this.connected().unsubscribeAsync(filter);
    };
  }

  async close(): Promise<void> {
    await this.client?.endAsync();
    this.client = null;
  }

  private dispatch(topic: string, payload: Buffer): void {
    for (const { filter, handler } of this.handlers) {
      if (!topicMatchesFilter(filter, topic)) continue;
      try {
        handler(topic, payload);
      } catch (error) {
        this.options.logger.error({ err: error, topic }, 'message handler failed');
      }
    }
  }

  private connected(): MqttClient {
    if (!this.client) throw new Error('MqttClientBus used before start()');
    return this.client;
  }
}
