// Every SDK method on both variants against the real service over HTTP: the results it returns,
// what it stores, and every failure as an AuthError with the spec's exact code, message and
// HTTP status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, memoryStorage, type Identifier, type Variant } from '../../packages/client/src/index.ts';
import { expectError } from '../helpers/spec.ts';
import { clientFor, otpLogin, recordingFetch, rejectsWith, startServer, type Server } from './helpers.ts';

const PW_BRAND = 'SdkPw';
const NOPW_BRAND = 'SdkNoPw';
const LIMIT_BRAND = 'SdkLimit';
const PASSWORD = 'Sdk-Passw0rd-long';
const NEW_PASSWORD = 'Sdk-Other-Passw0rd';
const RESET_PASSWORD = 'Sdk-Reset-Passw0rd';

let srv: Server;
before(async () => {
  srv = await startServer();
  await srv.createBrand(PW_BRAND, { passwordEnabled: true });
  await srv.createBrand(NOPW_BRAND);
  await srv.createBrand(LIMIT_BRAND, { otpMaxCount: 1, otpTimeOut: 10 });
});
after(() => srv.close());

let seq = 0;
/** A fresh identifier per test: MOBILE on the mobile variant, EMAIL on web (both work on both). */
const fresh = (v: Variant): Identifier =>
  v === 'mobile' ? { type: 'MOBILE', value: `9191000${String(++seq).padStart(5, '0')}` } : { type: 'EMAIL', value: `sdk-web-${++seq}@example.com` };

for (const v of ['mobile', 'web'] as const) {
  describe(`${v} variant`, () => {
    test('startSession → sendOtp → verifyOtp logs in and stores the session', async () => {
      const rec = recordingFetch();
      const client = clientFor(srv, { brand: PW_BRAND, variant: v, fetch: rec.fetch });
      const id = fresh(v);
      const started = await client.startSession(id);
      assert.match(started.sessionId, /^P-[0-9a-f-]{36}$/);
      assert.equal(typeof started.token, 'string');
      assert.deepEqual(started.user, { appRegistered: false, sessionId: started.sessionId, role: 'VIEW', userRegisteredForPassword: false });
      assert.equal(await client.getToken(), null, 'a session start stores nothing');

      assert.equal(await client.sendOtp(id, started.sessionId), undefined);
      const otp = await srv.lastOtp(PW_BRAND, id);
      const login = await client.verifyOtp(id, started.sessionId, otp);
      assert.equal(login.user.role, 'USER');
      assert.equal(login.user.sessionId, null);
      assert.equal(login.user.userRegisteredForPassword, false);
      if (v === 'mobile') assert.equal(typeof login.key, 'string');
      else assert.equal(login.key, null);
      assert.ok(await srv.isActive(login.token));

      // Stored: getToken hands back the token without asking the server again.
      const before = rec.requests.length;
      assert.equal(await client.getToken(), login.token);
      assert.equal(rec.requests.length, before);
      const session = await client.getSession();
      assert.deepEqual(session && { identifier: session.identifier, deviceId: session.deviceId, hasKey: session.hasKey }, {
        identifier: id,
        deviceId: v === 'mobile' ? 'device-sdk-1' : null,
        hasKey: v === 'mobile',
      });

      // The wire: the variant's paths, deviceId on mobile only.
      assert.deepEqual(
        rec.requests.map((r) => r.path),
        ['token/generate', 'otp/generate', 'otp/validate'].map((s) => (v === 'mobile' ? `/auth/v1/${s}` : `/auth/v1/web/${s}`)),
      );
      for (const r of rec.requests) {
        assert.equal(r.body.brand, PW_BRAND);
        assert.equal(r.body.identifierType, id.type);
        assert.equal(r.body.identifierValue, id.value);
        assert.equal(r.body.deviceId, v === 'mobile' ? 'device-sdk-1' : undefined);
      }
    });

    test('verifyOtp: a wrong OTP is AuthError 1506 and nothing is stored; the replayed OTP is 1505', async () => {
      const client = clientFor(srv, { brand: PW_BRAND, variant: v });
      const id = fresh(v);
      const { sessionId } = await client.startSession(id);
      await client.sendOtp(id, sessionId);
      const otp = await srv.lastOtp(PW_BRAND, id);
      const wrong = otp === '000000' ? '111111' : '000000';
      const err = await rejectsWith(client.verifyOtp(id, sessionId, wrong), 1506, 'wrong OTP');
      assert.equal(err.loginRequired, false);
      assert.equal(await client.getToken(), null);
      // A number is accepted as the OTP too (spec §1.1), when it has no leading zero to lose.
      await client.verifyOtp(id, sessionId, otp.startsWith('0') ? otp : Number(otp));
      await rejectsWith(client.verifyOtp(id, sessionId, otp), 1505, 'replayed OTP');
    });

    test('sign-up with a password, then loginWithPassword (wrong: 1528; right: identifiers)', async () => {
      const client = clientFor(srv, { brand: PW_BRAND, variant: v });
      const id = fresh(v);
      const signup = await otpLogin(srv, client, id, { password: PASSWORD });
      assert.equal(signup.user.userRegisteredForPassword, true);

      const other = clientFor(srv, { brand: PW_BRAND, variant: v });
      const s1 = await other.startSession(id);
      assert.equal(s1.user.userRegisteredForPassword, true);
      await rejectsWith(other.loginWithPassword(id, s1.sessionId, `${PASSWORD}-not`), 1528, 'wrong password');
      assert.equal(await other.getToken(), null);
      const login = await other.loginWithPassword(id, s1.sessionId, PASSWORD);
      assert.deepEqual(login.identifiers, [{ type: id.type, value: id.value }]);
      assert.equal(login.user.role, 'USER');
      assert.equal(await other.getToken(), login.token);
      assert.ok(await srv.isActive(login.token));
    });

    test('startSession refuses a mismatched confirmPassword (1521) and a weak password (1542)', async () => {
      const client = clientFor(srv, { brand: PW_BRAND, variant: v });
      await rejectsWith(client.startSession(fresh(v), { password: PASSWORD, confirmPassword: `${PASSWORD}x` }), 1521);
      await rejectsWith(client.startSession(fresh(v), { password: 'short', confirmPassword: 'short' }), 1542);
    });

    test('regenerate() gets a new live token and stores it', async () => {
      const rec = recordingFetch();
      const client = clientFor(srv, { brand: PW_BRAND, variant: v, fetch: rec.fetch });
      const login = await otpLogin(srv, client, fresh(v));
      const token = await client.regenerate();
      assert.notEqual(token, login.token);
      assert.ok(await srv.isActive(token));
      assert.equal(await client.getToken(), token);
      const regen = rec.requests.filter((r) => r.path.endsWith('/token/regenerate'));
      assert.equal(regen.length, 1);
      // Mobile renews with the key, web with the token (spec §3.5).
      if (v === 'mobile') assert.deepEqual([regen[0].body.key, regen[0].body.expiredToken], [login.key, undefined]);
      else assert.deepEqual([regen[0].body.key, regen[0].body.expiredToken], [undefined, login.token]);
    });

    test('changePassword: wrong current password 1528 keeps the session; the right one changes it', async () => {
      const client = clientFor(srv, { brand: PW_BRAND, variant: v });
      const id = fresh(v);
      await otpLogin(srv, client, id, { password: PASSWORD });
      await rejectsWith(client.changePassword({ password: `${PASSWORD}-not`, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }), 1528);
      assert.notEqual(await client.getToken(), null, 'a wrong password does not end the session');
      await rejectsWith(client.changePassword({ password: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: `${NEW_PASSWORD}x` }), 1521);
      await rejectsWith(client.changePassword({ password: PASSWORD, newPassword: PASSWORD, confirmPassword: PASSWORD }), 1527);
      await client.changePassword({ password: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
      // The calling session survives its own change (spec §3.6) …
      const token = await client.getToken();
      assert.ok(token && (await srv.isActive(token)));
      // … and the new password is the one that logs in.
      const other = clientFor(srv, { brand: PW_BRAND, variant: v });
      const s = await other.startSession(id);
      await rejectsWith(other.loginWithPassword(id, s.sessionId, PASSWORD), 1528, 'old password');
      await other.loginWithPassword(id, s.sessionId, NEW_PASSWORD);
    });

    test('changePassword without a logged-in user is 1529', async () => {
      const client = clientFor(srv, { brand: PW_BRAND, variant: v });
      await rejectsWith(client.changePassword({ password: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }), 1529);
    });

    test('forgotPassword: the new password takes effect after sendOtp + verifyOtp on the same session', async () => {
      const client = clientFor(srv, { brand: PW_BRAND, variant: v });
      const id = fresh(v);
      await otpLogin(srv, client, id, { password: PASSWORD });
      await client.logout();

      const { sessionId } = await client.startSession(id);
      await rejectsWith(client.forgotPassword(id, sessionId, { password: RESET_PASSWORD, confirmPassword: 'nope-nope-nope' }), 1521);
      assert.equal(await client.forgotPassword(id, sessionId, { password: RESET_PASSWORD, confirmPassword: RESET_PASSWORD }), undefined);
      // Not yet: the old password still logs in on another session.
      const probe = clientFor(srv, { brand: PW_BRAND, variant: v });
      const p1 = await probe.startSession(id);
      await probe.loginWithPassword(id, p1.sessionId, PASSWORD);
      // Proved by OTP: now the reset one.
      await client.sendOtp(id, sessionId);
      await client.verifyOtp(id, sessionId, await srv.lastOtp(PW_BRAND, id));
      const p2 = await probe.startSession(id);
      await rejectsWith(probe.loginWithPassword(id, p2.sessionId, PASSWORD), 1528, 'old password after reset');
      await probe.loginWithPassword(id, p2.sessionId, RESET_PASSWORD);
      // An unknown user cannot reset (1515).
      const stranger = fresh(v);
      const s = await client.startSession(stranger);
      await rejectsWith(client.forgotPassword(stranger, s.sessionId, { password: RESET_PASSWORD, confirmPassword: RESET_PASSWORD }), 1515);
    });

    test('logout revokes the token (and on mobile the key) and clears the storage', async () => {
      const storage = memoryStorage();
      const client = clientFor(srv, { brand: PW_BRAND, variant: v, storage });
      const id = fresh(v);
      const login = await otpLogin(srv, client, id);
      await client.logout();
      assert.equal(await client.getToken(), null);
      assert.equal(await client.getSession(), null);
      assert.equal(await srv.isActive(login.token), false);
      if (v === 'mobile') {
        const r = await srv.h.post('/auth/v1/token/regenerate', { brand: PW_BRAND, identifierType: id.type, identifierValue: id.value, deviceId: 'device-sdk-1', key: login.key });
        expectError(r, 1597, 'the key after logout');
      }
      // Logging out again with nothing stored is a no-op.
      await client.logout();
      await rejectsWith(client.regenerate(), 1529, 'regenerate with nobody logged in');
    });

    test('password endpoints on a brand without passwords: 1524', async () => {
      const client = clientFor(srv, { brand: NOPW_BRAND, variant: v });
      const id = fresh(v);
      await rejectsWith(client.startSession(id, { password: PASSWORD, confirmPassword: PASSWORD }), 1524);
      await otpLogin(srv, client, id);
      const { sessionId } = await client.startSession(id);
      await rejectsWith(client.loginWithPassword(id, sessionId, PASSWORD), 1524);
      await rejectsWith(client.forgotPassword(id, sessionId, { password: PASSWORD, confirmPassword: PASSWORD }), 1524);
      await rejectsWith(client.changePassword({ password: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }), 1524);
    });

    test('request errors: bad value 1519, unknown brand 1504, unknown session 1505, no OTP yet 1537', async () => {
      const client = clientFor(srv, { brand: PW_BRAND, variant: v });
      await rejectsWith(client.startSession({ type: 'MOBILE', value: 'not-a-number' }), 1519);
      await rejectsWith(clientFor(srv, { brand: 'NoSuchBrand', variant: v }).startSession(fresh(v)), 1504);
      const id = fresh(v);
      await rejectsWith(client.sendOtp(id, 'P-00000000-0000-4000-8000-000000000000'), 1505);
      const { sessionId } = await client.startSession(id);
      await rejectsWith(client.verifyOtp(id, sessionId, '123456'), 1537);
      await rejectsWith(client.sendOtp(fresh(v), sessionId), 1541, 'another identifier on the session');
    });

    test('rate limits surface with retryAfterSeconds (1534)', async () => {
      const client = clientFor(srv, { brand: LIMIT_BRAND, variant: v });
      const id = fresh(v);
      const { sessionId } = await client.startSession(id);
      await client.sendOtp(id, sessionId);
      const err = await rejectsWith(client.sendOtp(id, sessionId), 1534);
      assert.equal(typeof err.retryAfterSeconds, 'number');
      assert.ok((err.retryAfterSeconds as number) >= 1);
    });
  });
}

test('USERNAME sign-up sends the OTP to the given email', async () => {
  const client = clientFor(srv, { brand: PW_BRAND, variant: 'web' });
  const id: Identifier = { type: 'USERNAME', value: 'sdk_user_1' };
  const { sessionId } = await client.startSession(id, { email: 'sdk-user-1@example.com', password: PASSWORD, confirmPassword: PASSWORD });
  await client.sendOtp(id, sessionId);
  const login = await client.verifyOtp(id, sessionId, await srv.lastOtp(PW_BRAND, id));
  assert.equal(login.user.userRegisteredForPassword, true);
  // Taken now.
  await rejectsWith(client.startSession(id, { email: 'sdk-user-2@example.com', password: PASSWORD, confirmPassword: PASSWORD }), 1543);
});

test('the error code union is checked by the compiler and the class is usable with instanceof', async () => {
  const client = clientFor(srv, { brand: PW_BRAND, variant: 'web' });
  try {
    await client.startSession({ type: 'EMAIL', value: 'not an address' });
    assert.fail('expected a failure');
  } catch (err) {
    assert.ok(err instanceof AuthError && err instanceof Error);
    // Compiles only because 1519 is a spec code (a code outside the table is a type error; see build.test.ts).
    assert.equal(err.code === 1519, true);
  }
});
