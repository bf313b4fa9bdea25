import type { NotifyChannel } from '../../contracts/notifications.js';

export interface OutboundMessage {
  subject: string;
  body: string;
}

/** A send that did not succeed: `permanent` when sending the same again cannot help (a bad address). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** One way of telling a person: it sends one message to one address, or throws a DeliveryError. */
export interface Channel {
  readonly name: NotifyChannel;
  /** Why it cannot send at all (not configured), or null. */
  unavailable(): string | null;
  send(address: string, message: OutboundMessage, signal: AbortSignal): Promise<void>;
  close?(): void;
}

/** Secrets (a password, a bot token) never reach the log or an answer, even inside an error text. */
export function redact(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret && secret.length >= 4) out = out.split(secret).join('***');
  return out;
}
