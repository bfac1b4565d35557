// The production mode of the HTTP test harness (AE_TEST_STORAGE=production, used by
// `npm run test:production` for test/http): every open harness has a database and a Redis
// prefix of its own, starts empty, leaves nothing under its prefix when closed, a restart on
// the same data dir finds its data again, and when a test file ends every database it created
// is dropped and nothing is left under its prefixes.
process.env.AE_TEST_STORAGE = 'production';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as jose from 'jose';
import pg from 'pg';
import { PG_ADMIN_URL } from '../helpers/pg.ts';
import { createTestRedis, keysUnder } from '../helpers/redis.ts';

// Imported after AE_TEST_STORAGE is set: the harness reads it when it loads.
const { otpLogin, startHarness, STORAGE } = await import('../../test/helpers/harness.ts');

const HARNESS = fileURLToPath(new URL('../../test/helpers/harness.ts', import.meta.url));
const databaseOf = (url: string | null) => new URL(url as string).pathname.slice(1);

async function databaseExists(name: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await c.end();
  }
}

async function keysLeft(prefix: string): Promise<string[]> {
  const t = await createTestRedis();
  try {
    return await keysUnder(t.redis, prefix);
  } finally {
    await t.cleanup(); // its own (empty) prefix only
  }
}

test('production mode: the storage is PostgreSQL + Redis, one database and one prefix per open harness', async () => {
  assert.equal(STORAGE, 'production');
  const a = await startHarness();
  const b = await startHarness();
  try {
    assert.equal(a.storage, 'production');
    assert.match(databaseOf(a.config.databaseUrl), /^ae_test_[0-9a-f]{16}$/);
    assert.match(a.config.redisKeyPrefix, /^ae:test:[0-9a-f]{16}:$/);
    assert.notEqual(databaseOf(a.config.databaseUrl), databaseOf(b.config.databaseUrl));
    assert.notEqual(a.config.redisKeyPrefix, b.config.redisKeyPrefix);

    await a.createBrand('DocDemo');
    const login = await otpLogin(a, 'mobile', 'DocDemo', 'MOBILE', '919999999993');
    assert.equal(login.res.status, 200, login.res.raw);
    assert.equal(await a.countRows('brands'), 1);
    assert.equal(await a.countRows('users'), 1);
    assert.equal(await a.countRows('identifiers', 'type = ? AND value = ?', ['MOBILE', '919999999993']), 1);
    assert.equal(await b.countRows('brands'), 0, 'the other harness sees nothing of it');
    assert.equal(await b.countRows('users'), 0);
    // The dumps read the right stores: the session is in Redis, the key row in PostgreSQL.
    assert.ok((await a.rawStorageDump('sessions')).includes(login.sessionId));
    assert.ok(!(await b.rawStorageDump('sessions')).includes(login.sessionId));
    const jti = jose.decodeJwt(login.res.body.auth.key).jti as string;
    assert.ok((await a.rawStorageDump('durable')).includes(jti));
    const rows = await a.selectRows<{ uid: number; verified: number }>('SELECT uid, verified FROM identifiers WHERE value = ?', ['919999999993']);
    assert.deepEqual(rows, [{ uid: Number(jose.decodeJwt(login.res.body.auth.key).uid), verified: 1 }], 'BIGINT as a number, BOOLEAN as 1/0, as SQLite gives them');
    await assert.rejects(a.selectRows("INSERT INTO brands (name, config, updated_at) VALUES ('X', '{}', 0)"), /read-only/, 'selectRows cannot write');
  } finally {
    await a.close();
    await b.close();
  }
});

test('production mode: close() leaves nothing under the prefix; the next harness starts from an empty database', async () => {
  const first = await startHarness();
  let prefix: string;
  let firstUid: unknown;
  try {
    prefix = first.config.redisKeyPrefix;
    await first.createBrand('DocDemo');
    const login = await otpLogin(first, 'mobile', 'DocDemo', 'MOBILE', '919999999993');
    firstUid = jose.decodeJwt(login.res.body.auth.key).uid;
    assert.ok((await keysLeft(prefix)).length > 0, 'the session is under the prefix while open');
  } finally {
    await first.close();
  }
  assert.deepEqual(await keysLeft(prefix), [], 'no key left under the prefix');

  const next = await startHarness();
  try {
    assert.notEqual(next.config.redisKeyPrefix, prefix);
    for (const table of ['brands', 'users', 'identifiers', 'keys', 'outbox', 'audit', 'limit_events', 'failures', 'revoked_tokens', 'user_marks']) {
      assert.equal(await next.countRows(table), 0, `${table} is empty`);
    }
    await next.createBrand('DocDemo');
    const login = await otpLogin(next, 'mobile', 'DocDemo', 'MOBILE', '919999999993');
    assert.equal(jose.decodeJwt(login.res.body.auth.key).uid, firstUid, 'sequences start where a fresh database starts');
  } finally {
    await next.close();
  }
});

test('production mode: startHarness({ dataDir }) again is a restart — the same database and prefix, the data still there', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ae-harness-restart-'));
  try {
    const h1 = await startHarness({ dataDir });
    let url: string | null;
    let prefix: string;
    let sessionId: string;
    try {
      url = h1.config.databaseUrl;
      prefix = h1.config.redisKeyPrefix;
      await h1.createBrand('DocDemo');
      const gen = await h1.post('/auth/v1/web/token/generate', { brand: 'DocDemo', identifierType: 'MOBILE', identifierValue: '919999999993' });
      assert.equal(gen.status, 200, gen.raw);
      sessionId = gen.body.user.sessionId;
    } finally {
      await h1.close();
    }
    const h2 = await startHarness({ dataDir });
    try {
      assert.equal(h2.config.databaseUrl, url);
      assert.equal(h2.config.redisKeyPrefix, prefix);
      assert.equal((await h2.admin('GET', '/admin/v1/brands/DOCDEMO')).status, 200, 'the brand survived');
      assert.ok((await h2.rawStorageDump('sessions')).includes(sessionId), 'the session survived');
    } finally {
      await h2.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('production mode: when a test file ends, every database it created is dropped and nothing is left under its prefixes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ae-harness-end-'));
  try {
    // A test file of its own (its own process): a plain harness, a keepData one, a restart-style
    // one (dataDir) and a plain one closed last.
    const file = join(dir, 'probe.test.mts');
    writeFileSync(
      file,
      `import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, otpLogin } from ${JSON.stringify(HARNESS)};
const note = (h) => console.log('SEEN ' + h.config.databaseUrl + ' ' + h.config.redisKeyPrefix);
test('probe', async () => {
  const a = await startHarness();
  note(a);
  await a.createBrand('DocDemo');
  await otpLogin(a, 'mobile', 'DocDemo', 'MOBILE', '919999999993');
  const b = await startHarness();
  note(b);
  await b.createBrand('DocDemo');
  await otpLogin(b, 'web', 'DocDemo', 'MOBILE', '919999999993');
  await b.close({ keepData: true });
  await a.close();
  const dataDir = mkdtempSync(join(tmpdir(), 'ae-harness-probe-'));
  const c = await startHarness({ dataDir });
  note(c);
  await c.createBrand('DocDemo');
  await otpLogin(c, 'mobile', 'DocDemo', 'MOBILE', '919999999994');
  await c.close();
  // Closed last: its database is an emptied one waiting for a next harness when the file ends.
  const d = await startHarness();
  note(d);
  await d.createBrand('DocDemo');
  await d.close();
  rmSync(b.dataDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});
`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      // Without NODE_TEST_CONTEXT: the child is a test run of its own, not a part of this one.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), AE_TEST_STORAGE: 'production' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const seen = [...r.stdout.matchAll(/SEEN (\S+) (\S+)/g)].map((m) => [m[1], m[2]] as const);
    assert.equal(seen.length, 4, `four harnesses: ${r.stdout}${r.stderr}`);
    assert.equal(new Set(seen.map(([, prefix]) => prefix)).size, 4, 'four prefixes');
    assert.ok(new Set(seen.map(([url]) => url)).size >= 2, 'the two harnesses open together had two databases');
    for (const [url, prefix] of seen) {
      assert.equal(await databaseExists(databaseOf(url)), false, `${databaseOf(url)} was dropped`);
      assert.deepEqual(await keysLeft(prefix), [], `nothing left under ${prefix}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
