import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup as dnsLookupAll } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { StationAddressPolicy } from '../stations/station-watch.js';

export interface WebhookAddressOptions {
  /** WEBHOOK_ALLOW_HTTP: plain http for a receiver on the LAN; otherwise https only. */
  allowHttp: boolean;
  /** WEBHOOK_ALLOW_PRIVATE: the private ranges (a provincial system on the same network). */
  allowPrivate: boolean;
  /** WEBHOOK_ALLOW_LOOPBACK: a receiver on this PC. */
  allowLoopback: boolean;
  /** The platform's own ports, never a webhook's. */
  deniedPorts: () => readonly number[];
}

/** How long a registration waits for DNS before accepting a name it could not check yet. */
const RESOLVE_TIMEOUT_MS = 2_000;

/** RFC 1918, RFC 6598 (carrier-grade NAT) and RFC 4193 (unique local) networks. */
const PRIVATE_NETWORKS: readonly [string, number, 'ipv4' | 'ipv6'][] = [
  ['10.0.0.0', 8, 'ipv4'],
  ['172.16.0.0', 12, 'ipv4'],
  ['192.168.0.0', 16, 'ipv4'],
  ['100.64.0.0', 10, 'ipv4'],
  ['fc00::', 7, 'ipv6'],
];

/**
 * Where webhooks may be sent (SSRF): the station checker's rules — no loopback unless allowed, no
 * link-local (cloud metadata), multicast, unspecified addresses or the platform's own ports — plus
 * no private networks unless allowed, and https unless http is allowed. A URL is checked as written
 * at registration and before each POST, and every address its name resolves to is checked when
 * the connection is made, so a name that later resolves inward is refused then.
 */
export class WebhookAddressPolicy {
  private readonly station: StationAddressPolicy;
  private readonly privateNets = new BlockList();
  /** `::` reaches this machine on most systems; the station checker leaves it to its loopback rule. */
  private readonly unspecified = new BlockList();

  constructor(private readonly options: WebhookAddressOptions) {
    this.station = new StationAddressPolicy({
      allowLoopback: options.allowLoopback,
      deniedPorts: options.deniedPorts,
    });
    this.unspecified.addAddress('::', 'ipv6');
    if (!options.allowPrivate)
      for (const [address, bits, family] of PRIVATE_NETWORKS)
        this.privateNets.addSubnet(address, bits, family);
  }

  allowsIp(ip: string): boolean {
    if (!this.station.allowsIp(ip)) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
    if (mapped) return !this.privateNets.check(mapped, 'ipv4');
    const family = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
    return !this.unspecified.check(ip, family) && !this.privateNets.check(ip, family);
  }

  /** Why a webhook URL is refused as written, or null. */
  refusal(url: string): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'not a URL';
    }
    if (parsed.protocol === 'http:' && !this.options.allowHttp)
      return 'use https (plain http only where WEBHOOK_ALLOW_HTTP=true, for a system on the LAN)';
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'not http or https';
    if (parsed.username || parsed.password)
      return 'no credentials in the URL: the signature tells the receiver the POST is ours';
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 && !this.allowsIp(host))
      return (
        `${host} is an address webhooks are not sent to (loopback, link-local, multicast and private ` +
        'addresses are refused unless WEBHOOK_ALLOW_LOOPBACK or WEBHOOK_ALLOW_PRIVATE allows them)'
      );
    // The platform's own ports, whatever the host.
    const station = this.station.refusal(url);
    if (station) return station;
    return null;
  }

  /**
   * The refusal of a URL whose name resolves, now, to a refused address (`localhost`, a name on the
   * LAN); null when it does not, or does not resolve at all (DNS may be down: each POST checks again).
   */
  async resolvedRefusal(url: string): Promise<string | null> {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0) return null;
    let addresses: LookupAddress[];
    let timer: NodeJS.Timeout | undefined;
    try {
      // A resolver that does not answer must not hold the registration up.
      addresses = await Promise.race([
        dnsLookupAll(host, { all: true }),
        new Promise<LookupAddress[]>((resolve) => {
          timer = setTimeout(() => resolve([]), RESOLVE_TIMEOUT_MS);
        }),
      ]);
    } catch {
      // Not resolvable from here now: the POSTs will say so in their attempts.
      return null;
    } finally {
      clearTimeout(timer);
    }
    const refused = addresses.find((a) => !this.allowsIp(a.address));
    return refused
      ? `${host} resolves to ${refused.address}, an address webhooks are not sent to (see WEBHOOK_ALLOW_LOOPBACK, WEBHOOK_ALLOW_PRIVATE)`
      : null;
  }

  /**
   * The connection's DNS lookup: every address is checked, whether the socket asked for one or
   * for all of them (Node's happy-eyeballs connect asks for all).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      const refused = addresses.find((a) => !this.allowsIp(a.address));
      const first = addresses[0];
      if (refused || !first) {
        callback(
          new Error(`${hostname} resolves to ${refused?.address ?? 'nothing'}, where webhooks are not sent`),
          '',
          0,
        );
        return;
      }
      if (options.all) (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}
