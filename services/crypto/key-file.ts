import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config.js';
import type { StateDatabase } from '../storage/sql/state-database.js';

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

/** Where a key of this name is kept: KEYS_DIR, or the data directory. */
export const keyPath = (config: Pick<Config, 'DATA_DIR' | 'KEYS_DIR'>, name: string) =>
  join(config.KEYS_DIR ?? config.DATA_DIR, name);

/** Names a key without revealing it: an HMAC of a fixed text under the key. */
const fingerprintOf = (key: Buffer) =>
  createHmac('sha256', key).update('smart-commune key fingerprint').digest('base64url');

/**
 * A key file, checked against the one every other instance on the same PostgreSQL uses (the first
 * to start records its fingerprint; the key itself never leaves the machine). Instances with
 * different keys would refuse each other's download links and could not open the camera passwords
 * the others sealed: such an instance refuses to start, naming the file.
 */
export async function loadSharedKey(state: StateDatabase, path: string, name: string): Promise<Buffer> {
  const key = loadKeyFile(path);
  if (state.engine !== 'postgres') return key;
  const fingerprint = fingerprintOf(key);
  await state.db
    .insertInto('key_fingerprints')
    .values({ name, fingerprint, created_at: Date.now() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const kept = await state.db
    .selectFrom('key_fingerprints')
    .select('fingerprint')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  if (kept.fingerprint !== fingerprint)
    throw new Error(
      `${path} is not the ${name} the other instances on this PostgreSQL use: give every instance the ` +
        'same key files (KEYS_DIR; docs/scale-out.md)',
    );
  return key;
}
