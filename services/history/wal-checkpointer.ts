import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/** What one `PRAGMA wal_checkpoint(PASSIVE)` reported: WAL frames in the log and copied back. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

/*
 * The worker's code, kept in a string so it runs the same from the compiled build and from the
 * TypeScript sources the tests load: its own connection to the file, a PASSIVE checkpoint on an
 * interval and on request, and a clean close when asked.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: workerData.busyTimeoutMs });
const checkpoint = () => db.pragma('wal_checkpoint(PASSIVE)')[0];
const timer = setInterval(() => {
  try { checkpoint(); } catch (err) { parentPort.postMessage({ type: 'error', message: String(err && err.message || err) }); }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message.type === 'checkpoint') {
    try { parentPort.postMessage({ type: 'checkpointed', id: message.id, result: checkpoint() }); }
    catch (err) { parentPort.postMessage({ type: 'checkpointed', id: message.id, error: String(err && err.message || err) }); }
  } else if (message.type === 'close') {
    clearInterval(timer);
    db.close();
    parentPort.postMessage({ type: 'closed' });
  }
});
`;

type WorkerMessage =
  | { type: 'error'; message: string }
  | { type: 'checkpointed'; id: number; result?: CheckpointResult; error?: string }
  | { type: 'closed' };

/**
 * Copies a SQLite file's write-ahead log back into the database from a worker thread. A
 * checkpoint reads and writes megabytes and syncs the file; run by SQLite's automatic
 * checkpointing it happens inside whichever commit crosses the threshold, on the broker's event
 * loop, and held it for 20 to 30 ms every few commits at province ingest rates. The connection
 * that writes turns automatic checkpoints off (`wal_autocheckpoint = 0`) and this keeps the log
 * short instead. PASSIVE never waits for or blocks the writer.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, (result: CheckpointResult) => void>();
  private nextId = 1;
  private closed: Promise<void> | null = null;
  private exited = false;

  constructor(options: { file: string; intervalMs: number; busyTimeoutMs: number; logger: Logger }) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver,
        file: options.file,
        intervalMs: options.intervalMs,
        busyTimeoutMs: options.busyTimeoutMs,
      },
    });
    // The worker never keeps the process alive; close() ends it.
    this.worker.unref();
    this.worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'error') {
        options.logger.warn(
          { err: message.message },
          'history checkpoint failed; retrying on the next interval',
        );
      } else if (message.type === 'checkpointed') {
        if (message.error) options.logger.warn({ err: message.error }, 'history checkpoint failed');
        this.waiting.get(message.id)?.(message.result ?? { busy: 1, log: -1, checkpointed: -1 });
        this.waiting.delete(message.id);
      }
    });
    this.worker.on('error', (err) => options.logger.error({ err }, 'history checkpoint worker failed'));
    this.worker.on('exit', () => {
      this.exited = true;
      for (const resolve of this.waiting.values()) resolve({ busy: 1, log: -1, checkpointed: -1 });
      this.waiting.clear();
    });
  }

  /** Checkpoints now; resolves with what SQLite reported. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.exited) return Promise.resolve({ busy: 1, log: -1, checkpointed: -1 });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ type: 'checkpoint', id });
    });
  }

  /** Closes the worker's connection (before the writer closes, so SQLite can fold the log back in). */
  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve();
      const done = () => resolve();
      this.worker.once('exit', done);
      this.worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'closed') void this.worker.terminate().then(done, done);
      });
      this.worker.postMessage({ type: 'close' });
    });
    return this.closed;
  }
}
