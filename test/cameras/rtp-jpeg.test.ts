import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeRtp, encodeRtp, type RtpPacket } from '../../devices/onvif-camera/rtp.js';
import {
  jpegHeaders,
  jpegToRtpFrame,
  packetizeJpeg,
  quantTablesForQ,
  RtpJpegDepacketizer,
  RtpJpegError,
} from '../../devices/onvif-camera/rtp-jpeg.js';
import { renderSnapshot } from '../../simulators/onvif-camera/snapshot.js';
import { VIDEO_HEIGHT, VIDEO_WIDTH, VideoFrameSource } from '../../simulators/onvif-camera/video-frames.js';

const packetsOf = (payloads: Buffer[], firstSequence = 100, timestamp = 9000): RtpPacket[] =>
  payloads.map((payload, i) => ({
    payloadType: 26,
    marker: i === payloads.length - 1,
    sequence: (firstSequence + i) & 0xffff,
    timestamp,
    ssrc: 0x1234,
    payload,
  }));

const videoFrame = (atMs = Date.UTC(2026, 10, 22, 0, 0, 5)) =>
  new VideoFrameSource(
    (t) => renderSnapshot('Ngã tư Hướng Đạo', t, 7),
    () => atMs,
  ).frame();

describe('RTP/JPEG (RFC 2435)', () => {
  it('carries the simulator frame through packets and rebuilds a JPEG that decodes to the same pixels', async () => {
    const frame = await videoFrame();
    expect([frame.type, frame.width, frame.height]).toEqual([1, VIDEO_WIDTH, VIDEO_HEIGHT]);
    const payloads = packetizeJpeg(frame, 1000);
    expect(payloads.length).toBeGreaterThan(2);
    for (const payload of payloads) expect(payload.length).toBeLessThanOrEqual(1000);
    const depacketizer = new RtpJpegDepacketizer();
    const out = packetsOf(payloads).map((p) => depacketizer.push(decodeRtp(encodeRtp(p)) as RtpPacket));
    expect(out.slice(0, -1).every((jpeg) => jpeg === null)).toBe(true);
    const jpeg = out.at(-1) as Buffer;
    const rebuilt = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect([rebuilt.info.width, rebuilt.info.height]).toEqual([VIDEO_WIDTH, VIDEO_HEIGHT]);
    // Same tables and entropy-coded data as the original: the same decoded pixels.
    const original = jpegToRtpFrame(jpeg);
    expect(original.scan.equals(frame.scan)).toBe(true);
    expect(original.quantTables.equals(frame.quantTables)).toBe(true);
    expect(depacketizer.stats).toEqual({ frames: 1, dropped: 0 });
  });

  it('drops a frame with a lost fragment and delivers the next one whole', async () => {
    const frame = await videoFrame();
    const depacketizer = new RtpJpegDepacketizer();
    const first = packetsOf(packetizeJpeg(frame, 800), 65_530, 1);
    const lost = [...first.slice(0, 2), ...first.slice(3)];
    expect(lost.map((p) => depacketizer.push(p)).filter(Boolean)).toHaveLength(0);
    const second = packetsOf(packetizeJpeg(frame, 800), (65_530 + first.length) & 0xffff, 2);
    const delivered = second.map((p) => depacketizer.push(p)).filter(Boolean);
    expect(delivered).toHaveLength(1);
    expect(depacketizer.stats).toEqual({ frames: 1, dropped: 1 });
  });

  it('derives the tables of a Q below 128 as RFC 2435 §4.2 does', () => {
    const q50 = quantTablesForQ(50);
    // Q 50 is the T.81 Annex K table itself, in zig-zag order.
    expect([...q50.subarray(0, 6)]).toEqual([16, 11, 12, 14, 12, 10]);
    expect([...q50.subarray(64, 70)]).toEqual([17, 18, 18, 24, 21, 24]);
    expect(quantTablesForQ(99).every((v) => v >= 1)).toBe(true);
    const headers = jpegHeaders({ type: 0, width: 16, height: 8, quantTables: q50 });
    expect(headers.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('refuses JPEGs RFC 2435 cannot carry', async () => {
    const raw = { raw: { width: 64, height: 64, channels: 3 as const } };
    const pixels = Buffer.alloc(64 * 64 * 3, 128);
    const optimised = await sharp(pixels, raw).jpeg({ optimiseCoding: true }).toBuffer();
    const progressive = await sharp(pixels, raw).jpeg({ progressive: true }).toBuffer();
    const odd = await sharp(Buffer.alloc(60 * 60 * 3, 9), { raw: { width: 60, height: 60, channels: 3 } })
      .jpeg({ optimiseCoding: false })
      .toBuffer();
    expect(() => jpegToRtpFrame(optimised)).toThrow(/Huffman/);
    expect(() => jpegToRtpFrame(progressive)).toThrow(RtpJpegError);
    expect(() => jpegToRtpFrame(odd)).toThrow(/multiples of 8/);
    expect(() => jpegToRtpFrame(Buffer.from('<html>'))).toThrow(/SOI/);
  });

  it('reads RTP headers with CSRCs, an extension and padding', () => {
    const packet = Buffer.concat([
      Buffer.from([0xb1, 0x9a, 0x00, 0x07, 0, 0, 0, 9, 0, 0, 0, 1]),
      Buffer.from([0, 0, 0, 2]), // one CSRC
      Buffer.from([0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4]), // one-word extension
      Buffer.from([0xaa, 0xbb, 0, 0, 3]), // payload, then 3 bytes of padding
    ]);
    expect(decodeRtp(packet)).toMatchObject({
      payloadType: 26,
      marker: true,
      sequence: 7,
      timestamp: 9,
      payload: Buffer.from([0xaa, 0xbb]),
    });
    expect(decodeRtp(Buffer.from([0x40, 0]))).toBeNull();
  });
});
