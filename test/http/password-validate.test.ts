// Spec §3.4 password/validate, on mobile and web: a password registered at token/generate
// (committed by OTP validation) logs in on a fresh session; every refusal in §1.3 / §3.4
// order; the session is single-use; the password is NFKC-normalised; no hash ever leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SIGNING_KEY, SUCCESS, expectError, expectOk } from '../helpers/spec.ts';

const MOB = '919999999993';
const PASSWORD = 'Correct-Horse-42';

/** No response carries an argon2 hash (or any PHC string). */
function noHash(r: Res): void {
  assert.ok(!/\$argon2/i.test(r.raw), `a hash leaked: ${r.raw}`);
}

async function startSession(h: Harness, v: V, brand: string, type: string, value: string, deviceId = 'device-1', extra: object = {}): Promise<string> {
  const r = await h.post(url(v, 'token/generate'), { ...idBody(v, brand, type, value, deviceId), ...extra });
  expectOk(r, 'token/generate');
  noHash(r);
  return r.body.user.sessionId as string;
}

const pwLogin = (h: Harness, v: V, brand: string, type: string, value: string, sessionId: string, password: string, deviceId = 'device-1') =>
  h.post(url(v, 'password/validate'), { ...idBody(v, brand, type, value, deviceId), sessionId, password });

/** Registers a user with a password: token/generate with password + OTP validation. */
async function registerWithPassword(h: Harness, v: V, brand: string, type: string, value: string, password: string) {
  const r = await otpLogin(h, v, brand, type, value, { password, confirmPassword: password });
  expectOk(r.res, 'OTP validation committing the password');
  noHash(r.res);
  assert.equal(r.res.body.user.userRegisteredForPassword, true);
  return (await jwtVerify(r.res.body.auth.token, SIGNING_KEY, { algorithms: ['HS256'], currentDate: new Date(h.clock.now()) })).payload.uid as string;
}

for (const v of VARIANTS) {
  test(`${v}: password/validate success shape; the session is consumed`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { passwordEnabled: true });
      const uid = await registerWithPassword(h, v, 'DocDemo', 'MOBILE', MOB, PASSWORD);
      const user = await h.admin('GET', `/admin/v1/users/DOCDEMO/MOBILE/${MOB}`);
      assert.equal(user.body.user.hasPassword, true);
      noHash(user);

      const sessionId = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      const r = await pwLogin(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, PASSWORD);
      assert.equal(r.status, 200, r.raw);
      noHash(r);
      assert.ok(!r.raw.includes(PASSWORD), 'the password is not echoed');
      assert.deepEqual(Object.keys(r.body).sort(), ['auth', 'identifiers', 'status', 'user']);
      assert.deepEqual(r.body.status, SUCCESS);
      assert.deepEqual(r.body.user, { appRegistered: false, sessionId: null, role: 'USER', userRegisteredForPassword: true });
      assert.deepEqual(r.body.identifiers, { identifierList: [{ type: 'MOBILE', value: MOB }] });

      const now = Math.floor(h.clock.now() / 1000);
      const t = await jwtVerify(r.body.auth.token, SIGNING_KEY, { algorithms: ['HS256'], currentDate: new Date(h.clock.now()) });
      assert.equal(t.payload.rol, 'USER');
      assert.equal(t.payload.uid, uid);
      assert.equal(t.payload.iat, now);
      assert.equal(t.payload.exp, now + 900);
      assert.deepEqual(t.protectedHeader.idv, [`MOBILE|${MOB}`]);
      assert.equal(t.protectedHeader.dev, v === 'mobile' ? 'device-1' : null);
      assert.equal(t.protectedHeader.org, 'DOCDEMO');
      if (v === 'mobile') {
        const k = await jwtVerify(r.body.auth.key, SIGNING_KEY, { algorithms: ['HS256'], currentDate: new Date(h.clock.now()) });
        assert.equal(k.payload.rol, 'AUTH');
        assert.equal(k.payload.uid, uid);
        assert.equal(k.payload.mfa, false);
        assert.equal(k.payload.exp, undefined);
      } else {
        assert.equal(r.body.auth.key, null);
      }

      expectError(await pwLogin(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, PASSWORD), 1505, 'session reused');
    } finally {
      await h.close();
    }
  });

  test(`${v}: identifierList lists every identifier of a USERNAME user`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { passwordEnabled: true });
      // USERNAME sign-up with a mobile: the code goes to the mobile.
      const id = idBody(v, 'DocDemo', 'USERNAME', 'jane.doe');
      const gen = await h.post(url(v, 'token/generate'), { ...id, mobile: MOB, password: PASSWORD, confirmPassword: PASSWORD });
      expectOk(gen, 'sign-up');
      const sessionId = gen.body.user.sessionId;
      expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }));
      const otp = await h.lastOtp('DOCDEMO', `MOBILE|${MOB}`);
      expectOk(await h.post(url(v, 'otp/validate'), { ...id, sessionId, otp }), 'sign-up OTP');

      const s2 = await startSession(h, v, 'DocDemo', 'USERNAME', 'Jane.Doe');
      const r = await pwLogin(h, v, 'DocDemo', 'USERNAME', 'JANE.DOE', s2, PASSWORD);
      expectOk(r, 'username login');
      const list = r.body.identifiers.identifierList as Array<{ type: string; value: string }>;
      assert.deepEqual(
        [...list].sort((a, b) => a.type.localeCompare(b.type)),
        [{ type: 'MOBILE', value: MOB }, { type: 'USERNAME', value: 'jane.doe' }],
      );
    } finally {
      await h.close();
    }
  });

  test(`${v}: 1524 when the brand is not password-enabled, before the session is looked at`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('NoPw');
      expectError(await pwLogin(h, v, 'NoPw', 'MOBILE', MOB, `P-${randomUUID()}`, PASSWORD), 1524, 'unknown session');
      const sessionId = await startSession(h, v, 'NoPw', 'MOBILE', MOB);
      expectError(await pwLogin(h, v, 'NoPw', 'MOBILE', MOB, sessionId, PASSWORD), 1524, 'real session');
    } finally {
      await h.close();
    }
  });

  test(`${v}: session errors — unknown 1505, other variant 1505, identifier 1507, device 1508, brand 1509`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('BrandA', { passwordEnabled: true });
      await h.createBrand('BrandB', { passwordEnabled: true });
      await registerWithPassword(h, v, 'BrandA', 'MOBILE', MOB, PASSWORD);
      expectError(await pwLogin(h, v, 'BrandA', 'MOBILE', MOB, `P-${randomUUID()}`, PASSWORD), 1505, 'unknown');

      const other: V = v === 'mobile' ? 'web' : 'mobile';
      const foreign = await startSession(h, other, 'BrandA', 'MOBILE', MOB);
      expectError(await pwLogin(h, v, 'BrandA', 'MOBILE', MOB, foreign, PASSWORD), 1505, 'other variant');

      const sessionId = await startSession(h, v, 'BrandA', 'MOBILE', MOB);
      // Identifier mismatch is 1507 on password/validate (1541 is for the OTP endpoints).
      expectError(await pwLogin(h, v, 'BrandA', 'MOBILE', '919999999994', sessionId, PASSWORD), 1507, 'other value');
      expectError(await pwLogin(h, v, 'BrandA', 'EMAIL', 'a@example.com', sessionId, PASSWORD), 1507, 'other type');
      expectError(await pwLogin(h, v, 'BrandB', 'MOBILE', MOB, sessionId, PASSWORD), 1509, 'other brand');
      if (v === 'mobile') {
        expectError(await pwLogin(h, v, 'BrandA', 'MOBILE', MOB, sessionId, PASSWORD, 'device-2'), 1508, 'other device');
      }
      // The refusals did not consume the session.
      expectOk(await pwLogin(h, v, 'BrandA', 'MOBILE', MOB, sessionId, PASSWORD), 'owner');
    } finally {
      await h.close();
    }
  });

  test(`${v}: an expired session answers 1505`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { passwordEnabled: true, sessionValiditySeconds: 60 });
      await registerWithPassword(h, v, 'DocDemo', 'MOBILE', MOB, PASSWORD);
      const sessionId = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      h.clock.advance(61_000);
      expectError(await pwLogin(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, PASSWORD), 1505);
    } finally {
      await h.close();
    }
  });

  test(`${v}: 1515 without a user, 1526 for a user without a password, 1528 for a wrong password`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { passwordEnabled: true });
      // A session of an identifier that has no user.
      const s1 = await startSession(h, v, 'DocDemo', 'MOBILE', '919999999995');
      expectError(await pwLogin(h, v, 'DocDemo', 'MOBILE', '919999999995', s1, PASSWORD), 1515, 'no user');
      // Even when that session holds a pending registration password: it is not the user's until OTP.
      const s1b = await startSession(h, v, 'DocDemo', 'MOBILE', '919999999996', 'device-1', { password: PASSWORD, confirmPassword: PASSWORD });
      expectError(await pwLogin(h, v, 'DocDemo', 'MOBILE', '919999999996', s1b, PASSWORD), 1515, 'pending password only');

      // A user created by OTP only has no password.
      const otpOnly = await otpLogin(h, v, 'DocDemo', 'EMAIL', 'otp.only@example.com');
      expectOk(otpOnly.res);
      const s2 = await startSession(h, v, 'DocDemo', 'EMAIL', 'otp.only@example.com');
      expectError(await pwLogin(h, v, 'DocDemo', 'EMAIL', 'otp.only@example.com', s2, PASSWORD), 1526, 'no password');

      await registerWithPassword(h, v, 'DocDemo', 'MOBILE', MOB, PASSWORD);
      const s3 = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      const wrong = await pwLogin(h, v, 'DocDemo', 'MOBILE', MOB, s3, `${PASSWORD}x`);
      expectError(wrong, 1528, 'wrong password');
      expectError(await pwLogin(h, v, 'DocDemo', 'MOBILE', MOB, s3, PASSWORD.toLowerCase()), 1528, 'case matters');
      const s4 = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      const good = await pwLogin(h, v, 'DocDemo', 'MOBILE', MOB, s4, PASSWORD);
      expectOk(good, 'correct password');
      for (const r of [wrong, good]) noHash(r);
    } finally {
      await h.close();
    }
  });

  test(`${v}: a password typed in NFC or NFD logs in either way (NFKC)`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { passwordEnabled: true });
      const nfc = 'Pässwort12'.normalize('NFC');
      const nfd = 'Pässwort12'.normalize('NFD');
      assert.notEqual(nfc, nfd, 'the two forms differ as strings');

      await registerWithPassword(h, v, 'DocDemo', 'MOBILE', MOB, nfc);
      const s1 = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      expectOk(await pwLogin(h, v, 'DocDemo', 'MOBILE', MOB, s1, nfd), 'registered NFC, typed NFD');

      await registerWithPassword(h, v, 'DocDemo', 'EMAIL', 'nfd@example.com', nfd);
      const s2 = await startSession(h, v, 'DocDemo', 'EMAIL', 'nfd@example.com');
      expectOk(await pwLogin(h, v, 'DocDemo', 'EMAIL', 'nfd@example.com', s2, nfc), 'registered NFD, typed NFC');

      // Normalisation does not make different passwords equal.
      const s3 = await startSession(h, v, 'DocDemo', 'EMAIL', 'nfd@example.com');
      expectError(await pwLogin(h, v, 'DocDemo', 'EMAIL', 'nfd@example.com', s3, 'Passwort12'), 1528, 'a without umlaut');
    } finally {
      await h.close();
    }
  });
}
