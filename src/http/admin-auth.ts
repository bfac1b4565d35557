// Admin bearer-token check. Both sides are hashed first so the comparison is constant-time
// whatever the lengths (timingSafeEqual needs equal lengths, and a length check would leak).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { failure } from './envelope.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * A hook that answers 401 / 1548 unless the request carries one of `tokens` as its bearer
 * credential. Every configured token is compared (constant time each), whichever matches.
 */
export function requireBearer(...tokens: Array<string | null>) {
  const expected = tokens.filter((t): t is string => t !== null && t !== '').map(digest);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization ?? '';
    // The scheme name is case-insensitive (RFC 7235 §2.1).
    const presented = /^bearer /i.test(header) ? header.slice(7).trim() : '';
    const got = digest(presented);
    let ok = false;
    for (const e of expected) ok = timingSafeEqual(got, e) || ok;
    if (!ok || presented === '') return reply.code(401).send(failure(1548));
  };
}

export const requireAdmin = (adminToken: string) => requireBearer(adminToken);
