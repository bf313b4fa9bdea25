import { createRequire } from 'node:module';

/** What WS-Discovery found: the endpoint's stable address, its device service and its scopes. */
export interface DiscoveredCamera {
  /** `urn:uuid:…`, stable across reboots and address changes (WS-Discovery §2.5). */
  endpointUrn: string;
  xaddr: string;
  name: string | null;
  hardware: string | null;
  location: string | null;
  scopes: string[];
  /** The address the answer came from. */
  from: string;
}

interface ProbeMatchData {
  probeMatches?: {
    probeMatch?: {
      endpointReference?: { address?: string };
      scopes?: string | { _: string };
      XAddrs?: string;
    };
  };
}

interface OnvifDiscovery {
  probe(
    options: { timeout: number; resolve: false; device?: string },
    callback: (error: unknown, found: ProbeMatchData[]) => void,
  ): void;
  on(event: 'device', listener: (data: ProbeMatchData, rinfo: { address: string }) => void): void;
  on(event: 'error', listener: (error: unknown) => void): void;
  removeListener(event: 'device' | 'error', listener: (...args: never[]) => void): void;
}

/** When the probe is sent again (WS-Discovery: between UDP_MIN_DELAY 50 ms and UDP_MAX_DELAY 250 ms). */
const REPEAT_DELAY_MS = 150;

// The `onvif` package is CommonJS without type declarations.
const onvif = createRequire(import.meta.url)('onvif') as { Discovery: OnvifDiscovery };

function scopeValue(scopes: string[], key: string): string | null {
  const prefix = `onvif://www.onvif.org/${key}/`;
  const scope = scopes.find((s) => s.startsWith(prefix));
  return scope ? decodeURIComponent(scope.slice(prefix.length)) : null;
}

/**
 * Sends a WS-Discovery Probe for network video transmitters from the given interface (or the
 * default route) and collects the ProbeMatches that arrive within the timeout. The `onvif`
 * package does the multicast; this keeps only what onboarding needs.
 */
export function discoverCameras(options: {
  timeoutMs: number;
  networkInterface?: string;
}): Promise<{ cameras: DiscoveredCamera[]; ignoredAnswers: number }> {
  return new Promise((resolve, reject) => {
    const found = new Map<string, DiscoveredCamera>();
    const onDevice = (data: ProbeMatchData, rinfo: { address: string }) => {
      const match = data.probeMatches?.probeMatch;
      const urn = match?.endpointReference?.address;
      const xaddr = match?.XAddrs?.split(/\s+/).find(Boolean);
      if (!urn || !xaddr || found.has(urn)) return;
      const rawScopes = typeof match?.scopes === 'string' ? match.scopes : (match?.scopes?._ ?? '');
      const scopes = rawScopes.split(/\s+/).filter(Boolean);
      found.set(urn, {
        endpointUrn: urn,
        xaddr,
        name: scopeValue(scopes, 'name'),
        hardware: scopeValue(scopes, 'hardware'),
        location: scopeValue(scopes, 'location'),
        scopes,
        from: rinfo.address,
      });
    };
    // The package also emits 'error' for every answer that is not a ProbeMatch; an EventEmitter
    // with no 'error' listener would throw that out of the socket callback.
    let ignored = 0;
    const onError = () => {
      ignored++;
    };
    onvif.Discovery.on('device', onDevice);
    onvif.Discovery.on('error', onError);
    // UDP may drop a probe or its answer: WS-Discovery sends each multicast message twice
    // (MULTICAST_UDP_REPEAT 1), the repeat after 50–250 ms (UDP_MIN_DELAY, UDP_MAX_DELAY).
    const probes = [0, REPEAT_DELAY_MS].map(
      (delayMs) =>
        new Promise<unknown>((done) => {
          setTimeout(() => {
            onvif.Discovery.probe(
              {
                timeout: Math.max(100, options.timeoutMs - delayMs),
                resolve: false,
                ...(options.networkInterface ? { device: options.networkInterface } : {}),
              },
              (error) => done(error),
            );
          }, delayMs);
        }),
    );
    void Promise.all(probes).then((errors) => {
      onvif.Discovery.removeListener('device', onDevice as never);
      onvif.Discovery.removeListener('error', onError as never);
      // Answers that were not ProbeMatches come back as errors beside the matches; only a
      // socket failure of both probes with nothing found is a failed discovery.
      const failure = errors.find((error) => error && !Array.isArray(error));
      if (failure && errors.every((error) => error && !Array.isArray(error)) && found.size === 0) {
        reject(failure instanceof Error ? failure : new Error(String(failure)));
      } else resolve({ cameras: [...found.values()], ignoredAnswers: ignored });
    });
  });
}
