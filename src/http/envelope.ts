// The response envelope of spec §1.2 and the one error handler that maps every failure to it.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError, ERRORS, StoreUnavailableError, type ErrorCode } from '../domain/errors.ts';

export const OK = Object.freeze({ success: true, code: 200, message: 'SUCCESS' });

export const ok = <T extends object>(extra?: T) => ({ status: OK, ...extra });

export const failure = (code: ErrorCode) => ({ status: { success: false, code, message: ERRORS[code].message } });

/** Unknown routes: the envelope with HTTP 404 (no business code fits, so the code is 404). */
export const notFound = { status: { success: false, code: 404, message: 'Resource not found.' } };

const INTERNAL = { status: { success: false, code: 500, message: 'Internal server error.' } };

export function sendError(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof AuthError) {
    if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterSeconds))));
    // An unknown brand on the admin API is a missing resource (spec §8).
    const http = err.code === 1504 && req.url.startsWith('/admin/') ? 404 : err.httpStatus;
    const body: Record<string, unknown> = failure(err.code);
    if (err.detail !== undefined && req.url.startsWith('/admin/')) body.detail = err.detail;
    return reply.code(http).send(body);
  }
  if (err instanceof StoreUnavailableError) {
    req.log.error({ err: err.cause instanceof Error ? err.cause.message : 'unknown' }, 'storage unavailable');
    req.server.metrics?.storageErrors.inc();
    return reply.code(503).send(failure(1599));
  }
  const fe = err as FastifyError;
  // Framework-level request errors (bad JSON, schema violation, wrong content type,
  // prototype poisoning, body too large) are all "Invalid details passed." (1519).
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode === 413 ? 413 : 400).send(failure(1519));
  }
  // Anything else is a bug: log the cause, answer without internals.
  req.log.error({ err }, 'unhandled error');
  return reply.code(500).send(INTERNAL);
}
