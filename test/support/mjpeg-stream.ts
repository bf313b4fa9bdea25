/**
 * Reads a multipart/x-mixed-replace response (an MJPEG live view) part by part, as a browser's
 * <img> does: each part's Content-Length, then its JPEG.
 */
export class MjpegReader {
  private buffer = Buffer.alloc(0);
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  ended = false;

  constructor(
    response: Response,
    private readonly boundary = 'frame',
  ) {
    if (!response.body) throw new Error('the response has no body');
    this.reader = response.body.getReader();
  }

  /** The next JPEG, or null when the stream ends first. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const frame = this.parse();
      if (frame) return frame;
      const { done, value } = await this.reader.read();
      if (done) {
        this.ended = true;
        return null;
      }
      this.buffer = Buffer.concat([this.buffer, Buffer.from(value)]);
    }
  }

  /** Reads until the server ends the response (true) or `limit` more frames arrive first (false). */
  async untilEnd(limit = 1_000): Promise<boolean> {
    for (let i = 0; i < limit; i++) if ((await this.next()) === null) return true;
    return false;
  }

  async cancel(): Promise<void> {
    await this.reader.cancel();
  }

  private parse(): Buffer | null {
    const start = this.buffer.indexOf(`--${this.boundary}\r\n`);
    if (start < 0) return null;
    const headEnd = this.buffer.indexOf('\r\n\r\n', start);
    if (headEnd < 0) return null;
    const head = this.buffer.subarray(start, headEnd).toString();
    const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1]);
    if (!Number.isFinite(length)) throw new Error(`a part without Content-Length: ${head}`);
    const bodyStart = headEnd + 4;
    if (this.buffer.length < bodyStart + length) return null;
    const jpeg = this.buffer.subarray(bodyStart, bodyStart + length);
    this.buffer = this.buffer.subarray(bodyStart + length);
    return jpeg;
  }
}
