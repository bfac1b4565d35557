// A minimal HTTP/1.1 keep-alive client over one TCP socket, for the load driver.
//
// WHY not fetch / node:http: the driver shares two cores with the service, PostgreSQL and
// Redis, so every microsecond it spends per request is taken from the thing being measured.
// undici is not a direct dependency (only global fetch, which costs ~3x node:http per call),
// and node:http's agent/IncomingMessage machinery is several times heavier than what a
// benchmark of small JSON bodies needs. This client writes one pre-formatted request and
// parses the status line, Content-Length (or chunked) and the body: one request in flight per
// connection, the flow loop awaits each answer before the next step anyway.
import { connect, type Socket } from 'node:net';

export interface HttpResponse {
  status: number;
  body: string;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;
const CHUNKED = /\r\ntransfer-encoding:[^\r]*chunked/i;
const CONNECTION_CLOSE = /\r\nconnection:\s*close/i;

interface Pending {
  resolve: (r: HttpResponse) => void;
  reject: (e: Error) => void;
}

export class HttpConnection {
  private socket: Socket | null = null;
  /** The socket being opened or in use; events of an older one are ignored. */
  private current: Socket | null = null;
  private connecting: Promise<Socket> | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;
  private closeAfter = false;
  private readonly hostHeader: string;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    this.hostHeader = `${host}:${port}`;
  }

  private open(): Promise<Socket> {
    if (this.socket) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: this.host, port: this.port, noDelay: true });
      this.current = s;
      s.once('connect', () => {
        this.socket = s;
        this.connecting = null;
        resolve(s);
      });
      s.on('data', (chunk: Buffer) => {
        if (this.current === s) this.onData(chunk);
      });
      s.on('error', (err) => this.fail(err, s, reject));
      s.on('close', () => this.fail(new Error('connection closed'), s, reject));
    });
    return this.connecting;
  }

  private fail(err: Error, s: Socket, rejectConnect: (e: Error) => void): void {
    s.destroy();
    rejectConnect(err);
    if (this.current !== s) return;
    this.current = null;
    this.socket = null;
    this.connecting = null;
    this.buf = Buffer.alloc(0);
    const p = this.pending;
    this.pending = null;
    p?.reject(err);
  }

  async request(method: string, path: string, body?: string, authorization?: string): Promise<HttpResponse> {
    const s = await this.open();
    if (this.pending) throw new Error('HttpConnection: one request at a time');
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\n`;
    if (authorization !== undefined) head += `authorization: ${authorization}\r\n`;
    if (body !== undefined) head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    else head += '\r\n';
    return new Promise<HttpResponse>((resolve, reject) => {
      this.pending = { resolve, reject };
      s.write(head);
    });
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const headEnd = this.buf.indexOf(CRLFCRLF);
    if (headEnd < 0) return;
    const head = this.buf.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const start = headEnd + 4;
    let body: string | null = null;
    let consumed = 0;
    const cl = CONTENT_LENGTH.exec(head);
    if (cl) {
      const len = Number(cl[1]);
      if (this.buf.length < start + len) return;
      body = this.buf.toString('utf8', start, start + len);
      consumed = start + len;
    } else if (CHUNKED.test(head)) {
      const parts: Buffer[] = [];
      let at = start;
      for (;;) {
        const lineEnd = this.buf.indexOf('\r\n', at);
        if (lineEnd < 0) return;
        const size = parseInt(this.buf.toString('latin1', at, lineEnd), 16);
        if (size === 0) {
          const end = this.buf.indexOf(CRLFCRLF, lineEnd - 2);
          if (end < 0) return;
          consumed = end + 4;
          break;
        }
        if (this.buf.length < lineEnd + 2 + size + 2) return;
        parts.push(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString('utf8');
    } else {
      body = '';
      consumed = start;
    }
    this.closeAfter = CONNECTION_CLOSE.test(head);
    this.buf = consumed >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(consumed);
    const p = this.pending;
    this.pending = null;
    if (this.closeAfter) {
      // The server will close: the next request opens a fresh connection.
      const s = this.socket;
      this.socket = null;
      this.current = null;
      s?.end();
    }
    p?.resolve({ status, body });
  }

  close(): void {
    const s = this.current;
    this.current = null;
    this.socket = null;
    s?.destroy();
  }
}

/** One connection per server for one flow loop; each request goes to the next server in turn. */
export class RoundRobin {
  private readonly conns: HttpConnection[];
  private next = 0;

  constructor(ports: number[], shift = 0) {
    this.conns = ports.map((p) => new HttpConnection('127.0.0.1', p));
    // Loops start at different servers so a flow's steps do not all land on instance 0.
    this.next = shift % this.conns.length;
  }

  pick(): HttpConnection {
    const c = this.conns[this.next] as HttpConnection;
    this.next = (this.next + 1) % this.conns.length;
    return c;
  }

  close(): void {
    for (const c of this.conns) c.close();
  }
}
