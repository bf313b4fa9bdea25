import {
  type ChunkCombiner,
  type CommunicationObserver,
  HttpError,
  type SendOptions,
  type Transport,
} from '@influxdata/influxdb-client';

export interface WriteTransportHooks {
  /**
   * Runs before the first write goes out, and again after the server answers that the database
   * does not exist (dropped, or a wiped data directory). A rejection fails that write attempt,
   * which the WriteApi then retries like any other failure.
   */
  ensureDatabase?: () => Promise<void>;
}

/** InfluxDB 1.x answers a write to a database it does not have with 404 "database not found". */
function isMissingDatabase(error: Error): boolean {
  return (
    error instanceof HttpError && error.statusCode === 404 && /database not found/i.test(error.body ?? '')
  );
}

/**
 * Delegates the WriteApi's requests to the client's own transport, adding what the WriteApi
 * lacks: a count of requests in flight, so flush and close can wait for batches the WriteApi
 * sent on its own (batch full, flush interval, scheduled retry) and does not await; and, for
 * InfluxDB 1.x, creating the database when it is missing instead of losing the batch.
 */
export class InfluxWriteTransport implements Transport {
  readonly chunkCombiner: ChunkCombiner;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private ensured: Promise<void> | null = null;

  constructor(
    private readonly inner: Transport,
    private readonly hooks: WriteTransportHooks = {},
  ) {
    this.chunkCombiner = inner.chunkCombiner;
  }

  send(
    path: string,
    body: string,
    options: SendOptions,
    callbacks?: Partial<CommunicationObserver<Uint8Array>>,
  ): void {
    this.inFlight++;
    let settled = false;
    let recreated = false;
    const settle = () => {
      if (settled) return;
      settled = true;
      this.inFlight--;
      if (this.inFlight === 0) for (const wake of [...this.idleWaiters]) wake();
    };
    const observer: Partial<CommunicationObserver<Uint8Array>> = {
      ...callbacks,
      error: (error) => {
        if (!recreated && this.hooks.ensureDatabase && isMissingDatabase(error)) {
          recreated = true;
          this.ensured = null;
          this.dispatch(path, body, options, observer);
          return;
        }
        // Settled only after the WriteApi has filed the failure (retry buffer or drop), so a
        // waiter woken by idle() sees its outcome.
        try {
          callbacks?.error?.(error);
        } finally {
          settle();
        }
      },
      complete: () => {
        try {
          callbacks?.complete?.();
        } finally {
          settle();
        }
      },
    };
    this.dispatch(path, body, options, observer);
  }

  request(
    path: string,
    body: unknown,
    options: SendOptions,
    responseStarted?: Parameters<Transport['request']>[3],
  ) {
    return this.inner.request(path, body, options, responseStarted);
  }

  iterate(path: string, body: unknown, options: SendOptions): AsyncIterableIterator<Uint8Array> {
    return this.inner.iterate(path, body, options);
  }

  /** Creates the database now (start), so the first write need not wait for it. */
  prepare(): Promise<void> {
    return this.ensure();
  }

  /** Resolves once no request is in flight, or after `timeoutMs`, whichever comes first. */
  idle(timeoutMs: number): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.idleWaiters = this.idleWaiters.filter((waiter) => waiter !== done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.idleWaiters.push(done);
    });
  }

  private dispatch(
    path: string,
    body: string,
    options: SendOptions,
    observer: Partial<CommunicationObserver<Uint8Array>>,
  ): void {
    const fail = (error: unknown) =>
      observer.error?.(error instanceof Error ? error : new Error(String(error)));
    void this.ensure().then(() => {
      try {
        this.inner.send(path, body, options, observer);
      } catch (error) {
        fail(error);
      }
    }, fail);
  }

  private ensure(): Promise<void> {
    const { ensureDatabase } = this.hooks;
    if (!ensureDatabase) return Promise.resolve();
    if (!this.ensured) {
      const attempt = ensureDatabase().catch((error: unknown) => {
        if (this.ensured === attempt) this.ensured = null;
        throw error;
      });
      this.ensured = attempt;
    }
    return this.ensured;
  }
}
