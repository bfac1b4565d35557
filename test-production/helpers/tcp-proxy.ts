// A small TCP proxy on 127.0.0.1 for fault tests: the service is pointed at the proxy instead
// of PostgreSQL or Redis, and the test cuts the link with stop() — the listener is closed AND
// every open connection (both halves) is destroyed, so the service sees exactly what a
// network partition or a dead server looks like: open connections reset, new ones refused.
// start() listens again on the SAME port, so the service's configuration stays valid and it
// must recover by itself.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

export class TcpProxy {
  /** The port the proxy listens on (fixed after the first start()). */
  port = 0;
  /** Connections accepted since the proxy was created. */
  accepted = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(readonly target: ProxyTarget) {}

  /** The proxy of a URL's host:port (for postgres://… or redis://… URLs). */
  static targetOf(url: string): ProxyTarget {
    const u = new URL(url);
    const fallback = u.protocol.startsWith('redis') ? 6379 : 5432;
    return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : fallback };
  }

  /** `url` with its host and port replaced by this proxy's (call after start()). */
  url(url: string): string {
    if (this.port === 0) throw new Error('start the proxy before asking for its URL');
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get running(): boolean {
    return this.server !== null;
  }

  /** Open connections (client side and upstream side both counted). */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** Listens (again) on 127.0.0.1: a free port the first time, the same port afterwards. */
  async start(): Promise<number> {
    if (this.server) return this.port;
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr === null || typeof addr !== 'object') throw new Error('proxy: no address');
    this.port = addr.port;
    this.server = server;
    return this.port;
  }

  /** Closes the listener and destroys every open connection; resolves once the listener is closed. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  private accept(client: Socket): void {
    if (!this.server) {
      client.destroy();
      return;
    }
    this.accepted += 1;
    const upstream = connect({ host: this.target.host, port: this.target.port });
    this.track(client);
    this.track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // Either side failing or closing ends the other: the link is one unit.
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** A started proxy to `target`. */
export async function startTcpProxy(target: ProxyTarget): Promise<TcpProxy> {
  const p = new TcpProxy(target);
  await p.start();
  return p;
}
