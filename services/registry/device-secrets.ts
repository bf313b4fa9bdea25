import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { scryptVerify } from '../crypto/scrypt-hash.js';

/*
 * Device secrets are 256 random bits, not passwords: no dictionary holds them, so a slow hash buys
 * nothing against a stolen database while it makes every MQTT login cost tens of milliseconds of
 * CPU. After a restart a province's 20,000 clusters reconnect at once, and at scrypt cost the last
 * of them would wait minutes to be let in. A salted SHA-256 (as for API tokens) verifies in a
 * microsecond. Hashes stored by earlier versions (`scrypt$…`) still verify and are replaced by the
 * fast form on the device's next login.
 */
const SCHEME = 'sha256';
const SALT_BYTES = 16;

/** A fresh device secret: 32 random bytes, base64url (43 characters, no padding). */
export function generateDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** `sha256$salt$hash` of a device secret. */
export function hashDeviceSecret(secret: string): string {
  const salt = randomBytes(SALT_BYTES);
  return [SCHEME, salt.toString('base64'), digest(salt, secret).toString('base64')].join('$');
}

/** Whether a stored hash is in an older, slower form that should be replaced after a good login. */
export function isLegacyDeviceHash(stored: string): boolean {
  return !stored.startsWith(`${SCHEME}$`);
}

/** Checks a secret against a stored hash, in constant time. */
export async function verifyDeviceSecret(secret: string, stored: string): Promise<boolean> {
  if (isLegacyDeviceHash(stored)) return scryptVerify(secret, stored);
  const [, salt, hash] = stored.split('$');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = digest(Buffer.from(salt, 'base64'), secret);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function digest(salt: Buffer, secret: string): Buffer {
  return createHash('sha256').update(salt).update(secret, 'utf8').digest();
}
