import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const KEY_BYTES = 32;

/**
 * The HMAC key that signs media download links: generated once and kept (owner-readable only) in
 * the data directory, so links handed to devices before a restart still work after it.
 */
export function loadSigningKey(path: string): Buffer {
  if (existsSync(path)) {
    const key = Buffer.from(readFileSync(path, 'utf8').trim(), 'base64url');
    // A truncated or hand-edited key would sign links nobody can check; say so rather than
    // quietly replacing it and breaking every link already sent.
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
