// Admin bearer-token check. Both sides are hashed first so the comparison is constant-time
// whatever the lengths (timingSafeEqual needs equal lengths, and a length check would leak).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { failure } from './envelope.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function requireAdmin(adminToken: string) {
  const expected = digest(adminToken);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization ?? '';
    // The scheme name is case-insensitive (RFC 7235 §2.1).
    const presented = /^bearer /i.test(header) ? header.slice(7).trim() : '';
    if (!timingSafeEqual(digest(presented), expected) || presented === '') {
      return reply.code(401).send(failure(1548));
    }
  };
}
