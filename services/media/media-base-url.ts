import { networkInterfaces } from 'node:os';

export interface MediaBase {
  /** Where clusters download media from, e.g. `http://192.168.1.10:3000`. */
  url: string;
  /** configured: PUBLIC_BASE_URL; http-host: the address HTTP listens on; lan-address: this PC's LAN address; loopback: nothing better. */
  source: 'configured' | 'http-host' | 'lan-address' | 'loopback';
  /** Set when real clusters will probably not reach the URL. */
  warning: string | null;
}

const PRIVATE = [
  /^10\./,
  /^192\.168\./,
  /^172\.(1[6-9]|2\d|3[01])\./,
  /^100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./,
];

/** This PC's address on the commune LAN: a private IPv4 address of a non-internal interface, if any. */
export function lanAddress(interfaces = networkInterfaces()): string | null {
  const candidates = Object.values(interfaces)
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => (a as { address: string }).address);
  return candidates.find((address) => PRIVATE.some((range) => range.test(address))) ?? candidates[0] ?? null;
}

/**
 * The base of the media URLs put in play commands. Clusters download from it, so 127.0.0.1 (the
 * default when the platform listens on every interface) fails every real cluster's download:
 * without PUBLIC_BASE_URL the platform uses this PC's LAN address, and says so on /healthz when it
 * has none to offer.
 */
export function mediaBaseUrl(
  config: { PUBLIC_BASE_URL?: string | undefined; HTTP_HOST: string },
  port: number,
  lan: string | null,
  scheme: 'http' | 'https' = 'http',
): MediaBase {
  if (config.PUBLIC_BASE_URL)
    return { url: config.PUBLIC_BASE_URL.replace(/\/+$/, ''), source: 'configured', warning: null };
  const wildcard = config.HTTP_HOST === '0.0.0.0' || config.HTTP_HOST === '::';
  if (!wildcard) {
    const host = config.HTTP_HOST.includes(':') ? `[${config.HTTP_HOST}]` : config.HTTP_HOST;
    return { url: `${scheme}://${host}:${port}`, source: 'http-host', warning: null };
  }
  if (lan) return { url: `${scheme}://${lan}:${port}`, source: 'lan-address', warning: null };
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    source: 'loopback',
    warning:
      'PUBLIC_BASE_URL is not set and this PC has no LAN address: clusters on the network cannot download ' +
      'media from 127.0.0.1. Set PUBLIC_BASE_URL to the address clusters reach this PC at.',
  };
}
