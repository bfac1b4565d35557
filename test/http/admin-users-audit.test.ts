// Spec §8 admin user operations and the audit log: GET of a user shows its lock, POST …/unlock
// clears the lock and the password retry budget at once, DELETE erases the user with every
// credential (a new login is a new user); all three need the admin token. GET /admin/v1/audit
// lists logins, failures, sent OTPs, locks, unlocks, resets, password changes, logouts and key
// reuse — newest first, by brand, limited, with device and IP, and never a secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SUCCESS, expectAdminError, expectError, expectOk } from '../helpers/spec.ts';

const MOB = '919999999993';
const OTHER = '919999999994';
const PW = 'Correct-Horse-42';
const PW2 = 'Battery-Staple-77';
const PW3 = 'Tr0ub4dor-and-33';
const USER_PATH = (brand: string, value = MOB) => `/admin/v1/users/${brand}/MOBILE/${value}`;

/** An admin request with an arbitrary (or no) Authorization header. */
async function rawAdmin(h: Harness, method: 'GET' | 'DELETE' | 'POST', path: string, authorization?: string): Promise<Res> {
  const r = await h.app.inject({ method, url: path, headers: authorization === undefined ? {} : { authorization } });
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = undefined;
  }
  return { status: r.statusCode, headers: r.headers, body, raw: r.body };
}

async function startSession(h: Harness, v: V, brand: string, value = MOB, deviceId = 'device-1', extra: object = {}) {
  const r = await h.post(url(v, 'token/generate'), { ...idBody(v, brand, 'MOBILE', value, deviceId), ...extra });
  expectOk(r, 'token/generate');
  return { sessionId: r.body.user.sessionId as string, viewToken: r.body.auth.token as string };
}

async function sendOtp(h: Harness, v: V, brand: string, sessionId: string, value = MOB, deviceId = 'device-1'): Promise<string> {
  expectOk(await h.post(url(v, 'otp/generate'), { ...idBody(v, brand, 'MOBILE', value, deviceId), sessionId }), 'otp/generate');
  return h.lastOtp(brand, `MOBILE|${value}`);
}

const validateOtp = (h: Harness, v: V, brand: string, sessionId: string, otp: string, value = MOB, deviceId = 'device-1') =>
  h.post(url(v, 'otp/validate'), { ...idBody(v, brand, 'MOBILE', value, deviceId), sessionId, otp });

async function pwLogin(h: Harness, v: V, brand: string, password: string, value = MOB, deviceId = 'device-1'): Promise<Res> {
  const { sessionId } = await startSession(h, v, brand, value, deviceId);
  return h.post(url(v, 'password/validate'), { ...idBody(v, brand, 'MOBILE', value, deviceId), sessionId, password });
}

/** A code of the same length that is certainly wrong. */
const wrongOf = (otp: string) => String((Number(otp[0]) + 1) % 10) + otp.slice(1);

const regenerate = (h: Harness, brand: string, key: string, deviceId = 'device-1') =>
  h.post('/auth/v1/token/regenerate', { ...idBody('mobile', brand, 'MOBILE', MOB, deviceId), key });

const change = (h: Harness, v: V, brand: string, token: string, password: string, newPassword: string, deviceId = 'device-1') =>
  h.post(url(v, 'password/change'), { ...idBody(v, brand, 'MOBILE', MOB, deviceId), token, password, newPassword, confirmPassword: newPassword });

// ---------------------------------------------------------------------------------------------
// Users: lock, unlock, delete
// ---------------------------------------------------------------------------------------------

for (const v of VARIANTS) {
  test(`${v}: GET user shows lockedUntil while locked; unlock clears it and the user logs in at once`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Lk', { accountLocking: { enabled: true, maxFailures: 2, lockMinutes: 5 } });
      const first = await otpLogin(h, v, 'Lk', 'MOBILE', MOB);
      expectOk(first.res, 'first login');

      const before = await h.admin('GET', USER_PATH('LK'));
      expectOk(before, 'GET user');
      assert.deepEqual(Object.keys(before.body.user).sort(), ['brand', 'createdAt', 'hasPassword', 'identifiers', 'lockedUntil', 'uid']);
      assert.equal(before.body.user.lockedUntil, null);
      assert.equal(before.body.user.brand, 'LK');
      assert.deepEqual(before.body.user.identifiers, [{ type: 'MOBILE', value: MOB, verified: true }]);
      assert.equal(before.body.user.hasPassword, false);
      assert.equal(before.body.user.createdAt, new Date(h.clock.now()).toISOString());

      // Two wrong OTPs lock the account for 5 minutes (the second answers 1544 itself).
      h.clock.advance(1000);
      const lockedAt = h.clock.now();
      const { sessionId } = await startSession(h, v, 'Lk');
      const otp = await sendOtp(h, v, 'Lk', sessionId);
      expectError(await validateOtp(h, v, 'Lk', sessionId, wrongOf(otp)), 1506, 'wrong 1');
      const second = await validateOtp(h, v, 'Lk', sessionId, wrongOf(otp));
      expectError(second, 1544, 'wrong 2 locks');
      assert.equal(second.headers['retry-after'], '300');

      const locked = await h.admin('GET', USER_PATH('LK'));
      expectOk(locked, 'GET locked user');
      assert.equal(locked.body.user.lockedUntil, new Date(lockedAt + 5 * 60_000).toISOString());
      const s2 = await startSession(h, v, 'Lk');
      expectError(await h.post(url(v, 'otp/generate'), { ...idBody(v, 'Lk', 'MOBILE', MOB), sessionId: s2.sessionId }), 1544, 'otp/generate while locked');

      const unlock = await h.admin('POST', `${USER_PATH('LK')}/unlock`);
      expectOk(unlock, 'unlock');
      assert.deepEqual(unlock.body, { status: SUCCESS });
      // The admin action is audited with the admin caller's address (inject: 127.0.0.1).
      const unlockEvent = (await h.admin('GET', '/admin/v1/audit?brand=LK&limit=1')).body.events[0];
      assert.equal(unlockEvent.type, 'unlock');
      assert.equal(unlockEvent.ip, '127.0.0.1');
      assert.equal(unlockEvent.detail.by, 'admin');
      const after = await h.admin('GET', USER_PATH('LK'));
      assert.equal(after.body.user.lockedUntil, null);
      assert.equal(after.body.user.uid, before.body.user.uid);
      // No clock move: the lock is gone, not expired.
      const again = await otpLogin(h, v, 'Lk', 'MOBILE', MOB);
      expectOk(again.res, 'login right after the unlock');
      const s3 = await startSession(h, v, 'Lk');
      const otp3 = await sendOtp(h, v, 'Lk', s3.sessionId);
      expectError(await validateOtp(h, v, 'Lk', s3.sessionId, wrongOf(otp3)), 1506, 'a new first failure');

      // A lock also ends by itself after lockMinutes.
      expectError(await validateOtp(h, v, 'Lk', s3.sessionId, wrongOf(otp3)), 1544, 'locked again');
      h.clock.advance(5 * 60_000 - 1000);
      assert.notEqual((await h.admin('GET', USER_PATH('LK'))).body.user.lockedUntil, null);
      h.clock.advance(1000);
      assert.equal((await h.admin('GET', USER_PATH('LK'))).body.user.lockedUntil, null);
    } finally {
      await h.close();
    }
  });

  test(`${v}: admin unlock clears the spent password retry budget`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Lk', { passwordEnabled: true, maxPasswordRetries: 2 });
      expectOk((await otpLogin(h, v, 'Lk', 'MOBILE', MOB, { password: PW, confirmPassword: PW })).res, 'registration');
      expectError(await pwLogin(h, v, 'Lk', 'Wrong-Password-1'), 1528, 'wrong 1');
      expectError(await pwLogin(h, v, 'Lk', 'Wrong-Password-2'), 1530, 'wrong 2');
      expectError(await pwLogin(h, v, 'Lk', PW), 1530, 'budget spent');
      assert.equal((await h.admin('GET', USER_PATH('LK'))).body.user.lockedUntil, null, 'a spent budget is not an account lock');
      expectOk(await h.admin('POST', `${USER_PATH('Lk')}/unlock`), 'unlock');
      expectOk(await pwLogin(h, v, 'Lk', PW), 'right after the unlock, no clock move');
    } finally {
      await h.close();
    }
  });

  test(`${v}: DELETE user erases it with its keys and tokens; a new login is a new user`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Del', { passwordEnabled: true });
      const reg = await otpLogin(h, v, 'Del', 'MOBILE', MOB, { password: PW, confirmPassword: PW });
      expectOk(reg.res, 'registration');
      const mobile = await pwLogin(h, 'mobile', 'Del', PW);
      expectOk(mobile, 'a mobile login');
      const oldUid = (await h.admin('GET', USER_PATH('DEL'))).body.user.uid;

      const del = await h.admin('DELETE', USER_PATH('Del'));
      expectOk(del, 'DELETE user');
      assert.deepEqual(del.body, { status: SUCCESS });
      expectAdminError(await h.admin('GET', USER_PATH('DEL')), 1515, 'GET after DELETE');
      expectAdminError(await h.admin('DELETE', USER_PATH('DEL')), 1515, 'DELETE again');
      expectAdminError(await h.admin('POST', `${USER_PATH('DEL')}/unlock`), 1515, 'unlock of the erased user');

      const oldToken = reg.res.body.auth.token as string;
      const probe = async (when: string) => {
        expectError(await regenerate(h, 'Del', mobile.body.auth.key), 1597, `the erased user's key (${when})`);
        expectError(await change(h, v, 'Del', oldToken, PW, PW2), 1529, `the erased user's token (${when})`);
        expectError(await change(h, 'mobile', 'Del', mobile.body.auth.token, PW, PW2), 1529, `the erased user's mobile token (${when})`);
      };
      await probe('after DELETE');
      // Password login needs a user: the identifier has none now.
      expectError(await pwLogin(h, v, 'Del', PW), 1515, 'password login of the erased user');

      const fresh = await otpLogin(h, v, 'Del', 'MOBILE', MOB);
      expectOk(fresh.res, 'a new login of the same identifier');
      const now = await h.admin('GET', USER_PATH('DEL'));
      expectOk(now, 'GET the new user');
      assert.notEqual(now.body.user.uid, oldUid, 'a new uid');
      assert.equal(now.body.user.hasPassword, false, 'the old password went with the old user');
      expectError(await pwLogin(h, v, 'Del', PW), 1526, 'the old password does not log into the new user');
      // The old credentials name the old uid: still refused now that the identifier has a user.
      await probe('after the new login');
    } finally {
      await h.close();
    }
  });
}

test('admin users: unknown users answer 1515; every user route needs the admin token (1548)', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('Lk');
    expectOk((await otpLogin(h, 'mobile', 'Lk', 'MOBILE', MOB)).res, 'login');
    expectAdminError(await h.admin('GET', USER_PATH('LK', OTHER)), 1515, 'GET unknown');
    expectAdminError(await h.admin('POST', `${USER_PATH('LK', OTHER)}/unlock`), 1515, 'unlock unknown');
    expectAdminError(await h.admin('DELETE', USER_PATH('LK', OTHER)), 1515, 'DELETE unknown');
    expectAdminError(await h.admin('DELETE', '/admin/v1/users/LK/EMAIL/nobody@example.com'), 1515, 'DELETE unknown email');

    const routes: ['GET' | 'POST' | 'DELETE', string][] = [
      ['GET', USER_PATH('LK')],
      ['POST', `${USER_PATH('LK')}/unlock`],
      ['DELETE', USER_PATH('LK')],
      ['GET', '/admin/v1/audit?brand=LK&limit=10'],
    ];
    for (const auth of [undefined, 'Bearer wrong-admin-token', 'Bearer ']) {
      for (const [method, path] of routes) {
        const r = await rawAdmin(h, method, path, auth);
        expectError(r, 1548, `${method} ${path} with ${auth ?? 'no credential'}`);
        assert.ok(!r.raw.includes(MOB), r.raw);
      }
    }
    // The unauthenticated DELETE did nothing.
    const user = await h.admin('GET', USER_PATH('LK'));
    expectOk(user, 'the user is still there');
    const audit = await h.admin('GET', '/admin/v1/audit?brand=LK&limit=100');
    assert.ok(!audit.body.events.some((e: any) => e.type === 'unlock' || e.type === 'user_deleted'), audit.raw);
  } finally {
    await h.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Audit log
// ---------------------------------------------------------------------------------------------

interface Expected {
  type: string;
  at: number;
  /** detail.method, where the test pins which kind of login it was. */
  method?: string;
  /** Written by the admin API: no customer device or IP. */
  admin?: boolean;
}

const AUDIT_FIELDS = ['at', 'brand', 'detail', 'deviceId', 'identifier', 'ip', 'type'];

for (const v of VARIANTS) {
  test(`${v}: the audit log records each event, newest first, with brand, identifier, device, IP and time — and no secret`, async () => {
    const h = await startHarness();
    try {
      const DEV = 'phone-7f3a';
      const dev = v === 'mobile' ? DEV : 'device-ignored';
      await h.createBrand('Aud', { passwordEnabled: true, rotateKeys: true, accountLocking: { enabled: true, maxFailures: 2, lockMinutes: 5 } });
      await h.createBrand('Quiet');
      const expected: Expected[] = [];
      const secrets: string[] = [PW, PW2, PW3];
      const keep = (...s: (string | null | undefined)[]) => {
        for (const x of s) if (x) secrets.push(x);
      };
      const tick = () => {
        h.clock.advance(1000);
        return h.clock.now();
      };
      const noise = async () => {
        // Events of another brand, interleaved: the brand filter must leave them out.
        const q = await otpLogin(h, v, 'Quiet', 'MOBILE', OTHER, {}, dev);
        keep(q.otp, q.gen.body.auth.token, q.res.body.auth.token, q.res.body.auth.key);
      };

      // 1. Registration with a password: otp_sent, a wrong OTP, the right one.
      let t = tick();
      const reg = await startSession(h, v, 'Aud', MOB, dev, { password: PW, confirmPassword: PW });
      keep(reg.viewToken);
      const otp1 = await sendOtp(h, v, 'Aud', reg.sessionId, MOB, dev);
      keep(otp1, wrongOf(otp1));
      expected.push({ type: 'otp_sent', at: t });
      t = tick();
      expectError(await validateOtp(h, v, 'Aud', reg.sessionId, wrongOf(otp1), MOB, dev), 1506, 'wrong OTP');
      expected.push({ type: 'login_failure', at: t, method: 'otp' });
      t = tick();
      const ok1 = await validateOtp(h, v, 'Aud', reg.sessionId, otp1, MOB, dev);
      expectOk(ok1, 'OTP login');
      keep(ok1.body.auth.token, ok1.body.auth.key);
      expected.push({ type: 'login_success', at: t, method: 'otp' });
      await noise();

      // 2. Password login: a wrong password, then the right one.
      t = tick();
      expectError(await pwLogin(h, v, 'Aud', 'Wrong-Password-1', MOB, dev), 1528, 'wrong password');
      keep('Wrong-Password-1');
      expected.push({ type: 'login_failure', at: t, method: 'password' });
      t = tick();
      const pw = await pwLogin(h, v, 'Aud', PW, MOB, dev);
      expectOk(pw, 'password login');
      keep(pw.body.auth.token, pw.body.auth.key);
      expected.push({ type: 'login_success', at: t, method: 'password' });

      // 3. Password change, then logout.
      t = tick();
      expectOk(await change(h, v, 'Aud', pw.body.auth.token, PW, PW2, dev), 'password/change');
      expected.push({ type: 'password_change', at: t });
      t = tick();
      expectOk(await h.post(url(v, 'token/expire'), { ...idBody(v, 'Aud', 'MOBILE', MOB, dev), token: pw.body.auth.token }), 'token/expire');
      expected.push({ type: 'logout', at: t });
      await noise();

      // 4. Key reuse (mobile): rotate, then present the retired key after the grace.
      if (v === 'mobile') {
        t = tick();
        const l = await otpLogin(h, v, 'Aud', 'MOBILE', MOB, {}, dev);
        expectOk(l.res, 'OTP login for a key');
        keep(l.otp, l.gen.body.auth.token, l.res.body.auth.token, l.res.body.auth.key);
        expected.push({ type: 'otp_sent', at: t }, { type: 'login_success', at: t, method: 'otp' });
        tick();
        const rotated = await regenerate(h, 'Aud', l.res.body.auth.key, dev);
        expectOk(rotated, 'rotation');
        keep(rotated.body.auth.token, rotated.body.auth.key);
        h.clock.advance(60_000);
        t = tick();
        expectError(await regenerate(h, 'Aud', l.res.body.auth.key, dev), 1597, 'reuse of the retired key');
        expected.push({ type: 'key_reuse_detected', at: t });
      }

      // 5. Password reset: forget, then OTP on the same session.
      t = tick();
      const fs = await startSession(h, v, 'Aud', MOB, dev);
      keep(fs.viewToken);
      expectOk(await h.post(url(v, 'password/forget'), { ...idBody(v, 'Aud', 'MOBILE', MOB, dev), sessionId: fs.sessionId, password: PW3, confirmPassword: PW3 }), 'password/forget');
      const otp2 = await sendOtp(h, v, 'Aud', fs.sessionId, MOB, dev);
      keep(otp2);
      const reset = await validateOtp(h, v, 'Aud', fs.sessionId, otp2, MOB, dev);
      expectOk(reset, 'the reset completes');
      keep(reset.body.auth.token, reset.body.auth.key);
      expected.push({ type: 'otp_sent', at: t }, { type: 'password_reset', at: t }, { type: 'login_success', at: t, method: 'otp' });

      // 6. Lock: two wrong OTPs (the second locks), then the admin unlock.
      t = tick();
      const ls = await startSession(h, v, 'Aud', MOB, dev);
      keep(ls.viewToken);
      const otp3 = await sendOtp(h, v, 'Aud', ls.sessionId, MOB, dev);
      keep(otp3, wrongOf(otp3));
      expectError(await validateOtp(h, v, 'Aud', ls.sessionId, wrongOf(otp3), MOB, dev), 1506, 'wrong OTP 1');
      expected.push({ type: 'otp_sent', at: t }, { type: 'login_failure', at: t, method: 'otp' });
      t = tick();
      expectError(await validateOtp(h, v, 'Aud', ls.sessionId, wrongOf(otp3), MOB, dev), 1544, 'wrong OTP 2 locks');
      expected.push({ type: 'login_failure', at: t, method: 'otp' }, { type: 'lock', at: t });
      t = tick();
      expectOk(await h.admin('POST', `${USER_PATH('Aud')}/unlock`), 'unlock');
      expected.push({ type: 'unlock', at: t, admin: true });
      await noise();

      // The whole log of the brand, newest first.
      const all = await h.admin('GET', '/admin/v1/audit?brand=Aud&limit=1000');
      expectOk(all, 'GET audit');
      assert.deepEqual(Object.keys(all.body).sort(), ['events', 'status']);
      const events: any[] = all.body.events;
      assert.deepEqual(
        events.map((e) => e.type),
        [...expected].reverse().map((e) => e.type),
        'the events of the brand, newest first',
      );
      [...expected].reverse().forEach((want, i) => {
        const e = events[i];
        const what = `event ${i} (${want.type}): ${JSON.stringify(e)}`;
        assert.deepEqual(Object.keys(e).sort(), AUDIT_FIELDS, what);
        assert.equal(e.brand, 'AUD', what);
        assert.equal(e.identifier, `MOBILE|${MOB}`, what);
        assert.equal(e.at, new Date(want.at).toISOString(), what);
        assert.equal(typeof e.detail, 'object', what);
        assert.notEqual(e.detail, null, what);
        if (want.method) assert.equal(e.detail.method, want.method, what);
        if (want.admin) {
          assert.equal(e.deviceId, null, what);
        } else {
          assert.equal(e.deviceId, v === 'mobile' ? DEV : null, what);
          assert.equal(e.ip, '127.0.0.1', what);
        }
      });

      // No secret anywhere in the log (both brands, everything).
      const everything = await h.admin('GET', '/admin/v1/audit?limit=1000');
      expectOk(everything, 'GET audit without a brand');
      const text = JSON.stringify(everything.body.events);
      for (const s of secrets) {
        const found = /^\d+$/.test(s) ? new RegExp(`(?<!\\d)${s}(?!\\d)`).test(text) : text.includes(s);
        assert.ok(!found, `a secret (${s.slice(0, 12)}…) is in the audit log`);
      }
      assert.ok(!/\$argon2/i.test(text), 'a password hash is in the audit log');
      assert.ok(!/[A-Za-z0-9+/_=-]{32,}/.test(text), `a hash- or token-like value is in the audit log: ${text}`);
    } finally {
      await h.close();
    }
  });
}

test('audit: the brand filter isolates brands (case-insensitively) and limit cuts the newest-first list', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('Alpha');
    await h.createBrand('Beta');
    for (let i = 0; i < 3; i++) {
      h.clock.advance(1000);
      expectOk((await otpLogin(h, 'mobile', 'Alpha', 'MOBILE', MOB, {}, `a-dev-${i}`)).res, 'Alpha login');
      h.clock.advance(1000);
      expectOk((await otpLogin(h, 'web', 'Beta', 'MOBILE', OTHER)).res, 'Beta login');
    }
    const alpha = await h.admin('GET', '/admin/v1/audit?brand=alpha&limit=1000');
    const beta = await h.admin('GET', '/admin/v1/audit?brand=BETA&limit=1000');
    expectOk(alpha, 'alpha');
    expectOk(beta, 'beta');
    assert.equal(alpha.body.events.length, 6, alpha.raw);
    assert.equal(beta.body.events.length, 6, beta.raw);
    assert.ok(alpha.body.events.every((e: any) => e.brand === 'ALPHA' && e.identifier === `MOBILE|${MOB}`), alpha.raw);
    assert.ok(beta.body.events.every((e: any) => e.brand === 'BETA' && e.identifier === `MOBILE|${OTHER}` && e.deviceId === null), beta.raw);
    // Newest first: the latest Alpha login was on a-dev-2, and times never increase down the list.
    assert.deepEqual(alpha.body.events.map((e: any) => e.deviceId), ['a-dev-2', 'a-dev-2', 'a-dev-1', 'a-dev-1', 'a-dev-0', 'a-dev-0']);
    assert.deepEqual(alpha.body.events.map((e: any) => e.type), ['login_success', 'otp_sent', 'login_success', 'otp_sent', 'login_success', 'otp_sent']);
    const times = alpha.body.events.map((e: any) => Date.parse(e.at));
    assert.deepEqual(times, [...times].sort((x: number, y: number) => y - x));

    for (const n of [1, 4]) {
      const r = await h.admin('GET', `/admin/v1/audit?brand=ALPHA&limit=${n}`);
      expectOk(r, `limit=${n}`);
      assert.deepEqual(r.body.events, alpha.body.events.slice(0, n), `limit=${n}`);
    }
    const unknown = await h.admin('GET', '/admin/v1/audit?brand=GAMMA&limit=10');
    expectOk(unknown, 'a brand without events');
    assert.deepEqual(unknown.body.events, []);
    const both = await h.admin('GET', '/admin/v1/audit?limit=1000');
    assert.equal(both.body.events.length, 12, 'without a brand filter: every brand');
  } finally {
    await h.close();
  }
});
