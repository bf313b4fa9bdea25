import { createHash, timingSafeEqual } from 'node:crypto';
import { child, text } from './soap.js';

/** How far a token's Created may be from the camera clock (WSS UsernameToken Profile 1.0 §4: replay window). */
export const CREATED_TOLERANCE_MS = 5 * 60 * 1000;

export interface Credentials {
  username: string;
  password: string;
}

export type UsernameTokenVerdict =
  | { ok: true; username: string }
  | { ok: false; reason: 'missing' | 'unknown-user' | 'bad-digest' | 'stale' | 'malformed' };

/** Base64(SHA1(nonce + created + password)), WSS UsernameToken Profile 1.0 §3.1 (PasswordDigest). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/**
 * Checks the UsernameToken in a SOAP header against the camera's account and its own clock
 * (ONVIF Core §5.9.4: devices shall accept PasswordDigest; freshness is judged by the device time,
 * which is why clients read GetSystemDateAndTime first).
 */
export function verifyUsernameToken(
  header: Record<string, unknown>,
  account: Credentials,
  cameraNowMs: number,
): UsernameTokenVerdict {
  const token = child(child(header, 'Security'), 'UsernameToken');
  if (!token) return { ok: false, reason: 'missing' };
  const username = text(token.Username);
  const password = text(token.Password);
  const nonce = text(token.Nonce);
  const created = text(token.Created);
  if (username === undefined || password === undefined || nonce === undefined || created === undefined) {
    return { ok: false, reason: 'malformed' };
  }
  if (username !== account.username) return { ok: false, reason: 'unknown-user' };
  const createdMs = Date.parse(created);
  if (Number.isNaN(createdMs)) return { ok: false, reason: 'malformed' };
  if (Math.abs(createdMs - cameraNowMs) > CREATED_TOLERANCE_MS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(passwordDigest(Buffer.from(nonce, 'base64'), created, account.password));
  const given = Buffer.from(password);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'bad-digest' };
  }
  return { ok: true, username };
}
