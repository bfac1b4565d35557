// The route table, on one screen, with each route's policy next to it.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.ts';
import type { Variant } from '../domain/types.ts';
import * as admin from './handlers/admin.ts';
import * as customer from './handlers/customer.ts';
import { requireAdmin, requireBearer } from './admin-auth.ts';
import { registerDemo } from './demo/routes.ts';
import { introspect } from '../flows/introspect.ts';
import { failure, ok } from './envelope.ts';
import { customerBody, Envelope, FallbackQuery, IntrospectResponse, LoginResponse, Otp, PasswordLoginResponse, RegenerateResponse, Secret, SessionId } from './schemas.ts';

// Customer endpoints: each exists as mobile /auth/v1/<path> and web /auth/v1/web/<path>.
const CUSTOMER = [
  { path: 'token/generate', handler: customer.tokenGenerate, response: LoginResponse, body: (v: Variant) => customerBody(v, { password: Secret, confirmPassword: Secret }) },
  { path: 'otp/generate', handler: customer.otpGenerate, response: Envelope, body: (v: Variant) => customerBody(v, { sessionId: SessionId, locale: Type.String({ maxLength: 35 }) }, ['sessionId']), query: FallbackQuery },
  { path: 'otp/validate', handler: customer.otpValidate, response: LoginResponse, body: (v: Variant) => customerBody(v, { sessionId: SessionId, otp: Otp }, ['sessionId', 'otp']) },
  { path: 'password/validate', handler: customer.passwordValidate, response: PasswordLoginResponse, body: (v: Variant) => customerBody(v, { sessionId: SessionId, password: Secret }, ['sessionId', 'password']) },
  { path: 'token/regenerate', handler: customer.tokenRegenerate, response: RegenerateResponse, body: (v: Variant) => customerBody(v, v === 'mobile' ? { key: Secret } : { expiredToken: Secret }, v === 'mobile' ? ['key'] : ['expiredToken']) },
  { path: 'password/change', handler: customer.passwordChange, response: Envelope, body: (v: Variant) => customerBody(v, { token: Secret, password: Secret, newPassword: Secret, confirmPassword: Secret }, ['token', 'password', 'newPassword']) },
  { path: 'password/forget', handler: customer.passwordForget, response: Envelope, body: (v: Variant) => customerBody(v, { sessionId: SessionId, password: Secret, confirmPassword: Secret }, ['sessionId', 'password']) },
  { path: 'token/expire', handler: customer.tokenExpire, response: Envelope, body: (v: Variant) => customerBody(v, v === 'mobile' ? { token: Secret, key: Secret } : { token: Secret }, ['token']) },
];

// Admin endpoints: all behind the admin bearer token.
const ADMIN = [
  { method: 'PUT', url: '/admin/v1/brands/:brand', handler: admin.putBrandHandler },
  { method: 'GET', url: '/admin/v1/brands/:brand', handler: admin.getBrandHandler },
  { method: 'DELETE', url: '/admin/v1/brands/:brand', handler: admin.deleteBrandHandler },
  { method: 'GET', url: '/admin/v1/brands', handler: admin.listBrandsHandler },
  { method: 'GET', url: '/admin/v1/outbox', handler: admin.outboxHandler },
  { method: 'GET', url: '/admin/v1/users/:brand/:type/:value', handler: admin.getUserHandler },
  { method: 'DELETE', url: '/admin/v1/users/:brand/:type/:value', handler: admin.deleteUserHandler },
  { method: 'POST', url: '/admin/v1/users/:brand/:type/:value/unlock', handler: admin.unlockUserHandler },
  { method: 'GET', url: '/admin/v1/audit', handler: admin.auditHandler },
] as const;

export function registerRoutes(app: FastifyInstance, deps: AppDeps): void {
  for (const r of CUSTOMER) {
    for (const variant of ['mobile', 'web'] as const) {
      const schema = { body: r.body(variant), response: { 200: r.response }, ...('query' in r ? { querystring: r.query } : {}) };
      app.post(`/auth/v1/${variant === 'web' ? 'web/' : ''}${r.path}`, { schema }, r.handler(deps, variant));
    }
  }
  for (const r of ADMIN) {
    app.route({ method: r.method, url: r.url, onRequest: requireAdmin(deps.adminToken), handler: r.handler(deps) });
  }
  // Gateways: token introspection (admin or gateway credential) and the public signing keys.
  app.post(
    '/auth/v1/token/introspect',
    { onRequest: requireBearer(deps.adminToken, deps.gatewayToken), schema: { body: Type.Object({ token: Secret }, { additionalProperties: true }), response: { 200: IntrospectResponse } } },
    async (req) => ok(await introspect(deps, (req.body as { token: string }).token)),
  );
  app.get('/.well-known/jwks.json', async () => deps.tokens.jwks);
  app.get('/health', { schema: { response: { 200: Type.Object({ status: Envelope.properties.status }) } } }, async () => ok());
  // Readiness: every store answers a ping within a second, else 503 / 1599 (a load balancer
  // stops sending traffic until storage is back).
  app.get('/ready', async (_req, reply) => {
    const ready = await storesReachable(deps);
    return ready ? ok() : reply.code(503).send(failure(1599));
  });
  // Prometheus scrape: unauthenticated like /health, so it must stay on the internal network
  // (block it at the proxy / ingress). Labels hold route templates and codes, never secrets.
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', app.metrics.registry.contentType);
    return reply.send(await app.metrics.registry.metrics());
  });
  if (deps.http.demo.enabled) registerDemo(app, deps.http.demo); // GET /demo (AUTH_DEMO; docs/demo.md)
}

const READY_TIMEOUT_MS = 1000;

async function storesReachable(deps: AppDeps): Promise<boolean> {
  const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), READY_TIMEOUT_MS).unref());
  const pings = Promise.all(deps.health.map((h) => h.ping())).then(
    () => true,
    () => false,
  );
  return Promise.race([pings, timeout]);
}
