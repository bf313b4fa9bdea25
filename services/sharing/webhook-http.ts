import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WebhookAddressPolicy } from './webhook-address-policy.js';

/** What one POST came to: the receiver's status, or why there was none. */
export interface PostOutcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

/** A receiver's answer body is not read beyond this; it is only drained. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs a JSON body once: the URL checked by the policy, every resolved address checked at
 * connect, no redirect followed (a 3xx is a failure: the receiver's URL changed and an admin must
 * register the new one), a fresh connection each time, and `timeoutMs` for the whole exchange.
 * A 2xx answer is a delivery.
 */
export function postWebhook(input: {
  url: string;
  body: string;
  headers: Record<string, string>;
  policy: WebhookAddressPolicy;
  timeoutMs: number;
  signal: AbortSignal;
  /** Real time for the duration and the timeout: the exchange is I/O, not the platform's clock. */
  now?: () => number;
}): Promise<PostOutcome> {
  const now = input.now ?? Date.now;
  const started = now();
  const done = (status: number | null, error: string | null): PostOutcome => ({
    ok: status !== null && status >= 200 && status < 300 && error === null,
    status,
    error,
    durationMs: Math.max(0, Math.round(now() - started)),
  });
  const refusal = input.policy.refusal(input.url);
  if (refusal) return Promise.resolve(done(null, `refused: ${refusal}`));
  return new Promise((resolve) => {
    const options: RequestOptions = {
      method: 'POST',
      lookup: input.policy.lookup,
      agent: false,
      signal: input.signal,
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(input.body)),
        'user-agent': 'smart-commune-webhooks/1',
        ...input.headers,
      },
    };
    const request = (input.url.startsWith('https:') ? httpsRequest : httpRequest)(input.url, options);
    let settled = false;
    const settle = (outcome: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      request.destroy(new Error(`no answer within ${input.timeoutMs} ms`));
    }, input.timeoutMs);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) response.destroy();
      });
      const finish = () =>
        settle(
          done(
            status,
            status >= 300 && status < 400
              ? `redirect refused (HTTP ${status}${response.headers.location ? ` to ${response.headers.location}` : ''})`
              : status >= 200 && status < 300
                ? null
                : `HTTP ${status}`,
          ),
        );
      response.on('end', finish);
      response.on('close', finish);
      response.on('error', finish);
    });
    request.on('error', (error) => settle(done(null, error.message)));
    request.end(input.body);
  });
}
