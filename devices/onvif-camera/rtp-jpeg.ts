import type { RtpPacket } from './rtp.js';

/*
 * RTP payload format for JPEG-compressed video, RFC 2435. A frame travels as the entropy-coded
 * data of its one scan, cut into fragments behind an 8-byte header (type, Q, size in 8-pixel
 * units, fragment offset); the quantisation tables ride in-band in the first fragment (Q ≥ 128) or
 * follow from Q (§4.2); the Huffman tables are always the standard ones of ITU-T T.81 Annex K.3,
 * which is why an encoder must use them. The receiver rebuilds the JPEG headers (Appendix A).
 */

/** Static payload type for JPEG (RFC 3551 §6). */
export const RTP_JPEG_PAYLOAD_TYPE = 26;

/** A JPEG as RFC 2435 carries it. */
export interface RtpJpegFrame {
  /** §3.1.3: 0 for 4:2:2 (luma sampled 2×1), 1 for 4:2:0 (luma 2×2). */
  type: 0 | 1;
  /** Pixels; multiples of 8 up to 2040. */
  width: number;
  height: number;
  /** Luma then chroma table, 64 bytes each, in zig-zag order as in DQT. */
  quantTables: Buffer;
  /** The entropy-coded data of the single scan, EOI excluded. */
  scan: Buffer;
}

export class RtpJpegError extends Error {
  override readonly name = 'RtpJpegError';
}

/** Natural index of each zig-zag position (T.81 Figure 5). */
const ZIGZAG: readonly number[] = (() => {
  const order: number[] = [];
  for (let sum = 0; sum < 15; sum++) {
    const diagonal: number[] = [];
    for (let y = 0; y < 8; y++) if (sum - y >= 0 && sum - y < 8) diagonal.push(y * 8 + sum - y);
    order.push(...(sum % 2 === 0 ? diagonal.reverse() : diagonal));
  }
  return order;
})();

// T.81 Annex K.1, natural order.
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_QUANT = [
  17,
  18,
  24,
  47,
  99,
  99,
  99,
  99,
  18,
  21,
  26,
  66,
  99,
  99,
  99,
  99,
  24,
  26,
  56,
  99,
  99,
  99,
  99,
  99,
  47,
  66,
  99,
  ...Array<number>(37).fill(99),
];

/** Huffman tables of T.81 Annex K.3: 16 code counts, then the symbols. */
interface HuffmanTable {
  counts: Buffer;
  symbols: Buffer;
}
const hex = (text: string) => Buffer.from(text, 'hex');
const DC_SYMBOLS = hex('000102030405060708090a0b');
const STANDARD_HUFFMAN: Record<'lumaDc' | 'lumaAc' | 'chromaDc' | 'chromaAc', HuffmanTable> = {
  lumaDc: { counts: hex('00010501010101010100000000000000'), symbols: DC_SYMBOLS },
  lumaAc: {
    counts: hex('0002010303020403050504040000017d'),
    symbols: hex(
      '01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a' +
        '3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a9293' +
        '9495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6' +
        'e7e8e9eaf1f2f3f4f5f6f7f8f9fa',
    ),
  },
  chromaDc: { counts: hex('00030101010101010101010000000000'), symbols: DC_SYMBOLS },
  chromaAc: {
    counts: hex('00020102040403040705040400010277'),
    symbols: hex(
      '000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a2627' +
        '28292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a8283848586878889' +
        '8a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4' +
        'e5e6e7e8e9eaf2f3f4f5f6f7f8f9fa',
    ),
  },
};
/** Class (0 DC, 1 AC) and destination (0 luma, 1 chroma) of each DHT table, as Tc << 4 | Th. */
const HUFFMAN_SLOTS = [
  [0x00, STANDARD_HUFFMAN.lumaDc],
  [0x10, STANDARD_HUFFMAN.lumaAc],
  [0x01, STANDARD_HUFFMAN.chromaDc],
  [0x11, STANDARD_HUFFMAN.chromaAc],
] as const;

/**
 * The quantisation tables a Q of 1–99 stands for (RFC 2435 §4.2, the IJG scaling), in zig-zag
 * order, luma then chroma.
 */
export function quantTablesForQ(q: number): Buffer {
  const factor = Math.min(Math.max(q, 1), 99);
  const scale = factor < 50 ? Math.floor(5000 / factor) : 200 - factor * 2;
  const scaled = (table: readonly number[]) =>
    ZIGZAG.map((natural) =>
      Math.min(Math.max(Math.floor(((table[natural] ?? 1) * scale + 50) / 100), 1), 255),
    );
  return Buffer.from([...scaled(LUMA_QUANT), ...scaled(CHROMA_QUANT)]);
}

/**
 * Splits a baseline JPEG into what RFC 2435 sends, refusing what it cannot carry: progressive or
 * 12-bit coding, restart intervals, sampling other than 4:2:2 or 4:2:0, sizes that are not
 * multiples of 8, and Huffman tables other than the standard ones (an "optimised" JPEG).
 */
export function jpegToRtpFrame(jpeg: Buffer): RtpJpegFrame {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new RtpJpegError('not a JPEG (no SOI marker)');
  const tables = new Map<number, Buffer>();
  let frame: { type: 0 | 1; width: number; height: number; tableOf: number[] } | null = null;
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) throw new RtpJpegError(`no marker at byte ${offset}`);
    const marker = jpeg[offset + 1] as number;
    if (marker === 0xff) {
      offset += 1; // fill byte (T.81 B.1.1.2)
      continue;
    }
    const length = jpeg.readUInt16BE(offset + 2);
    const segment = jpeg.subarray(offset + 4, offset + 2 + length);
    if (segment.length !== length - 2) throw new RtpJpegError('JPEG cut short');
    if (marker === 0xc0) frame = readFrameHeader(segment);
    else if ((marker & 0xf0) === 0xc0 && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      throw new RtpJpegError(`SOF${marker - 0xc0} coding is not baseline; RFC 2435 carries baseline only`);
    else if (marker === 0xc4) checkStandardHuffman(segment);
    else if (marker === 0xdb) readQuantTables(segment, tables);
    else if (marker === 0xdd && segment.readUInt16BE(0) !== 0)
      throw new RtpJpegError('restart intervals are not supported');
    else if (marker === 0xda) {
      if (!frame) throw new RtpJpegError('scan before the frame header');
      checkScanHeader(segment);
      const start = offset + 2 + length;
      const luma = tables.get(frame.tableOf[0] as number);
      const chroma = tables.get(frame.tableOf[1] as number);
      if (!luma || !chroma) throw new RtpJpegError('quantisation table missing');
      return {
        type: frame.type,
        width: frame.width,
        height: frame.height,
        quantTables: Buffer.concat([luma, chroma]),
        scan: jpeg.subarray(start, scanEnd(jpeg, start)),
      };
    }
    offset += 2 + length;
  }
  throw new RtpJpegError('no scan in the JPEG');
}

function readFrameHeader(segment: Buffer): { type: 0 | 1; width: number; height: number; tableOf: number[] } {
  const precision = segment[0];
  const height = segment.readUInt16BE(1);
  const width = segment.readUInt16BE(3);
  if (precision !== 8) throw new RtpJpegError(`${precision}-bit samples; RFC 2435 carries 8-bit`);
  if (segment[5] !== 3) throw new RtpJpegError(`${segment[5]} components; RFC 2435 carries YCbCr`);
  if (width % 8 !== 0 || height % 8 !== 0 || width > 2040 || height > 2040 || width === 0 || height === 0)
    throw new RtpJpegError(`${width}×${height}: RFC 2435 sizes are multiples of 8 up to 2040`);
  const sampling = [segment[7], segment[10], segment[13]];
  const tableOf = [segment[8] as number, segment[11] as number, segment[14] as number];
  if (sampling[1] !== 0x11 || sampling[2] !== 0x11 || tableOf[1] !== tableOf[2])
    throw new RtpJpegError('chroma must be sampled 1×1 and share one table');
  if (sampling[0] !== 0x21 && sampling[0] !== 0x22)
    throw new RtpJpegError('luma must be sampled 2×1 (4:2:2) or 2×2 (4:2:0)');
  return { type: sampling[0] === 0x21 ? 0 : 1, width, height, tableOf };
}

function readQuantTables(segment: Buffer, tables: Map<number, Buffer>): void {
  for (let at = 0; at < segment.length; at += 65) {
    const pqTq = segment[at] as number;
    if (pqTq >> 4 !== 0) throw new RtpJpegError('16-bit quantisation tables are not supported');
    tables.set(pqTq & 0x0f, Buffer.from(segment.subarray(at + 1, at + 65)));
  }
}

function checkStandardHuffman(segment: Buffer): void {
  for (let at = 0; at < segment.length; ) {
    const slot = segment[at] as number;
    const counts = segment.subarray(at + 1, at + 17);
    const total = counts.reduce((sum, n) => sum + n, 0);
    const symbols = segment.subarray(at + 17, at + 17 + total);
    const standard = HUFFMAN_SLOTS.find(([s]) => s === slot)?.[1];
    if (!standard?.counts.equals(counts) || !standard.symbols.equals(symbols))
      throw new RtpJpegError('the JPEG uses its own Huffman tables; RFC 2435 needs the standard ones');
    at += 17 + total;
  }
}

function checkScanHeader(segment: Buffer): void {
  // Ns = 3; luma with tables 0/0, both chroma components with 1/1; Ss 0, Se 63, Ah/Al 0.
  const ok =
    segment[0] === 3 &&
    segment[2] === 0x00 &&
    segment[4] === 0x11 &&
    segment[6] === 0x11 &&
    segment[7] === 0 &&
    segment[8] === 63 &&
    segment[9] === 0;
  if (!ok) throw new RtpJpegError('scan is not one interleaved baseline scan with the usual tables');
}

/** The first marker after the entropy-coded data (a stuffed 0xFF00 is data, T.81 F.1.2.3). */
function scanEnd(jpeg: Buffer, start: number): number {
  for (let i = start; i < jpeg.length - 1; i++) {
    if (jpeg[i] === 0xff && jpeg[i + 1] !== 0x00) return i;
  }
  return jpeg.length;
}

/**
 * The RTP payloads of one frame, each at most `maxPayload` bytes: the main JPEG header (§3.1) with
 * Q = 255 and, in the first, the quantisation tables (§3.1.8), so every frame stands alone.
 */
export function packetizeJpeg(frame: RtpJpegFrame, maxPayload = 1400): Buffer[] {
  const payloads: Buffer[] = [];
  let offset = 0;
  do {
    const header = Buffer.alloc(8);
    header.writeUIntBE(offset, 1, 3);
    header[4] = frame.type;
    header[5] = 255;
    header[6] = frame.width / 8;
    header[7] = frame.height / 8;
    const parts: Buffer[] = [header];
    if (offset === 0) {
      const tables = Buffer.alloc(4);
      tables.writeUInt16BE(frame.quantTables.length, 2);
      parts.push(tables, frame.quantTables);
    }
    const room = maxPayload - parts.reduce((sum, part) => sum + part.length, 0);
    if (room <= 0) throw new RtpJpegError(`payload size ${maxPayload} leaves no room for data`);
    const data = frame.scan.subarray(offset, offset + room);
    parts.push(data);
    payloads.push(Buffer.concat(parts));
    offset += data.length;
  } while (offset < frame.scan.length);
  return payloads;
}

/** Rebuilds the JPEG headers for a received frame (RFC 2435 Appendix A). */
export function jpegHeaders(frame: {
  type: number;
  width: number;
  height: number;
  quantTables: Buffer;
  restartInterval?: number;
}): Buffer {
  const luma = frame.quantTables.subarray(0, 64);
  const chroma = frame.quantTables.length >= 128 ? frame.quantTables.subarray(64, 128) : luma;
  const segment = (marker: number, body: Buffer) => {
    const head = Buffer.alloc(4);
    head[0] = 0xff;
    head[1] = marker;
    head.writeUInt16BE(body.length + 2, 2);
    return Buffer.concat([head, body]);
  };
  const u16 = (value: number) => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value);
    return b;
  };
  const parts = [
    Buffer.from([0xff, 0xd8]),
    segment(0xdb, Buffer.concat([Buffer.from([0]), luma, Buffer.from([1]), chroma])),
  ];
  if (frame.restartInterval) parts.push(segment(0xdd, u16(frame.restartInterval)));
  const lumaSampling = (frame.type & 0x3f) === 0 ? 0x21 : 0x22;
  parts.push(
    segment(
      0xc0,
      Buffer.concat([
        Buffer.from([8]),
        u16(frame.height),
        u16(frame.width),
        Buffer.from([3, 1, lumaSampling, 0, 2, 0x11, 1, 3, 0x11, 1]),
      ]),
    ),
  );
  for (const [slot, table] of HUFFMAN_SLOTS)
    parts.push(segment(0xc4, Buffer.concat([Buffer.from([slot]), table.counts, table.symbols])));
  parts.push(segment(0xda, Buffer.from([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0])));
  return Buffer.concat(parts);
}

export interface DepacketizerStats {
  frames: number;
  /** Frames dropped for a lost or reordered fragment, or a form this receiver does not take. */
  dropped: number;
}

/**
 * Reassembles JPEG frames from RTP/JPEG packets of one stream. A frame with a missing fragment is
 * dropped whole: a live view shows the next one instead of a smeared picture.
 */
export class RtpJpegDepacketizer {
  private parts: Buffer[] = [];
  private expected = 0;
  private timestamp: number | null = null;
  private lastSequence: number | null = null;
  private header: { type: number; width: number; height: number; quantTables: Buffer; dri: number } | null =
    null;
  private broken = false;
  /** In-band tables of Q 128–254 may be sent once and then left out (§3.1.8). */
  private readonly cachedTables = new Map<number, Buffer>();
  readonly stats: DepacketizerStats = { frames: 0, dropped: 0 };

  /** Feeds one packet; returns the complete JPEG when this packet ends a frame. */
  push(packet: RtpPacket): Buffer | null {
    const gap = this.lastSequence !== null && ((packet.sequence - this.lastSequence) & 0xffff) !== 1;
    this.lastSequence = packet.sequence;
    const p = packet.payload;
    if (p.length < 8) return this.fail(packet);
    const offset = p.readUIntBE(1, 3);
    const type = p[4] as number;
    const q = p[5] as number;
    let at = 8;
    let dri = 0;
    if (type >= 64 && type <= 127) {
      dri = p.readUInt16BE(at);
      at += 4;
    }
    if ((type & 0x3f) > 1) return this.fail(packet);
    if (offset === 0) {
      if (this.parts.length > 0) this.stats.dropped++;
      this.parts = [];
      this.expected = 0;
      this.broken = false;
      this.header = null;
      this.timestamp = packet.timestamp;
      let quantTables: Buffer | undefined;
      if (q >= 128) {
        const precision = p[at + 1] as number;
        const length = p.readUInt16BE(at + 2);
        at += 4;
        if (precision !== 0) return this.fail(packet);
        if (length > 0) {
          quantTables = Buffer.from(p.subarray(at, at + length));
          at += length;
          if (q !== 255) this.cachedTables.set(q, quantTables);
        } else quantTables = this.cachedTables.get(q);
      } else quantTables = quantTablesForQ(q);
      if (!quantTables || quantTables.length < 64) return this.fail(packet);
      this.header = {
        type,
        width: (p[6] as number) * 8,
        height: (p[7] as number) * 8,
        quantTables,
        dri,
      };
    } else if (gap || this.timestamp !== packet.timestamp || offset !== this.expected) {
      this.broken = true;
    }
    if (this.header === null || this.timestamp !== packet.timestamp) return this.endOnMarker(packet);
    const data = p.subarray(at);
    this.parts.push(data);
    this.expected += data.length;
    return this.endOnMarker(packet);
  }

  private endOnMarker(packet: RtpPacket): Buffer | null {
    if (!packet.marker) return null;
    const header = this.header;
    const complete = header !== null && !this.broken && this.parts.length > 0;
    const scan = Buffer.concat(this.parts);
    this.parts = [];
    this.header = null;
    this.timestamp = null;
    if (!complete) {
      this.stats.dropped++;
      return null;
    }
    this.stats.frames++;
    const ended = scan.length >= 2 && scan[scan.length - 2] === 0xff && scan[scan.length - 1] === 0xd9;
    return Buffer.concat([
      jpegHeaders({ ...header, restartInterval: header.dri }),
      scan,
      ended ? Buffer.alloc(0) : Buffer.from([0xff, 0xd9]),
    ]);
  }

  private fail(packet: RtpPacket): Buffer | null {
    this.broken = true;
    return this.endOnMarker(packet);
  }
}
