import { createHash, randomBytes } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  device: 'http://www.onvif.org/ver10/device/wsdl',
  media: 'http://www.onvif.org/ver10/media/wsdl',
  /** Media2 (ONVIF Media Service 2.0, Profile T): H.265 cameras may serve only this one. */
  media2: 'http://www.onvif.org/ver20/media/wsdl',
  schema: 'http://www.onvif.org/ver10/schema',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  passwordDigest:
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest',
  base64Binary:
    'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary',
} as const;

export function xmlEscape(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** WSS UsernameToken Profile 1.0 §3.1: Password_Digest = Base64(SHA-1(nonce + created + password)). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/**
 * The WS-Security header ONVIF requires for authenticated calls (ONVIF Core, "User-based access
 * control": devices shall accept the WS-UsernameToken with PasswordDigest). `createdMs` must be in
 * the camera's time: devices reject a Created too far from their own clock, which is why callers
 * pass platform time corrected by the offset measured with GetSystemDateAndTime.
 */
export function securityHeader(
  username: string,
  password: string,
  createdMs: number,
  nonce = randomBytes(16),
) {
  // Whole seconds: some firmware fails to parse fractional seconds in xs:dateTime.
  const created = new Date(Math.floor(createdMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  return (
    `<wsse:Security s:mustUnderstand="1" xmlns:wsse="${NS.wsse}" xmlns:wsu="${NS.wsu}">` +
    '<wsse:UsernameToken>' +
    `<wsse:Username>${xmlEscape(username)}</wsse:Username>` +
    `<wsse:Password Type="${NS.passwordDigest}">${passwordDigest(nonce, created, password)}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${NS.base64Binary}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created>` +
    '</wsse:UsernameToken></wsse:Security>'
  );
}

export function soapEnvelope(body: string, header = ''): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:tds="${NS.device}" xmlns:trt="${NS.media}" xmlns:tr2="${NS.media2}" xmlns:tt="${NS.schema}">` +
    `<s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** A parser per caller: probes run concurrently and share nothing mutable. */
export function createSoapParser(): XMLParser {
  return new XMLParser({
    removeNSPrefix: true,
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
  });
}

export type XmlNode = Record<string, unknown>;

export function child(node: unknown, ...path: string[]): unknown {
  let cur: unknown = node;
  for (const key of path) {
    if (Array.isArray(cur)) cur = cur[0];
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as XmlNode)[key];
  }
  return cur;
}

export function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node.trim();
  if (typeof node === 'number') return String(node);
  if (node && typeof node === 'object' && '#text' in node) return text((node as XmlNode)['#text']);
  return undefined;
}

/** The SOAP 1.2 Fault's code and subcodes (`s:Sender`, `ter:NotAuthorized`, …), or null if no Fault. */
export function faultCodes(body: unknown): string[] | null {
  const fault = child(body, 'Fault');
  if (fault === undefined) return null;
  const codes: string[] = [];
  let code: unknown = child(fault, 'Code');
  while (code !== undefined) {
    const value = text(child(code, 'Value'));
    if (value) codes.push(value);
    code = child(code, 'Subcode');
  }
  // SOAP 1.1 (some older firmware answers with it anyway): a single faultcode element.
  const legacy = text(child(fault, 'faultcode'));
  if (legacy) codes.push(legacy);
  return codes;
}

/** The SOAP 1.2 Fault's code, subcodes and reason flattened into one string, or null if no Fault. */
export function faultText(body: unknown): string | null {
  const codes = faultCodes(body);
  if (codes === null) return null;
  const fault = child(body, 'Fault');
  const reason = text(child(fault, 'Reason', 'Text')) ?? text(child(fault, 'faultstring'));
  return [...codes, ...(reason ? [reason] : [])].join(' ') || 'SOAP fault';
}

/**
 * Fault subcodes that mean "your credentials were not accepted": ONVIF Core's ter:NotAuthorized,
 * and the WS-Security 1.0 faults (§12) firmware built on gSOAP's wsse plugin answers with instead.
 * Prefixes vary between firmwares, so the local name decides.
 */
const AUTHENTICATION_FAULTS = new Set([
  'NotAuthorized',
  'FailedAuthentication',
  'InvalidSecurity',
  'InvalidSecurityToken',
  'FailedCheck',
  'SecurityTokenUnavailable',
  'UnsupportedSecurityToken',
  'MessageExpired',
]);

export function isAuthenticationFault(codes: readonly string[]): boolean {
  return codes.some((code) => AUTHENTICATION_FAULTS.has(code.slice(code.indexOf(':') + 1)));
}
