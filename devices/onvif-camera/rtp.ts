/** One RTP packet (RFC 3550 §5.1); the header fields this platform reads or writes. */
export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  sequence: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** The RTP video clock of every payload format used here (RFC 3551 §5: 90 kHz for video). */
export const RTP_VIDEO_CLOCK_HZ = 90_000;

/** A fixed 12-byte header, version 2, no padding, extension or CSRC list. */
export function encodeRtp(packet: RtpPacket): Buffer {
  const header = Buffer.alloc(12);
  header[0] = 0x80;
  header[1] = (packet.marker ? 0x80 : 0) | (packet.payloadType & 0x7f);
  header.writeUInt16BE(packet.sequence & 0xffff, 2);
  header.writeUInt32BE(packet.timestamp >>> 0, 4);
  header.writeUInt32BE(packet.ssrc >>> 0, 8);
  return Buffer.concat([header, packet.payload]);
}

/**
 * Reads a packet, skipping the CSRC list and a header extension (§5.3.1) and dropping padding
 * (§5.1 P bit); null for anything that is not a well-formed RTP version 2 packet.
 */
export function decodeRtp(data: Buffer): RtpPacket | null {
  const first = data[0];
  const second = data[1];
  if (data.length < 12 || first === undefined || second === undefined || first >> 6 !== 2) return null;
  let offset = 12 + 4 * (first & 0x0f);
  if ((first & 0x10) !== 0) {
    if (data.length < offset + 4) return null;
    offset += 4 + 4 * data.readUInt16BE(offset + 2);
  }
  let end = data.length;
  if ((first & 0x20) !== 0) end -= data[data.length - 1] ?? 0;
  if (offset > end) return null;
  return {
    payloadType: second & 0x7f,
    marker: (second & 0x80) !== 0,
    sequence: data.readUInt16BE(2),
    timestamp: data.readUInt32BE(4),
    ssrc: data.readUInt32BE(8),
    payload: data.subarray(offset, end),
  };
}
