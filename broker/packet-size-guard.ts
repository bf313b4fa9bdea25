import { Transform, type TransformCallback } from 'node:stream';

export class PacketTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`MQTT packet of ${size} bytes exceeds the ${limit}-byte limit`);
    this.name = 'PacketTooLargeError';
  }
}

export class MalformedLengthError extends Error {
  constructor() {
    super('MQTT remaining length longer than four bytes');
    this.name = 'MalformedLengthError';
  }
}

/**
 * Enforces a maximum MQTT packet size on the byte stream before the broker parses it. Aedes 1.x
 * has no such limit: its parser buffers a packet until the announced remaining length has arrived,
 * so one CONNECT or PUBLISH announcing 256 MB would be held in memory. This reads each fixed header
 * ([MQTT-2.2]: one type byte, then a remaining length of 1-4 bytes, 7 bits each, [MQTT-2.2.3]) and
 * fails the stream as soon as a header announces more than the limit; the bytes of the packet are
 * never accumulated.
 */
export class PacketSizeGuard extends Transform {
  private phase: 'type' | 'length' | 'body' = 'type';
  private bodyLeft = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;

  constructor(private readonly maxPacketBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.phase === 'body') {
        const take = Math.min(this.bodyLeft, chunk.length - i);
        i += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) this.phase = 'type';
        continue;
      }
      const byte = chunk[i++] as number;
      if (this.phase === 'type') {
        this.phase = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.lengthBytes += 1;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) {
          callback(new MalformedLengthError());
          return;
        }
        continue;
      }
      const packetBytes = 1 + this.lengthBytes + this.length;
      if (packetBytes > this.maxPacketBytes) {
        callback(new PacketTooLargeError(packetBytes, this.maxPacketBytes));
        return;
      }
      this.bodyLeft = this.length;
      this.phase = this.bodyLeft > 0 ? 'body' : 'type';
    }
    callback(null, chunk);
  }
}
