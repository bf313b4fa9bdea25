import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Download links devices use without credentials, as media links are (services/media): an HMAC of
 * the resource and the expiry, checked in constant time. The key lives in DATA_DIR, so links handed
 * out before a restart still work after it.
 */
export class SignedLinks {
  constructor(
    private readonly key: Buffer,
    /** `http://host:port` as devices reach the platform; read per link (the port may be ephemeral). */
    private readonly baseUrl: () => string,
  ) {}

  /** `{base}/api/v1/{path}?exp=…&sig=…`, valid until `expiresAt` (epoch ms). */
  url(path: string, expiresAt: number): string {
    if (!Number.isSafeInteger(expiresAt)) throw new RangeError('expiresAt must be epoch milliseconds');
    return `${this.baseUrl()}/api/v1/${path}?exp=${expiresAt}&sig=${this.signature(path, expiresAt)}`;
  }

  /** Whether a link to `path` is ours and still valid at `now`. */
  verify(path: string, exp: number | undefined, sig: string | undefined, now: number): boolean {
    if (exp === undefined || sig === undefined || !Number.isSafeInteger(exp) || now > exp) return false;
    const expected = Buffer.from(this.signature(path, exp));
    const given = Buffer.from(sig);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private signature(path: string, exp: number): string {
    return createHmac('sha256', this.key).update(`${path}:${exp}`).digest('base64url');
  }
}
