// The configured argon2id cost is what new password hashes are made with (deps.ts wiring), and
// a hash of the former default is rehashed at the next login (needsRehash).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/env.ts';
import { buildDeps } from '../../src/deps.ts';

test('buildDeps hashes new passwords with AUTH_ARGON2_MEMORY_KIB / AUTH_ARGON2_TIME_COST', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ae-argon2-cfg-'));
  const secrets = { AUTH_ADMIN_TOKEN: 'a'.repeat(40), AUTH_SIGNING_SECRET: 's'.repeat(40), AUTH_OTP_SECRET: 'o'.repeat(40) };
  const deps = await buildDeps(loadConfig({ ...secrets, DATA_DIR: dir, LOG_LEVEL: 'silent', AUTH_ARGON2_MEMORY_KIB: '7168', AUTH_ARGON2_TIME_COST: '5' }));
  try {
    const stored = await deps.passwords.hash('Correct-Horse-9');
    assert.match(stored, /^\$argon2id\$v=19\$m=7168,t=5,p=1\$/);
    assert.equal(await deps.passwords.verify(stored, 'Correct-Horse-9'), true);
    assert.equal(deps.passwords.needsRehash(stored), false);
    const defaults = await buildDeps(loadConfig({ ...secrets, DATA_DIR: join(dir, 'b'), LOG_LEVEL: 'silent' }));
    try {
      assert.match(await defaults.passwords.hash('x-Correct-Horse-9'), /m=19456,t=2,p=1/);
      assert.equal(defaults.passwords.needsRehash(stored), true, 'a hash of other parameters is rehashed at the next login');
    } finally {
      for (const h of defaults.health) await h.close();
    }
  } finally {
    for (const h of deps.health) await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
