/** The one way the console calls the platform's HTTP API: same-origin cookie, JSON, typed errors. */
import type { z } from 'zod';
import type { ErrorSchema, pagedSchema } from '../../../contracts/pages';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  query?: Query;
  body?: unknown;
  form?: FormData;
  signal?: AbortSignal;
}

let unauthorizedListener: (() => void) | null = null;

/** The session context registers here so an expired session sends the user back to sign in. */
export function onUnauthorized(listener: (() => void) | null): void {
  unauthorizedListener = listener;
}

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: BodyInit | undefined;
  if (options.form) body = options.form;
  else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(buildUrl(path, options.query), {
    method: options.method ?? 'GET',
    credentials: 'same-origin',
    headers,
    body,
    signal: options.signal,
  });
  if (response.status === 204) return null as T;
  const text = await response.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      // A proxy or a crashed upstream can answer HTML; report the status instead of a parse error.
      parsed = null;
    }
  }
  if (!response.ok) {
    // A proxy in front of the platform may answer errors of its own, without this body.
    const error = (parsed as Partial<z.infer<typeof ErrorSchema>> | null)?.error;
    if (response.status === 401 && !path.endsWith('/auth/login')) unauthorizedListener?.();
    throw new ApiError(
      response.status,
      error?.code ?? `http_${response.status}`,
      error?.message ?? response.statusText,
      error?.details,
    );
  }
  return parsed as T;
}

export type Page<T> = z.infer<ReturnType<typeof pagedSchema<z.ZodType<T>>>>;
