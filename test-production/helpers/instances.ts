// Service processes in production mode (`node --import tsx src/main.ts` with DATABASE_URL and
// REDIS_URL): any number of identical instances on free loopback ports, with the same
// secrets, database, Redis and key prefix, as behind a load balancer. Each one's stdout and
// stderr are collected (shown when it fails to start); stop() sends SIGTERM (graceful) or
// SIGKILL (a crash). useInstances() registers an `after` hook that kills whatever is still
// running, whatever the test did.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { childEnv, freePort } from '../../test/helpers/process.ts';
export { freePort };

export const ROOT = resolve(import.meta.dirname, '../..');

/** The same deployment secrets on every instance (≥ 32 characters each). */
export const SECRETS = {
  AUTH_ADMIN_TOKEN: 'multi-admin-token-0123456789abcdefghijklmnopq',
  AUTH_SIGNING_SECRET: 'multi-signing-secret-0123456789abcdefghijklmno',
  AUTH_OTP_SECRET: 'multi-otp-secret-0123456789abcdefghijklmnopqrs',
} as const;

const HEALTH_TIMEOUT_MS = 30_000;
/** A request that takes longer than this is a hang, reported as such (not waited for). */
export const REQUEST_TIMEOUT_MS = 20_000;

export interface Res {
  status: number;
  body: any;
  raw: string;
  headers: Headers;
}

export interface InstanceOptions {
  /** PostgreSQL+Redis; all three absent = the embedded store in the instance's DATA_DIR. */
  databaseUrl?: string;
  redisUrl?: string;
  redisPrefix?: string;
  /** Reuse this DATA_DIR (a restart on the same embedded files); the caller removes it. */
  dataDir?: string;
  /** Shown in messages (default A, B, C, … in start order). */
  name?: string;
  /** More environment (LOG_LEVEL, AUTH_KEY_REUSE_GRACE_SECONDS, …). */
  env?: Record<string, string>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Instance {
  name: string;
  port: number;
  /** http://127.0.0.1:<port> */
  base: string;
  pid: number;
  proc: ChildProcess;
  stdout: string;
  stderr: string;
  exited: boolean;
  exit: Promise<Exit>;
  call(method: string, path: string, body?: unknown, bearer?: string): Promise<Res>;
  post(path: string, body: unknown): Promise<Res>;
  /** The admin API with the deployment's admin token. */
  admin(method: string, path: string, body?: unknown): Promise<Res>;
  /** SIGTERM (graceful: drains, exit 0) or SIGKILL (a crash); resolves with how it exited. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<Exit>;
}


/** One HTTP request; the body parsed as JSON when it is JSON. Network errors throw. */
export async function request(base: string, method: string, path: string, body?: unknown, bearer?: string): Promise<Res> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  const r = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const raw = await r.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    parsed = undefined;
  }
  return { status: r.status, body: parsed, raw, headers: r.headers };
}

const running = new Set<Instance>();
// Last resort (a test runner killed mid-test): no orphan service keeps the ports and the database.
process.once('exit', () => {
  for (const s of running) if (!s.exited) s.proc.kill('SIGKILL');
});

export interface InstanceSet {
  start(opts: InstanceOptions): Promise<Instance>;
  /** `n` instances started together (they race on the start-up migration lock). */
  startMany(n: number, opts: InstanceOptions): Promise<Instance[]>;
  /** SIGKILLs every instance of this set still running and removes their data dirs. */
  killAll(): Promise<void>;
}

/** A set of instances, killed (SIGKILL) in an `after` hook of the calling test file. */
export function useInstances(): InstanceSet {
  const mine = new Set<Instance>();
  const dirs: string[] = [];
  let count = 0;

  const killAll = async () => {
    for (const s of mine) {
      if (!s.exited) s.proc.kill('SIGKILL');
      await s.exit;
      running.delete(s);
    }
    mine.clear();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  };
  after(killAll);

  const start = async (opts: InstanceOptions): Promise<Instance> => {
    const name = opts.name ?? String.fromCharCode(65 + (count++ % 26));
    const port = await freePort();
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ae-instance-'));
    if (opts.dataDir === undefined) dirs.push(dataDir);
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: childEnv({
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        ...SECRETS,
        DATA_DIR: dataDir,
        ...(opts.databaseUrl !== undefined ? { DATABASE_URL: opts.databaseUrl, REDIS_URL: opts.redisUrl as string, REDIS_KEY_PREFIX: opts.redisPrefix as string } : {}),
        ...opts.env,
        PORT: String(port),
        HOST: '127.0.0.1',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const base = `http://127.0.0.1:${port}`;
    const inst: Instance = {
      name,
      port,
      base,
      pid: proc.pid ?? -1,
      proc,
      stdout: '',
      stderr: '',
      exited: false,
      exit: new Promise((res) => proc.once('exit', (code, signal) => res({ code, signal }))),
      call: (method, path, body, bearer) => request(base, method, path, body, bearer),
      post: (path, body) => request(base, 'POST', path, body),
      admin: (method, path, body) => request(base, method, path, body, SECRETS.AUTH_ADMIN_TOKEN),
      stop: async (signal = 'SIGTERM') => {
        if (!inst.exited) proc.kill(signal);
        const r = await inst.exit;
        running.delete(inst);
        mine.delete(inst);
        return r;
      },
    };
    mine.add(inst);
    running.add(inst);
    void inst.exit.then(() => (inst.exited = true));
    proc.stdout?.setEncoding('utf8').on('data', (c: string) => (inst.stdout += c));
    proc.stderr?.setEncoding('utf8').on('data', (c: string) => (inst.stderr += c));
    await waitHealthy(inst);
    return inst;
  };

  return {
    start,
    startMany: (n, opts) => Promise.all(Array.from({ length: n }, () => start(opts))),
    killAll,
  };
}

async function waitHealthy(inst: Instance): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (inst.exited) throw new Error(`instance ${inst.name} exited before it was healthy\nstdout:\n${inst.stdout}\nstderr:\n${inst.stderr}`);
    try {
      const r = await fetch(`${inst.base}/health`, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  throw new Error(`instance ${inst.name} not healthy within ${HEALTH_TIMEOUT_MS} ms\nstdout:\n${inst.stdout}\nstderr:\n${inst.stderr}`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `probe` every `everyMs` until it returns true; resolves with the elapsed ms, or
 * rejects after `timeoutMs` with `what` in the message.
 */
export async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    let ok = false;
    try {
      ok = await probe();
    } catch {
      ok = false;
    }
    if (ok) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** True when GET /ready answers 200 with the success status. */
export async function isReady(inst: Instance): Promise<boolean> {
  try {
    const r = await inst.call('GET', '/ready');
    return r.status === 200 && r.body?.status?.success === true;
  } catch {
    return false;
  }
}
