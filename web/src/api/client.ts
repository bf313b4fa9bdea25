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
  const response = await send(path, options, 'application/json');
  if (response.status === 204) return null as T;
  return parseJson(await response.text()) as T;
}

/** A binary answer (a WAV to play) as a Blob; errors come as JSON, as everywhere else. */
export async function apiBlob(path: string, options: RequestOptions = {}): Promise<Blob> {
  const response = await send(path, options, '*/*');
  return response.blob();
}

async function send(path: string, options: RequestOptions, accept: string): Promise<Response> {
  const headers: Record<string, string> = { accept };
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
  if (response.ok) return response;
  // A proxy in front of the platform may answer errors of its own, without this body.
  const parsed = parseJson(await response.text()) as Partial<z.infer<typeof ErrorSchema>> | null;
  const error = parsed?.error;
  if (response.status === 401 && !path.endsWith('/auth/login')) unauthorizedListener?.();
  throw new ApiError(
    response.status,
    error?.code ?? `http_${response.status}`,
    error?.message ?? response.statusText,
    error?.details,
  );
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    // A proxy or a crashed upstream can answer HTML; report the status instead of a parse error.
    return null;
  }
}

export type Page<T> = z.infer<ReturnType<typeof pagedSchema<z.ZodType<T>>>>;
