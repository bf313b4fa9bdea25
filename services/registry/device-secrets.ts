import { createHash, randomBytes } from 'node:crypto';
import { type ScryptParams, scryptHash, scryptVerify } from '../crypto/scrypt-hash.js';

// OWASP's scrypt floor for stored credentials: N=2^17 is advised for passwords; device secrets are
// 256 random bits, so guessing is hopeless anyway and N=2^14 keeps thousands of reconnects cheap.
const DEVICE_SECRET_SCRYPT: ScryptParams = { N: 16_384, r: 8, p: 1 };

/** A fresh device secret: 32 random bytes, base64url (43 characters, no padding). */
export function generateDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashDeviceSecret(secret: string): Promise<string> {
  return scryptHash(secret, DEVICE_SECRET_SCRYPT);
}

export function verifyDeviceSecret(secret: string, stored: string): Promise<boolean> {
  return scryptVerify(secret, stored);
}

/** A fast fingerprint for the in-memory cache of recently verified secrets (never stored). */
export function secretFingerprint(secret: string): string {
  return createHash('sha256').update(secret).digest('base64');
}
