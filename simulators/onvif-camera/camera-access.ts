import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../devices/index.js';
import type { CameraFault, CameraFaultKind } from './faults.js';
import { digestChallenge, verifyDigest } from './http-digest.js';
import { PRE_AUTH_ACTIONS } from './onvif-services.js';
import { FAULTS, faultStatus, type SoapFault, type SoapRequest, soapFault } from './soap.js';
import { type Credentials, verifyUsernameToken } from './ws-security.js';

/** An HTTP answer refusing a request. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface CameraAccessOptions {
  clock: Clock;
  log: Logger;
  realm: string;
  /** The camera's current Digest nonce (a new one each boot). */
  nonce: () => string;
  /** The ONVIF account as it stands (the wrong-credentials fault changes its password). */
  account: () => Credentials;
  faults: ReadonlyMap<CameraFaultKind, CameraFault>;
}

/** A refused login: when, from where, and what it tried (a SOAP action, or `snapshot`). */
export interface FailedLogin {
  at: number;
  address: string;
  via: string;
}

/** Failed logins kept for statistics; older ones are dropped first. */
const MAX_FAILURES_KEPT = 10_000;

/**
 * Who may use the simulated camera, with the quirks of real firmware: SOAP behind WS-Security
 * (ONVIF Core §5.9.4), or only behind HTTP Digest; refusals worded as ter:NotAuthorized, a
 * WS-Security fault or a bare HTTP status; a snapshot behind Digest, Basic or a separate account;
 * and Hikvision-style lockout, which refuses even the right password from an address that failed
 * too often. Every refused login is counted, so tests can bound how hard a client hits a camera.
 */
export class CameraAccess {
  private readonly failures: FailedLogin[] = [];
  /** Consecutive failed logins per client address, and until when an address is locked. */
  private readonly strikes = new Map<string, number>();
  private readonly lockedUntil = new Map<string, number>();

  constructor(private readonly options: CameraAccessOptions) {}

  /** Refused logins (credentials sent and not accepted) since `sinceMs`, all services together. */
  failedLogins(sinceMs = Number.NEGATIVE_INFINITY): number {
    return this.failures.filter((f) => f.at >= sinceMs).length;
  }

  /** When each refused login happened, oldest first. */
  failedLoginTimes(): number[] {
    return this.failures.map((f) => f.at);
  }

  /** Every refused login kept, oldest first. */
  failedLoginLog(): FailedLogin[] {
    return this.failures.map((f) => ({ ...f }));
  }

  /** A camera that reboots forgets who it locked out, as firmware keeps this in memory. */
  reset(): void {
    this.strikes.clear();
    this.lockedUntil.clear();
  }

  /** Null to let a SOAP request through, else the answer refusing it. */
  soap(req: IncomingMessage, request: SoapRequest, cameraNowMs: number): Refusal | null {
    const { faults } = this.options;
    const address = req.socket.remoteAddress ?? '';
    const authorization = req.headers.authorization;
    if (faults.has('digest-soap')) {
      // Everything behind HTTP Digest, GetSystemDateAndTime included; WS-Security is not looked at.
      return this.digest(authorization, 'POST', address, request.action, this.options.account(), () =>
        this.challenge(false),
      );
    }
    if (PRE_AUTH_ACTIONS.has(request.action)) return null;
    // ONVIF Core §5.12.1: HTTP Digest is accepted as well where the device advertises HttpDigest.
    if (authorization?.startsWith('Digest ')) {
      return this.digest(authorization, 'POST', address, request.action, this.options.account(), () =>
        this.challenge(false),
      );
    }
    const verdict = verifyUsernameToken(request.header, this.options.account(), cameraNowMs);
    if (verdict.ok && !this.locked(address)) {
      this.strikes.delete(address);
      return null;
    }
    if (!verdict.ok && verdict.reason === 'missing') return this.soapRefusal('');
    this.options.log.debug(
      { action: request.action, reason: verdict.ok ? 'locked' : verdict.reason },
      'login refused',
    );
    return this.soapRefusal(this.strike(address, request.action));
  }

  /** Null to serve the snapshot, else the answer refusing it. */
  snapshot(req: IncomingMessage): Refusal | null {
    const { faults } = this.options;
    const address = req.socket.remoteAddress ?? '';
    const user = faults.get('snapshot-user');
    const account = user?.kind === 'snapshot-user' ? user : this.options.account();
    const authorization = req.headers.authorization;
    if (!faults.has('snapshot-basic')) {
      return this.digest(authorization, req.method ?? 'GET', address, 'snapshot', account, (stale) =>
        this.challenge(stale),
      );
    }
    const basic = () => this.unauthorized({ 'www-authenticate': `Basic realm="${this.options.realm}"` });
    // A client that answers a Basic challenge with anything else has not tried a password here.
    if (!authorization?.startsWith('Basic ')) return basic();
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const accepted =
      colon > 0 &&
      decoded.slice(0, colon) === account.username &&
      decoded.slice(colon + 1) === account.password;
    if (accepted && !this.locked(address)) {
      this.strikes.delete(address);
      return null;
    }
    this.strike(address, 'snapshot');
    return basic();
  }

  private digest(
    authorization: string | undefined,
    method: string,
    address: string,
    via: string,
    account: Credentials,
    challenge: (stale: boolean) => Refusal,
  ): Refusal | null {
    const verdict = verifyDigest(authorization, method, account, this.options.realm, this.options.nonce());
    // No credentials yet, or an old nonce: a challenge, not a failed login (RFC 7616 §3.3).
    if (verdict === 'missing') return challenge(false);
    if (verdict === 'stale') return challenge(true);
    if (verdict === 'ok' && !this.locked(address)) {
      this.strikes.delete(address);
      return null;
    }
    const note = this.strike(address, via);
    const refusal = challenge(false);
    return note ? { ...refusal, body: `Unauthorized: ${note}` } : refusal;
  }

  private challenge(stale: boolean): Refusal {
    return this.unauthorized({
      'www-authenticate': digestChallenge(this.options.realm, this.options.nonce(), stale),
    });
  }

  private unauthorized(headers: Record<string, string>): Refusal {
    return { status: 401, headers: { ...headers, 'content-type': 'text/plain' }, body: 'Unauthorized' };
  }

  private locked(address: string): boolean {
    const until = this.lockedUntil.get(address);
    if (until === undefined) return false;
    if (this.options.clock.now() < until) return true;
    this.lockedUntil.delete(address);
    return false;
  }

  /**
   * Counts a refused login and applies the lockout fault. Returns what the camera tells the
   * client about it (Imou counts down the attempts left), or '' without the fault.
   */
  private strike(address: string, via: string): string {
    const now = this.options.clock.now();
    this.failures.push({ at: now, address, via });
    if (this.failures.length > MAX_FAILURES_KEPT) this.failures.shift();
    const lockout = this.options.faults.get('lockout');
    if (lockout?.kind !== 'lockout') return '';
    if (this.locked(address)) {
      const leftS = Math.ceil(((this.lockedUntil.get(address) ?? now) - now) / 1000);
      return `account locked, try again in ${leftS} s`;
    }
    const strikes = (this.strikes.get(address) ?? 0) + 1;
    if (strikes >= lockout.attempts) {
      this.strikes.delete(address);
      this.lockedUntil.set(address, now + lockout.lockS * 1000);
      this.options.log.info({ address, attempts: strikes, lockS: lockout.lockS }, 'client locked out');
      return `account locked for ${lockout.lockS} s after ${strikes} failed logins`;
    }
    this.strikes.set(address, strikes);
    return `${lockout.attempts - strikes} attempts left`;
  }

  private soapRefusal(note: string): Refusal {
    const style = this.options.faults.get('auth-fault');
    const kind = style?.kind === 'auth-fault' ? style.style : 'not-authorized';
    if (kind === 'http-401' || kind === 'http-403') {
      const status = kind === 'http-401' ? 401 : 403;
      return {
        status,
        headers: { 'content-type': 'text/plain' },
        body: `${status === 401 ? 'Unauthorized' : 'Forbidden'}${note ? `: ${note}` : ''}`,
      };
    }
    const base: SoapFault =
      kind === 'failed-authentication'
        ? FAULTS.failedAuthentication
        : kind === 'invalid-security'
          ? FAULTS.invalidSecurity
          : kind === 'failed-check'
            ? FAULTS.failedCheck
            : FAULTS.notAuthorized;
    const fault: SoapFault = note ? { ...base, reason: `${base.reason} (${note})` } : base;
    // A Sender fault is HTTP 400 (SOAP 1.2 Part 2 §7.5.2.2).
    return {
      status: faultStatus(fault),
      headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
      body: soapFault(fault),
    };
  }
}
