// A real Auth Engine for the CLI tests: `node --import tsx src/main.ts` as a child process on a
// free port with a temp DATA_DIR, and `cli()` to run the admin CLI in-process against it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import assert from 'node:assert/strict';
import { runCli } from '../../src/cli/main.ts';
import { childEnv, freePort } from '../helpers/process.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const ADMIN_TOKEN = 'cli-admin-token-0123456789abcdefghijklmnopqrstu';
const SECRETS = {
  AUTH_ADMIN_TOKEN: ADMIN_TOKEN,
  AUTH_SIGNING_SECRET: 'cli-signing-secret-0123456789abcdefghijklmnopq',
  AUTH_OTP_SECRET: 'cli-otp-secret-0123456789abcdefghijklmnopqrstuv',
};
const HEALTH_TIMEOUT_MS = 15_000;

export interface Server {
  port: number;
  url: string;
  dataDir: string;
  proc: ChildProcess;
  log: () => string;
  stop(): Promise<void>;
}

const started = new Set<Server>();
const dirs: string[] = [];

/** Stops every server and removes every data directory (call from `after`). */
export async function cleanup(): Promise<void> {
  for (const s of started) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

export function tempDir(prefix = 'ae-cli-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** Starts the service (a fresh DATA_DIR unless given; a free port unless given) and waits for /health. */
export async function startServer(opts: { dataDir?: string; port?: number } = {}): Promise<Server> {
  const port = opts.port ?? (await freePort());
  const dataDir = opts.dataDir ?? tempDir();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: childEnv({ NODE_ENV: 'test', LOG_LEVEL: 'warn', DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ...SECRETS }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout?.setEncoding('utf8').on('data', (c: string) => (output += c));
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => (output += c));
  let exited = false;
  const exit = new Promise<void>((res) => proc.on('exit', () => ((exited = true), res())));
  const server: Server = {
    port,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    proc,
    log: () => output,
    async stop() {
      started.delete(server);
      if (!exited) proc.kill('SIGTERM');
      await exit;
    },
  };
  started.add(server);
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`service exited before it was healthy:\n${output}`);
    try {
      if ((await fetch(`${server.url}/health`)).status === 200) return server;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`service not healthy within ${HEALTH_TIMEOUT_MS} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  json: () => any;
}

export interface CliOptions {
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  stdin?: string;
  cwd?: string;
  fetch?: typeof fetch;
  /** Called with the text so far on every write (to watch a running --follow). */
  onOutput?: (r: { stdout: string; stderr: string }) => void;
}

/**
 * Runs the CLI in-process against `server` with the admin token in AUTH_ADMIN_TOKEN (as the docs
 * recommend). Every run asserts that no output carries the admin token, or needed redacting.
 */
export async function cli(server: Pick<Server, 'url'>, argv: string[], o: CliOptions = {}): Promise<CliResult> {
  const seen = { stdout: '', stderr: '' };
  const sink = (k: 'stdout' | 'stderr') => ({
    write: (s: string) => {
      seen[k] += s;
      o.onOutput?.(seen);
      return true;
    },
  });
  const code = await runCli(argv, {
    env: o.env ?? { AUTH_ENGINE_URL: server.url, AUTH_ADMIN_TOKEN: ADMIN_TOKEN },
    stdout: sink('stdout'),
    stderr: sink('stderr'),
    signal: o.signal,
    stdin: o.stdin === undefined ? undefined : Readable.from([o.stdin]),
    cwd: o.cwd,
    fetch: o.fetch,
  });
  assertNoToken(seen.stdout + seen.stderr, argv.join(' '));
  return {
    code,
    ...seen,
    json: () => {
      try {
        return JSON.parse(seen.stdout);
      } catch {
        assert.fail(`stdout is not JSON (exit ${code}):\n${seen.stdout}\nstderr:\n${seen.stderr}`);
      }
    },
  };
}

export function assertNoToken(text: string, what: string, token = ADMIN_TOKEN): void {
  assert.ok(!text.includes(token), `the admin token appeared in the output of: ${what}`);
  // Not even redacted: the token should never have been about to be written.
  assert.ok(!text.includes('[redacted]'), `output needed redacting: ${what}`);
}

/** Raw HTTP to the server (customer flows that create users, outbox messages and audit events). */
export async function call(server: Pick<Server, 'url'>, method: string, path: string, body?: unknown, auth?: string) {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (auth !== undefined) headers.authorization = `Bearer ${auth}`;
  const r = await fetch(`${server.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const raw = await r.text();
  let json: any;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  return { status: r.status, body: json, raw };
}

/** Waits until `check()` holds (the output of a running command), failing after `ms`. */
export async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
