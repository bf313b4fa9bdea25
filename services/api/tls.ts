import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

const DAY = 86_400_000;
/** Browsers refuse longer-lived server certificates; the local authority outlives many of them. */
const SERVER_DAYS = 397;
const AUTHORITY_DAYS = 3650;
/** A server certificate this close to its end is issued again at start. */
const RENEW_DAYS = 30;

/** What the HTTPS listener serves, and what an administrator needs to trust it. */
export interface TlsMaterial {
  key: string;
  cert: string;
  source: 'files' | 'self-signed';
  /** The certificate people trust: the local authority for a generated one, else the server's own. */
  trustCert: string;
  /** SHA-256 fingerprint of trustCert, as browsers and phones show it (AA:BB:…). */
  fingerprint: string;
  /** Base64 SHA-256 of the server certificate's public key, for Chromium's SPKI allow-list. */
  spkiSha256: string;
  validTo: Date;
}

/**
 * The names a generated certificate must cover: localhost, this PC's host name and the addresses
 * it is reached at (its LAN address, the address HTTP listens on).
 */
export function certificateNames(addresses: (string | null | undefined)[]): { dns: string[]; ips: string[] } {
  const host = hostname();
  const dns = [...new Set(['localhost', host, `${host}.local`].filter(Boolean))];
  const ips = [
    ...new Set(
      ['127.0.0.1', '::1', ...addresses].filter(
        (a): a is string => !!a && isIP(a) !== 0 && a !== '0.0.0.0' && a !== '::',
      ),
    ),
  ];
  return { dns, ips };
}

/**
 * The HTTPS certificate: the PEM files given (TLS_CERT_FILE, TLS_KEY_FILE), or one issued here by
 * a local certificate authority kept in `dir` (TLS_SELF_SIGNED). The authority is made once, so a
 * PC or phone that trusted it keeps trusting the platform when its server certificate is issued
 * again (near its end, or when the PC's address changed).
 */
export async function loadTls(options: {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  selfSigned: boolean;
  dir: string;
  names: { dns: string[]; ips: string[] };
  now: number;
}): Promise<TlsMaterial | null> {
  if (options.certFile && options.keyFile) {
    const cert = readFileSync(options.certFile, 'utf8');
    return material(cert, readFileSync(options.keyFile, 'utf8'), 'files', cert);
  }
  if (!options.selfSigned) return null;
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const authority = await localAuthority(options.dir, options.now);
  const certPath = join(options.dir, 'server-cert.pem');
  const keyPath = join(options.dir, 'server-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, 'utf8');
    if (stillGood(cert, authority.cert, options.names, options.now))
      return material(cert, readFileSync(keyPath, 'utf8'), 'self-signed', authority.cert);
  }
  const issued = await generate([{ name: 'commonName', value: options.names.dns[1] ?? 'smart-commune' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(options.now - DAY),
    notAfterDate: new Date(options.now + SERVER_DAYS * DAY),
    ca: { key: authority.key, cert: authority.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...options.names.dns.map((value) => ({ type: 2 as const, value })),
          ...options.names.ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  writeSecret(keyPath, issued.private);
  writeFileSync(certPath, issued.cert);
  return material(issued.cert, issued.private, 'self-signed', authority.cert);
}

/** The local authority's key and certificate, made on first use. */
async function localAuthority(dir: string, now: number): Promise<{ key: string; cert: string }> {
  const certPath = join(dir, 'ca-cert.pem');
  const keyPath = join(dir, 'ca-key.pem');
  if (existsSync(certPath) && existsSync(keyPath))
    return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
  const made = await generate([{ name: 'commonName', value: `smart-commune local CA (${hostname()})` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY),
    notAfterDate: new Date(now + AUTHORITY_DAYS * DAY),
    extensions: [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  writeSecret(keyPath, made.private);
  writeFileSync(certPath, made.cert);
  return { key: made.private, cert: made.cert };
}

/** Signed by the authority, far enough from its end, and naming every address it is reached at. */
function stillGood(cert: string, authority: string, names: { dns: string[]; ips: string[] }, now: number) {
  try {
    const x509 = new X509Certificate(cert);
    if (!x509.verify(new X509Certificate(authority).publicKey)) return false;
    if (Date.parse(x509.validTo) - now < RENEW_DAYS * DAY) return false;
    return (
      names.ips.every((ip) => x509.checkIP(ip) !== undefined) && names.dns.every((d) => x509.checkHost(d))
    );
  } catch {
    return false;
  }
}

function material(cert: string, key: string, source: TlsMaterial['source'], trustCert: string): TlsMaterial {
  const server = new X509Certificate(cert);
  const spki = server.publicKey.export({ type: 'spki', format: 'der' });
  return {
    key,
    cert,
    source,
    trustCert,
    fingerprint: new X509Certificate(trustCert).fingerprint256,
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
    validTo: new Date(server.validTo),
  };
}

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}
