import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { silentWav, type WavFormat } from '../support/wav.js';

/** A valid PCM WAV of silence (defaults: 8 kHz, mono, 8 bit, so 8000 bytes per second). */
export const buildWav = (seconds: number, format: WavFormat = {}): Buffer => silentWav(seconds, format);

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export interface SeenRequest {
  method: string;
  path: string;
  /** Path and query, as requested. */
  url: string;
  /** Resolves when the client closed the connection or the response ended. */
  closed: Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** One request to a live route, answered as the test decides. */
export interface LiveResponse {
  /** Sends bytes (after a 200 head without Content-Length, on the first call); resolves once written. */
  write(bytes: Buffer): Promise<void>;
  /** Sends the last bytes and ends the response, as the platform does when a talk ends. */
  end(bytes?: Buffer): Promise<void>;
  /** Answers with this status instead of a stream. */
  fail(status: number): void;
  /** Breaks the connection mid-body, as a crashed sender or a lost link does. */
  destroy(): void;
  /** Resolves when the client closed the connection or the response ended. */
  readonly closed: Promise<void>;
}

export interface LiveRoute {
  /** The next request for the route, already arrived or still to come. */
  next(): Promise<LiveResponse>;
}

/** An HTTP server on an ephemeral port, recording every request; unknown paths get 404. */
export interface MediaServer {
  readonly requests: SeenRequest[];
  url(path: string): string;
  /** Requests for one path (query ignored). */
  requestsFor(path: string): SeenRequest[];
  /** Serves these bytes with status 200. */
  serve(path: string, body: Buffer, contentType?: string): void;
  /** Answers with this status and a short text body. */
  status(path: string, code: number): void;
  /** Serves the body only once release() is called: a download that takes as long as the test wants. */
  hold(path: string, body: Buffer): { release(): void };
  /** A live stream: sends `chunk` at once and keeps the response open until the client goes away. */
  stream(path: string, chunk: Buffer): void;
  /** Accepts the request and never answers. */
  silent(path: string): void;
  /** A live stream whose every request the test answers, byte by byte (see LiveResponse). */
  live(path: string, contentType?: string): LiveRoute;
  close(): Promise<void>;
}

export async function startMediaServer(): Promise<MediaServer> {
  const routes = new Map<string, Handler>();
  const requests: SeenRequest[] = [];
  const openResponses = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const path = new URL(url, 'http://localhost').pathname;
    openResponses.add(res);
    const closed = new Promise<void>((resolve) =>
      res.once('close', () => {
        openResponses.delete(res);
        resolve();
      }),
    );
    requests.push({ method: req.method ?? '', path, url, closed });
    const handler = routes.get(path);
    if (handler) handler(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    requests,
    url: (path) => `${base}${path}`,
    requestsFor: (path) => requests.filter((request) => request.path === path),
    serve(path, body, contentType = 'audio/wav') {
      routes.set(path, (_req, res) => {
        res.writeHead(200, { 'content-type': contentType, 'content-length': body.length }).end(body);
      });
    },
    status(path, code) {
      routes.set(path, (_req, res) => {
        res.writeHead(code, { 'content-type': 'text/plain' }).end(`status ${code}`);
      });
    },
    hold(path, body) {
      const waiting: ServerResponse[] = [];
      let released = false;
      const send = (res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': body.length }).end(body);
      routes.set(path, (_req, res) => {
        if (released) send(res);
        else waiting.push(res);
      });
      return {
        release() {
          released = true;
          for (const res of waiting.splice(0)) send(res);
        },
      };
    },
    stream(path, chunk) {
      routes.set(path, (_req, res) => {
        res.writeHead(200, { 'content-type': 'audio/mpeg' });
        res.write(chunk);
      });
    },
    silent(path) {
      routes.set(path, () => undefined);
    },
    live(path, contentType = 'audio/mpeg') {
      const arrived: LiveResponse[] = [];
      const waiting: ((response: LiveResponse) => void)[] = [];
      routes.set(path, (_req, res) => {
        const response = liveResponse(res, contentType);
        const waiter = waiting.shift();
        if (waiter) waiter(response);
        else arrived.push(response);
      });
      return {
        next() {
          const response = arrived.shift();
          return response ? Promise.resolve(response) : new Promise((resolve) => waiting.push(resolve));
        },
      };
    },
    async close() {
      for (const res of openResponses) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function liveResponse(res: ServerResponse, contentType: string): LiveResponse {
  const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
  const head = () => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': contentType });
  };
  return {
    write(bytes) {
      head();
      return new Promise((resolve, reject) =>
        res.write(bytes, (error) => (error ? reject(error) : resolve())),
      );
    },
    end(bytes = Buffer.alloc(0)) {
      head();
      return new Promise((resolve) => res.end(bytes, () => resolve()));
    },
    fail(status) {
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
    },
    destroy() {
      res.destroy();
    },
    closed,
  };
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger at debug level whose lines a test can read and wait for. */
export function captureLogs(): { logger: Logger; lines: LogLine[]; find(msg: RegExp): LogLine | undefined } {
  const lines: LogLine[] = [];
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        lines.push(JSON.parse(line) as LogLine);
      },
    },
  );
  return { logger, lines, find: (msg) => lines.find((line) => msg.test(line.msg)) };
}
