import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { WebhookAddressPolicy } from '../sharing/webhook-address-policy.js';

/** A chat API's answer: its status and JSON body (null when it was not JSON). */
export interface ChatAnswer {
  status: number;
  json: unknown;
}

/** Answers are read up to this; a chat API's are small. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * POSTs JSON to a chat API once, under the webhooks' address rules (SSRF): the URL is checked as
 * written and every address it resolves to at connect, no redirect is followed, a fresh connection
 * each time and `timeoutMs` for the whole exchange. Rejects with a plain Error (no answer, a
 * refused address); the caller decides what an answer means. The URL may hold a bot token: it is
 * never put in an error.
 */
export function postChatJson(input: {
  url: string;
  body: unknown;
  headers?: Record<string, string>;
  policy: WebhookAddressPolicy;
  timeoutMs: number;
  signal: AbortSignal;
}): Promise<ChatAnswer> {
  const refusal = input.policy.refusal(input.url);
  if (refusal) return Promise.reject(new Error(`refused: ${refusal}`));
  const body = JSON.stringify(input.body);
  return new Promise((resolve, reject) => {
    const options: RequestOptions = {
      method: 'POST',
      lookup: input.policy.lookup,
      agent: false,
      signal: input.signal,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'smart-commune-notifications/1',
        ...input.headers,
      },
    };
    const request = (input.url.startsWith('https:') ? httpsRequest : httpRequest)(input.url, options);
    let settled = false;
    const timer = setTimeout(
      () => request.destroy(new Error(`no answer within ${input.timeoutMs} ms`)),
      input.timeoutMs,
    );
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(error.message));
    };
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_ANSWER_BYTES) response.destroy(new Error('the answer is too large'));
        else chunks.push(chunk);
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        let json: unknown = null;
        try {
          json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          // Not JSON (a proxy's error page): the status alone decides.
        }
        if (status >= 300 && status < 400) reject(new Error(`redirect refused (HTTP ${status})`));
        else resolve({ status, json });
      });
      response.on('error', fail);
    });
    request.on('error', fail);
    request.end(body);
  });
}
