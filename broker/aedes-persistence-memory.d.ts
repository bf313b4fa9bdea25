// aedes-persistence declares its classes under types/, which deep imports do not find; only what
// the broker's retained index uses is declared.
declare module 'aedes-persistence/asyncPersistence.js' {
  interface RetainedPacket {
    topic: string;
    payload: Buffer;
    [key: string]: unknown;
  }
  class MemoryPersistence {
    constructor(options?: Record<string, unknown>);
    storeRetained(packet: RetainedPacket): Promise<void>;
    createRetainedStream(pattern: string): Iterable<RetainedPacket>;
    createRetainedStreamCombi(patterns: string[]): Iterable<RetainedPacket>;
    destroy(): Promise<void>;
  }
  export = MemoryPersistence;
}

declare module 'aedes-persistence/callBackPersistence.js' {
  class CallBackPersistence {
    constructor(factory: (options: Record<string, unknown>) => unknown, options?: Record<string, unknown>);
  }

  export { CallBackPersistence };
}
