// The workloads over HTTP: what one flow is, and what must exist before the timed window
// (users with a password, keys and tokens from earlier logins). Every flow checks its answer:
// a flow counts only when the last step returned what a client needs (a USER token, an
// active introspection), anything else is an error.
import { randomInt } from 'node:crypto';
import { expectSuccess, FlowError, type Flow, type LoopContext } from './driver.ts';
import { HttpConnection, RoundRobin } from './http-client.ts';

export const HTTP_WORKLOADS = ['otp_login', 'password_login', 'regenerate', 'introspect', 'health'] as const;
export const ALL_WORKLOADS = [...HTTP_WORKLOADS, 'verify_local'] as const;
/** What runs without --workload. `health` (GET /health: no storage, no crypto) is the floor of
 * one request's cost — HTTP, fastify, hooks, the log line and metrics — and runs on request. */
export const DEFAULT_WORKLOADS = ['otp_login', 'password_login', 'regenerate', 'introspect', 'verify_local'] as const;
export type HttpWorkload = (typeof HTTP_WORKLOADS)[number];
export type WorkloadName = (typeof ALL_WORKLOADS)[number];

export interface BenchBrand {
  name: string;
  adminAuth: string;
  gatewayAuth: string;
  /** Password of every password_login user (meets the default policy, not on the common list). */
  password: string;
}

/** A distinct Indian-style mobile number per call: 91 + 10 digits, from a random start. */
export function mobileSequence(): () => string {
  let n = randomInt(0, 9_000_000_000);
  return () => `91${String(n++ % 10_000_000_000).padStart(10, '0')}`;
}

export interface Login {
  mobile: string;
  deviceId: string;
  token: string;
  key: string;
}

const id = (brand: string, mobile: string, deviceId: string) => ({ identifierType: 'MOBILE', identifierValue: mobile, brand, deviceId });

/**
 * token/generate → otp/generate → the OTP from the admin outbox → otp/validate. With a
 * password, the same steps register it (spec §3.1: it becomes the user's at otp/validate).
 */
export async function otpLogin(ctx: LoopContext, b: BenchBrand, mobile: string, password?: string): Promise<Login> {
  const deviceId = `bench-device-${ctx.index}`;
  const who = id(b.name, mobile, deviceId);
  const g = expectSuccess(await ctx.request('POST', '/auth/v1/token/generate', password ? { ...who, password, confirmPassword: password } : who), 'token/generate');
  const sessionId = g.user?.sessionId;
  if (typeof sessionId !== 'string') throw new FlowError('token/generate: no sessionId');
  expectSuccess(await ctx.request('POST', '/auth/v1/otp/generate', { ...who, sessionId }), 'otp/generate');
  const box = expectSuccess(
    await ctx.request('GET', `/admin/v1/outbox?brand=${encodeURIComponent(b.name)}&identifier=MOBILE%7C${mobile}&limit=1`, undefined, b.adminAuth),
    'outbox',
  );
  const otp = box.messages?.[0]?.otp;
  if (typeof otp !== 'string') throw new FlowError('outbox: no OTP');
  const v = expectSuccess(await ctx.request('POST', '/auth/v1/otp/validate', { ...who, sessionId, otp }), 'otp/validate');
  if (v.user?.role !== 'USER' || typeof v.auth?.token !== 'string' || typeof v.auth?.key !== 'string') throw new FlowError('otp/validate: no USER token and key');
  return { mobile, deviceId, token: v.auth.token, key: v.auth.key };
}

/** Runs `count` tasks over `workers` parallel connections (untimed set-up work). */
export async function runSetup<T>(ports: number[], count: number, workers: number, task: (ctx: LoopContext, i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(workers, count) }, async (_, index) => {
      const rr = new RoundRobin(ports, index);
      const ctx: LoopContext = {
        index,
        request: (method, path, body, authorization) => rr.pick().request(method, path, body === undefined ? undefined : JSON.stringify(body), authorization),
      };
      try {
        while (next < count) {
          const i = next++;
          out[i] = await task(ctx, i);
        }
      } finally {
        rr.close();
      }
    }),
  );
  return out;
}

export interface Prepared {
  flow: Flow;
  /** What one counted operation is. */
  unit: 'flows/s' | 'requests/s';
}

export interface PrepareInput {
  workload: HttpWorkload;
  ports: number[];
  brand: BenchBrand;
  concurrency: number;
  nextMobile: () => string;
}

export async function prepare(w: PrepareInput): Promise<Prepared> {
  const b = w.brand;
  switch (w.workload) {
    case 'otp_login':
      return { unit: 'flows/s', flow: async (ctx) => void (await otpLogin(ctx, b, w.nextMobile())) };

    case 'password_login': {
      // One user per loop, registered with a password through the OTP sign-up (not timed).
      const users = await runSetup(w.ports, w.concurrency, w.concurrency, (ctx) => otpLogin(ctx, b, w.nextMobile(), b.password));
      return {
        unit: 'flows/s',
        flow: async (ctx) => {
          const u = users[ctx.index % users.length] as Login;
          const who = id(b.name, u.mobile, u.deviceId);
          const g = expectSuccess(await ctx.request('POST', '/auth/v1/token/generate', who), 'token/generate');
          const v = expectSuccess(await ctx.request('POST', '/auth/v1/password/validate', { ...who, sessionId: g.user?.sessionId, password: b.password }), 'password/validate');
          if (v.user?.role !== 'USER' || typeof v.auth?.token !== 'string') throw new FlowError('password/validate: no USER token');
        },
      };
    }

    case 'health':
      return {
        unit: 'requests/s',
        flow: async (ctx) => void expectSuccess(await ctx.request('GET', '/health'), 'health'),
      };

    case 'regenerate':
    case 'introspect': {
      // Keys and USER tokens of earlier logins, several per loop so requests spread over users.
      const logins = await runSetup(w.ports, w.concurrency * 4, w.concurrency, (ctx) => otpLogin(ctx, b, w.nextMobile()));
      const turn = new Array<number>(w.concurrency).fill(0);
      const pick = (ctx: LoopContext): Login => {
        const n = turn[ctx.index]++ as number;
        return logins[(ctx.index + n * w.concurrency) % logins.length] as Login;
      };
      if (w.workload === 'regenerate') {
        return {
          unit: 'requests/s',
          flow: async (ctx) => {
            const l = pick(ctx);
            const r = expectSuccess(await ctx.request('POST', '/auth/v1/token/regenerate', { ...id(b.name, l.mobile, l.deviceId), key: l.key }), 'token/regenerate');
            if (typeof r.auth?.token !== 'string') throw new FlowError('token/regenerate: no token');
          },
        };
      }
      return {
        unit: 'requests/s',
        flow: async (ctx) => {
          const l = pick(ctx);
          const r = expectSuccess(await ctx.request('POST', '/auth/v1/token/introspect', { token: l.token }, b.gatewayAuth), 'token/introspect');
          if (r.active !== true) throw new FlowError('token/introspect: not active');
        },
      };
    }
  }
}

/** Creates the benchmark brand: passwords on, every limit at its default (off). */
export async function createBrand(port: number, b: BenchBrand): Promise<void> {
  const c = new HttpConnection('127.0.0.1', port);
  try {
    const r = await c.request('PUT', `/admin/v1/brands/${b.name}`, JSON.stringify({ passwordEnabled: true }), b.adminAuth);
    if (r.status !== 200) throw new Error(`creating the brand failed: HTTP ${r.status} ${r.body}`);
  } finally {
    c.close();
  }
}

/** One live USER token (for verify_local). */
export async function oneLogin(ports: number[], b: BenchBrand, mobile: string): Promise<Login> {
  const [l] = await runSetup(ports, 1, 1, (ctx) => otpLogin(ctx, b, mobile));
  return l as Login;
}
