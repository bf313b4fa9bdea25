import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { limitPacketSize, PacketTooLargeError, type SizedParser } from '../../broker/packet-size-guard.js';

const publish = (bytes: number) =>
  mqttPacket.generate({
    cmd: 'publish',
    topic: 'sc/v1/hd-c01/heartbeat',
    payload: Buffer.alloc(bytes, 0x61),
    qos: 0,
    retain: false,
    dup: false,
  });

/** Feeds chunks to a real mqtt-packet parser (the one Aedes runs per client) under the limit. */
function parse(
  chunks: Buffer[],
  limit: number,
): { packets: number[]; error: Error | null; buffered: number } {
  const parser = mqttPacket.parser();
  limitPacketSize(parser as unknown as SizedParser, limit);
  const packets: number[] = [];
  let error: Error | null = null;
  parser.on('packet', (packet) => {
    if (packet.cmd === 'publish') packets.push(Buffer.byteLength(packet.payload));
  });
  parser.on('error', (e: Error) => {
    error = e;
  });
  let buffered = 0;
  for (const chunk of chunks) {
    if (error) break;
    buffered = parser.parse(chunk);
  }
  return { packets, error, buffered };
}

/** Splits a buffer into pieces of the given size, to cross header and body boundaries. */
const split = (buffer: Buffer, size: number) =>
  Array.from({ length: Math.ceil(buffer.length / size) }, (_, i) =>
    buffer.subarray(i * size, (i + 1) * size),
  );

describe('the packet size limit inside the MQTT parser', () => {
  it('parses packets within the limit, however the stream is chunked', () => {
    const stream = Buffer.concat([publish(10), publish(200), publish(1_000), publish(0)]);
    for (const size of [1, 2, 3, 7, 64, stream.length]) {
      const { packets, error } = parse(split(stream, size), 2_000);
      expect(error).toBeNull();
      expect(packets).toEqual([10, 200, 1_000, 0]);
    }
  });

  it('fails on the header of a packet over the limit, before its body is held', () => {
    const big = publish(5_000);
    const { packets, error, buffered } = parse([publish(10), big.subarray(0, 4)], 1_024);
    expect(packets).toEqual([10]);
    expect(error).toBeInstanceOf(PacketTooLargeError);
    expect(buffered).toBeLessThan(16);
  });

  it('reports the announced size and the limit, exactly at the boundary', () => {
    const size = publish(300_000).length;
    const { error } = parse(split(publish(300_000), 1_000), 256 * 1024);
    expect((error as unknown as PacketTooLargeError).size).toBe(size);
    expect((error as unknown as PacketTooLargeError).limit).toBe(256 * 1024);
    expect(parse([publish(1_000)], publish(1_000).length).error).toBeNull();
    expect(parse([publish(1_000)], publish(1_000).length - 1).error).toBeInstanceOf(PacketTooLargeError);
  });

  it('rejects a remaining length longer than four bytes', () => {
    const { error } = parse([Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])], 1_024);
    expect(error).not.toBeNull();
  });
});
