import { io, type Socket } from 'socket.io-client';
import type {
  LIVE_NAMESPACE,
  LiveClientToServerEvents,
  LiveServerToClientEvents,
} from '../../../contracts/live';
import { ApiError } from './client';

/** The microphone's namespace (contracts/live.ts): same origin, port and session as the API. */
const NAMESPACE = '/live' satisfies typeof LIVE_NAMESPACE;

export type TalkSocket = Socket<LiveServerToClientEvents, LiveClientToServerEvents>;

/** What an acknowledgement carries (contracts/live.ts LiveAck). */
type Answer<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

/**
 * The HTTP status the API answers each of its error codes with, so a refusal over the socket is
 * headed like the same refusal over HTTP. A code of its own gets the plain "Error:" heading.
 */
const STATUS_OF_CODE: Record<string, number> = {
  bad_request: 400,
  invalid_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  rate_limited: 429,
  internal: 500,
  storage_unavailable: 503,
  insufficient_storage: 507,
};
/** Not an HTTP answer (0 would read as "no connection"). */
export const NO_STATUS = -1;

export function socketError(code: string, message: string): ApiError {
  return new ApiError(STATUS_OF_CODE[code] ?? NO_STATUS, code, message);
}

/** A new connection to the namespace; it shares the page's Socket.IO connection where it can. */
export function openTalkSocket(): TalkSocket {
  return io(NAMESPACE, { withCredentials: true });
}

/**
 * Resolves once the namespace accepted the connection. A refusal by the platform (not signed
 * in, not an operator) fails at once; a platform out of reach is retried by Socket.IO until
 * `timeoutMs`, then fails with the last reason.
 */
export function whenConnected(socket: TalkSocket, timeoutMs: number): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    let last = new ApiError(0, 'network', `no connection to ${NAMESPACE}`);
    const settle = (error: ApiError | null) => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
      if (error) reject(error);
      else resolve();
    };
    const onConnect = () => settle(null);
    const onError = (error: Error) => {
      last = connectError(error);
      // A namespace middleware's refusal is final: Socket.IO does not retry it.
      if (!socket.active) settle(last);
    };
    const timer = setTimeout(() => settle(last), timeoutMs);
    socket.on('connect', onConnect);
    socket.on('connect_error', onError);
  });
}

function connectError(error: Error): ApiError {
  const data = (error as Error & { data?: { code?: unknown } }).data;
  if (typeof data?.code === 'string') return socketError(data.code, error.message);
  // A middleware's `next(new Error('forbidden'))` arrives as a bare code.
  if (/^[a-z_]+$/.test(error.message)) return socketError(error.message, error.message);
  return new ApiError(0, 'network', error.message);
}

/**
 * Sends an event with a timed acknowledgement (`socket.timeout(ms).emit(…, ack)`) and resolves
 * with the value in the answer, or fails with its refusal, the timeout or the disconnection.
 */
export function ask<T>(send: (ack: (error: Error | null, answer: Answer<T>) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    send((error, answer) => {
      // Socket.IO's two reasons an acknowledgement never comes.
      if (error)
        reject(
          /disconnected/.test(error.message)
            ? new ApiError(0, 'network', error.message)
            : socketError('live_timeout', error.message),
        );
      else if (!answer.ok) reject(socketError(answer.error.code, answer.error.message));
      else resolve(answer.value);
    });
  });
}
