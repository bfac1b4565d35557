// Failure budgets that span sessions (spec §2, §3.3, §3.4, §8): maxPasswordRetries (1528 … 1530
// until the window since the last failure passes, a success or an admin unlock) and
// accountLocking (wrong OTPs and passwords of one user — or, before sign-up, one identifier —
// together across sessions, devices and variants; 1544 with Retry-After while locked).
// Time moves only through the harness clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { expectAdminError, expectError, expectOk } from '../helpers/spec.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const PASSWORD = 'Correct-horse-1';
const WRONG = 'Wrong-horse-9';

function retryAfter(r: Res, what: string): number {
  const v = r.headers['retry-after'];
  assert.equal(typeof v, 'string', `${what}: Retry-After missing (${r.raw})`);
  assert.match(v as string, /^[1-9][0-9]*$/, `${what}: Retry-After "${v}" is not whole seconds >= 1`);
  return Number(v);
}

/** 1544 with `Retry-After: seconds`. */
function expectLocked(r: Res, seconds: number, what: string) {
  expectError(r, 1544, what);
  assert.equal(retryAfter(r, what), seconds, `${what}: Retry-After`);
}

interface Session {
  v: V;
  id: ReturnType<typeof idBody>;
  sessionId: string;
}

async function session(h: Harness, v: V, brand: string, value: string, device = 'device-1'): Promise<Session> {
  const id = idBody(v, brand, 'MOBILE', value, device);
  const g = await h.post(url(v, 'token/generate'), id);
  expectOk(g, `${v} token/generate ${value} ${device}`);
  return { v, id, sessionId: g.body.user.sessionId as string };
}

const sendOtp = (h: Harness, s: Session) => h.post(url(s.v, 'otp/generate'), { ...s.id, sessionId: s.sessionId });
const validateOtp = (h: Harness, s: Session, otp: string) => h.post(url(s.v, 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp });
const validatePw = (h: Harness, s: Session, password: string) => h.post(url(s.v, 'password/validate'), { ...s.id, sessionId: s.sessionId, password });

/** A code of the same length that is not `otp`. */
const wrongOf = (otp: string) => String((Number(otp[0]) + 1) % 10) + otp.slice(1);

/** A session with an OTP sent; returns the session and its code. */
async function sessionWithOtp(h: Harness, v: V, brand: string, value: string, device = 'device-1') {
  const s = await session(h, v, brand, value, device);
  expectOk(await sendOtp(h, s), `${v} otp/generate ${value} ${device}`);
  return { s, otp: await h.lastOtp(brand, `MOBILE|${value}`) };
}

/** A new session, an OTP sent, and a wrong code: the answer of the wrong code. */
async function wrongOtp(h: Harness, v: V, brand: string, value: string, device = 'device-1'): Promise<Res> {
  const { s, otp } = await sessionWithOtp(h, v, brand, value, device);
  return validateOtp(h, s, wrongOf(otp));
}

/** A new session and a password login: its answer. */
async function passwordLogin(h: Harness, v: V, brand: string, value: string, password: string, device = 'device-1'): Promise<Res> {
  return validatePw(h, await session(h, v, brand, value, device), password);
}

/** A user with a password (OTP sign-up). */
async function signUp(h: Harness, v: V, brand: string, value: string) {
  const r = await otpLogin(h, v, brand, 'MOBILE', value, { password: PASSWORD, confirmPassword: PASSWORD });
  expectOk(r.res, `${v} sign-up ${value}`);
}

const unlock = (h: Harness, brand: string, value: string) => h.admin('POST', `/admin/v1/users/${brand}/MOBILE/${value}/unlock`);
const adminUser = (h: Harness, brand: string, value: string) => h.admin('GET', `/admin/v1/users/${brand}/MOBILE/${value}`);

async function withBrands(brands: Record<string, object>, fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    for (const [name, cfg] of Object.entries(brands)) await h.createBrand(name, cfg);
    await fn(h);
  } finally {
    await h.close();
  }
}

const PW3 = { passwordEnabled: true, maxPasswordRetries: 3, passwordRetryWindowMinutes: 30 };
const LOCK = (extra: object = {}) => ({ passwordEnabled: true, accountLocking: { enabled: true, maxFailures: 4, lockMinutes: 15 }, ...extra });

for (const v of VARIANTS) {
  test(`${v}: maxPasswordRetries 3 — 1528, 1528, 1530; then 1530 on new sessions until the window since the last failure passes`, async () => {
    await withBrands({ Pw: PW3 }, async (h) => {
      const value = '919700000001';
      await signUp(h, v, 'pw', value);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG, 'device-1'), 1528, `${v} wrong 1`);
      h.clock.advance(MIN);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG, 'device-2'), 1528, `${v} wrong 2 (another device)`);
      h.clock.advance(MIN);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG, 'device-3'), 1530, `${v} wrong 3`);
      // The last failure is now. The right password is refused on every new session.
      expectError(await passwordLogin(h, v, 'pw', value, PASSWORD), 1530, `${v} right password, spent budget`);
      h.clock.advance(10 * MIN);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG, 'device-2'), 1530, `${v} wrong, spent budget`);
      // OTP login is not a password login: it works, and does not restore the password budget.
      expectOk((await otpLogin(h, v, 'pw', 'MOBILE', value)).res, `${v} OTP login meanwhile`);
      expectError(await passwordLogin(h, v, 'pw', value, PASSWORD), 1530, `${v} still 1530 after an OTP login`);
      h.clock.advance(20 * MIN - SEC);
      expectError(await passwordLogin(h, v, 'pw', value, PASSWORD), 1530, `${v} one second before the window passes`);
      h.clock.advance(SEC);
      const ok = await passwordLogin(h, v, 'pw', value, PASSWORD);
      expectOk(ok, `${v} the window since the last failure has passed`);
      assert.equal(ok.body.user.role, 'USER');
    });
  });

  test(`${v}: a password success clears the retry count`, async () => {
    await withBrands({ Pw: PW3 }, async (h) => {
      const value = '919700000011';
      await signUp(h, v, 'pw', value);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG), 1528, `${v} wrong 1`);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG), 1528, `${v} wrong 2`);
      expectOk(await passwordLogin(h, v, 'pw', value, PASSWORD), `${v} right`);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG), 1528, `${v} wrong 1 after success`);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG), 1528, `${v} wrong 2 after success`);
      // The count restarted at the success, and runs out as usual.
      expectError(await passwordLogin(h, v, 'pw', value, WRONG), 1530, `${v} wrong 3 after success`);
    });
  });

  test(`${v}: an admin unlock clears the password retry count`, async () => {
    await withBrands({ Pw: PW3 }, async (h) => {
      const value = '919700000021';
      await signUp(h, v, 'pw', value);
      for (const code of [1528, 1528, 1530] as const) expectError(await passwordLogin(h, v, 'pw', value, WRONG), code, `${v} wrong (${code})`);
      expectError(await passwordLogin(h, v, 'pw', value, PASSWORD), 1530, `${v} right, spent`);
      const u = await unlock(h, 'pw', value);
      assert.equal(u.status, 200, u.raw);
      assert.deepEqual(u.body.status, { success: true, code: 200, message: 'SUCCESS' });
      expectOk(await passwordLogin(h, v, 'pw', value, PASSWORD), `${v} right after unlock`);
      // Fully cleared: a full budget again.
      expectError(await passwordLogin(h, v, 'pw', value, WRONG), 1528, `${v} wrong 1 after unlock`);
      expectError(await passwordLogin(h, v, 'pw', value, WRONG), 1528, `${v} wrong 2 after unlock`);
      expectAdminError(await unlock(h, 'pw', '919700000029'), 1515, 'unlock of an unknown user');
    });
  });

  test(`${v}: accountLocking — wrong OTPs and passwords count together; the 4th locks for lockMinutes`, async () => {
    await withBrands({ Lock: LOCK() }, async (h) => {
      const value = '919700000031';
      await signUp(h, v, 'lock', value);
      // A session holding a real code, made before the lock.
      const held = await sessionWithOtp(h, v, 'lock', value, 'device-3');
      expectError(await wrongOtp(h, v, 'lock', value, 'device-1'), 1506, `${v} failure 1: wrong OTP`);
      expectError(await passwordLogin(h, v, 'lock', value, WRONG, 'device-2'), 1528, `${v} failure 2: wrong password`);
      expectError(await wrongOtp(h, v, 'lock', value, 'device-2'), 1506, `${v} failure 3: wrong OTP`);
      const lockedAt = h.clock.now();
      expectLocked(await passwordLogin(h, v, 'lock', value, WRONG, 'device-1'), 900, `${v} failure 4 locks`);
      const u = await adminUser(h, 'lock', value);
      assert.equal(u.body.user.lockedUntil, new Date(lockedAt + 15 * MIN).toISOString());

      // token/generate still answers; the three guarded steps answer 1544 with a shrinking wait.
      const s = await session(h, v, 'lock', value, 'device-4');
      const sent = (await h.admin('GET', `/admin/v1/outbox?brand=LOCK&identifier=MOBILE|${value}&limit=1000`)).body.messages.length;
      expectLocked(await sendOtp(h, s), 900, `${v} otp/generate while locked`);
      h.clock.advance(100 * SEC);
      expectLocked(await validateOtp(h, held.s, held.otp), 800, `${v} otp/validate with the correct code while locked`);
      expectLocked(await validatePw(h, s, PASSWORD), 800, `${v} password/validate with the right password while locked`);
      h.clock.advance(300 * SEC);
      expectOk(await h.post(url(v, 'token/generate'), idBody(v, 'lock', 'MOBILE', value, 'device-5')), `${v} token/generate while locked`);
      expectLocked(await sendOtp(h, s), 500, `${v} otp/generate later`);
      expectLocked(await validateOtp(h, held.s, held.otp), 500, `${v} otp/validate later`);
      expectLocked(await validatePw(h, s, PASSWORD), 500, `${v} password/validate later`);
      h.clock.advance(499 * SEC);
      expectLocked(await validatePw(h, s, PASSWORD), 1, `${v} one second left`);
      const after = (await h.admin('GET', `/admin/v1/outbox?brand=LOCK&identifier=MOBILE|${value}&limit=1000`)).body.messages.length;
      assert.equal(after, sent, 'nothing was sent while locked');

      // lockMinutes after the 4th failure, the user logs in — with the code held since before
      // the lock (the refusals neither consumed the session nor counted as failures).
      h.clock.advance(SEC);
      assert.equal(h.clock.now(), lockedAt + 15 * MIN);
      const ok = await validateOtp(h, held.s, held.otp);
      expectOk(ok, `${v} OTP login after lockMinutes`);
      assert.equal(ok.body.user.role, 'USER');
      expectOk(await passwordLogin(h, v, 'lock', value, PASSWORD), `${v} password login after lockMinutes`);
      assert.equal((await adminUser(h, 'lock', value)).body.user.lockedUntil, null);
    });
  });

  test(`${v}: an admin unlock ends an account lock at once`, async () => {
    await withBrands({ Lock: LOCK() }, async (h) => {
      const value = '919700000041';
      await signUp(h, v, 'lock', value);
      for (let i = 0; i < 3; i++) expectError(await wrongOtp(h, v, 'lock', value), 1506, `${v} failure ${i + 1}`);
      expectLocked(await wrongOtp(h, v, 'lock', value), 900, `${v} failure 4`);
      const s = await session(h, v, 'lock', value);
      expectLocked(await sendOtp(h, s), 900, `${v} locked`);
      const u = await unlock(h, 'lock', value);
      assert.equal(u.status, 200, u.raw);
      assert.equal((await adminUser(h, 'lock', value)).body.user.lockedUntil, null);
      expectOk(await sendOtp(h, s), `${v} otp/generate after unlock`);
      expectOk(await validateOtp(h, s, await h.lastOtp('lock', `MOBILE|${value}`)), `${v} otp/validate after unlock`);
      // The failure count went with the lock: three more failures do not lock.
      for (let i = 0; i < 3; i++) expectError(await wrongOtp(h, v, 'lock', value), 1506, `${v} failure ${i + 1} after unlock`);
    });
  });

  test(`${v}: before sign-up the lock applies to the identifier`, async () => {
    await withBrands({ Lock: { accountLocking: { enabled: true, maxFailures: 3, lockMinutes: 30 } } }, async (h) => {
      const value = '919700000051';
      const other = '919700000052';
      expectError(await wrongOtp(h, v, 'lock', value, 'device-1'), 1506, `${v} first-time failure 1`);
      expectError(await wrongOtp(h, v, 'lock', value, 'device-2'), 1506, `${v} first-time failure 2`);
      expectLocked(await wrongOtp(h, v, 'lock', value, 'device-3'), 1800, `${v} first-time failure 3 locks`);
      const s = await session(h, v, 'lock', value, 'device-4');
      expectLocked(await sendOtp(h, s), 1800, `${v} the identifier is locked`);
      expectAdminError(await adminUser(h, 'lock', value), 1515, `${v} no user was created`);
      // Another first-time identifier is not.
      const o = await sessionWithOtp(h, v, 'lock', other);
      expectOk(await validateOtp(h, o.s, o.otp), `${v} another identifier signs up`);
      h.clock.advance(30 * MIN - SEC);
      expectLocked(await sendOtp(h, await session(h, v, 'lock', value)), 1, `${v} one second left`);
      h.clock.advance(SEC);
      const after = await sessionWithOtp(h, v, 'lock', value);
      expectOk(await validateOtp(h, after.s, after.otp), `${v} signs up after lockMinutes`);
      assert.equal((await adminUser(h, 'lock', value)).status, 200, `${v} the user exists now`);
    });
  });

  test(`${v}: failures older than passwordRetryWindowMinutes do not count toward the lock`, async () => {
    await withBrands({ Lock: { accountLocking: { enabled: true, maxFailures: 3, lockMinutes: 30 }, passwordRetryWindowMinutes: 10 } }, async (h) => {
      // Control: the same steps one second earlier lock.
      const a = '919700000061';
      for (let i = 0; i < 2; i++) expectError(await wrongOtp(h, v, 'lock', a), 1506, `${v} control failure ${i + 1}`);
      h.clock.advance(10 * MIN - SEC);
      expectLocked(await wrongOtp(h, v, 'lock', a), 1800, `${v} control: 3rd failure inside the window`);

      const b = '919700000062';
      for (let i = 0; i < 2; i++) expectError(await wrongOtp(h, v, 'lock', b), 1506, `${v} old failure ${i + 1}`);
      h.clock.advance(10 * MIN);
      expectError(await wrongOtp(h, v, 'lock', b), 1506, `${v} new failure 1`);
      expectError(await wrongOtp(h, v, 'lock', b), 1506, `${v} new failure 2`);
      expectLocked(await wrongOtp(h, v, 'lock', b), 1800, `${v} new failure 3`);
    });
  });

  for (const who of ['existing user', 'first-time identifier'] as const) {
    test(`${v} (${who}): the failure budget survives a resend and a new session; a success resets it`, async () => {
      await withBrands({ Budget: { passwordEnabled: true, maxOtpRetries: 5, accountLocking: { enabled: true, maxFailures: 5, lockMinutes: 30 } } }, async (h) => {
        const value = '919700000071';
        if (who === 'existing user') await signUp(h, v, 'budget', value);
        const a = await sessionWithOtp(h, v, 'budget', value);
        for (let i = 0; i < 3; i++) expectError(await validateOtp(h, a.s, wrongOf(a.otp)), 1506, `${v} A wrong ${i + 1}`);
        expectOk(await sendOtp(h, a.s), `${v} a new OTP on A`);
        const a2 = await h.lastOtp('budget', `MOBILE|${value}`);
        expectError(await validateOtp(h, a.s, wrongOf(a2)), 1506, `${v} A wrong 4 (new OTP)`);
        const b = await sessionWithOtp(h, v, 'budget', value, 'device-2');
        expectLocked(await validateOtp(h, b.s, wrongOf(b.otp)), 1800, `${v} B wrong: the 5th failure`);

        // Same steps on another identifier, but a success before the 5th failure resets the count.
        const other = '919700000072';
        if (who === 'existing user') await signUp(h, v, 'budget', other);
        const c = await sessionWithOtp(h, v, 'budget', other);
        for (let i = 0; i < 3; i++) expectError(await validateOtp(h, c.s, wrongOf(c.otp)), 1506, `${v} C wrong ${i + 1}`);
        expectOk(await sendOtp(h, c.s), `${v} a new OTP on C`);
        const c2 = await h.lastOtp('budget', `MOBILE|${other}`);
        expectError(await validateOtp(h, c.s, wrongOf(c2)), 1506, `${v} C wrong 4`);
        const d = await sessionWithOtp(h, v, 'budget', other, 'device-2');
        expectOk(await validateOtp(h, d.s, d.otp), `${v} D correct: success resets`);
        for (let i = 0; i < 4; i++) expectError(await wrongOtp(h, v, 'budget', other, `device-${i}`), 1506, `${v} wrong ${i + 1} after the success`);
        expectLocked(await wrongOtp(h, v, 'budget', other), 1800, `${v} wrong 5 after the success`);
      });
    });
  }

  test(`${v}: the lock wins over 1518, 1528 and 1530`, async () => {
    await withBrands(
      {
        Otp3: { maxOtpRetries: 3, accountLocking: { enabled: true, maxFailures: 3, lockMinutes: 15 } },
        Pw3: { ...PW3, accountLocking: { enabled: true, maxFailures: 3, lockMinutes: 15 } },
      },
      async (h) => {
        // maxOtpRetries-th wrong OTP on a session, which is also the maxFailures-th failure.
        const x = '919700000081';
        const { s, otp } = await sessionWithOtp(h, v, 'otp3', x);
        expectError(await validateOtp(h, s, wrongOf(otp)), 1506, `${v} OTP wrong 1`);
        expectError(await validateOtp(h, s, wrongOf(otp)), 1506, `${v} OTP wrong 2`);
        expectLocked(await validateOtp(h, s, wrongOf(otp)), 900, `${v} OTP wrong 3: 1544, not 1518`);

        // maxPasswordRetries-th wrong password, which is also the maxFailures-th failure.
        const y = '919700000082';
        await signUp(h, v, 'pw3', y);
        expectError(await passwordLogin(h, v, 'pw3', y, WRONG), 1528, `${v} password wrong 1`);
        expectError(await passwordLogin(h, v, 'pw3', y, WRONG), 1528, `${v} password wrong 2`);
        expectLocked(await passwordLogin(h, v, 'pw3', y, WRONG), 900, `${v} password wrong 3: 1544, not 1530`);
        // While locked, the lock answers before the spent budget (spec §3.4 order).
        h.clock.advance(60 * SEC);
        expectLocked(await passwordLogin(h, v, 'pw3', y, PASSWORD), 840, `${v} locked: 1544, not 1530`);
        // The lock ends after 15 min; the password budget (30 min since the last failure) has not.
        h.clock.advance(14 * MIN);
        expectError(await passwordLogin(h, v, 'pw3', y, PASSWORD), 1530, `${v} lock over, budget still spent`);
        h.clock.advance(15 * MIN);
        expectOk(await passwordLogin(h, v, 'pw3', y, PASSWORD), `${v} budget window passed`);
      },
    );
  });
}

test('accountLocking counts one user\'s failures across mobile devices and the web together', async () => {
  await withBrands({ Lock: LOCK() }, async (h) => {
    const value = '919700000091';
    await signUp(h, 'mobile', 'lock', value);
    expectError(await wrongOtp(h, 'mobile', 'lock', value, 'device-1'), 1506, 'mobile device-1 wrong OTP');
    expectError(await passwordLogin(h, 'web', 'lock', value, WRONG), 1528, 'web wrong password');
    expectError(await passwordLogin(h, 'mobile', 'lock', value, WRONG, 'device-2'), 1528, 'mobile device-2 wrong password');
    expectLocked(await wrongOtp(h, 'web', 'lock', value), 900, 'web wrong OTP: the 4th failure');
    for (const v of VARIANTS) {
      const s = await session(h, v, 'lock', value, 'device-7');
      expectLocked(await sendOtp(h, s), 900, `${v} otp/generate`);
      expectLocked(await validatePw(h, s, PASSWORD), 900, `${v} password/validate`);
    }
    // Another user of the brand is not locked.
    expectOk((await otpLogin(h, 'mobile', 'lock', 'MOBILE', '919700000092')).res, 'another user');
  });
});

test('accountLocking.lockMinutes: 43200 is accepted, 43201 refused (1519) and the old config stays', async () => {
  await withBrands({ Lock: LOCK() }, async (h) => {
    const put = await h.admin('PUT', '/admin/v1/brands/Lock', { accountLocking: { enabled: true, maxFailures: 1, lockMinutes: 43200 } });
    assert.equal(put.status, 200, put.raw);
    assert.deepEqual(put.body.config.accountLocking, { enabled: true, maxFailures: 1, lockMinutes: 43200 });
    const before = (await h.admin('GET', '/admin/v1/brands/LOCK')).body.config;
    for (const bad of [43201, 0, 1.5, -1, '30']) {
      const r = await h.admin('PUT', '/admin/v1/brands/Lock', { accountLocking: { enabled: true, maxFailures: 1, lockMinutes: bad } });
      expectAdminError(r, 1519, `lockMinutes ${JSON.stringify(bad)}`);
      assert.deepEqual((await h.admin('GET', '/admin/v1/brands/LOCK')).body.config, before, `lockMinutes ${bad}: config unchanged`);
    }
    // A 30-day lock is enforced as such.
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? '919700000101' : '919700000102';
      expectLocked(await wrongOtp(h, v, 'lock', value), 43200 * 60, `${v} one failure locks for 30 days`);
    }
  });
});
