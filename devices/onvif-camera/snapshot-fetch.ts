import type { HttpClient } from 'urllib';
import { authorizationFor, basicAuthorization, type Credentials, parseChallenges } from './http-auth.js';
import type { CallRunner } from './probe-calls.js';

export interface SnapshotAnswer {
  status: number;
  data: Buffer;
  /** Credentials were sent and refused: a failed login on the camera. */
  loginRefused: boolean;
  /** Why a 401/403 stands, for the health detail; undefined otherwise. */
  authProblem?: string;
}

/**
 * GET the snapshot URI, answering the camera's challenge: HTTP Digest, or Basic when that is all
 * it offers (many cameras' web servers; the snapshot URI is not covered by ONVIF's Digest rule).
 * The first request goes without credentials: some cameras serve snapshots to anyone, and a
 * challenge is not a failed login, while a guessed scheme could be.
 */
export async function fetchSnapshot(
  http: HttpClient,
  url: string,
  options: {
    credentials: Credentials | null;
    /** Whether these are an account of their own, for the hint when they are refused. */
    separateAccount: boolean;
    run: CallRunner;
    callTimeoutMs: number;
  },
): Promise<SnapshotAnswer> {
  const get = (authorization?: string) =>
    options.run((signal) =>
      http.request<Buffer>(url, {
        method: 'GET',
        // A redirect would take the fetch past the address rewrite to wherever the camera says.
        followRedirect: false,
        dataType: 'buffer',
        timeout: options.callTimeoutMs,
        signal,
        ...(authorization ? { headers: { authorization } } : {}),
      }),
    );
  const first = await get();
  if (first.status !== 401) return { status: first.status, data: first.data, loginRefused: false };
  const { credentials } = options;
  if (credentials === null) {
    return {
      status: 401,
      data: first.data,
      loginRefused: false,
      authProblem: 'HTTP 401 (not tried: a login was already refused in this poll)',
    };
  }
  const auth = authorizationFor(parseChallenges(first.headers['www-authenticate']), true);
  if (!auth) {
    return {
      status: 401,
      data: first.data,
      loginRefused: false,
      authProblem: 'HTTP 401 (no supported login challenge)',
    };
  }
  const path = new URL(url);
  const authorization =
    auth.scheme === 'digest'
      ? auth.session.authorize('GET', `${path.pathname}${path.search}`, credentials)
      : basicAuthorization(credentials);
  const second = await get(authorization);
  if (second.status !== 401 && second.status !== 403) {
    return { status: second.status, data: second.data, loginRefused: false };
  }
  const hint = options.separateAccount ? '' : '; the camera may want a separate snapshot account';
  return {
    status: second.status,
    data: second.data,
    loginRefused: true,
    authProblem: `HTTP ${second.status} (snapshot login refused, ${auth.scheme === 'digest' ? 'Digest' : 'Basic'}${hint})`,
  };
}
