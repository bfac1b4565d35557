// buildApp(deps): the HTTP app with no I/O of its own; tests build it with their own deps.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AppDeps } from './app-deps.ts';
import { notFound, sendError } from './http/envelope.ts';
import { registerRoutes } from './http/routes.ts';
import { registerOpenApi } from './http/openapi.ts';
import { countingAudit, createMetrics } from './http/metrics.ts';

/** Spec §1.1: a body over 16 KiB is refused (413, code 1519). */
export const BODY_LIMIT = 16 * 1024;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** Trust the nearest `n` proxies (a hop count). */
const hops = (n: number) => (_addr: string, i: number) => i < n;

/** Headers of every response. */
function responseHeaders(req: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', req.id);
  // Responses carry tokens and personal data: never cached, never sniffed or framed.
  reply.header('cache-control', 'no-store');
  reply.header('pragma', 'no-cache');
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('content-security-policy', "default-src 'none'; frame-ancestors 'none'");
  reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
}

/**
 * The brand a request is about, for the log line: the customer body's `brand`, else the admin
 * path's or query's. Only a well-formed brand name (spec §8), upper-cased as stored: the field
 * is free text from the client, and a log must not carry whatever a caller puts there.
 */
function brandOf(req: FastifyRequest): string | undefined {
  const from = (o: unknown) => (typeof o === 'object' && o !== null ? (o as { brand?: unknown }).brand : undefined);
  const raw = from(req.body) ?? from(req.params) ?? from(req.query);
  return typeof raw === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(raw) ? raw.toUpperCase() : undefined;
}

export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
    // An id sent by the client is echoed only when it is short and plain (it ends up in logs).
    genReqId: (req) => {
      const sent = req.headers['x-request-id'];
      return typeof sent === 'string' && SAFE_REQUEST_ID.test(sent) ? sent : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false } },
    return503OnClosing: true,
    // X-Forwarded-For is believed only from configured proxies (AUTH_TRUST_PROXY): otherwise a
    // client could pick its own address and walk past every per-IP limit.
    trustProxy: typeof deps.http.trustProxy === 'number' ? hops(deps.http.trustProxy) : deps.http.trustProxy,
    // Slow clients cannot hold connections open forever.
    requestTimeout: deps.http.requestTimeoutMs,
    connectionTimeout: deps.http.requestTimeoutMs + 5000,
    // Routing errors (a malformed %-escape in the URL, a path parameter over the length limit)
    // skip the hooks and the error handler; without this they answer fastify's own body.
    frameworkErrors: (err, req, reply) => {
      responseHeaders(req, reply);
      return sendError(err, req, reply);
    },
  });

  // Metrics: this app's own registry; every appended audit event feeds the auth counters.
  const metrics = createMetrics();
  app.decorate('metrics', metrics);
  deps.audit = countingAudit(deps.audit, metrics);

  app.addHook('onSend', async (req, reply) => responseHeaders(req, reply));
  // One log line per request: never the body, headers or query (they may hold secrets). Its
  // fields are fixed and none can hold a secret (the route template, a checked brand name), so
  // it skips the redaction pass that every other line gets (~3 % of a login's CPU).
  const requestLog = deps.logger.child({}, { redact: [] });
  app.addHook('onResponse', async (req, reply) => {
    requestLog.info({ reqId: req.id, method: req.method, route: req.routeOptions.url ?? 'unknown', brand: brandOf(req), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request');
    // The route template, never the raw URL (it would carry identifiers and explode the labels).
    const labels = { route: req.routeOptions.url ?? 'unknown', method: req.method, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });
  app.setErrorHandler((err, req, reply) => sendError(err, req, reply));
  app.setNotFoundHandler((_req, reply) => reply.code(404).send(notFound));
  // OpenAPI first: the swagger plugin records routes as they are added, so the route table is
  // registered as a plugin queued after it (it inherits every hook, decorator and handler above).
  registerOpenApi(app);
  app.register(async (scope) => registerRoutes(scope, deps));
  return app;
}
