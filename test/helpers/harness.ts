// Test harness: a real app (real SQLite files in a temp dir) driven in-process through
// fastify.inject, with a movable clock, a fast argon2 hasher and every log line captured.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import type { AppDeps } from '../../src/app-deps.ts';
import { loadConfig, type AppConfig } from '../../src/config/env.ts';
import { buildDeps } from '../../src/deps.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { argon2Hasher } from '../../src/crypto/password-hasher.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghijklmnop';

/** Real argon2id with tiny parameters: tests exercise the real code path, quickly. */
export const fastHasher = argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

export interface Harness {
  app: FastifyInstance;
  deps: AppDeps;
  clock: ManualClock;
  config: AppConfig;
  dataDir: string;
  /** Every log line written so far, raw. */
  logs: string[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Res>;
  admin(method: 'GET' | 'PUT' | 'DELETE' | 'POST', path: string, body?: unknown): Promise<Res>;
  createBrand(name: string, config?: object): Promise<void>;
  /** The newest OTP sent to `TYPE|value` (or to that destination), read from the admin outbox. */
  lastOtp(brand: string, identifier: string): Promise<string>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  raw: string;
}

export async function startHarness(opts: { dataDir?: string; clock?: ManualClock; env?: Record<string, string> } = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ae-test-'));
  const clock = opts.clock ?? new ManualClock(Date.UTC(2026, 10, 22, 12, 0, 0));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'trace',
    AUTH_ADMIN_TOKEN: ADMIN_TOKEN,
    AUTH_SIGNING_SECRET: 'test-signing-secret-0123456789abcdefghijklmnop',
    AUTH_OTP_SECRET: 'test-otp-secret-0123456789abcdefghijklmnopqrstu',
    ...opts.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const deps = await buildDeps(config, { clock, passwords: fastHasher, logDestination: sink });
  const app = buildApp(deps);
  await app.ready();

  const toRes = (r: { statusCode: number; headers: Res['headers']; body: string }): Res => {
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body, raw: r.body };
  };

  const h: Harness = {
    app,
    deps,
    clock,
    config,
    dataDir,
    logs,
    async post(path, body, headers = {}) {
      const payload = typeof body === 'string' ? body : JSON.stringify(body);
      return toRes(await app.inject({ method: 'POST', url: path, payload, headers: { 'content-type': 'application/json', ...headers } }));
    },
    async admin(method, path, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      return toRes(await app.inject({ method, url: path, headers, payload: body === undefined ? undefined : JSON.stringify(body) }));
    },
    async createBrand(name, cfg = {}) {
      const r = await h.admin('PUT', `/admin/v1/brands/${name}`, cfg);
      if (r.status !== 200) throw new Error(`createBrand failed: ${r.raw}`);
    },
    async lastOtp(brand, identifier) {
      const r = await h.admin('GET', `/admin/v1/outbox?brand=${encodeURIComponent(brand)}&identifier=${encodeURIComponent(identifier)}&limit=1`);
      const msg = r.body?.messages?.[0];
      if (!msg) throw new Error(`no OTP in the outbox for ${identifier}`);
      return msg.otp as string;
    },
    async close(o = {}) {
      await app.close();
      for (const c of deps.health) await c.close();
      if (!o.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Paths of the mobile and web variant of a customer endpoint. */
export const paths = (step: string) => ({ mobile: `/auth/v1/${step}`, web: `/auth/v1/web/${step}` });
export const VARIANTS = ['mobile', 'web'] as const;
export type V = (typeof VARIANTS)[number];
export const url = (v: V, step: string) => (v === 'mobile' ? `/auth/v1/${step}` : `/auth/v1/web/${step}`);

/** Common ID fields for a variant (mobile adds a deviceId). */
export const idBody = (v: V, brand: string, type: string, value: string, deviceId = 'device-1') =>
  v === 'mobile' ? { brand, identifierType: type, identifierValue: value, deviceId } : { brand, identifierType: type, identifierValue: value };

/** token/generate → otp/generate → read outbox → otp/validate; returns the validate response. */
export async function otpLogin(h: Harness, v: V, brand: string, type: string, value: string, extra: object = {}, deviceId = 'device-1') {
  const id = idBody(v, brand, type, value, deviceId);
  const gen = await h.post(url(v, 'token/generate'), { ...id, ...extra });
  if (gen.status !== 200) throw new Error(`token/generate: ${gen.raw}`);
  const sessionId = gen.body.user.sessionId as string;
  const send = await h.post(url(v, 'otp/generate'), { ...id, sessionId });
  if (send.status !== 200) throw new Error(`otp/generate: ${send.raw}`);
  const outboxKey = `${type.toUpperCase()}|${value}`;
  const otp = await h.lastOtp(brand, outboxKey);
  const res = await h.post(url(v, 'otp/validate'), { ...id, sessionId, otp });
  return { gen, sessionId, otp, res };
}
