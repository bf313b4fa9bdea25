import type { Redis } from 'ioredis';

type StreamEntry = [id: string, fields: string[]];
type ReadReply = [stream: string, entries: StreamEntry[]][] | null;
type Read = (...args: (string | number)[]) => Promise<ReadReply>;

/**
 * The Redis client to give Socket.IO's Redis streams adapter (0.3): the same connection for what it
 * publishes, and readers that never lose an entry.
 *
 * The adapter reads its stream with `XREAD BLOCK … $` until the first entry arrives, and `$` means
 * "after the newest entry when this read reaches Redis". An entry added after one read has timed
 * out and before the next one reaches Redis is skipped for good: on a quiet instance the first
 * alarm or emergency state of the day could miss its consoles, more likely the busier the
 * instance or its link. Each reader made here turns `$` into a real position: the stream's newest
 * entry when it first reads, then the last entry it was given.
 */
export function streamAdapterClient(redis: Redis): Redis {
  return new Proxy(redis, {
    get(target, property) {
      if (property === 'duplicate') {
        return (...args: Parameters<Redis['duplicate']>) => keepingPosition(target.duplicate(...args));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** `reader` with its `XREAD … STREAMS <key> $` reading on from where it last was instead. */
function keepingPosition(reader: Redis): Redis {
  const read = reader.xread.bind(reader) as unknown as Read;
  const positions = new Map<string, string>();
  const keepingRead: Read = async (...args) => {
    const at = args.indexOf('STREAMS');
    // The adapter reads one stream at a time: STREAMS <key> <id>, last.
    if (at < 0 || args.length !== at + 3) return read(...args);
    const key = String(args[at + 1]);
    let from = String(args[at + 2]);
    if (from === '$') {
      from = positions.get(key) ?? (await newestEntry(reader, key));
      positions.set(key, from);
    }
    const reply = await read(...args.slice(0, at + 2), from);
    const last = reply?.[0]?.[1].at(-1);
    if (last) positions.set(key, last[0]);
    return reply;
  };
  reader.xread = keepingRead as unknown as Redis['xread'];
  return reader;
}

/** The id of the stream's newest entry; `0-0` (before any) when it has none yet. */
async function newestEntry(reader: Redis, key: string): Promise<string> {
  const [newest] = await reader.xrevrange(key, '+', '-', 'COUNT', 1);
  return newest?.[0] ?? '0-0';
}
