// The SDK with its defaults (real clock, global fetch) against the service run as a child
// process, the way an app meets it: 2-second tokens on the brand, so renewal happens for real
// after waiting for the token to expire — mobile with the key, web with the expired token.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthClient, type FetchLike, type Identifier } from '../../packages/client/src/index.ts';
import { childEnv, freePort } from '../helpers/process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const ADMIN = 'sdk-process-admin-token-0123456789abcdefghijklmnop';
const BRAND = 'SdkProc';
const TOKEN_SECONDS = 2;
const HEALTH_TIMEOUT_MS = 15_000;

let proc: ChildProcess;
let exited: Promise<unknown>;
let baseUrl: string;
let dataDir: string;
let stderr = '';

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ae-sdk-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: childEnv({
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      AUTH_ADMIN_TOKEN: ADMIN,
      AUTH_SIGNING_SECRET: 'sdk-process-signing-secret-0123456789abcdefghij',
      AUTH_OTP_SECRET: 'sdk-process-otp-secret-0123456789abcdefghijklmn',
    }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  exited = new Promise((res) => proc.on('exit', res));
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`service exited early:\n${stderr}`);
    const up = await fetch(`${baseUrl}/health`).then((r) => r.status === 200, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`service not healthy:\n${stderr}`);
    await sleep(100);
  }
  const put = await admin('PUT', `/admin/v1/brands/${BRAND}`, { tokenValiditySeconds: { mobile: TOKEN_SECONDS, web: TOKEN_SECONDS } });
  assert.equal(put.status, 200);
});

after(async () => {
  if (proc && proc.exitCode === null) {
    proc.kill('SIGTERM');
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

async function isActive(token: string): Promise<boolean> {
  const r = await admin('POST', '/auth/v1/token/introspect', { token });
  assert.equal(r.status, 200);
  return r.body.active === true;
}

for (const [variant, id] of [
  ['mobile', { type: 'MOBILE', value: '919300000001' }],
  ['web', { type: 'EMAIL', value: 'sdk-process@example.com' }],
] as const satisfies readonly (readonly ['mobile' | 'web', Identifier])[]) {
  test(`${variant}: default client renews an expired token once for concurrent callers, then logs out`, { timeout: 60_000 }, async () => {
    let regenerations = 0;
    const counting: FetchLike = (input, init) => {
      if (input.endsWith('/token/regenerate')) regenerations++;
      return fetch(input, init);
    };
    const client = createAuthClient({ baseUrl, brand: BRAND, variant, fetch: counting });

    const { sessionId } = await client.startSession(id);
    await client.sendOtp(id, sessionId);
    const outbox = await admin('GET', `/admin/v1/outbox?brand=${BRAND}&identifier=${encodeURIComponent(`${id.type}|${id.value}`)}&limit=1`);
    const login = await client.verifyOtp(id, sessionId, outbox.body.messages[0].otp);
    if (variant === 'mobile') assert.equal(typeof login.key, 'string');

    // Wait until the stored token has expired on the client's clock.
    const session = await client.getSession();
    assert.ok(session?.expiresAt);
    await sleep(session.expiresAt - Date.now() + 100);

    const tokens = await Promise.all(Array.from({ length: 5 }, () => client.getToken()));
    assert.equal(regenerations, 1);
    assert.equal(new Set(tokens).size, 1);
    const token = tokens[0] as string;
    assert.notEqual(token, login.token);
    assert.ok(await isActive(token), 'the renewed token is live');

    await client.logout();
    assert.equal(await client.getToken(), null);
    assert.equal(await isActive(token), false, 'logged out: the token is revoked');
  });
}
