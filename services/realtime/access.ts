import type { IncomingHttpHeaders } from 'node:http';
import { fastifyCookie } from '@fastify/cookie';
import type { Role } from '../../contracts/accounts.js';
import { mayActIn, type Principal } from '../accounts/roles.js';

/** What a console socket presented: a browser session, or an API token for a machine client. */
export type Credential = { kind: 'session'; sessionId: string } | { kind: 'token'; token: string };

/** The live streams a principal may receive; the pure rule behind the rooms a socket joins. */
export interface Streams {
  clusters: boolean;
  cameras: boolean;
  deliveries: boolean;
  /** May see a device's raw MQTT traffic (`device.watch`). */
  /** Receipts of bulletins from the province, for its communes' staff. */
  bulletins: boolean;
  /** Alarms and village outages with their clusters: the commune's staff. */
  alarms: boolean;
  /** Village outages as the camera wall shows them (which cameras are blind): police too. */
  outages: boolean;
  raw: boolean;
}

const holds = (principal: Principal, ...roles: Role[]) =>
  principal.roles.includes('admin') || roles.some((role) => principal.roles.includes(role));

/**
 * Operators follow clusters and deliveries; police only cameras (never cluster or broadcast data);
 * technicians clusters, cameras and raw traffic; admins everything.
 */
export function streamsFor(principal: Principal): Streams {
  return {
    clusters: holds(principal, 'operator', 'technician'),
    cameras: holds(principal, 'police', 'technician'),
    deliveries: holds(principal, 'operator'),
    bulletins: holds(principal, 'operator', 'approver', 'viewer'),
    // Police never get cluster data: outages reach them as `outages.changed`, cameras only.
    alarms: holds(principal, 'operator', 'technician', 'viewer'),
    outages: holds(principal, 'operator', 'technician', 'viewer', 'police'),
    raw: holds(principal, 'technician'),
  };
}

/**
 * The credential of a handshake, with the HTTP API's precedence: an explicit token (`auth.token`,
 * or an Authorization header) is the only one considered when present, so a bad token is never
 * rescued by a cookie sent alongside it.
 */
export function credentialOf(
  auth: Record<string, unknown>,
  headers: IncomingHttpHeaders,
  sessionCookie: string,
): Credential | null {
  if (auth.token !== undefined)
    return typeof auth.token === 'string' ? { kind: 'token', token: auth.token } : null;
  if (headers.authorization !== undefined) {
    // The scheme name is case-insensitive [RFC 7235 §2.1].
    const bearer = /^bearer\s+(\S+)\s*$/i.exec(headers.authorization);
    return bearer?.[1] ? { kind: 'token', token: bearer[1] } : null;
  }
  const sessionId = headers.cookie ? fastifyCookie.parse(headers.cookie)[sessionCookie] : undefined;
  return sessionId ? { kind: 'session', sessionId } : null;
}

/** Whether the principal may see a record of this commune (a limited account sees only its own). */
export function inCommune(principal: Principal, communeId: string): boolean {
  return mayActIn(principal, communeId);
}

/** Two principals grant the same: otherwise a socket is dropped so it reconnects with new rooms. */
export function sameGrant(a: Principal, b: Principal): boolean {
  return (
    a.userId === b.userId &&
    JSON.stringify(a.communes) === JSON.stringify(b.communes) &&
    a.roles.length === b.roles.length &&
    a.roles.every((role) => b.roles.includes(role))
  );
}
