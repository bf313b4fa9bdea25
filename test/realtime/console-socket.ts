import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contracts/realtime.js';

export type ConsoleClient = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface Recorded {
  socket: ConsoleClient;
  /** Every server event in arrival order, with its arrival time. */
  events: { name: string; payload: unknown; at: number }[];
  of<K extends keyof ServerToClientEvents>(name: K): Parameters<ServerToClientEvents[K]>[0][];
}

/** A real socket.io-client over WebSocket, recording every event it receives. */
export function consoleSocket(
  httpUrl: string,
  credentials: { headers?: Record<string, string>; token?: string } = {},
  options: { reconnection?: boolean } = {},
): Recorded {
  const socket: ConsoleClient = io(httpUrl, {
    path: '/socket.io',
    transports: ['websocket'],
    forceNew: true,
    reconnection: options.reconnection ?? false,
    reconnectionDelay: 50,
    reconnectionDelayMax: 100,
    extraHeaders: credentials.headers ?? {},
    auth: credentials.token ? { token: credentials.token } : {},
  });
  const events: Recorded['events'] = [];
  socket.onAny((name: string, payload: unknown) => events.push({ name, payload, at: Date.now() }));
  return {
    socket,
    events,
    of: (name) => events.filter((e) => e.name === name).map((e) => e.payload) as never,
  };
}

/** Resolves once connected, or rejects with the server's reason. */
export function connected(client: Recorded): Promise<void> {
  return new Promise((resolve, reject) => {
    if (client.socket.connected) return resolve();
    client.socket.once('connect', () => resolve());
    client.socket.once('connect_error', (error) => reject(error));
  });
}
