import { createHash, timingSafeEqual } from 'node:crypto';
import type { Credentials } from './ws-security.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** The WWW-Authenticate challenge, RFC 7616 §3.3 with MD5 and qop=auth as most cameras send it. */
export function digestChallenge(realm: string, nonce: string, stale = false): string {
  return `Digest realm="${realm}", qop="auth", nonce="${nonce}", algorithm=MD5${stale ? ', stale=TRUE' : ''}`;
}

/** Splits `Digest a="b", c=d` into its parameters (RFC 7616 §3.4). */
export function parseDigestHeader(header: string): Map<string, string> | undefined {
  const match = /^Digest\s+(.*)$/is.exec(header.trim());
  if (!match?.[1]) return undefined;
  const params = new Map<string, string>();
  for (const part of match[1].matchAll(/([a-zA-Z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    const name = part[1];
    if (name !== undefined) params.set(name.toLowerCase(), part[2] ?? part[3] ?? '');
  }
  return params;
}

export type DigestVerdict = 'ok' | 'missing' | 'stale' | 'denied';

/** RFC 7616 §3.4.1 response = MD5(HA1:nonce:nc:cnonce:qop:HA2), also accepting RFC 2069 without qop. */
export function verifyDigest(
  header: string | undefined,
  method: string,
  account: Credentials,
  realm: string,
  nonce: string,
): DigestVerdict {
  if (header === undefined) return 'missing';
  const params = parseDigestHeader(header);
  if (!params) return 'missing';
  const uri = params.get('uri');
  const response = params.get('response');
  if (params.get('username') !== account.username || uri === undefined || response === undefined)
    return 'denied';
  if (params.get('realm') !== realm) return 'denied';
  if (params.get('nonce') !== nonce) return 'stale';
  const ha1 = md5(`${account.username}:${realm}:${account.password}`);
  const ha2 = md5(`${method}:${uri}`);
  const qop = params.get('qop');
  const expected =
    qop === undefined
      ? md5(`${ha1}:${nonce}:${ha2}`)
      : md5(`${ha1}:${nonce}:${params.get('nc') ?? ''}:${params.get('cnonce') ?? ''}:${qop}:${ha2}`);
  const a = Buffer.from(expected);
  const b = Buffer.from(response.toLowerCase());
  return a.length === b.length && timingSafeEqual(a, b) ? 'ok' : 'denied';
}
