import { createHash, randomBytes } from 'node:crypto';

/**
 * Client side of HTTP authentication as cameras use it: SOAP behind HTTP Digest (ONVIF Core, "HTTP
 * digest authentication"), snapshots behind Digest or Basic, RTSP DESCRIBE behind either (RFC 2326
 * §16.2 reuses HTTP's schemes). Written here rather than left to urllib, whose digest support
 * knows no Basic and offers no way to tell a refused login from a first challenge.
 */

export interface AuthChallenge {
  /** Lower case: `digest`, `basic`, … */
  scheme: string;
  params: Map<string, string>;
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Every challenge in WWW-Authenticate, whether sent as several headers or several challenges in
 * one (RFC 9110 §11.6.1: `Digest realm="a", nonce="b", Basic realm="a"`).
 */
export function parseChallenges(header: string | readonly string[] | undefined): AuthChallenge[] {
  if (header === undefined) return [];
  const values = typeof header === 'string' ? [header] : header;
  const challenges: AuthChallenge[] = [];
  for (const value of values) {
    let current: AuthChallenge | null = null;
    let pos = 0;
    while (pos < value.length) {
      const token = /^[\s,]*([A-Za-z0-9!#$%&'*+.^_`|~-]+)/.exec(value.slice(pos));
      if (!token?.[1]) break;
      pos += token[0].length;
      const param = /^\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/.exec(value.slice(pos));
      if (param && current) {
        current.params.set(token[1].toLowerCase(), (param[1] ?? param[2] ?? '').replace(/\\(.)/g, '$1'));
        pos += param[0].length;
      } else {
        current = { scheme: token[1].toLowerCase(), params: new Map() };
        challenges.push(current);
      }
    }
  }
  return challenges;
}

const HASHES: Record<string, 'md5' | 'sha256'> = {
  md5: 'md5',
  'md5-sess': 'md5',
  'sha-256': 'sha256',
  'sha-256-sess': 'sha256',
};

/** Whether this client can answer the Digest challenge (MD5 and SHA-256, RFC 7616 §3.2). */
export function supportsDigest(challenge: AuthChallenge): boolean {
  const algorithm = (challenge.params.get('algorithm') ?? 'MD5').toLowerCase();
  return challenge.scheme === 'digest' && algorithm in HASHES && challenge.params.has('nonce');
}

/**
 * One Digest protection space: answers its challenge for successive requests, counting nonce uses
 * (RFC 7616 §3.4: nc), so a poll signs every call after the first without another 401.
 */
export class DigestSession {
  private nc = 0;
  private readonly cnonce = randomBytes(8).toString('hex');

  constructor(readonly challenge: AuthChallenge) {}

  authorize(method: string, uri: string, credentials: Credentials): string {
    const p = this.challenge.params;
    const algorithm = p.get('algorithm') ?? 'MD5';
    const hash = HASHES[algorithm.toLowerCase()] ?? 'md5';
    const h = (text: string) => createHash(hash).update(text).digest('hex');
    const realm = p.get('realm') ?? '';
    const nonce = p.get('nonce') ?? '';
    const qops = (p.get('qop') ?? '').split(',').map((q) => q.trim());
    const qop = qops.includes('auth') ? 'auth' : null;
    this.nc += 1;
    const nc = this.nc.toString(16).padStart(8, '0');
    let ha1 = h(`${credentials.username}:${realm}:${credentials.password}`);
    if (algorithm.toLowerCase().endsWith('-sess')) ha1 = h(`${ha1}:${nonce}:${this.cnonce}`);
    const ha2 = h(`${method}:${uri}`);
    // RFC 2069 compatibility: without qop the response leaves out nc and cnonce.
    const response = qop
      ? h(`${ha1}:${nonce}:${nc}:${this.cnonce}:${qop}:${ha2}`)
      : h(`${ha1}:${nonce}:${ha2}`);
    const quote = (s: string) => `"${s.replace(/(["\\])/g, '\\$1')}"`;
    const parts = [
      `username=${quote(credentials.username)}`,
      `realm=${quote(realm)}`,
      `nonce=${quote(nonce)}`,
      `uri=${quote(uri)}`,
      `algorithm=${algorithm}`,
      `response=${quote(response)}`,
    ];
    if (qop) parts.push(`qop=${qop}`, `nc=${nc}`, `cnonce=${quote(this.cnonce)}`);
    const opaque = p.get('opaque');
    if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
    return `Digest ${parts.join(', ')}`;
  }
}

export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

/**
 * The Authorization for a challenge, Digest preferred; Basic only where the caller allows it,
 * since it hands the password to whoever answered (a downgrade a man in the middle can ask for).
 */
export function authorizationFor(
  challenges: readonly AuthChallenge[],
  allowBasic: boolean,
): { scheme: 'digest'; session: DigestSession } | { scheme: 'basic' } | null {
  const digest = challenges.find(supportsDigest);
  if (digest) return { scheme: 'digest', session: new DigestSession(digest) };
  if (allowBasic && challenges.some((c) => c.scheme === 'basic')) return { scheme: 'basic' };
  return null;
}
