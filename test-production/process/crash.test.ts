// A crash under load (issue 4, "Tests and CI"): two service processes A and B on one
// PostgreSQL database and Redis prefix take a sign-up and login load spread over both; A is
// killed with SIGKILL mid-load. Every flow that got a success answer is intact (the users
// exist and log in with their password, through B), sessions A started before it died are
// continued on B, and B answers every request normally throughout.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.ts';
import { createTestRedis, type TestRedis } from '../helpers/redis.ts';
import { sleep, useInstances, type Instance, type Res } from '../helpers/instances.ts';
import { getUser, newPerson, outboxOtp, passwordLogin, step, type Person } from '../helpers/flows.ts';
import { Load, describeOutcome, summarise, type Account } from '../helpers/load.ts';
import { SUCCESS, expectAdminError, expectOk } from '../../test/helpers/spec.ts';

const instances = useInstances();
let db: TestDatabase | null = null;
let redis: TestRedis | null = null;
let A: Instance;
let B: Instance;

before(async () => {
  db = await createTestDatabase();
  redis = await createTestRedis();
  [A, B] = await instances.startMany(2, { databaseUrl: db.url, redisUrl: redis.url, redisPrefix: redis.prefix });
});

after(async () => {
  await instances.killAll();
  await db?.drop();
  await redis?.cleanup();
});

async function otpSignUp(p: Person, brand: string, via: Instance, password: string): Promise<Res> {
  const g = await step(via, p, 'token/generate', brand, { password, confirmPassword: password });
  expectOk(g, 'token/generate');
  expectOk(await step(via, p, 'otp/generate', brand, { sessionId: g.body.user.sessionId }), 'otp/generate');
  const { res, otp } = await outboxOtp(via, brand, p);
  assert.ok(otp, res.raw);
  return step(via, p, 'otp/validate', brand, { sessionId: g.body.user.sessionId, otp });
}

interface LiveSession {
  person: Person;
  password: string;
  sessionId: string;
  /** The OTP was already sent by A. */
  sentByA: boolean;
}

test('SIGKILL of instance A mid-load: every success is intact, A\'s live sessions continue on B, B answers throughout', { timeout: 120_000 }, async () => {
  const brand = 'CRASH';
  const put = await A.admin('PUT', `/admin/v1/brands/${brand}`, { passwordEnabled: true });
  assert.equal(put.status, 200, put.raw);

  // Users that exist before the load (logged in during it).
  const existing: Account[] = [];
  for (const [i, v] of (['mobile', 'web'] as const).entries()) {
    const person = newPerson(v);
    const password = `Crash-Existing-Passw0rd-${i}`;
    expectOk(await otpSignUp(person, brand, B, password), 'pre-created sign-up');
    existing.push({ person, password, started: Date.now(), ended: Date.now(), path: ['B'] });
  }

  // Sign-up sessions started on A (some with their OTP sent by A too), to be finished on B.
  const live: LiveSession[] = [];
  for (const [i, v] of (['mobile', 'web', 'mobile', 'web'] as const).entries()) {
    const person = newPerson(v);
    const password = `Crash-Live-Passw0rd-${i}`;
    const g = await step(A, person, 'token/generate', brand, { password, confirmPassword: password });
    expectOk(g, 'token/generate on A');
    const sentByA = i >= 2;
    if (sentByA) expectOk(await step(A, person, 'otp/generate', brand, { sessionId: g.body.user.sessionId }), 'otp/generate on A');
    live.push({ person, password, sessionId: g.body.user.sessionId, sentByA });
  }

  // The load: each request goes to A or B in turn, to B only once A is known dead (a load
  // balancer taking it out of rotation).
  let aDown = false;
  let rr = 0;
  const load = new Load({ brand, workers: 4, pick: () => (!aDown && rr++ % 2 === 0 ? A : B), logins: existing, loginEvery: 4 }).start();

  // B's readiness, sampled all along.
  const readyB: Res[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        readyB.push(await B.call('GET', '/ready'));
      } catch (err) {
        readyB.push({ status: 0, body: undefined, raw: String(err), headers: new Headers() });
      }
      await sleep(100);
    }
  })();

  let killAt = 0;
  try {
    await sleep(2_500);
    killAt = Date.now();
    const exit = await A.stop('SIGKILL');
    aDown = true;
    assert.equal(exit.signal, 'SIGKILL');
    await sleep(2_500);
  } finally {
    await load.stop();
    sampling = false;
    await sampler;
  }

  const all = summarise(load.outcomes);
  const onA = load.outcomes.filter((o) => o.on === 'A');
  const onB = load.outcomes.filter((o) => o.on === 'B');
  const bDuringKill = onB.filter((o) => o.ended >= killAt);
  const aBroken = onA.filter((o) => o.kind === 'network');
  console.log(
    `crash load: ${all.total} requests (${onA.length} to A, ${onB.length} to B, ${bDuringKill.length} of them to B after the kill); ` +
      `${aBroken.length} requests to A cut by the kill; ${load.signedUp.length} sign-ups answered with success ` +
      `(${load.signedUp.filter((a) => a.path.includes('A')).length} with a step on A), ${load.uncertain.length} unanswered at otp/validate, ` +
      `${load.loginsOk} password logins ok; B /ready sampled ${readyB.length} times`,
  );

  // B answered every request normally, before, during and after the kill.
  assert.deepEqual(onB.filter((o) => o.kind !== 'ok').map(describeOutcome), [], 'every request to B succeeds');
  assert.ok(bDuringKill.length > 0, 'B took requests after the kill');
  for (const r of readyB) assert.equal(r.status, 200, `B /ready: ${r.raw}`);
  // A answered normally until it died; its only failures are requests the kill cut.
  assert.ok(onA.some((o) => o.kind === 'ok' && o.ended < killAt), 'A served part of the load before the kill');
  assert.deepEqual(onA.filter((o) => o.kind !== 'ok' && !(o.kind === 'network' && o.ended >= killAt)).map(describeOutcome), [], 'A: only successes, and requests cut by the kill');
  assert.equal(B.exited, false, `B exited:\n${B.stderr}`);

  // Sessions started on A continue on B: OTP sent (again, or for the first time) and validated there.
  for (const s of live) {
    if (!s.sentByA) expectOk(await step(B, s.person, 'otp/generate', brand, { sessionId: s.sessionId }), `otp/generate on B for a session of A (${s.person.variant})`);
    const { res, otp } = await outboxOtp(B, brand, s.person);
    assert.ok(otp, res.raw);
    const v = await step(B, s.person, 'otp/validate', brand, { sessionId: s.sessionId, otp });
    expectOk(v, `otp/validate on B for a session of A (${s.person.variant}, OTP sent by ${s.sentByA ? 'A' : 'B'})`);
    assert.equal(v.body.user.role, 'USER');
    assert.equal(v.body.user.userRegisteredForPassword, true);
    expectOk(await passwordLogin(s.person, brand, B, s.password), 'the password registered on A logs in on B');
  }

  // Every sign-up answered with success (by A or B) is intact, read through B.
  for (const a of [...existing, ...load.signedUp]) {
    const u = await getUser(B, brand, a.person);
    assert.equal(u.status, 200, `user of a successful sign-up (${a.person.value}, via ${a.path.join('→')}) is missing: ${u.raw}`);
    assert.deepEqual(u.body.status, SUCCESS);
    assert.equal(u.body.user.hasPassword, true);
    expectOk(await passwordLogin(a.person, brand, B, a.password), `password login of ${a.person.value} (signed up via ${a.path.join('→')})`);
  }
  // Sign-ups cut at their last step exist whole or not at all.
  let uncertainExisting = 0;
  for (const a of load.uncertain) {
    const u = await getUser(B, brand, a.person);
    if (u.status !== 200) {
      expectAdminError(u, 1515, `an unanswered sign-up ${a.person.value}`);
      continue;
    }
    uncertainExisting++;
    expectOk(await passwordLogin(a.person, brand, B, a.password), `an unanswered sign-up that exists logs in (${a.person.value})`);
  }
  console.log(`of the ${load.uncertain.length} sign-ups cut at otp/validate, ${uncertainExisting} exist (and log in)`);

  // Straight from PostgreSQL: no user without an identifier or without the password it signed up with.
  const { pool } = db as TestDatabase;
  assert.deepEqual((await pool.query('SELECT uid FROM users u WHERE NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.uid = u.uid)')).rows, [], 'users without an identifier');
  assert.deepEqual((await pool.query('SELECT uid FROM users WHERE brand = $1 AND password_hash IS NULL', [brand])).rows, [], 'users without their password');
  const n = (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE brand = $1', [brand])).rows[0].n;
  assert.equal(n, existing.length + live.length + load.signedUp.length + uncertainExisting, 'every user is an answered or a cut sign-up');
});
