import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../devices/index.js';
import {
  DYNSEC_RESPONSE_TOPIC,
  DYNSEC_TOPIC,
  type DynsecClient,
  type DynsecCommand,
  type DynsecRole,
} from './dynsec-plan.js';

export interface DynsecResponse {
  command: string;
  error?: string;
  data?: unknown;
  correlationData?: string;
}

export interface DynsecControlOptions {
  url: string;
  username: string;
  password: string;
  clock: Clock;
  logger: Logger;
  /** How long one batch of commands may wait for its answer. */
  timeoutMs?: number;
  /** Told on every (re)connection, once the answer topic is subscribed. */
  onConnected?: () => void;
}

interface Waiting {
  resolve: (responses: DynsecResponse[]) => void;
  reject: (error: Error) => void;
  timer: TimerHandle;
}

/** Commands per `$CONTROL` message: the plugin saves its file once per message, not per command. */
export const BATCH_SIZE = 100;

/**
 * The dynamic security plugin's command API over MQTT: JSON `{commands: [...]}` published to
 * `$CONTROL/dynamic-security/v1`, one `{responses: [...]}` answer per message on `…/response`, in
 * order, each response echoing its command's `correlationData`. Its own connection (with the
 * platform's credential, a dynsec admin) so it hears of every reconnection and can reconcile then.
 */
export class DynsecControl {
  private client: MqttClient | null = null;
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly options: DynsecControlOptions) {}

  start(): void {
    const { url, username, password, logger } = this.options;
    const client = mqtt.connect(url, {
      clientId: `${username}-dynsec-${randomBytes(4).toString('hex')}`,
      username,
      password,
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
    });
    // Connection errors are logged once per outage, not once per reconnection attempt.
    let reported = false;
    client.on('connect', () => {
      reported = false;
      client.subscribe(DYNSEC_RESPONSE_TOPIC, { qos: 1 }, (error, granted) => {
        if (error || granted?.[0]?.qos === 128) {
          logger.error(
            { err: error },
            'cannot read the dynamic security answers: is the internal MQTT user a dynsec admin?',
          );
          return;
        }
        this.options.onConnected?.();
      });
    });
    client.on('message', (topic, payload) => {
      if (topic === DYNSEC_RESPONSE_TOPIC) this.answer(payload);
    });
    client.on('error', (err) => {
      if (reported) return;
      reported = true;
      logger.warn({ err: { message: err.message } }, 'dynamic security connection error; reconnecting');
    });
    client.on('close', () => this.failAll(new Error('connection to the broker closed')));
    this.client = client;
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Sends commands in batches and returns one response per command, in order. */
  async send(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const responses: DynsecResponse[] = [];
    for (let i = 0; i < commands.length; i += BATCH_SIZE)
      responses.push(...(await this.sendBatch(commands.slice(i, i + BATCH_SIZE))));
    return responses;
  }

  async listClients(): Promise<DynsecClient[]> {
    const [response] = await this.sendBatch([
      { command: 'listClients', verbose: true, count: -1, offset: 0 },
    ]);
    return (response?.data as { clients?: DynsecClient[] } | undefined)?.clients ?? [];
  }

  async listRoles(): Promise<DynsecRole[]> {
    const [response] = await this.sendBatch([{ command: 'listRoles', verbose: true, count: -1, offset: 0 }]);
    return (response?.data as { roles?: DynsecRole[] } | undefined)?.roles ?? [];
  }

  async getClient(username: string): Promise<DynsecClient | null> {
    const [response] = await this.sendBatch([{ command: 'getClient', username }]);
    if (response?.error) return null;
    return (response?.data as { client?: DynsecClient } | undefined)?.client ?? null;
  }

  async getRole(rolename: string): Promise<DynsecRole | null> {
    const [response] = await this.sendBatch([{ command: 'getRole', rolename }]);
    if (response?.error) return null;
    return (response?.data as { role?: DynsecRole } | undefined)?.role ?? null;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.failAll(new Error('dynamic security client closed'));
    await client?.endAsync();
  }

  private sendBatch(commands: DynsecCommand[]): Promise<DynsecResponse[]> {
    const client = this.client;
    if (!client?.connected) return Promise.reject(new Error('not connected to the broker'));
    const id = randomBytes(8).toString('hex');
    const tagged = commands.map((command, i) => ({ ...command, correlationData: `${id}:${i}` }));
    return new Promise((resolve, reject) => {
      const timer = this.options.clock.setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('the dynamic security plugin did not answer in time'));
      }, this.options.timeoutMs ?? 10_000);
      this.waiting.set(id, { resolve, reject, timer });
      client.publish(DYNSEC_TOPIC, JSON.stringify({ commands: tagged }), { qos: 1 }, (error) => {
        if (!error) return;
        this.settle(id)?.reject(error);
      });
    });
  }

  private answer(payload: Buffer): void {
    let responses: DynsecResponse[];
    try {
      responses = (JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] }).responses ?? [];
    } catch (error) {
      this.options.logger.warn({ err: error }, 'unreadable dynamic security answer');
      return;
    }
    const id = responses[0]?.correlationData?.split(':')[0];
    // Answers to other admins' commands (mosquitto_ctrl) arrive here too; they are not ours.
    if (id) this.settle(id)?.resolve(responses);
  }

  private settle(id: string): Waiting | undefined {
    const waiting = this.waiting.get(id);
    if (!waiting) return undefined;
    this.waiting.delete(id);
    this.options.clock.clearTimeout(waiting.timer);
    return waiting;
  }

  private failAll(error: Error): void {
    for (const id of [...this.waiting.keys()]) this.settle(id)?.reject(error);
  }
}
