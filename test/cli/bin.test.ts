// The installed entry point end to end: `node bin/auth-engine.js …` as a real process against a
// live server (tsx loaded by the bin itself), exit codes, stdin, and Ctrl-C ending a --follow.
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, ROOT, assertNoToken, call, cleanup, startServer, until, type Server } from './live-server.ts';
import { childEnv, freePort } from '../helpers/process.ts';

let server: Server;
before(async () => {
  server = await startServer();
});
after(cleanup);

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns the bin; `during` runs while it is alive (to send events or signals). */
function bin(argv: string[], o: { env?: Record<string, string>; stdin?: string; during?: (p: { live: () => Run; kill: (s: NodeJS.Signals) => void }) => Promise<void> } = {}): Promise<Run> {
  const proc = spawn(process.execPath, ['bin/auth-engine.js', ...argv], {
    cwd: ROOT,
    env: childEnv(o.env ?? { AUTH_ENGINE_URL: server.url, AUTH_ADMIN_TOKEN: ADMIN_TOKEN }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const run: Run = { code: null, signal: null, stdout: '', stderr: '' };
  proc.stdout.setEncoding('utf8').on('data', (c: string) => (run.stdout += c));
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (run.stderr += c));
  proc.stdin.end(o.stdin ?? '');
  const exit = new Promise<Run>((res) => proc.on('exit', (code, signal) => res(Object.assign(run, { code, signal }))));
  return (async () => {
    try {
      await o.during?.({ live: () => run, kill: (s) => proc.kill(s) });
    } catch (err) {
      proc.kill('SIGKILL');
      await exit;
      throw err;
    }
    const r = await exit;
    assertNoToken(r.stdout + r.stderr, `bin ${argv.join(' ')}`);
    return r;
  })();
}

test('bin: --help, a command with stdin, and the exit codes 0 / 1 / 2 / 3', { timeout: 60_000 }, async () => {
  const help = await bin(['--help'], { env: {} });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^auth-engine: admin command-line tool/);

  const create = await bin(['brands', 'create', 'BinDemo', '--file', '-'], { stdin: '{"otpLength": 8}' });
  assert.equal(create.code, 0, create.stderr);
  assert.equal(JSON.parse(create.stdout).config.otpLength, 8);
  const show = await bin(['brands', 'show', 'bindemo']);
  assert.equal(show.code, 0, show.stderr);
  const api = await call(server, 'GET', '/admin/v1/brands/BINDEMO', undefined, ADMIN_TOKEN);
  assert.deepEqual(JSON.parse(show.stdout), { brand: 'BINDEMO', config: api.body.config });

  const wrong = 'bin-wrong-token-abcdefghijklmnopqrstuvwxyz0123456';
  const denied = await bin(['brands', 'list'], { env: { AUTH_ENGINE_URL: server.url, AUTH_ADMIN_TOKEN: wrong } });
  assert.equal(denied.code, 1);
  assert.equal(denied.stderr, 'auth-engine: error 1548: Unauthorized. (HTTP 401; wrong or missing admin token (AUTH_ADMIN_TOKEN))\n');
  assertNoToken(denied.stdout + denied.stderr, 'wrong token', wrong);

  const unknown = await bin(['brands', 'show', 'Nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /error 1504: Unable to generate token\. \(HTTP 404; unknown brand\)/);

  const usage = await bin(['brands', 'delete', 'BinDemo']);
  assert.equal(usage.code, 2);
  const closed = await freePort();
  const down = await bin(['audit'], { env: { AUTH_ENGINE_URL: `http://127.0.0.1:${closed}`, AUTH_ADMIN_TOKEN: ADMIN_TOKEN } });
  assert.equal(down.code, 3);
  assert.match(down.stderr, /ECONNREFUSED/);
});

test('bin: audit --follow prints a new event and ends with 0 on Ctrl-C (SIGINT)', { timeout: 60_000 }, async () => {
  assert.equal((await call(server, 'PUT', '/admin/v1/brands/BinDemo', {}, ADMIN_TOKEN)).status, 200);
  const r = await bin(['audit', '--brand', 'BinDemo', '--follow', '--interval', '100'], {
    async during({ live, kill }) {
      await until(() => live().stderr.includes('following the audit log'), 'follow to start', 30_000);
      const id = { brand: 'BinDemo', identifierType: 'EMAIL', identifierValue: 'bin-follow@example.com' };
      const gen = await call(server, 'POST', '/auth/v1/web/token/generate', id);
      assert.equal(gen.status, 200, gen.raw);
      assert.equal((await call(server, 'POST', '/auth/v1/web/otp/generate', { ...id, sessionId: gen.body.user.sessionId })).status, 200);
      await until(() => live().stdout.includes('bin-follow@example.com'), 'the event to be printed', 30_000);
      kill('SIGINT');
    },
  });
  assert.deepEqual([r.code, r.signal], [0, null], r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => [e.type, e.identifier]), [['otp_sent', 'EMAIL|bin-follow@example.com']]);
});
