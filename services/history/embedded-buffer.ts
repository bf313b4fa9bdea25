import type { TelemetryPoint } from './telemetry-store.js';

/**
 * Points waiting to be written, oldest first. Dropping from the head is O(1), so a full buffer
 * during a long outage costs the message path no more than an empty one.
 */
export class PointBuffer {
  private items: TelemetryPoint[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(points: readonly TelemetryPoint[]): void {
    for (const point of points) this.items.push(point);
  }

  /** The oldest `n` points, left in place until `drop` says they are done with. */
  peek(n: number): TelemetryPoint[] {
    return this.items.slice(this.head, this.head + n);
  }

  /** Forgets the oldest `n` points. */
  drop(n: number): void {
    this.head += Math.min(n, this.length);
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
