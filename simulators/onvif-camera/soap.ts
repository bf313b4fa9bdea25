import { XMLParser } from 'fast-xml-parser';

/** Namespaces as real cameras declare them (ONVIF Core 2.x, SOAP 1.2, WS-Addressing). */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tr2: 'http://www.onvif.org/ver20/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  d: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
} as const;

export const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** A SOAP 1.2 envelope declaring every prefix the services use, as most camera firmwares do. */
export function soapEnvelope(body: string, header = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.s}" xmlns:tds="${NS.tds}" xmlns:trt="${NS.trt}" xmlns:tr2="${NS.tr2}" xmlns:tt="${NS.tt}" xmlns:ter="${NS.ter}" xmlns:wsse="${NS.wsse}">` +
    `${header === '' ? '' : `<s:Header>${header}</s:Header>`}<s:Body>${body}</s:Body></s:Envelope>`
  );
}

export interface SoapFault {
  /** SOAP 1.2 Part 1 §5.4.6: Sender faults are the client's doing, Receiver faults the device's. */
  code: 'Sender' | 'Receiver';
  /** ONVIF Core §5.11.2 generic faults, e.g. `ter:NotAuthorized`. */
  subcode: string;
  /** Optional second-level subcode, e.g. `ter:NoProfile` under `ter:InvalidArgVal`. */
  subSubcode?: string;
  reason: string;
}

/** SOAP 1.2 Part 2 §7.5.2.2: env:Sender maps to HTTP 400, env:Receiver to 500. */
export function faultStatus(fault: SoapFault): number {
  return fault.code === 'Sender' ? 400 : 500;
}

export function soapFault(fault: SoapFault): string {
  const inner =
    fault.subSubcode === undefined
      ? `<s:Value>${fault.subcode}</s:Value>`
      : `<s:Value>${fault.subcode}</s:Value><s:Subcode><s:Value>${fault.subSubcode}</s:Value></s:Subcode>`;
  return soapEnvelope(
    `<s:Fault><s:Code><s:Value>s:${fault.code}</s:Value><s:Subcode>${inner}</s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${escapeXml(fault.reason)}</s:Text></s:Reason></s:Fault>`,
  );
}

export const FAULTS = {
  notAuthorized: {
    code: 'Sender',
    subcode: 'ter:NotAuthorized',
    reason: 'Sender not Authorized',
  },
  actionNotSupported: (action: string): SoapFault => ({
    code: 'Receiver',
    subcode: 'ter:ActionNotSupported',
    reason: `Optional Action Not Implemented: ${action}`,
  }),
  wellFormed: {
    code: 'Sender',
    subcode: 'ter:WellFormed',
    reason: 'The request is not a well-formed SOAP 1.2 envelope',
  },
  // WS-Security 1.0 §12 (OASIS, table 5): what firmware built on gSOAP's wsse plugin sends instead
  // of ter:NotAuthorized when a UsernameToken does not check out.
  failedAuthentication: {
    code: 'Sender',
    subcode: 'wsse:FailedAuthentication',
    reason: 'The security token could not be authenticated or authorized',
  },
  invalidSecurity: {
    code: 'Sender',
    subcode: 'wsse:InvalidSecurity',
    reason: 'An error was discovered processing the <wsse:Security> header',
  },
  failedCheck: {
    code: 'Sender',
    subcode: 'wsse:FailedCheck',
    reason: 'The signature or decryption was invalid',
  },
  noProfile: (token: string): SoapFault => ({
    code: 'Sender',
    subcode: 'ter:InvalidArgVal',
    subSubcode: 'ter:NoProfile',
    reason: `No such profile: ${token}`,
  }),
} satisfies Record<string, SoapFault | ((arg: string) => SoapFault)>;

/** What a handler needs from a request: the header and the body's one operation element. */
export interface SoapRequest {
  header: Record<string, unknown>;
  /** Local name of the operation, e.g. `GetProfiles`. */
  action: string;
  /** The operation element, namespace prefixes removed. */
  params: Record<string, unknown>;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

export function parseXml(xml: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = parser.parse(xml, true);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    // Malformed XML is the client's fault; callers answer it with ter:WellFormed or ignore the datagram.
    return undefined;
  }
}

/** Undefined when the text is not a SOAP envelope with one operation in its body. */
export function parseSoapRequest(xml: string): SoapRequest | undefined {
  const envelope = child(parseXml(xml), 'Envelope');
  const body = child(envelope, 'Body');
  if (!body) return undefined;
  const action = Object.keys(body).find((key) => !key.startsWith('@_'));
  if (action === undefined) return undefined;
  const params = body[action];
  return { header: child(envelope, 'Header') ?? {}, action, params: isRecord(params) ? params : {} };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function child(node: unknown, name: string): Record<string, unknown> | undefined {
  if (!isRecord(node)) return undefined;
  const value = node[name];
  return isRecord(value) ? value : undefined;
}

/** Text content of an element whether or not it carried attributes. */
export function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  if (isRecord(node) && typeof node['#text'] === 'string') return node['#text'];
  return undefined;
}
