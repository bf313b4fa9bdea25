import type { WebhookAddressPolicy } from '../sharing/webhook-address-policy.js';
import { type Channel, DeliveryError, type OutboundMessage, redact } from './channel.js';
import { type ChatAnswer, postChatJson } from './chat-http.js';

export interface ChatOptions {
  /** TELEGRAM_API_BASE / ZALO_API_BASE: the real service, or a stand-in. */
  apiBase: string;
  /** TELEGRAM_BOT_TOKEN / ZALO_ACCESS_TOKEN; unset: the channel is off. */
  token: string | undefined;
  policy: WebhookAddressPolicy;
  timeoutMs: number;
}

/** Telegram refuses texts longer than this (Bot API, sendMessage). */
const TELEGRAM_MAX_CHARS = 4_096;
/** Zalo OA's customer-service message text limit. */
const ZALO_MAX_CHARS = 2_000;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const base = (url: string) => url.replace(/\/+$/, '');

/** No answer at all (refused, timed out, DNS): worth another try later. */
async function post(
  options: ChatOptions,
  url: string,
  body: unknown,
  signal: AbortSignal,
  headers?: Record<string, string>,
): Promise<ChatAnswer> {
  try {
    return await postChatJson({
      url,
      body,
      policy: options.policy,
      timeoutMs: options.timeoutMs,
      signal,
      ...(headers ? { headers } : {}),
    });
  } catch (error) {
    const refused = (error as Error).message.startsWith('refused:');
    throw new DeliveryError(redact((error as Error).message, [options.token]), refused);
  }
}

/**
 * A Telegram bot: `POST {apiBase}/bot{token}/sendMessage {chat_id, text}` (Bot API). `ok: true` is
 * a delivery; 429 (flood control) and 5xx are retried; other refusals (a chat that never started
 * the bot, a blocked bot, a wrong token) are permanent and say Telegram's `description`.
 */
export class TelegramChannel implements Channel {
  readonly name = 'telegram' as const;

  constructor(private readonly options: ChatOptions) {}

  unavailable(): string | null {
    return this.options.token ? null : 'Telegram is not configured: set TELEGRAM_BOT_TOKEN';
  }

  async send(chatId: string, message: OutboundMessage, signal: AbortSignal): Promise<void> {
    const token = this.options.token;
    if (!token) throw new DeliveryError(this.unavailable() ?? 'not configured', true);
    const answer = await post(
      this.options,
      `${base(this.options.apiBase)}/bot${token}/sendMessage`,
      { chat_id: chatId, text: clip(message.body, TELEGRAM_MAX_CHARS), disable_web_page_preview: true },
      signal,
    );
    const json = (answer.json ?? {}) as { ok?: boolean; description?: string };
    if (answer.status >= 200 && answer.status < 300 && json.ok === true) return;
    const why = redact(`HTTP ${answer.status}${json.description ? `: ${json.description}` : ''}`, [token]);
    throw new DeliveryError(why.slice(0, 300), !(answer.status === 429 || answer.status >= 500));
  }
}

/**
 * A Zalo Official Account: `POST {apiBase}/v3.0/oa/message/cs` with the `access_token` header and
 * `{recipient: {user_id}, message: {text}}` (Zalo OA Open API v3, customer-service message). Zalo
 * answers HTTP 200 with `error: 0` on success and a negative `error` with a `message` otherwise
 * (a user who does not follow the OA, an expired token): those are permanent; 5xx and no answer
 * are retried. The access token expires (about a day): refreshing it is left to the operator's
 * tooling for now (docs/notifications.md).
 */
export class ZaloChannel implements Channel {
  readonly name = 'zalo' as const;

  constructor(private readonly options: ChatOptions) {}

  unavailable(): string | null {
    return this.options.token ? null : 'Zalo is not configured: set ZALO_ACCESS_TOKEN';
  }

  async send(userId: string, message: OutboundMessage, signal: AbortSignal): Promise<void> {
    const token = this.options.token;
    if (!token) throw new DeliveryError(this.unavailable() ?? 'not configured', true);
    const answer = await post(
      this.options,
      `${base(this.options.apiBase)}/v3.0/oa/message/cs`,
      { recipient: { user_id: userId }, message: { text: clip(message.body, ZALO_MAX_CHARS) } },
      signal,
      { access_token: token },
    );
    const json = (answer.json ?? {}) as { error?: number; message?: string };
    if (answer.status >= 200 && answer.status < 300 && json.error === 0) return;
    const why = redact(
      `HTTP ${answer.status}${json.error !== undefined ? `, error ${json.error}` : ''}${json.message ? `: ${json.message}` : ''}`,
      [token],
    );
    throw new DeliveryError(why.slice(0, 300), answer.status < 500);
  }
}
