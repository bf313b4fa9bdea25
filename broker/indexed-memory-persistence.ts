import MemoryPersistence from 'aedes-persistence/asyncPersistence.js';
import { CallBackPersistence } from 'aedes-persistence/callBackPersistence.js';
import { RetainedTree } from './retained-tree.js';

type RetainedPacket = Parameters<MemoryPersistence['storeRetained']>[0];

/**
 * aedes-persistence's in-memory store with its retained messages kept in a topic tree. The stock
 * store answers each SUBSCRIBE by testing every retained topic against the filter, so when a
 * province's clusters reconnect together (each has its retained state) the broker spends its time
 * in those tests and admits a few hundred devices a second. Everything else is the stock store.
 */
class IndexedMemoryPersistence extends MemoryPersistence {
  private readonly retained = new RetainedTree<RetainedPacket>();

  override async storeRetained(packet: RetainedPacket): Promise<void> {
    if (packet.payload.length === 0) this.retained.delete(packet.topic);
    else this.retained.set(packet.topic, { ...packet });
  }

  override createRetainedStream(pattern: string): Iterable<RetainedPacket> {
    return this.retained.match(pattern);
  }

  override createRetainedStreamCombi(patterns: string[]): Iterable<RetainedPacket> {
    const retained = this.retained;
    return (function* () {
      const sent = new Set<string>();
      for (const pattern of patterns)
        for (const packet of retained.match(pattern))
          if (!sent.has(packet.topic)) {
            sent.add(packet.topic);
            yield packet;
          }
    })();
  }
}

/** The broker's default persistence: in memory, with retained messages indexed by topic level. */
export function indexedMemoryPersistence(): unknown {
  return new CallBackPersistence((options) => new IndexedMemoryPersistence(options), {});
}
