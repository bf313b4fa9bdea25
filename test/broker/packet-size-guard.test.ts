import { Readable } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { PacketSizeGuard, PacketTooLargeError } from '../../broker/packet-size-guard.js';

const publish = (bytes: number) =>
  mqttPacket.generate({
    cmd: 'publish',
    topic: 'sc/v1/hd-c01/heartbeat',
    payload: Buffer.alloc(bytes, 0x61),
    qos: 0,
    retain: false,
    dup: false,
  });

async function pass(chunks: Buffer[], limit: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const guard = new PacketSizeGuard(limit);
  Readable.from(chunks).pipe(guard);
  for await (const chunk of guard) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

/** Splits a buffer into pieces of the given size, to cross header and body boundaries. */
const split = (buffer: Buffer, size: number) =>
  Array.from({ length: Math.ceil(buffer.length / size) }, (_, i) =>
    buffer.subarray(i * size, (i + 1) * size),
  );

describe('PacketSizeGuard', () => {
  it('passes packets within the limit byte for byte, however the stream is chunked', async () => {
    const stream = Buffer.concat([publish(10), publish(200), publish(1_000), publish(0)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      expect(await pass(split(stream, size), 2_000)).toEqual(stream);
    }
  });

  it('fails the stream on the header of a packet over the limit, before its body arrives', async () => {
    const big = publish(5_000);
    const headerOnly = big.subarray(0, 4);
    await expect(pass([publish(10), headerOnly], 1_024)).rejects.toBeInstanceOf(PacketTooLargeError);
  });

  it('reports the announced size and the limit', async () => {
    const error = await pass(split(publish(300_000), 1_000), 256 * 1024).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PacketTooLargeError);
    expect((error as PacketTooLargeError).size).toBe(publish(300_000).length);
    expect((error as PacketTooLargeError).limit).toBe(256 * 1024);
  });

  it('rejects a remaining length longer than four bytes', async () => {
    await expect(pass([Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])], 1_024)).rejects.toThrow(
      /four bytes/,
    );
  });
});
