import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The platform's own MQTT password: from MQTT_INTERNAL_PASSWORD when set, else generated once and
 * kept (owner-readable only) in the data directory so tools on this machine can use it too.
 */
export function loadInternalPassword(configured: string | undefined, path: string): string {
  if (configured) return configured;
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true });
  const password = randomBytes(24).toString('base64url');
  writeFileSync(path, `${password}\n`, { mode: 0o600 });
  return password;
}
