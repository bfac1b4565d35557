// The real service as a child process (`node --import tsx src/main.ts`), stopped with SIGTERM
// (graceful) or SIGKILL (a crash) and started again on the same DATA_DIR: users, passwords,
// live sessions with their OTPs and the outbox must all survive. Also the development mode's
// generated admin token: printed once, kept in DATA_DIR, valid after a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SUCCESS, expectError, expectOk } from '../helpers/spec.ts';
import { childEnv, freePort } from '../helpers/process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SECRETS = {
  AUTH_ADMIN_TOKEN: 'restart-admin-token-0123456789abcdefghijklmnop',
  AUTH_SIGNING_SECRET: 'restart-signing-secret-0123456789abcdefghijklmn',
  AUTH_OTP_SECRET: 'restart-otp-secret-0123456789abcdefghijklmnopqr',
};
const PASSWORD = 'Restart-Passw0rd-long';
const HEALTH_TIMEOUT_MS = 15_000;

interface Service {
  proc: ChildProcess;
  port: number;
  stdout: string;
  stderr: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: boolean;
}

const running = new Set<Service>();
const dirs: string[] = [];

after(async () => {
  // Whatever failed, leave no process and no data behind.
  for (const s of running) {
    if (!s.exited) s.proc.kill('SIGKILL');
    await s.exit;
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const newDataDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'ae-restart-'));
  dirs.push(d);
  return d;
};


async function start(env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: childEnv({ ...env, PORT: String(port), HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const svc: Service = {
    proc,
    port,
    stdout: '',
    stderr: '',
    exited: false,
    exit: new Promise((res) => proc.on('exit', (code, signal) => res({ code, signal }))),
  };
  running.add(svc);
  void svc.exit.then(() => (svc.exited = true));
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => (svc.stdout += c));
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => (svc.stderr += c));
  await waitHealthy(svc);
  return svc;
}

async function waitHealthy(svc: Service): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (svc.exited) throw new Error(`service exited before it was healthy\nstdout:\n${svc.stdout}\nstderr:\n${svc.stderr}`);
    try {
      const r = await fetch(`http://127.0.0.1:${svc.port}/health`);
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`service not healthy within ${HEALTH_TIMEOUT_MS} ms\nstdout:\n${svc.stdout}\nstderr:\n${svc.stderr}`);
}

async function stop(svc: Service, signal: 'SIGTERM' | 'SIGKILL') {
  svc.proc.kill(signal);
  const r = await svc.exit;
  running.delete(svc);
  return r;
}

interface Res {
  status: number;
  body: any;
  raw: string;
}

async function call(svc: Service, method: string, path: string, body?: unknown, auth?: string): Promise<Res> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth !== undefined) headers.authorization = `Bearer ${auth}`;
  const r = await fetch(`http://127.0.0.1:${svc.port}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const raw = await r.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  return { status: r.status, body: parsed, raw };
}

const VARIANTS = [
  { v: 'mobile', prefix: '/auth/v1/', type: 'MOBILE', value: '919000000001', device: { deviceId: 'device-restart' } },
  { v: 'web', prefix: '/auth/v1/web/', type: 'EMAIL', value: 'restart-web@example.com', device: {} },
] as const;
type Variant = (typeof VARIANTS)[number];

const idBody = (x: Variant, brand: string) => ({ brand, identifierType: x.type, identifierValue: x.value, ...x.device });

async function lastOtp(svc: Service, adminToken: string, brand: string, x: Variant): Promise<string> {
  const r = await call(svc, 'GET', `/admin/v1/outbox?brand=${brand}&identifier=${encodeURIComponent(`${x.type}|${x.value}`)}&limit=1`, undefined, adminToken);
  assert.equal(r.status, 200, r.raw);
  const otp = r.body.messages?.[0]?.otp;
  assert.equal(typeof otp, 'string', `no OTP in the outbox: ${r.raw}`);
  return otp as string;
}

/** Starts a session and sends its OTP; returns the session id. */
async function openSession(svc: Service, brand: string, x: Variant, extra: object = {}): Promise<string> {
  const gen = await call(svc, 'POST', `${x.prefix}token/generate`, { ...idBody(x, brand), ...extra });
  assert.equal(gen.status, 200, gen.raw);
  const sessionId = gen.body.user.sessionId as string;
  const send = await call(svc, 'POST', `${x.prefix}otp/generate`, { ...idBody(x, brand), sessionId });
  assert.equal(send.status, 200, send.raw);
  assert.deepEqual(send.body, { status: SUCCESS });
  return sessionId;
}

async function validateOtp(svc: Service, brand: string, x: Variant, sessionId: string, otp: string): Promise<Res> {
  return call(svc, 'POST', `${x.prefix}otp/validate`, { ...idBody(x, brand), sessionId, otp });
}

for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
  test(`state survives ${signal === 'SIGTERM' ? 'a graceful stop (SIGTERM)' : 'a crash (SIGKILL)'} and restart`, { timeout: 90_000 }, async () => {
    const env = { NODE_ENV: 'test', DATA_DIR: newDataDir(), LOG_LEVEL: 'info', ...SECRETS };
    const brand = 'RESTART';
    let svc = await start(env);

    const put = await call(svc, 'PUT', `/admin/v1/brands/${brand}`, { passwordEnabled: true }, SECRETS.AUTH_ADMIN_TOKEN);
    assert.equal(put.status, 200, put.raw);

    const pending = new Map<Variant, string>();
    for (const x of VARIANTS) {
      // Sign-up with a password: committed by the OTP validation.
      const sid = await openSession(svc, brand, x, { password: PASSWORD, confirmPassword: PASSWORD });
      const signup = await validateOtp(svc, brand, x, sid, await lastOtp(svc, SECRETS.AUTH_ADMIN_TOKEN, brand, x));
      expectOk(signup);
      assert.equal(signup.body.user.userRegisteredForPassword, true);
      // A second session, OTP sent but not validated yet.
      pending.set(x, await openSession(svc, brand, x));
    }

    const exit = await stop(svc, signal);
    if (signal === 'SIGTERM') assert.deepEqual(exit, { code: 0, signal: null }, `graceful stop failed\nstderr:\n${svc.stderr}`);
    else assert.equal(exit.signal, 'SIGKILL');

    svc = await start(env);
    const put2 = await call(svc, 'GET', `/admin/v1/brands/${brand}`, undefined, SECRETS.AUTH_ADMIN_TOKEN);
    assert.equal(put2.status, 200, put2.raw);
    assert.equal(put2.body.config.passwordEnabled, true);

    for (const x of VARIANTS) {
      // Password login against the stored hash: a wrong password is refused, the right one works.
      const gen = await call(svc, 'POST', `${x.prefix}token/generate`, idBody(x, brand));
      assert.equal(gen.status, 200, gen.raw);
      assert.equal(gen.body.user.userRegisteredForPassword, true);
      const sessionId = gen.body.user.sessionId as string;
      const wrong = await call(svc, 'POST', `${x.prefix}password/validate`, { ...idBody(x, brand), sessionId, password: `${PASSWORD}-not` });
      expectError(wrong, 1528, 'wrong password');
      const login = await call(svc, 'POST', `${x.prefix}password/validate`, { ...idBody(x, brand), sessionId, password: PASSWORD });
      expectOk(login);
      assert.deepEqual(login.body.identifiers.identifierList, [{ type: x.type, value: x.value }]);

      // The session opened before the restart still takes its OTP (read from the outbox now).
      const otp = await lastOtp(svc, SECRETS.AUTH_ADMIN_TOKEN, brand, x);
      const res = await validateOtp(svc, brand, x, pending.get(x) as string, otp);
      expectOk(res);
      assert.equal(res.body.user.role, 'USER');
      if (x.v === 'mobile') assert.equal(typeof res.body.auth.key, 'string');
      else assert.equal(res.body.auth.key, null);
      // … once: it was consumed.
      const replay = await validateOtp(svc, brand, x, pending.get(x) as string, otp);
      expectError(replay, 1505, 'replayed OTP');
    }

    const final = await stop(svc, 'SIGTERM');
    assert.deepEqual(final, { code: 0, signal: null }, `graceful stop failed\nstderr:\n${svc.stderr}`);
  });
}

test('development mode: the generated admin token is printed once and still works after a restart', { timeout: 90_000 }, async () => {
  // No NODE_ENV, no AUTH_* secrets: everything is generated and kept in DATA_DIR.
  const env = { DATA_DIR: newDataDir(), LOG_LEVEL: 'info' };
  const brand = 'DEVMODE';
  const x = VARIANTS[0];

  let svc = await start(env);
  // The banner is written before listening; give the pipe a moment to deliver it.
  const deadline = Date.now() + 5_000;
  while (!/AUTH_ADMIN_TOKEN=\S+/.test(svc.stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const token = /AUTH_ADMIN_TOKEN=(\S+)/.exec(svc.stdout)?.[1];
  assert.ok(token, `no admin token printed on the first start:\n${svc.stdout}`);
  assert.ok(token.length >= 32, 'the generated admin token is too short');

  const put = await call(svc, 'PUT', `/admin/v1/brands/${brand}`, {}, token);
  assert.equal(put.status, 200, put.raw);
  const denied = await call(svc, 'GET', '/admin/v1/brands', undefined, `${token}x`);
  expectError(denied, 1548, 'wrong admin token');
  // A live session whose OTP hash depends on the generated AUTH_OTP_SECRET.
  const sessionId = await openSession(svc, brand, x);

  assert.deepEqual(await stop(svc, 'SIGTERM'), { code: 0, signal: null });
  // Printed exactly once, on stdout only (not repeated by a log line, not on stderr).
  assert.equal(svc.stdout.split(token).length - 1, 1, 'the token must appear exactly once on stdout');
  assert.ok(!svc.stderr.includes(token), 'the admin token reached stderr');

  svc = await start(env);
  const list = await call(svc, 'GET', '/admin/v1/brands', undefined, token);
  assert.equal(list.status, 200, list.raw);
  assert.deepEqual(list.body.brands.map((b: { brand: string }) => b.brand), [brand]);
  // The generated OTP secret was kept too: the OTP sent before the restart still validates.
  const res = await validateOtp(svc, brand, x, sessionId, await lastOtp(svc, token, brand, x));
  expectOk(res);

  assert.deepEqual(await stop(svc, 'SIGTERM'), { code: 0, signal: null });
  assert.ok(!svc.stdout.includes('AUTH_ADMIN_TOKEN'), `the second start printed a token:\n${svc.stdout}`);
  assert.ok(!svc.stdout.includes(token) && !svc.stderr.includes(token), 'the second start printed the admin token');
});
