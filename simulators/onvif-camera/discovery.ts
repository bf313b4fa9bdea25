import { randomUUID } from 'node:crypto';
import { child, escapeXml, isRecord, NS, parseXml, text } from './soap.js';

/** WS-Discovery 2005/04 §2.4: the multicast group and port every ONVIF client probes. */
export const DISCOVERY_MULTICAST_ADDRESS = '239.255.255.250';
export const DISCOVERY_PORT = 3702;

/** The device types an ONVIF NVT matches (ONVIF Core §7.3.1). */
const MATCHED_TYPES = new Set(['NetworkVideoTransmitter', 'Device']);

export interface ProbeRequest {
  messageId: string;
  /** Local names of the requested types; empty matches every device. */
  types: string[];
  scopes: string[];
}

/** Undefined when the datagram is not a Probe (Hello, Bye, ProbeMatches from other devices…). */
export function parseProbe(xml: string): ProbeRequest | undefined {
  const envelope = child(parseXml(xml), 'Envelope');
  const probe = child(envelope, 'Body')?.Probe;
  if (probe === undefined) return undefined;
  const messageId = text(child(envelope, 'Header')?.MessageID);
  if (messageId === undefined) return undefined;
  const list = (value: unknown) =>
    (text(value) ?? '')
      .split(/\s+/)
      .filter((item) => item !== '')
      .map((item) => item.slice(item.indexOf(':') + 1));
  const node = isRecord(probe) ? probe : {};
  return {
    messageId,
    types: list(node.Types),
    scopes: (text(node.Scopes) ?? '').split(/\s+/).filter((item) => item !== ''),
  };
}

/**
 * WS-Discovery 2005/04 §5.1: a device matches when it has every requested type and every requested
 * scope matches one of its scopes by the default RFC 3986 rule (a path-segment prefix).
 */
export function probeMatches(probe: ProbeRequest, scopes: readonly string[]): boolean {
  const typesOk = probe.types.length === 0 || probe.types.some((type) => MATCHED_TYPES.has(type));
  const scopesOk = probe.scopes.every((wanted) =>
    scopes.some(
      (scope) => scope === wanted || scope.startsWith(wanted.endsWith('/') ? wanted : `${wanted}/`),
    ),
  );
  return typesOk && scopesOk;
}

export interface ProbeMatchInput {
  relatesTo: string;
  uuid: string;
  scopes: readonly string[];
  xaddr: string;
  messageNumber: number;
}

export function probeMatchXml(input: ProbeMatchInput): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.wsa}" xmlns:d="${NS.d}" xmlns:dn="${NS.dn}" xmlns:tds="${NS.tds}">` +
    `<s:Header><a:MessageID>urn:uuid:${randomUUID()}</a:MessageID>` +
    `<a:RelatesTo>${escapeXml(input.relatesTo)}</a:RelatesTo>` +
    '<a:To s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
    '<a:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>' +
    `<d:AppSequence InstanceId="1" MessageNumber="${input.messageNumber}"/></s:Header>` +
    '<s:Body><d:ProbeMatches><d:ProbeMatch>' +
    `<a:EndpointReference><a:Address>urn:uuid:${input.uuid}</a:Address></a:EndpointReference>` +
    '<d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>' +
    `<d:Scopes>${input.scopes.map(escapeXml).join(' ')}</d:Scopes>` +
    `<d:XAddrs>${escapeXml(input.xaddr)}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>` +
    '</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>'
  );
}
