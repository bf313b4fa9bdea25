import { authorizationFor, basicAuthorization, type Credentials, parseChallenges } from './http-auth.js';

/**
 * Signs the requests of one RTSP session (RFC 2326 §16.2 reuses HTTP's schemes) against the
 * camera's last challenge: Digest preferred, Basic only where it is all the camera offers, as the
 * poll's DESCRIBE does.
 */
export class RtspAuthenticator {
  private readonly credentials: Credentials;
  private scheme: ReturnType<typeof authorizationFor> = null;

  constructor(username: string, password: string) {
    this.credentials = { username, password };
  }

  /** Takes a 401's WWW-Authenticate; false when it holds no challenge this client can answer. */
  accept(header: string | undefined): boolean {
    this.scheme = authorizationFor(parseChallenges(header), true);
    return this.scheme !== null;
  }

  /** The Authorization value for a request, or null before any challenge. */
  authorization(method: string, uri: string): string | null {
    if (!this.scheme) return null;
    return this.scheme.scheme === 'digest'
      ? this.scheme.session.authorize(method, uri, this.credentials)
      : basicAuthorization(this.credentials);
  }
}
