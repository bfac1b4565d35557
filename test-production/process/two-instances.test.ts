// Two service processes A and B on one PostgreSQL database and one Redis key prefix, as two
// instances behind a load balancer (issue 4, "Tests and CI"): any step of any flow is answered
// by either instance, and limits, lockouts, single-use OTPs, key rotation and brand changes
// hold across both — nothing lives in one process's memory.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { createPgPool } from '../../src/storage/postgres/pg-pool.ts';
import { loadMigrations } from '../../src/storage/postgres/migrate.ts';
import { createEmptyDatabase } from '../helpers/pg.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { useInstances, type Instance, type Res } from '../helpers/instances.ts';
import { VARIANTS, getUser, idKey, newPerson, outboxOtp, step, type Person } from '../helpers/flows.ts';
import { SUCCESS, expectError, expectOk } from '../../test/helpers/spec.ts';

const instances = useInstances();
let A: Instance;
let B: Instance;
let pool: pg.Pool;
let dropDb: (() => Promise<void>) | null = null;
let redis: TestRedis | null = null;

before(async () => {
  const db = await createEmptyDatabase();
  dropDb = db.drop;
  redis = await createTestRedis();
  // Both start at once on an EMPTY database: they race on the start-up migrations, which the
  // advisory lock must serialise (each file applied exactly once, neither start fails).
  [A, B] = await instances.startMany(2, { databaseUrl: db.url, redisUrl: redis.url, redisPrefix: redis.prefix });
  pool = createPgPool(db.url);
});

after(async () => {
  await instances.killAll();
  await pool?.end().catch(() => undefined);
  await dropDb?.();
  await redis?.cleanup();
});

const both = () => [A, B] as const;

async function putBrand(via: Instance, brand: string, config: object): Promise<void> {
  const r = await via.admin('PUT', `/admin/v1/brands/${brand}`, config);
  assert.equal(r.status, 200, `PUT brand ${brand} via ${via.name}: ${r.raw}`);
}

async function startSession(via: Instance, p: Person, brand: string, extra: object = {}): Promise<string> {
  const r = await step(via, p, 'token/generate', brand, extra);
  expectOk(r, `token/generate on ${via.name}`);
  assert.equal(r.body.user.role, 'VIEW');
  return r.body.user.sessionId as string;
}

async function sendOtp(via: Instance, p: Person, brand: string, sessionId: string): Promise<void> {
  const r = await step(via, p, 'otp/generate', brand, { sessionId });
  expectOk(r, `otp/generate on ${via.name}`);
  assert.deepEqual(r.body, { status: SUCCESS });
}

async function readOtp(via: Instance, p: Person, brand: string): Promise<string> {
  const { res, otp } = await outboxOtp(via, brand, p);
  assert.equal(res.status, 200, `outbox on ${via.name}: ${res.raw}`);
  assert.ok(otp, `no OTP in the outbox for ${idKey(p)}: ${res.raw}`);
  return otp;
}

/** A full OTP login (sign-up the first time), each step on the given instance. */
async function otpLogin(p: Person, brand: string, on: { gen: Instance; send: Instance; validate: Instance }, extra: object = {}): Promise<Res> {
  const sessionId = await startSession(on.gen, p, brand, extra);
  await sendOtp(on.send, p, brand, sessionId);
  const otp = await readOtp(on.send === A ? B : A, p, brand);
  return step(on.validate, p, 'otp/validate', brand, { sessionId, otp });
}

test('both instances started at once on an empty database: each migration applied exactly once', async () => {
  const rows = (await pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => Number(r.version));
  assert.deepEqual(rows, loadMigrations().map((m) => m.version));
  for (const inst of both()) {
    const ready = await inst.call('GET', '/ready');
    assert.equal(ready.status, 200, `${inst.name} /ready: ${ready.raw}`);
    assert.deepEqual(ready.body, { status: SUCCESS });
  }
});

for (const v of VARIANTS) {
  test(`${v}: session started on A, OTP sent on B, validated on A`, async () => {
    const brand = `CROSS_${v.toUpperCase()}`;
    await putBrand(A, brand, {});
    const p = newPerson(v);
    const sessionId = await startSession(A, p, brand);
    await sendOtp(B, p, brand, sessionId);
    const otp = await readOtp(A, p, brand);
    assert.match(otp, /^[0-9]{6}$/);

    // A wrong OTP on B is counted on the shared session …
    expectError(await step(B, p, 'otp/validate', brand, { sessionId, otp: otp === '000000' ? '111111' : '000000' }), 1506, 'wrong OTP on B');
    // … and the right one on A logs in.
    const res = await step(A, p, 'otp/validate', brand, { sessionId, otp });
    expectOk(res, 'otp/validate on A');
    assert.equal(res.body.user.role, 'USER');
    assert.equal(res.body.user.sessionId, null);
    if (v === 'mobile') assert.equal(typeof res.body.auth.key, 'string');
    else assert.equal(res.body.auth.key, null);

    // The session was consumed for both instances.
    expectError(await step(B, p, 'otp/validate', brand, { sessionId, otp }), 1505, 'replay on B');
    expectError(await step(A, p, 'otp/validate', brand, { sessionId, otp }), 1505, 'replay on A');

    // The user is one record, seen by both.
    const ua = await getUser(A, brand, p);
    const ub = await getUser(B, brand, p);
    assert.equal(ua.status, 200, ua.raw);
    assert.deepEqual(ub.body, ua.body);
    assert.deepEqual(ua.body.user.identifiers, [{ type: p.type, value: p.value, verified: true }]);
  });
}

for (const v of VARIANTS) {
  test(`${v}: otpMaxCount 3 within otpTimeOut 10 holds across A and B (sends alternate)`, async () => {
    const brand = `MAXCOUNT_${v.toUpperCase()}`;
    await putBrand(A, brand, { otpMaxCount: 3, otpTimeOut: 10 });
    const p = newPerson(v);
    const order = [A, B, A, B, A, B];
    const answers: Array<{ on: string; res: Res }> = [];
    for (const [i, inst] of order.entries()) {
      // A new session each time, started on the other instance: the count is per identifier.
      const sessionId = await startSession(order[(i + 1) % order.length], p, brand);
      answers.push({ on: inst.name, res: await step(inst, p, 'otp/generate', brand, { sessionId }) });
    }
    for (const [i, a] of answers.entries()) {
      if (i < 3) {
        expectOk(a.res, `send ${i + 1} on ${a.on}`);
      } else {
        expectError(a.res, 1534, `send ${i + 1} on ${a.on}`);
        const retry = Number(a.res.headers.get('retry-after'));
        assert.ok(Number.isInteger(retry) && retry >= 1 && retry <= 600, `send ${i + 1}: Retry-After ${a.res.headers.get('retry-after')}`);
      }
    }
    // Exactly three messages went out.
    const box = await A.admin('GET', `/admin/v1/outbox?brand=${brand}&identifier=${encodeURIComponent(idKey(p))}&limit=50`);
    assert.equal(box.status, 200, box.raw);
    assert.equal(box.body.messages.length, 3);
  });
}

for (const v of VARIANTS) {
  test(`${v}: 20 concurrent validations of one correct OTP over A and B — exactly one success`, async () => {
    const brand = `RACE_${v.toUpperCase()}`;
    await putBrand(A, brand, {});
    const p = newPerson(v);
    const sessionId = await startSession(B, p, brand);
    await sendOtp(A, p, brand, sessionId);
    const otp = await readOtp(B, p, brand);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => step(i % 2 === 0 ? A : B, p, 'otp/validate', brand, { sessionId, otp })));
    const wins = answers.filter((r) => r.status === 200);
    assert.equal(wins.length, 1, `exactly one success: ${answers.map((r) => r.status).join(',')}`);
    expectOk(wins[0], 'the winner');
    assert.equal(wins[0].body.user.role, 'USER');
    for (const r of answers) if (r !== wins[0]) expectError(r, 1505, 'a losing validation');
    // One user, one identifier row.
    const ids = await pool.query('SELECT uid FROM identifiers WHERE brand = $1 AND type = $2 AND value = $3', [brand, p.type, p.value]);
    assert.equal(ids.rows.length, 1);
    const users = await pool.query('SELECT count(*)::int AS n FROM users WHERE brand = $1', [brand]);
    assert.equal(users.rows[0].n, 1);
  });
}

test('mobile: 20 concurrent regenerates of one key under rotateKeys over A and B — one successor', async () => {
  const brand = 'ROTATE';
  await putBrand(B, brand, { rotateKeys: true });
  const p = newPerson('mobile');
  const login = await otpLogin(p, brand, { gen: A, send: B, validate: A });
  expectOk(login, 'login');
  const key = login.body.auth.key as string;
  assert.equal(typeof key, 'string');

  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => step(i % 2 === 0 ? A : B, p, 'token/regenerate', brand, { key })));
  const wins = answers.filter((r) => r.status === 200);
  const refused = answers.filter((r) => r.status !== 200);
  for (const r of wins) expectOk(r, 'a regenerate');
  for (const r of refused) expectError(r, 1597, 'a refused regenerate');
  assert.ok(wins.length >= 1, 'at least one regenerate succeeds');
  const successors = new Set(wins.map((r) => r.body.auth.key as string));
  assert.equal(successors.size, 1, `one successor for every success, got ${successors.size}`);
  const [successor] = successors;
  assert.equal(typeof successor, 'string');
  assert.notEqual(successor, key);
  console.log(`rotateKeys burst: ${wins.length} successes (all with the one successor), ${refused.length} × 1597`);

  // Stored: the original (retired) and exactly one successor.
  const uid = (await getUser(A, brand, p)).body.user.uid as string;
  const rows = (await pool.query('SELECT retired_at, revoked_at FROM keys WHERE brand = $1 AND uid = $2 ORDER BY created_at', [brand, uid])).rows;
  assert.equal(rows.length, 2, `exactly one successor row: ${JSON.stringify(rows)}`);
  assert.notEqual(rows[0].retired_at, null);
  assert.equal(rows[1].retired_at, null);
  assert.equal(rows[1].revoked_at, null);
  // The successor rotates normally, on either instance.
  const next = await step(B, p, 'token/regenerate', brand, { key: successor });
  expectOk(next, 'the successor');
  assert.ok(typeof next.body.auth.key === 'string' && next.body.auth.key !== successor);
});

for (const v of VARIANTS) {
  test(`${v}: accountLocking counts failures on A and B together`, async () => {
    const brand = `LOCK_${v.toUpperCase()}`;
    const password = 'Lock-Passw0rd-long';
    await putBrand(A, brand, { passwordEnabled: true, accountLocking: { enabled: true, maxFailures: 3, lockMinutes: 30 } });
    const p = newPerson(v);
    expectOk(await otpLogin(p, brand, { gen: A, send: B, validate: B }, { password, confirmPassword: password }), 'sign-up');

    // Failure 1: a wrong OTP on A.
    const s1 = await startSession(B, p, brand);
    await sendOtp(B, p, brand, s1);
    const otp = await readOtp(A, p, brand);
    const wrong = otp === '000000' ? '111111' : '000000';
    expectError(await step(A, p, 'otp/validate', brand, { sessionId: s1, otp: wrong }), 1506, 'failure 1 (OTP on A)');
    // Failure 2: a wrong password on B, another session.
    const s2 = await startSession(A, p, brand);
    expectError(await step(B, p, 'password/validate', brand, { sessionId: s2, password: `${password}-x` }), 1528, 'failure 2 (password on B)');
    // Failure 3: a wrong OTP on B locks (1544 wins over 1506).
    const locking = await step(B, p, 'otp/validate', brand, { sessionId: s1, otp: wrong });
    expectError(locking, 1544, 'failure 3 (OTP on B)');
    assert.ok(Number(locking.headers.get('retry-after')) >= 1);

    // Locked on both instances, the right OTP and the right password included.
    expectError(await step(A, p, 'otp/validate', brand, { sessionId: s1, otp }), 1544, 'right OTP on A');
    expectError(await step(A, p, 'password/validate', brand, { sessionId: s2, password }), 1544, 'right password on A');
    const s3 = await startSession(B, p, brand); // token/generate still answers
    expectError(await step(A, p, 'otp/generate', brand, { sessionId: s3 }), 1544, 'otp/generate on A');
    expectError(await step(B, p, 'otp/generate', brand, { sessionId: s3 }), 1544, 'otp/generate on B');
    const user = await getUser(A, brand, p);
    assert.equal(user.status, 200, user.raw);
    assert.equal(typeof user.body.user.lockedUntil, 'string', `lockedUntil: ${user.raw}`);

    // An admin unlock on A opens it on B.
    const unlock = await A.admin('POST', `/admin/v1/users/${brand}/${p.type}/${encodeURIComponent(p.value)}/unlock`);
    assert.equal(unlock.status, 200, unlock.raw);
    expectOk(await step(B, p, 'password/validate', brand, { sessionId: s2, password }), 'password after unlock on B');
  });
}

// Each instance caches brand configs for BRAND_CACHE_TTL_MS (1 s; src/storage/brand-cache.ts):
// a change applies at once on the instance that made it and within the TTL on the others.
// `eventually` allows 5 s so a loaded CI machine cannot make it flaky; what it checks is that
// the other instance does pick the change up without a restart.
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) assert.fail(`${what}: not seen within 5 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a brand changed through A is used at once by A and within the cache TTL by B', async () => {
  const brand = 'LIVECONFIG';
  const p = newPerson('mobile');
  const sendOn = async (inst: Instance) => {
    const sessionId = await startSession(inst, p, brand);
    await sendOtp(inst, p, brand, sessionId);
    return readOtp(inst, p, brand);
  };
  await putBrand(A, brand, { otpLength: 4 });
  assert.match(await sendOn(B), /^[0-9]{4}$/, 'B sends with the length A saved');
  await putBrand(A, brand, { otpLength: 8 });
  assert.match(await sendOn(A), /^[0-9]{8}$/, 'A sends with the length it changed, at once');
  await eventually('B sends with the length A changed', async () => /^[0-9]{8}$/.test(await sendOn(B)));

  await putBrand(A, brand, { otpLength: 8, identifierTypes: ['EMAIL'] });
  expectError(await step(A, p, 'token/generate', brand), 1546, 'MOBILE no longer enabled, on A at once');
  await eventually('MOBILE no longer enabled, seen by B', async () => (await step(B, p, 'token/generate', brand)).body.status.code === 1546);
  await putBrand(A, brand, { otpEnabled: false });
  await eventually('otp disabled on A, seen by B', async () => {
    // Until B sees this config it may still refuse MOBILE (the previous one).
    const started = await step(B, p, 'token/generate', brand);
    if (started.status !== 200) return false;
    return (await step(B, p, 'otp/generate', brand, { sessionId: started.body.user.sessionId })).body.status.code === 1503;
  });

  const del = await A.admin('DELETE', `/admin/v1/brands/${brand}`);
  assert.equal(del.status, 200, del.raw);
  expectError(await step(A, p, 'token/generate', brand), 1504, 'brand deleted on A, unknown to A at once');
  await eventually('brand deleted on A, unknown to B', async () => (await step(B, p, 'token/generate', brand)).body.status.code === 1504);
  const get = await B.admin('GET', `/admin/v1/brands/${brand}`);
  assert.equal(get.status, 404, get.raw);
});

test('both instances stop gracefully on SIGTERM (exit 0)', async () => {
  for (const inst of both()) {
    const exit = await inst.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: null }, `${inst.name} stderr:\n${inst.stderr}`);
  }
});
