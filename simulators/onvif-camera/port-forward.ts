import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A router's port forward, for rehearsing a camera behind NAT: connections to `listen` go to
 * `target`, byte for byte, while the camera keeps naming its own address and port in every XAddr
 * and URI it reports (it cannot know the router's). `npm run sim:cameras` cameras behind a 4G
 * router look like this to the platform.
 */
export class TcpPortForward {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Connections carried since start. */
  connections = 0;

  constructor(
    private readonly options: {
      /** Without a port, the router forwards to the port it listens on (554 to 554). */
      target: { host: string; port?: number };
      /** Where the router listens; port 0 picks a free one. */
      listen?: { host?: string; port?: number };
    },
  ) {}

  /** Resolves to the port it listens on. */
  async start(): Promise<number> {
    const server = createServer((inbound) => {
      this.connections += 1;
      const outbound = connect({
        host: this.options.target.host,
        port: this.options.target.port ?? (server.address() as AddressInfo).port,
      });
      for (const socket of [inbound, outbound]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        // A reset on one side closes the other, as a router drops the mapping.
        socket.on('error', () => {
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listen?.port ?? 0, this.options.listen?.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
