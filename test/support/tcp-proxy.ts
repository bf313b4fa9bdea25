import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** One address behind the proxy: a platform instance's MQTT port, or Redis, on loopback. */
export interface Backend {
  host: string;
  port: number;
}

/**
 * A TCP load balancer in front of several platform instances, as a province puts one address in
 * its clusters' firmware: each new connection goes to the next backend in turn (round robin); a
 * backend that refuses (its process is gone) is skipped for the next one. Bytes are relayed as
 * they are, both ways; when either side closes or fails, the other is closed too, so a device
 * sees its broker's death as a lost connection and reconnects through the proxy to a live one.
 * With one backend it is a link that a suite can stall (`hold()`), as a slow network does.
 */
export class TcpProxy {
  private server: Server | null = null;
  private next = 0;
  /** Open client ↔ backend pairs, by backend port. */
  private readonly open = new Map<number, Set<Socket>>();
  private readonly clients = new Set<Socket>();
  /** Relayed pairs, client → backend. */
  private readonly pairs = new Map<Socket, Socket>();
  private held = false;
  /** Connections dropped because every backend refused them. */
  refused = 0;

  constructor(private readonly backends: readonly Backend[]) {}

  /** Listens on an ephemeral loopback port; resolves with it. */
  async start(): Promise<number> {
    const server = createServer({ noDelay: true }, (client) => this.relay(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no port');
    return address.port;
  }

  /** Connections open now to each backend port. */
  openTo(port: number): number {
    return this.open.get(port)?.size ?? 0;
  }

  /** The proxy's own ports towards the backends: how a backend (Redis' CLIENT LIST) sees its clients. */
  backendSidePorts(): number[] {
    return [...this.pairs.values()].flatMap((upstream) => (upstream.localPort ? [upstream.localPort] : []));
  }

  /**
   * A stalled link: what clients send waits in the proxy until `release()`, while what backends
   * send still reaches them.
   */
  hold(): void {
    this.held = true;
    for (const [client, upstream] of this.pairs) {
      client.unpipe(upstream);
      client.pause();
    }
  }

  release(): void {
    this.held = false;
    for (const [client, upstream] of this.pairs) client.pipe(upstream);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const client of this.clients) client.destroy();
    for (const sockets of this.open.values()) for (const socket of sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    this.clients.add(client);
    client.once('close', () => this.clients.delete(client));
    // A client that resets while the backend is being chosen must not throw.
    client.on('error', () => client.destroy());
    client.pause();
    this.connectFrom(client, this.next++ % this.backends.length, 0);
  }

  /** Tries backends from `index` on, each once; the client is dropped when all refuse. */
  private connectFrom(client: Socket, index: number, tried: number): void {
    if (client.destroyed) return;
    if (tried >= this.backends.length) {
      this.refused += 1;
      client.destroy();
      return;
    }
    const backend = this.backends[index % this.backends.length] as Backend;
    const upstream = tcpConnect({ host: backend.host, port: backend.port, noDelay: true });
    let established = false;
    upstream.once('connect', () => {
      established = true;
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      const sockets = this.open.get(backend.port) ?? new Set<Socket>();
      this.open.set(backend.port, sockets);
      sockets.add(upstream);
      upstream.once('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      client.once('close', () => {
        this.pairs.delete(client);
        upstream.destroy();
      });
      this.pairs.set(client, upstream);
      upstream.pipe(client);
      if (!this.held) client.pipe(upstream);
    });
    upstream.on('error', () => {
      if (established) upstream.destroy();
      else this.connectFrom(client, index + 1, tried + 1);
    });
  }
}
