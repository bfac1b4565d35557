// Packages of the other deployment mode are never loaded (src/lazy-package.ts): an embedded
// instance does not hold pg, ioredis or nodemailer, and nodemailer loads only with an SMTP
// provider. Checked in a fresh process, since this test runner's own process may load anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childEnv } from '../helpers/process.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Builds the deps of a fresh process from `env` and lists the packages it loaded (CommonJS cache). */
function packagesLoadedBy(env: Record<string, string>): string[] {
  const script = `
    import { createRequire } from 'node:module';
    import { loadConfig } from './src/config/env.ts';
    import { buildDeps } from './src/deps.ts';
    const deps = await buildDeps(loadConfig(process.env));
    const loaded = new Set(Object.keys(createRequire(import.meta.url).cache)
      .map((p) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(p)?.[1]).filter(Boolean));
    for (const h of deps.health) await h.close();
    console.log(JSON.stringify([...loaded]));`;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: childEnv({ LOG_LEVEL: 'silent', ...env }), encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop() as string) as string[];
}

test('an embedded instance loads libsql and not pg, ioredis or nodemailer; an SMTP provider loads nodemailer', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ae-lazy-'));
  try {
    const plain = packagesLoadedBy({ DATA_DIR: join(dir, 'a') });
    assert.ok(plain.includes('libsql'), `libsql is loaded: ${plain.join(', ')}`);
    for (const p of ['pg', 'ioredis', 'nodemailer']) assert.ok(!plain.includes(p), `${p} is not loaded in embedded mode`);
    const smtp = packagesLoadedBy({ DATA_DIR: join(dir, 'b'), AUTH_OTP_PROVIDER_EMAIL: 'smtp', AUTH_SMTP_URL: 'smtp://127.0.0.1:2525', AUTH_SMTP_FROM: 'auth@example.com' });
    assert.ok(smtp.includes('nodemailer'), 'nodemailer is loaded with an SMTP provider');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
