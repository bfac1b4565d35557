// Storage faults under load (issue 4, "Tests and CI"). Two service processes reach PostgreSQL
// and Redis only through TCP proxies the test owns; stopping a proxy closes its listener and
// resets every open connection — to the service, the store is gone. With a sign-up and login
// load running, PostgreSQL and then Redis are cut for a few seconds and restored on the same
// port. During an outage every answer is a normal one or exactly HTTP 503 / 1599, and /ready
// answers 503; afterwards the instances recover by themselves (no restart), every sign-up
// answered with success exists and logs in, and no user exists without its identifier.
//
// The other test cuts PostgreSQL during password/change — before it starts, and in the middle
// of it (a trigger kills the database connection at the moment the other devices' keys or
// tokens are being revoked) — and checks that the change never half-applies.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { isReady, sleep, useInstances, waitFor, type Instance, type Res } from '../helpers/instances.ts';
import { TcpProxy, startTcpProxy } from '../helpers/tcp-proxy.ts';
import { describe, getUser, isOk, newPerson, onDevice, outboxOtp, step, type Person } from '../helpers/flows.ts';
import { Load, describeOutcome, summarise, type Account } from '../helpers/load.ts';
import { SUCCESS, expectAdminError, expectError, expectOk, specStatus } from '../../test/helpers/spec.ts';

/** How long each outage lasts. */
const OUTAGE_MS = 3_000;
/** Generous bound for /ready (and a sign-up) to be back after the store returns. */
const RECOVERY_BOUND_MS = 15_000;

const instances = useInstances();
let db: TestDatabase | null = null;
let redis: TestRedis | null = null;
let pgProxy: TcpProxy;
let redisProxy: TcpProxy;
let A: Instance;
let B: Instance;

before(async () => {
  db = await createTestDatabase();
  redis = await createTestRedis();
  pgProxy = await startTcpProxy(TcpProxy.targetOf(db.url));
  redisProxy = await startTcpProxy(TcpProxy.targetOf(redis.url));
  [A, B] = await instances.startMany(2, { databaseUrl: pgProxy.url(db.url), redisUrl: redisProxy.url(redis.url), redisPrefix: redis.prefix });
});

after(async () => {
  await instances.killAll();
  await pgProxy?.stop();
  await redisProxy?.stop();
  await db?.drop();
  await redis?.cleanup();
});

const both = () => [A, B];
const UNAVAILABLE = { status: specStatus(1599) };

async function putBrand(brand: string, config: object): Promise<void> {
  const r = await A.admin('PUT', `/admin/v1/brands/${brand}`, config);
  assert.equal(r.status, 200, r.raw);
}

/** An OTP login (a sign-up the first time, with `password` when given): generate on `gen`, the rest on `other`. */
async function otpLogin(p: Person, brand: string, gen: Instance, other: Instance, password?: string): Promise<Res> {
  const g = await step(gen, p, 'token/generate', brand, password ? { password, confirmPassword: password } : {});
  expectOk(g, 'token/generate');
  const sessionId = g.body.user.sessionId as string;
  expectOk(await step(other, p, 'otp/generate', brand, { sessionId }), 'otp/generate');
  const { res, otp } = await outboxOtp(gen, brand, p);
  assert.ok(otp, `no OTP in the outbox: ${res.raw}`);
  return step(other, p, 'otp/validate', brand, { sessionId, otp });
}

/** token/generate + password/validate. */
async function passwordLogin(p: Person, brand: string, gen: Instance, other: Instance, password: string): Promise<Res> {
  const g = await step(gen, p, 'token/generate', brand);
  expectOk(g, `token/generate (login of ${p.value})`);
  return step(other, p, 'password/validate', brand, { sessionId: g.body.user.sessionId, password });
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}

interface OutageReport {
  store: string;
  requests: number;
  ok: number;
  unavailable: number;
  readySamples: number;
  readyBackMs: number;
  firstSignUpBackMs: number;
}

/**
 * Cuts `proxy` for OUTAGE_MS while the load runs, sampling /ready on both instances, then
 * restores it on the same port and measures how long until /ready is 200 on both and until
 * a sign-up started after the restore has succeeded.
 */
async function outage(store: string, proxy: TcpProxy, load: Load): Promise<OutageReport> {
  const port = proxy.port;
  await proxy.stop();
  const down = Date.now();
  const samples: Array<{ on: string; res: Res }> = [];
  while (Date.now() - down < OUTAGE_MS) {
    for (const inst of both()) samples.push({ on: inst.name, res: await inst.call('GET', '/ready') });
    await sleep(200);
  }
  const upAt = Date.now();
  await proxy.start();
  assert.equal(proxy.port, port, 'the proxy is back on the same port');

  for (const s of samples) {
    assert.equal(s.res.status, 503, `/ready on ${s.on} during the ${store} outage: ${s.res.raw}`);
    assert.deepEqual(s.res.body, UNAVAILABLE, `/ready on ${s.on} during the ${store} outage`);
  }
  const readyBackMs = await waitFor(`/ready 200 on both instances after the ${store} outage`, async () => (await Promise.all(both().map(isReady))).every(Boolean), RECOVERY_BOUND_MS, 25);
  await waitFor(`a sign-up started after the ${store} outage`, async () => load.signUpsStartedAfter(upAt).length > 0, RECOVERY_BOUND_MS, 25);
  const firstSignUpBackMs = Math.min(...load.signUpsStartedAfter(upAt).map((a) => a.ended)) - upAt;

  const during = summarise(load.between(down, upAt));
  const report = { store, requests: during.total, ok: during.ok, unavailable: during.unavailable, readySamples: samples.length, readyBackMs, firstSignUpBackMs };
  console.log(
    `${store} outage (${OUTAGE_MS} ms): ${report.requests} requests during it (${report.ok} ok, ${report.unavailable} × 503/1599), ` +
      `/ready 503 in ${report.readySamples}/${report.readySamples} samples; /ready 200 again ${readyBackMs} ms after the restore, first new sign-up done after ${firstSignUpBackMs} ms`,
  );
  assert.ok(during.unavailable > 0, `the ${store} outage was felt by the load (some 503/1599): ${JSON.stringify(during)}`);
  for (const inst of both()) assert.equal(inst.exited, false, `${inst.name} must not exit during the ${store} outage:\n${inst.stderr}`);
  return report;
}

test('sign-ups and logins through a PostgreSQL outage, then a Redis outage: 503/1599 only, /ready 503, recovery without restart, nothing lost', { timeout: 120_000 }, async () => {
  const brand = 'FAULTS';
  await putBrand(brand, { passwordEnabled: true });
  const pids = both().map((i) => i.pid);

  // Users created before the load, logged in with their password during it.
  const existing: Account[] = [];
  for (const [i, v] of (['mobile', 'web', 'mobile', 'web'] as const).entries()) {
    const person = newPerson(v);
    const password = `Existing-Passw0rd-${i}`;
    expectOk(await otpLogin(person, brand, A, B, password), 'pre-created sign-up');
    existing.push({ person, password, started: Date.now(), ended: Date.now(), path: [] });
  }

  let rr = 0;
  const load = new Load({ brand, workers: 4, pick: () => both()[rr++ % 2], logins: existing, loginEvery: 3 }).start();
  const reports: OutageReport[] = [];
  try {
    await sleep(2_000);
    reports.push(await outage('PostgreSQL', pgProxy, load));
    await sleep(1_500);
    reports.push(await outage('Redis', redisProxy, load));
    await sleep(1_000);
  } finally {
    await load.stop();
  }

  const all = summarise(load.outcomes);
  console.log(
    `load: ${all.total} requests (${all.ok} ok, ${all.unavailable} × 503/1599, ${all.other} other, ${all.network} network errors); ` +
      `${load.signedUp.length} sign-ups answered with success, ${load.uncertain.length} sign-ups answered 503 at otp/validate, ${load.loginsOk} password logins ok`,
  );
  console.log(`outages: ${JSON.stringify(reports)}`);
  const codes = new Map<string, number>();
  for (const o of load.outcomes) if (o.kind !== 'ok') codes.set(`${o.step} → HTTP ${o.status} ${o.code}`, (codes.get(`${o.step} → HTTP ${o.status} ${o.code}`) ?? 0) + 1);
  console.log(`non-ok answers by step: ${JSON.stringify(Object.fromEntries(codes))}`);

  // No 5xx but 503/1599, no other error at all (this load never sends a wrong value), no hang.
  const bad = load.outcomes.filter((o) => o.kind === 'other' || o.kind === 'network');
  assert.deepEqual(bad.map(describeOutcome), [], 'every answer is a success or HTTP 503 with exactly the 1599 status');
  // Both instances served throughout: same processes, no restart.
  assert.deepEqual(both().map((i) => i.pid), pids);
  for (const inst of both()) assert.equal(inst.exited, false, `${inst.name} exited:\n${inst.stderr}`);
  assert.ok(load.signedUp.length > 0);

  // Every sign-up answered with success exists and logs in with the password it registered.
  const accounts = [...existing, ...load.signedUp];
  await pool(accounts, 4, async (a, i) => {
    const [gen, other] = i % 2 === 0 ? [A, B] : [B, A];
    const u = await getUser(gen, brand, a.person);
    assert.equal(u.status, 200, `user of a successful sign-up (${a.person.type}|${a.person.value}, via ${a.path.join('→')}) is missing: ${u.raw}`);
    assert.ok(
      u.body.user.identifiers.some((x: { type: string; value: string }) => x.type === a.person.type && x.value === a.person.value),
      `identifiers of ${a.person.value}: ${u.raw}`,
    );
    assert.equal(u.body.user.hasPassword, true, `${a.person.value}: the sign-up password was committed`);
    const login = await passwordLogin(a.person, brand, gen, other, a.password);
    expectOk(login, `password login of ${a.person.type}|${a.person.value}`);
  });

  // Sign-ups answered 503 at the last step either exist whole or not at all.
  let uncertainExisting = 0;
  for (const a of load.uncertain) {
    const u = await getUser(A, brand, a.person);
    if (u.status !== 200) {
      expectAdminError(u, 1515, `user of an uncertain sign-up ${a.person.value}`);
      continue;
    }
    uncertainExisting++;
    expectOk(await passwordLogin(a.person, brand, B, A, a.password), `an uncertain sign-up that exists logs in with its password (${a.person.value})`);
  }
  console.log(`of the ${load.uncertain.length} sign-ups answered 503 at otp/validate, ${uncertainExisting} exist (whole: checked below)`);

  // Straight from PostgreSQL: no user without an identifier, no sign-up without its password.
  const { pool: pg } = db as TestDatabase;
  const orphans = await pg.query('SELECT uid FROM users u WHERE NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.uid = u.uid)');
  assert.deepEqual(orphans.rows, [], 'users without any identifier');
  const noPassword = await pg.query('SELECT uid FROM users WHERE brand = $1 AND password_hash IS NULL', [brand]);
  assert.deepEqual(noPassword.rows, [], 'users of password sign-ups created without their password');
  const count = await pg.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE brand = $1', [brand]);
  assert.equal(count.rows[0].n, accounts.length + uncertainExisting, 'every user is a successful sign-up (or one answered 503 at the last step)');
});

// ---------------------------------------------------------------------------------------------
// password/change and PostgreSQL failures: never "password changed, other devices not revoked".

const OLD = 'Before-Change-Passw0rd';
const NEW = 'After-Change-Passw0rd';

interface Setup {
  brand: string;
  user: Person;
  /** The calling device's USER token. */
  token: string;
  /** The other device's (mobile) or other login's (web) credentials. */
  other: Person;
  otherToken: string;
  otherKey: string | null;
}

/** A user with a password, logged in twice: the caller (device one) and another device/login. */
async function setup(brand: string, variant: 'mobile' | 'web'): Promise<Setup> {
  const user = newPerson(variant, 'device-one');
  const first = await otpLogin(user, brand, A, B, OLD);
  expectOk(first, 'sign-up');
  const other = onDevice(user, 'device-two');
  const second = await otpLogin(other, brand, B, A);
  expectOk(second, 'second login');
  return { brand, user, token: first.body.auth.token, other, otherToken: second.body.auth.token, otherKey: second.body.auth.key ?? null };
}

const change = (s: Setup, via: Instance = A) => step(via, s.user, 'password/change', s.brand, { token: s.token, password: OLD, newPassword: NEW, confirmPassword: NEW });

interface CredentialState {
  /** The stored password is the new one (the old one is refused and the new one logs in). */
  passwordChanged: boolean;
  /** mobile: the other device's key still regenerates (null on web). */
  otherKeyValid: boolean | null;
  /** The other device's / login's USER token is still accepted. */
  otherTokenValid: boolean;
}

/** Reads the credential state through the API (on B; a probe device so nothing of the two logins is used up). */
async function probe(s: Setup): Promise<CredentialState> {
  const prober = onDevice(s.user, 'device-probe');
  const works = async (password: string) => {
    const r = await passwordLogin(prober, s.brand, B, B, password);
    if (isOk(r)) return true;
    expectError(r, 1528, `password login with the ${password === OLD ? 'old' : 'new'} password`);
    return false;
  };
  const oldWorks = await works(OLD);
  const newWorks = oldWorks ? false : await works(NEW);
  assert.ok(oldWorks || newWorks, 'neither the old nor the new password logs in');

  let otherKeyValid: boolean | null = null;
  if (s.otherKey !== null) {
    const r = await step(B, s.other, 'token/regenerate', s.brand, { key: s.otherKey });
    if (isOk(r)) otherKeyValid = true;
    else {
      expectError(r, 1597, 'the other device key');
      otherKeyValid = false;
    }
  }
  // A password/change with the other token and a wrong current password: 1529 when the token
  // is revoked, 1528 when it is live (changes nothing; counts one wrong password).
  const t = await step(B, s.other, 'password/change', s.brand, { token: s.otherToken, password: 'Not-The-Passw0rd-0', newPassword: 'Probe-Passw0rd-77', confirmPassword: 'Probe-Passw0rd-77' });
  let otherTokenValid: boolean;
  if (t.status === 401 && t.body?.status?.code === 1528) otherTokenValid = true;
  else {
    expectError(t, 1529, 'the other token');
    otherTokenValid = false;
  }
  return { passwordChanged: newWorks, otherKeyValid, otherTokenValid };
}

const NOTHING_APPLIED = (s: Setup): CredentialState => ({ passwordChanged: false, otherKeyValid: s.otherKey === null ? null : true, otherTokenValid: true });
const ALL_APPLIED = (s: Setup): CredentialState => ({ passwordChanged: true, otherKeyValid: s.otherKey === null ? null : false, otherTokenValid: false });

/** Arms a trigger that kills the service's database connection at the first write to `table`. */
async function installFault(): Promise<{ arm(table: 'keys' | 'user_marks'): Promise<void>; disarm(): Promise<void> }> {
  const { pool: pg } = db as TestDatabase;
  await pg.query(`
    CREATE TABLE IF NOT EXISTS test_fault (target TEXT PRIMARY KEY);
    CREATE OR REPLACE FUNCTION test_fault_kill() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM test_fault WHERE target = TG_TABLE_NAME) THEN
        -- Kill this backend: to the service, the connection is lost mid-statement.
        PERFORM pg_terminate_backend(pg_backend_pid());
        PERFORM pg_sleep(5);
      END IF;
      RETURN NEW;
    END $$;
    DROP TRIGGER IF EXISTS test_fault_keys ON keys;
    CREATE TRIGGER test_fault_keys BEFORE UPDATE ON keys FOR EACH ROW
      WHEN (OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) EXECUTE FUNCTION test_fault_kill();
    DROP TRIGGER IF EXISTS test_fault_marks ON user_marks;
    CREATE TRIGGER test_fault_marks BEFORE INSERT ON user_marks FOR EACH ROW EXECUTE FUNCTION test_fault_kill();
  `);
  return {
    arm: async (table) => void (await pg.query('INSERT INTO test_fault (target) VALUES ($1) ON CONFLICT DO NOTHING', [table])),
    disarm: async () => void (await pg.query('DELETE FROM test_fault')),
  };
}

test('password/change while PostgreSQL is unreachable, or when the connection dies mid-change: 503/1599 and nothing half-applied', { timeout: 90_000 }, async () => {
  const brand = 'PWFAULT';
  await putBrand(brand, { passwordEnabled: true });
  const report: string[] = [];

  // 1. PostgreSQL unreachable when the change arrives.
  {
    const s = await setup(brand, 'mobile');
    await pgProxy.stop();
    let res: Res;
    try {
      res = await change(s);
    } finally {
      await pgProxy.start();
    }
    expectError(res, 1599, 'password/change with PostgreSQL unreachable');
    await waitFor('/ready after the PostgreSQL cut', async () => (await Promise.all(both().map(isReady))).every(Boolean), RECOVERY_BOUND_MS, 25);
    const state = await probe(s);
    report.push(`PostgreSQL unreachable before the change: ${describe(res)} → ${JSON.stringify(state)}`);
    assert.deepEqual(state, NOTHING_APPLIED(s), `state after a refused change: ${JSON.stringify(state)}`);
  }

  // 2. The connection dies in the middle of the change, at the revocation of the other
  //    device's keys (mobile) or at the revocation mark of the other tokens (mobile, web).
  const fault = await installFault();
  const scenarios = [
    { variant: 'mobile', at: 'keys' },
    { variant: 'mobile', at: 'user_marks' },
    { variant: 'web', at: 'user_marks' },
  ] as const;
  const failures: string[] = [];
  for (const sc of scenarios) {
    const s = await setup(brand, sc.variant);
    await fault.arm(sc.at);
    let res: Res;
    try {
      res = await change(s);
    } finally {
      await fault.disarm();
    }
    const state = await probe(s);
    const line = `${sc.variant}, connection killed at the ${sc.at} write: ${describe(res)} → ${JSON.stringify(state)}`;
    report.push(line);
    if (isOk(res)) {
      failures.push(`${line}: the change completed, so the fault was not injected (does password/change still write ${sc.at}?)`);
      continue;
    }
    if (!(res.status === 503 && JSON.stringify(res.body) === JSON.stringify(UNAVAILABLE))) failures.push(`${line}: expected HTTP 503 / 1599`);
    const nothing = NOTHING_APPLIED(s);
    if (JSON.stringify(state) !== JSON.stringify(nothing)) {
      const half = state.passwordChanged && (state.otherKeyValid === true || state.otherTokenValid);
      failures.push(`${line}: ${half ? 'HALF-APPLIED (password changed, other credentials still valid)' : 'not the untouched state'}; expected ${JSON.stringify(nothing)}`);
    }
  }

  // 3. Control: the same change with PostgreSQL healthy applies completely (the probes see it).
  {
    const s = await setup(brand, 'mobile');
    const res = await change(s);
    expectOk(res, 'password/change with PostgreSQL healthy');
    assert.deepEqual(res.body, { status: SUCCESS });
    const state = await probe(s);
    report.push(`control (healthy): ${describe(res)} → ${JSON.stringify(state)}`);
    assert.deepEqual(state, ALL_APPLIED(s), 'a successful change revokes the other device');
  }
  console.log(`password/change under PostgreSQL faults:\n  ${report.join('\n  ')}`);
  assert.deepEqual(failures, [], 'password/change must never half-apply');
});
