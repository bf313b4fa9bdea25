import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';

export interface CameraCertificate {
  key: string;
  cert: string;
  /** SHA-256, `AA:BB:…`, as Node's getPeerCertificate() reports it. */
  fingerprint256: string;
}

/**
 * The self-signed certificates of one simulated camera: the one it was made with, kept across
 * reboots as firmware keeps it, and another for the `new-certificate` fault (a factory reset, a
 * swapped unit). Made on first use: key generation takes a moment.
 */
export class CameraCertificates {
  private readonly made = new Map<'original' | 'replacement', Promise<CameraCertificate>>();

  constructor(private readonly host: string) {}

  get(which: 'original' | 'replacement'): Promise<CameraCertificate> {
    let certificate = this.made.get(which);
    if (!certificate) {
      certificate = make(this.host, which);
      this.made.set(which, certificate);
    }
    return certificate;
  }
}

async function make(host: string, which: string): Promise<CameraCertificate> {
  const altName = isIP(host) !== 0 ? { type: 7 as const, ip: host } : { type: 2 as const, value: host };
  const pems = await generate([{ name: 'commonName', value: `IP Camera ${which}` }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [altName] },
    ],
  });
  return {
    key: pems.private,
    cert: pems.cert,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
  };
}
