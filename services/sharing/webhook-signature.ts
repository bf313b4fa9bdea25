import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A new webhook secret: 256 random bits, shown once. The whole string is the HMAC key. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** HMAC-SHA256 over `${timestamp}.${body}`, hex: the value after `v1=`. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/**
 * The `X-Webhook-Signature` header: `v1=<hex>`, and during a rotation's grace period a second
 * `v1=<hex>` made with the previous secret, comma-separated (a receiver accepts any that matches).
 */
export function signatureHeader(secrets: readonly string[], timestamp: number, body: string): string {
  return secrets.map((secret) => `v1=${webhookSignature(secret, timestamp, body)}`).join(',');
}

/**
 * What a receiver does (docs/sharing-api.md): the timestamp is recent (replays of an old POST are
 * refused) and one of the header's v1 signatures is the HMAC of `${timestamp}.${body}` under its
 * secret, compared in constant time.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  timestamp: string;
  body: string;
  header: string;
  nowMs: number;
  toleranceS?: number;
}): boolean {
  const timestamp = Number(input.timestamp);
  if (!Number.isInteger(timestamp)) return false;
  if (Math.abs(input.nowMs / 1000 - timestamp) > (input.toleranceS ?? 300)) return false;
  const expected = Buffer.from(webhookSignature(input.secret, timestamp, input.body), 'hex');
  return input.header
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('v1='))
    .some((part) => {
      const given = Buffer.from(part.slice(3), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}
