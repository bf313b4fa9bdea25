import type { Aedes, AedesPublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { PublishOptions } from '../../devices/index.js';
import type { MessageBus, MessageHandler, Unsubscribe } from './message-bus.js';

/** Services inside the broker's process publish and subscribe without a socket in between. */
export class AedesBus implements MessageBus {
  constructor(
    private readonly aedes: Aedes,
    private readonly logger: Logger,
  ) {}

  publish(topic: string, payload: Buffer, options: PublishOptions): Promise<void> {
    return new Promise((resolve, reject) => {
      this.aedes.publish(
        { cmd: 'publish', topic, payload, qos: options.qos, retain: options.retain, dup: false },
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  subscribe(filter: string, handler: MessageHandler): Promise<Unsubscribe> {
    const deliver = (packet: AedesPublishPacket, done: () => void) => {
      try {
        handler(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
      } catch (error) {
        // A handler bug must not stall delivery to everyone else; it is logged, never hidden.
        this.logger.error({ err: error, topic: packet.topic }, 'message handler failed');
      }
      // Aedes delivers the next queued message from inside done(): called synchronously, a burst
      // (an emergency to 10,000 clusters) nests one frame per message until the stack overflows.
      queueMicrotask(done);
    };
    return new Promise((resolve) => {
      this.aedes.subscribe(filter, deliver, () =>
        resolve(() => new Promise((done) => this.aedes.unsubscribe(filter, deliver, () => done()))),
      );
    });
  }

  async close(): Promise<void> {
    // The broker owns the Aedes instance and closes it.
  }
}
