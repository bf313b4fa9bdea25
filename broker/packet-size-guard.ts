export class PacketTooLargeError extends Error {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`MQTT packet of ${size} bytes exceeds the ${limit}-byte limit`);
    this.name = 'PacketTooLargeError';
  }
}

/** The part of mqtt-packet's parser (the one Aedes gives each client) the limit hooks into. */
export interface SizedParser {
  packet: { length: number };
  _parseLength(): boolean;
  _emitError(error: Error): boolean;
  /** Set by limitPacketSize. */
  _maxPacketBytes?: number;
}

/**
 * Enforces a maximum MQTT packet size inside the parser Aedes already runs for each connection.
 * Aedes 1.x has no such limit: its parser buffers a packet until the announced remaining length
 * has arrived, so one CONNECT or PUBLISH announcing 256 MB would be held in memory. The parser
 * reads the fixed header ([MQTT-2.2]: a type byte, then a remaining length of 1-4 bytes,
 * [MQTT-2.2.3]) before it waits for the body; right then a packet announcing more than the limit
 * fails the parser, and Aedes closes the connection before the body is accumulated. (A stream in
 * front of each socket did the same, at the price of a stream per connection and of Aedes'
 * batched writes.) A remaining length longer than four bytes is refused by the parser itself.
 */
export function limitPacketSize(parser: SizedParser, maxPacketBytes: number): void {
  parser._maxPacketBytes = maxPacketBytes;
  parser._parseLength = guardedParseLength;
}

/** One function for every parser (no closure per connection): the limit lives on the parser. */
function guardedParseLength(this: SizedParser): boolean {
  const parsed = (Object.getPrototypeOf(this) as SizedParser)._parseLength.call(this);
  if (!parsed) return false;
  const body = this.packet.length;
  // Type byte, the remaining length's own bytes (7 bits each), then the body.
  const size = 1 + (body < 128 ? 1 : body < 16_384 ? 2 : body < 2_097_152 ? 3 : 4) + body;
  const limit = this._maxPacketBytes ?? Number.POSITIVE_INFINITY;
  if (size <= limit) return true;
  this._emitError(new PacketTooLargeError(size, limit));
  return false;
}
