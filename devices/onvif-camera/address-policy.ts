import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Where the platform may reach cameras. Onboarding takes an address from a technician and the
 * camera answers with more (media, stream and snapshot URIs): unchecked, the platform would fetch
 * whatever it is pointed at — its own API and MQTT ports, Redis, a cloud metadata service — and
 * report status, size and errors back (server-side request forgery). A camera is reached only on
 * the configured networks (private LAN ranges by default, never loopback unless listed, never
 * link-local), never on the platform's own ports, and never through a redirect.
 */
export const DEFAULT_CAMERA_NETWORKS = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  // Carrier-grade NAT: 4G routers in the field are reached through it.
  '100.64.0.0/10',
  'fc00::/7',
] as const;

export class AddressNotAllowedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddressNotAllowedError';
  }
}

export class CameraAddressPolicy {
  private readonly networks = new BlockList();
  private readonly deniedPorts: () => readonly number[];

  /** `deniedPorts` is read at each check: the platform's own ports are known only once it listens. */
  constructor(options: { networks: readonly string[]; deniedPorts?: () => readonly number[] }) {
    for (const cidr of options.networks) {
      const [address, bits] = cidr.split('/') as [string, string | undefined];
      const family = isIP(address);
      if (family === 0) throw new Error(`not a network: ${cidr}`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.networks.addAddress(address, type);
      else this.networks.addSubnet(address, Number(bits), type);
    }
    this.deniedPorts = options.deniedPorts ?? (() => []);
  }

  /** Whether an IP address lies on a camera network. */
  allowsIp(ip: string): boolean {
    const family = isIP(ip);
    if (family === 0) return false;
    // An IPv4-mapped IPv6 address is judged as the IPv4 address it carries.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    if (mapped) return this.networks.check(mapped, 'ipv4');
    return this.networks.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * Why a URL may not be fetched, or null when it may: a port of the platform's own, or a literal
   * IP outside the camera networks. A host name is judged by what it resolves to, at connect time
   * (`checkAddress`, `lookup`).
   */
  refusal(url: string): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'not a URL';
    }
    const defaultPort = parsed.protocol === 'https:' ? 443 : parsed.protocol === 'rtsp:' ? 554 : 80;
    const port = parsed.port ? Number(parsed.port) : defaultPort;
    if (this.deniedPorts().includes(port)) return `port ${port} belongs to the platform`;
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !this.allowsIp(host))
      return `${host} is not on a camera network (CAMERA_NETWORKS)`;
    return null;
  }

  /** Throws AddressNotAllowedError when `url` may not be fetched. */
  assertAllowed(url: string): void {
    const refusal = this.refusal(url);
    if (refusal) throw new AddressNotAllowedError(`address not allowed: ${refusal}`);
  }

  /** A DNS lookup for sockets that refuses names resolving outside the camera networks. */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: false }, (err, address, family) => {
      if (!err && typeof address === 'string' && !this.allowsIp(address)) {
        callback(
          new AddressNotAllowedError(`address not allowed: ${hostname} resolves outside the camera networks`),
          address,
          family,
        );
        return;
      }
      callback(err, address, family);
    });
  };
}
