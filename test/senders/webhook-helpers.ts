// A real local webhook receiver for the sender tests: a node:http server on 127.0.0.1:0 that
// records every request (raw body, headers) and answers each one as the test scripts it.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const WEBHOOK_SECRET = 'webhook-secret-0123456789-abcdefghijklmnop';

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  rawBody: string;
}

/** How to answer request number n (0-based): a status, or 'hang' (never answer). */
export type Script = (n: number, req: Received) => number | 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  script: Script;
  close(): Promise<void>;
}

export async function startReceiver(script: Script = () => 200): Promise<Receiver> {
  const received: Received[] = [];
  const r: Receiver = { url: '', received, script, close: async () => undefined };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rec: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') };
      const n = received.length;
      received.push(rec);
      const answer = r.script(n, rec);
      if (answer === 'hang') return; // never answered: the sender's timeout must end it
      // A redirect points back at this server: a sender that followed it would show up as a second request.
      const location = answer >= 300 && answer < 400 ? { location: '/elsewhere' } : {};
      res.writeHead(answer, { 'content-type': 'text/plain', ...location }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  r.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return r;
}

/**
 * What a receiver must do (README, "Deliver OTPs"): recompute the HMAC over `<timestamp>.<raw body>`
 * and compare in constant time. Returns whether the request is authentic.
 */
export function verifySignature(req: Received, secret = WEBHOOK_SECRET): boolean {
  const ts = req.headers['x-auth-engine-timestamp'];
  const sig = req.headers['x-auth-engine-signature'];
  if (typeof ts !== 'string' || typeof sig !== 'string' || !/^\d+$/.test(ts)) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${ts}.${req.rawBody}`).digest('hex')}`);
  const given = Buffer.from(sig);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
