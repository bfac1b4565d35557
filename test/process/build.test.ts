// `npm start` runs the one-file build (scripts/build.mjs → dist/server.js). The build must find
// every file the service reads at run time (src/paths.ts): the password blocklist, package.json
// (OpenAPI version), the demo page and the SDK sources it serves, the PostgreSQL migrations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv, freePort } from '../helpers/process.ts';
import { MIGRATIONS_DIR } from '../../src/paths.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = 'build-test-admin-token-0123456789abcdef';

test('the migrations directory of src/paths.ts holds the migration files', () => {
  assert.ok(readdirSync(MIGRATIONS_DIR).includes('001_init.sql'));
});

test('the built server (what npm start runs) serves the API, the blocklist, OpenAPI and the demo page', { timeout: 60_000 }, async () => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  assert.ok(existsSync(join(ROOT, 'dist/server.js')));
  const dataDir = mkdtempSync(join(tmpdir(), 'ae-build-'));
  const port = await freePort();
  const proc = spawn(process.execPath, ['dist/server.js'], {
    cwd: ROOT,
    env: childEnv({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, AUTH_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (c) => (stderr += c));
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      const up = await fetch(`${base}/health`).then((r) => r.ok, () => false);
      if (up) break;
      if (i > 100) assert.fail(`the built server did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const put = await fetch(`${base}/admin/v1/brands/BUILT`, { method: 'PUT', headers: admin, body: JSON.stringify({ passwordEnabled: true }) });
    assert.equal(put.status, 200, await put.text());
    // A password on the shipped blocklist (assets/common-passwords.txt) is refused.
    const weak = await fetch(`${base}/auth/v1/web/token/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifierType: 'MOBILE', identifierValue: '919800000777', brand: 'BUILT', password: 'password123', confirmPassword: 'password123' }),
    });
    assert.equal((await weak.json()).status.code, 1542);
    const doc = await (await fetch(`${base}/openapi.json`)).json();
    assert.match(doc.info.version, /^\d+\.\d+\.\d+/);
    const page = await fetch(`${base}/demo`);
    assert.equal(page.status, 200);
    const sdk = await fetch(`${base}/demo/sdk/index.js`);
    assert.equal(sdk.status, 200);
    assert.match(await sdk.text(), /createAuthClient/);
  } finally {
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
