import type { XMLParser } from 'fast-xml-parser';
import type { HttpClient } from 'urllib';
import type { Clock } from '../shared/clock.js';
import { CertificateChangedError, CertificateNotTrustedError, originOf } from './camera-connector.js';
import { authorizationFor, type Credentials, type DigestSession, parseChallenges } from './http-auth.js';
import { callRunner, describeError, findCause } from './probe-calls.js';
import {
  child,
  createSoapParser,
  faultCodes,
  faultText,
  isAuthenticationFault,
  securityHeader,
  soapEnvelope,
  text,
} from './soap.js';

export type SoapOutcome =
  | { kind: 'ok'; body: unknown }
  /** Credentials were sent and refused: a failed login as the camera counts them. */
  | { kind: 'refused'; detail: string }
  /** The call was made without credentials and the camera wants them. */
  | { kind: 'login-required'; detail: string }
  | { kind: 'fault'; detail: string }
  | { kind: 'bad-response'; detail: string }
  | { kind: 'certificate-changed'; detail: string }
  /** No certificate is trusted for the address and the caller may not trust one: nothing was sent. */
  | { kind: 'certificate-not-trusted'; detail: string }
  | { kind: 'network'; detail: string };

export interface SoapCall {
  outcome: SoapOutcome;
  /** The last round trip (a Digest retry is timed on its own, like any signed call). */
  latencyMs: number;
  sentAt: number;
  /** The camera's clock from its HTTP Date header (RFC 9110 §6.6.1), when it sent one. */
  dateHeaderMs: number | null;
}

/**
 * SOAP calls to one camera for one poll. An authenticated call carries a WS-Security
 * UsernameToken dated in the camera's clock; when the camera answers 401 with a Digest challenge
 * (HTTP Digest instead of, or besides, WS-Security: ONVIF Core "HTTP digest authentication",
 * Hikvision firmware from 5.7.13, Vivotek) the call is made again with Digest, and later calls
 * answer the same challenge straight away. Each refused login is counted: cameras lock an account
 * or a client address after a few.
 */
export class SoapClient {
  /** Camera clock minus platform clock, as used to date UsernameTokens. */
  clockOffsetMs = 0;
  refusedLogins = 0;
  private readonly parser: XMLParser = createSoapParser();
  private readonly digest = new Map<string, DigestSession>();

  constructor(
    private readonly deps: {
      http: HttpClient;
      clock: Clock;
      credentials: Credentials;
      callTimeoutMs: number;
      /** Aborts every call (shutdown). */
      signal?: AbortSignal;
      /** Throws when the URL may not be fetched (address policy). */
      allowed: (url: string) => void;
    },
  ) {}

  /**
   * `extra.headers` go into the SOAP header after the UsernameToken (WS-Addressing); `extra.waitMs`
   * extends the budget of a call the device may hold open (PullMessages).
   */
  async call(
    url: string,
    body: string,
    authenticated: boolean,
    extra: { headers?: string; waitMs?: number } = {},
  ): Promise<SoapCall> {
    const { clock, credentials, callTimeoutMs } = this.deps;
    const waitMs = extra.waitMs ?? 0;
    const run = callRunner(clock, callTimeoutMs + waitMs, this.deps.signal);
    let sentAt = clock.now();
    try {
      this.deps.allowed(url);
      const origin = originOf(new URL(url));
      const path = `${new URL(url).pathname}${new URL(url).search}`;
      const send = (authorization: string | undefined) => {
        sentAt = clock.now();
        const header =
          (authenticated
            ? securityHeader(credentials.username, credentials.password, clock.now() + this.clockOffsetMs)
            : '') + (extra.headers ?? '');
        return run((signal) =>
          this.deps.http.request<string>(url, {
            method: 'POST',
            followRedirect: false,
            content: soapEnvelope(body, header),
            headers: {
              'content-type': 'application/soap+xml; charset=utf-8',
              ...(authorization ? { authorization } : {}),
            },
            dataType: 'text',
            // The injected clock bounds the call; urllib's own timer only stays out of the way of
            // one the device holds open.
            timeout: waitMs > 0 ? (callTimeoutMs + waitMs) * 2 : callTimeoutMs,
            signal,
          }),
        );
      };
      const session = authenticated ? this.digest.get(origin) : undefined;
      let signedWithDigest = session !== undefined;
      let res = await send(session?.authorize('POST', path, credentials));
      if (res.status === 401 && !authenticated) {
        // Remembered so the first signed call answers the challenge without another 401.
        const auth = authorizationFor(parseChallenges(res.headers['www-authenticate']), false);
        if (auth?.scheme === 'digest') this.digest.set(origin, auth.session);
      } else if (res.status === 401) {
        const challenges = parseChallenges(res.headers['www-authenticate']);
        const stale = challenges.some((c) => c.params.get('stale')?.toLowerCase() === 'true');
        const auth = authorizationFor(challenges, false);
        // A first challenge, or a nonce that expired, is not a refused login: answer it once.
        if (auth?.scheme === 'digest' && (!signedWithDigest || stale)) {
          this.digest.set(origin, auth.session);
          signedWithDigest = true;
          res = await send(auth.session.authorize('POST', path, credentials));
        }
      }
      const latencyMs = clock.now() - sentAt;
      const date = Date.parse(String(res.headers.date ?? ''));
      const answered = (outcome: SoapOutcome): SoapCall => ({
        outcome,
        latencyMs,
        sentAt,
        dateHeaderMs: Number.isNaN(date) ? null : date,
      });
      if (res.status === 401 || res.status === 403) {
        const how = !authenticated
          ? 'login required'
          : signedWithDigest
            ? 'HTTP Digest login refused'
            : 'login refused';
        return answered(this.loginOutcome(authenticated, `HTTP ${res.status} (${how})`));
      }
      let parsed: unknown;
      try {
        parsed = this.parser.parse(res.data);
      } catch (err) {
        return answered({ kind: 'bad-response', detail: `HTTP ${res.status}, ${describeError(err)}` });
      }
      const envelopeBody = child(parsed, 'Envelope', 'Body');
      if (envelopeBody === undefined) {
        return answered({ kind: 'bad-response', detail: `HTTP ${res.status}, not a SOAP envelope` });
      }
      const codes = faultCodes(envelopeBody);
      if (codes !== null) {
        const detail = faultText(envelopeBody) ?? 'SOAP fault';
        const reason = text(child(envelopeBody, 'Fault', 'Reason', 'Text')) ?? '';
        // ONVIF Core, "SOAP fault messages": env:Sender/ter:NotAuthorized, or a WS-Security fault.
        if (isAuthenticationFault(codes) || /\bnot authori[sz]ed\b/i.test(reason)) {
          return answered(this.loginOutcome(authenticated, detail));
        }
        return answered({ kind: 'fault', detail });
      }
      return answered({ kind: 'ok', body: envelopeBody });
    } catch (err) {
      const changed = findCause(err, CertificateChangedError);
      const untrusted = findCause(err, CertificateNotTrustedError);
      return {
        outcome: changed
          ? { kind: 'certificate-changed', detail: changed.message }
          : untrusted
            ? { kind: 'certificate-not-trusted', detail: untrusted.message }
            : { kind: 'network', detail: describeError(err) },
        latencyMs: clock.now() - sentAt,
        sentAt,
        dateHeaderMs: null,
      };
    }
  }

  private loginOutcome(authenticated: boolean, detail: string): SoapOutcome {
    if (!authenticated) return { kind: 'login-required', detail };
    this.refusedLogins += 1;
    return { kind: 'refused', detail };
  }
}
