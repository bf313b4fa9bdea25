import sharp from 'sharp';
import { jpegToRtpFrame, type RtpJpegFrame } from '../../devices/onvif-camera/rtp-jpeg.js';
import { SNAPSHOT_HEIGHT, SNAPSHOT_WIDTH } from './snapshot.js';

/** Frames per second of the RTSP stream: enough for a police officer to follow a crossroads. */
export const VIDEO_FPS = 5;
export const VIDEO_WIDTH = SNAPSHOT_WIDTH;
/** RFC 2435 sizes are multiples of 8, so the snapshot gets a black strip at the bottom. */
export const VIDEO_HEIGHT = Math.ceil(SNAPSHOT_HEIGHT / 8) * 8;

/**
 * The camera's video: its snapshot picture, re-encoded as RTP/JPEG needs it (baseline, 4:2:0,
 * the standard Huffman tables: `optimiseCoding` off). The picture changes once a second (the
 * burnt-in clock and the panning backdrop), so one encode per second serves every frame of that
 * second and every session.
 */
export class VideoFrameSource {
  private cached: { second: number; frame: Promise<RtpJpegFrame> } | null = null;

  constructor(
    /** The snapshot JPEG at a camera time. */
    private readonly render: (cameraNowMs: number) => Promise<Buffer>,
    private readonly cameraNow: () => number,
  ) {}

  frame(): Promise<RtpJpegFrame> {
    const now = this.cameraNow();
    const second = Math.floor(now / 1000);
    if (this.cached?.second !== second) {
      const frame = this.encode(now);
      // A failed encode is tried again with the next frame rather than kept.
      frame.catch(() => {
        if (this.cached?.frame === frame) this.cached = null;
      });
      this.cached = { second, frame };
    }
    return this.cached.frame;
  }

  private async encode(now: number): Promise<RtpJpegFrame> {
    const snapshot = await this.render(now);
    const jpeg = await sharp(snapshot)
      .extend({ bottom: VIDEO_HEIGHT - SNAPSHOT_HEIGHT, background: '#000000' })
      .jpeg({ quality: 75, chromaSubsampling: '4:2:0', optimiseCoding: false, progressive: false })
      .toBuffer();
    return jpegToRtpFrame(jpeg);
  }
}
