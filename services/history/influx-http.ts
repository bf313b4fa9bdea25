import { type TelemetryBackend, TelemetryUnavailableError } from './telemetry-store.js';

/** One series of an InfluxQL answer (`epoch=ms`, so times are numbers). */
export interface InfluxSeries {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

export interface InfluxStatementResult {
  statement_id?: number;
  series?: InfluxSeries[];
  error?: string;
}

/**
 * The server understood the request and refused it: a statement error, a parse error, a 4xx.
 * Retrying will not help; the message is InfluxDB's own.
 */
export class InfluxRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'InfluxRequestError';
  }
}

export interface InfluxHttpOptions {
  url: string;
  db: string;
  /** Authorization, when the server wants it. */
  headers: Record<string, string>;
  timeoutMs: number;
  backend: TelemetryBackend;
}

/**
 * InfluxQL over the 1.x `/query` endpoint, the read API InfluxDB 1.x, 2.x (DBRP mapping) and 3.x
 * all serve. Unreachable, timed out or 5xx: TelemetryUnavailableError (the API answers 503), as
 * are refused credentials on reads; anything else the server refuses: InfluxRequestError.
 */
export class InfluxHttp {
  private readonly base: string;

  constructor(private readonly options: InfluxHttpOptions) {
    this.base = options.url.replace(/\/+$/, '');
  }

  /** Runs read statements (`;`-separated) and returns one result per statement. */
  async select(statements: string): Promise<InfluxStatementResult[]> {
    const params = new URLSearchParams({ db: this.options.db, q: statements, epoch: 'ms' });
    try {
      return this.results(await this.call(`/query?${params}`, { method: 'GET' }));
    } catch (error) {
      // Refused credentials or a database the server does not have (no 2.x DBRP mapping, a
      // dropped 1.x database) are deployment problems, not a bad request from the caller.
      if (
        error instanceof InfluxRequestError &&
        (error.status === 401 || error.status === 403 || /database not found/i.test(error.message))
      ) {
        throw this.unavailable(error.message);
      }
      throw error;
    }
  }

  /** Runs a statement that changes the server (CREATE DATABASE): 1.x wants those as POST. */
  async command(statement: string): Promise<void> {
    const body = await this.call('/query', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ q: statement }).toString(),
    });
    this.results(body);
  }

  /** The server's version (empty when it does not say); throws when it is not answering. */
  async ping(): Promise<string> {
    const response = await this.fetch('/ping', { method: 'GET' });
    // Read to the end so the connection can be reused; what it says does not matter.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw this.unavailable(`${response.status} ${response.statusText}`);
    return response.headers.get('x-influxdb-version') ?? '';
  }

  private async call(path: string, init: RequestInit): Promise<unknown> {
    const response = await this.fetch(path, init);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.unavailable(error);
    }
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON: a proxy's error page, say; the status and the text explain it below.
    }
    if (!response.ok) {
      const message = errorMessage(json) ?? (text.slice(0, 300) || response.statusText);
      throw this.failure(response.status, `${response.status}: ${message}`);
    }
    if (json === null) throw this.unavailable(`unexpected answer: ${text.slice(0, 300)}`);
    return json;
  }

  private async fetch(path: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${path}`, {
        ...init,
        headers: { ...this.options.headers, ...(init.headers as Record<string, string> | undefined) },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private results(body: unknown): InfluxStatementResult[] {
    const top = errorMessage(body);
    if (top) throw new InfluxRequestError(top, 200);
    const results = (body as { results?: unknown } | null)?.results;
    if (!Array.isArray(results)) throw this.unavailable('the answer has no results');
    for (const result of results as InfluxStatementResult[]) {
      if (result?.error) throw new InfluxRequestError(result.error, 200);
    }
    return results as InfluxStatementResult[];
  }

  private failure(status: number, message: string): Error {
    if (status >= 500 || status === 408 || status === 429) return this.unavailable(message);
    return new InfluxRequestError(message, status);
  }

  private unavailable(cause: unknown): TelemetryUnavailableError {
    return new TelemetryUnavailableError(this.options.backend, reasonOf(cause));
  }
}

function errorMessage(body: unknown): string | null {
  if (body === null || typeof body !== 'object') return null;
  const { error, message } = body as { error?: unknown; message?: unknown };
  if (typeof error === 'string' && error) return error;
  // 2.x and 3.x answer errors as {code, message}.
  if (typeof message === 'string' && message && 'code' in body) return message;
  return null;
}

/** A one-line reason, including the socket error fetch keeps in `cause` (ECONNREFUSED…). */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${error.message} (${typeof code === 'string' ? code : cause.message})`;
  }
  return error.message;
}
