/**
 * Runs on the audio rendering thread (an AudioWorkletGlobalScope): collects the microphone's
 * 128-frame render quanta into blocks of `processorOptions.frames` and posts each block, its
 * buffer transferred, to the page, which converts and sends it. Built as its own file (Vite's
 * `?worker&url`) because the platform's CSP allows scripts from 'self' only, not blob: or data:.
 */

// The worklet scope's globals; TypeScript's DOM library does not describe them.
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
}
declare function registerProcessor(
  name: string,
  processor: new (options: { processorOptions?: { frames?: number } }) => AudioWorkletProcessor,
): void;

/** The name microphone.ts creates its AudioWorkletNode with (it cannot import it from here). */
const NAME = 'smart-commune-capture';
const DEFAULT_FRAMES = 2048;

class CaptureProcessor extends AudioWorkletProcessor {
  private readonly frames: number;
  private block: Float32Array;
  private filled = 0;

  constructor(options: { processorOptions?: { frames?: number } }) {
    super();
    this.frames = Math.max(128, options.processorOptions?.frames ?? DEFAULT_FRAMES);
    this.block = new Float32Array(this.frames);
  }

  process(inputs: Float32Array[][]): boolean {
    // The node is created with one explicit channel, so the engine has already mixed to mono.
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    let read = 0;
    while (read < channel.length) {
      const count = Math.min(channel.length - read, this.frames - this.filled);
      this.block.set(channel.subarray(read, read + count), this.filled);
      this.filled += count;
      read += count;
      if (this.filled === this.frames) {
        this.port.postMessage(this.block, [this.block.buffer]);
        this.block = new Float32Array(this.frames);
        this.filled = 0;
      }
    }
    // Keep running while the page holds the node, whether or not a quantum had input.
    return true;
  }
}

registerProcessor(NAME, CaptureProcessor);

// A module, so the declarations above stay in this file.
export {};
