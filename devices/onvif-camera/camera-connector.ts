import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { AddressNotAllowedError, type CameraAddressPolicy } from './address-policy.js';

/**
 * How the probe's HTTP client opens connections to one camera: only to addresses the policy
 * allows, and over TLS with the camera's own certificate pinned.
 *
 * Cameras serve `https` with self-signed certificates no authority vouches for, so the usual
 * verification would refuse every one of them, and turning it off would accept anyone in the
 * middle. Instead the first certificate seen for an address is trusted and remembered (trust on
 * first use, as SSH does with host keys); a different one later is refused before a byte of the
 * request, which carries the camera's password, is sent. A client that must not make that decision
 * itself (the event subscription, which follows the health poll's) refuses a certificate nothing
 * is trusted for yet, before any request as well.
 */

/** The shape undici's Agent accepts as `connect` (undici `buildConnector.connector`). */
export type Connector = (
  options: { hostname: string; protocol: string; port: string; servername?: string },
  callback: (...args: [null, Socket | TLSSocket] | [Error, null]) => void,
) => void;

export class CertificateChangedError extends Error {
  constructor(
    readonly origin: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `certificate changed: ${origin} presents SHA-256 ${short(actual)}, the platform trusts ${short(expected)}`,
    );
    this.name = 'CertificateChangedError';
  }
}

export class CertificateNotTrustedError extends Error {
  constructor(
    readonly origin: string,
    readonly actual: string,
  ) {
    super(
      `certificate not trusted yet: ${origin} presents SHA-256 ${short(actual)}, no certificate is trusted for it`,
    );
    this.name = 'CertificateNotTrustedError';
  }
}

/** `AA:BB:CC:DD…` shortened for a message; the full fingerprint is in the health store. */
const short = (fingerprint: string) => `${fingerprint.slice(0, 23)}…`;

export interface TrustOnFirstUse {
  /** The SHA-256 fingerprint trusted for `host:port`, if any. */
  pinned(origin: string): string | undefined;
  /** A certificate seen on a connection that was allowed (first use, or the pinned one). */
  seen(origin: string, fingerprint: string): void;
  /** False: a certificate with none pinned for its address is refused instead of trusted. Default true. */
  firstUse?: boolean;
}

export function originOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'rtsp:' ? '554' : '80');
  return `${url.hostname.replace(/^\[|\]$/g, '')}:${port}`;
}

export function cameraConnector(options: {
  policy?: CameraAddressPolicy | undefined;
  connectTimeoutMs: number;
  trust: TrustOnFirstUse;
}): Connector {
  const { policy, trust } = options;
  return (target, callback) => {
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const tls = target.protocol === 'https:';
    const port = Number(target.port) || (tls ? 443 : 80);
    if (policy && isIP(host) !== 0 && !policy.allowsIp(host)) {
      callback(new AddressNotAllowedError(`address not allowed: ${host} is not on a camera network`), null);
      return;
    }
    // A name is judged by what it resolves to, at connect time (the policy's lookup).
    const where = { host, port, ...(policy && isIP(host) === 0 ? { lookup: policy.lookup } : {}) };
    let settled = false;
    const settle = (...args: [null, Socket | TLSSocket] | [Error, null]) => {
      if (settled) return;
      settled = true;
      socket.setTimeout(0);
      socket.off('error', onError);
      callback(...args);
    };
    const onError = (err: Error) => {
      socket.destroy();
      settle(err, null);
    };
    const socket: Socket | TLSSocket = tls
      ? tlsConnect({
          ...where,
          // RFC 6066 §3: a literal IP address is not a server name.
          ...(isIP(host) === 0 ? { servername: host } : {}),
          rejectUnauthorized: false,
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect(where);
    socket.setTimeout(options.connectTimeoutMs, () =>
      onError(new Error(`connect timed out after ${options.connectTimeoutMs} ms`)),
    );
    socket.once('error', onError);
    if (!tls) {
      socket.once('connect', () => settle(null, socket));
      return;
    }
    socket.once('secureConnect', () => {
      const fingerprint = (socket as TLSSocket).getPeerCertificate().fingerprint256;
      const origin = `${host}:${port}`;
      if (!fingerprint) {
        onError(new Error(`${origin} presented no certificate`));
        return;
      }
      const expected = trust.pinned(origin);
      if (expected !== undefined && expected !== fingerprint) {
        onError(new CertificateChangedError(origin, expected, fingerprint));
        return;
      }
      if (expected === undefined && trust.firstUse === false) {
        onError(new CertificateNotTrustedError(origin, fingerprint));
        return;
      }
      trust.seen(origin, fingerprint);
      settle(null, socket);
    });
  };
}
