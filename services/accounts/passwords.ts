import { randomBytes } from 'node:crypto';
import { type ScryptParams, scryptHash, scryptVerify } from '../crypto/scrypt-hash.js';

export type { ScryptParams };

/** OWASP Password Storage Cheat Sheet: scrypt N=2^15, r=8, p=3 (32 MiB; ~0.2 s on a commune PC). */
export const PASSWORD_SCRYPT: ScryptParams = { N: 32_768, r: 8, p: 3 };

// Vietnamese letters have precomposed and combining spellings; NFC makes both the same password.
export function hashPassword(password: string, params: ScryptParams = PASSWORD_SCRYPT): Promise<string> {
  return scryptHash(password.normalize('NFC'), params);
}

export function verifyPassword(password: string, stored: string): Promise<boolean> {
  return scryptVerify(password.normalize('NFC'), stored);
}

/** A readable generated password: 18 random bytes in base64url (24 characters). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
