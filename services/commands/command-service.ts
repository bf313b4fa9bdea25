import type { Logger } from 'pino';
import type { MessageBus } from '../../broker/bus/message-bus.js';
import {
  buildCommand,
  type Clock,
  type Command,
  type CommandOf,
  type CommandType,
  type TypedPublish,
  typedPublish,
} from '../../devices/index.js';
import { DeviceOfflineError } from '../errors.js';
import type { EventBus } from '../event-bus.js';
import { type CommandRecord, type CommandStore, FINAL_STATUSES } from './command-store.js';

export type DirectCommandType = Exclude<CommandType, 'play'>;
export type DirectCommandInput = {
  [T in DirectCommandType]: { type: T } & Omit<CommandOf<T>, 'id' | 'type' | 'issuedAt' | 'expiresAt'>;
}[DirectCommandType];

export interface CommandServiceOptions {
  bus: MessageBus;
  events: EventBus;
  store: CommandStore;
  clock: Clock;
  logger: Logger;
  isOnline(deviceId: string): boolean;
  /** Called with a command's record each time a device's ack changed it. */
  onAcked?(record: CommandRecord): void;
}

/**
 * Sends technicians' direct commands (volume, power, ping, stop, reboot, config) and tracks each
 * one through the device's acks. Commands go out at QoS 1 with a unique id; the device
 * de-duplicates on it, so a resend never acts twice.
 */
export class CommandService {
  private readonly publish: TypedPublish;
  private readonly waiters = new Map<string, Set<(record: CommandRecord) => void>>();
  private unsubscribe: (() => void) | null = null;
  private readonly logger: Logger;

  constructor(private readonly options: CommandServiceOptions) {
    this.publish = typedPublish((topic, payload, opts) => options.bus.publish(topic, payload, opts));
    this.logger = options.logger.child({ component: 'commands' });
  }

  start(): void {
    this.unsubscribe = this.options.events.owner('commands').on('device.ack', ({ deviceId, ack }) => {
      const now = this.options.clock.now();
      if (!this.options.store.applyAck(ack.cmdId, deviceId, ack.status, ack.error ?? null, now)) return;
      const record = this.options.store.get(ack.cmdId, now);
      if (!record) return;
      this.notify(record);
      this.options.onAcked?.(record);
    });
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  async send(deviceId: string, input: DirectCommandInput, options: { ttlMs?: number; force?: boolean } = {}) {
    if (!options.force && !this.options.isOnline(deviceId)) throw new DeviceOfflineError(deviceId);
    const { type, ...params } = input;
    const now = this.options.clock.now();
    const command: Command = buildCommand(type, params as never, now, options.ttlMs);
    this.options.store.insert(deviceId, command, now);
    await this.publish(deviceId, 'cmd', command);
    this.logger.info({ deviceId, cmdId: command.id, type }, 'command sent');
    return this.get(command.id);
  }

  get(id: string): CommandRecord | null {
    return this.options.store.get(id, this.options.clock.now());
  }

  list(deviceId: string, page: { limit: number; offset: number }) {
    return this.options.store.list(deviceId, page, this.options.clock.now());
  }

  /** Resolves with the command once it reaches a final status, or as it stands after timeoutMs. */
  waitForFinal(id: string, timeoutMs: number): Promise<CommandRecord | null> {
    const current = this.get(id);
    if (!current || FINAL_STATUSES.includes(current.status)) return Promise.resolve(current);
    return new Promise((resolve) => {
      const listeners = this.waiters.get(id) ?? new Set();
      const finish = () => {
        this.options.clock.clearTimeout(timer);
        listeners.delete(onChange);
        if (listeners.size === 0) this.waiters.delete(id);
        resolve(this.get(id));
      };
      const onChange = (record: CommandRecord) => {
        if (FINAL_STATUSES.includes(record.status)) finish();
      };
      const timer = this.options.clock.setTimeout(finish, timeoutMs);
      listeners.add(onChange);
      this.waiters.set(id, listeners);
    });
  }

  private notify(record: CommandRecord): void {
    for (const listener of this.waiters.get(record.id) ?? []) listener(record);
  }
}
