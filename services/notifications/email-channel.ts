import { createTransport, type Transporter } from 'nodemailer';
import { type Channel, DeliveryError, type OutboundMessage, redact } from './channel.js';

export interface EmailOptions {
  /** SMTP_URL: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465`. */
  url: string | undefined;
  /** SMTP_FROM: the sender, e.g. `Đài truyền thanh xã <loa@xa.gov.vn>`. */
  from: string | undefined;
  timeoutMs: number;
}

/**
 * E-mail through the commune's or the province's SMTP server, with nodemailer: a maintained
 * implementation of SMTP (RFC 5321), STARTTLS and SMTPS, AUTH and MIME with UTF-8 headers
 * (RFC 2047), which Vietnamese subjects need. The server is the administrator's configuration,
 * not user input, so it is not held to the webhooks' address rules (a relay on this PC is common).
 * A 5xx reply (an unknown mailbox) is permanent; 4xx and connection failures are retried.
 */
export class EmailChannel implements Channel {
  readonly name = 'email' as const;
  private readonly transport: Transporter | null;
  private readonly secrets: string[];

  constructor(private readonly options: EmailOptions) {
    this.transport =
      options.url && options.from
        ? createTransport({
            url: options.url,
            connectionTimeout: options.timeoutMs,
            greetingTimeout: options.timeoutMs,
            socketTimeout: options.timeoutMs,
            dnsTimeout: options.timeoutMs,
            // nodemailer's own logger stays off: it would print the AUTH exchange.
            logger: false,
          })
        : null;
    const url = options.url ? new URL(options.url) : null;
    this.secrets = url ? [decodeURIComponent(url.password), url.password].filter(Boolean) : [];
  }

  unavailable(): string | null {
    return this.transport ? null : 'e-mail is not configured: set SMTP_URL and SMTP_FROM';
  }

  async send(address: string, message: OutboundMessage, signal: AbortSignal): Promise<void> {
    const transport = this.transport;
    if (!transport) throw new DeliveryError(this.unavailable() ?? 'not configured', true);
    // nodemailer cannot be aborted; a stop does not wait for it (its socket ends on its timeouts).
    const aborted = new Promise<never>((_, reject) => {
      const stop = () => reject(new DeliveryError('the platform stopped', false));
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      await Promise.race([
        transport.sendMail({
          from: this.options.from,
          to: address,
          subject: message.subject,
          text: message.body,
        }),
        aborted,
      ]);
    } catch (error) {
      if (error instanceof DeliveryError) throw error;
      const e = error as { message?: string; permanent?: boolean };
      throw new DeliveryError(redact(e.message ?? String(error), this.secrets), e.permanent === true);
    }
  }

  close(): void {
    this.transport?.close();
  }
}
