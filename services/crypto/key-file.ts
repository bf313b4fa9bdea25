import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const KEY_BYTES = 32;

/**
 * A 32-byte key generated once and kept (owner-readable only) in the data directory: the HMAC key
 * of media download links, so links handed out before a restart still work after it, and the
 * key that seals camera passwords at rest.
 */
export function loadKeyFile(path: string): Buffer {
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
    // A truncated or hand-edited key would sign links nobody can check or lose every sealed
    // password; say so rather than quietly replacing it.
    if (key.length !== KEY_BYTES) {
      throw new Error(`${path} does not hold a ${KEY_BYTES}-byte key; delete it to generate a new one`);
    }
    return key;
  }
  mkdirSync(dirname(path), { recursive: true });
  const key = randomBytes(KEY_BYTES);
  writeFileSync(path, `${key.toString('base64url')}\n`, { mode: 0o600 });
  return key;
}
