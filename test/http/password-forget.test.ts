// Spec §3.7 password/forget, on mobile and web: the new password is only held on the session
// and takes effect when otp/generate + otp/validate on that same session succeed; then every
// earlier key and token of the user is revoked (the ones the validation returns work) and the
// retry counters are cleared. Refusals (1524, 1505, 1509/1507/1508, 1515, 1521, 1542), other
// sessions, an abandoned reset, and the audit event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SUCCESS, expectError, expectOk } from '../helpers/spec.ts';

const MOB = '919999999993';
const OTHER = '919999999994';
const PW = 'Correct-Horse-42';
const PW2 = 'Battery-Staple-77';
const PW3 = 'Tr0ub4dor-and-33';

interface Login {
  token: string;
  key: string | null;
}

async function register(h: Harness, v: V, brand: string, password: string | null, value = MOB, deviceId = 'device-1'): Promise<Login> {
  const extra = password === null ? {} : { password, confirmPassword: password };
  const r = await otpLogin(h, v, brand, 'MOBILE', value, extra, deviceId);
  expectOk(r.res, 'registration by OTP');
  return { token: r.res.body.auth.token, key: r.res.body.auth.key };
}

async function startSession(h: Harness, v: V, brand: string, value = MOB, deviceId = 'device-1'): Promise<string> {
  const r = await h.post(url(v, 'token/generate'), idBody(v, brand, 'MOBILE', value, deviceId));
  expectOk(r, 'token/generate');
  return r.body.user.sessionId as string;
}

async function pwLogin(h: Harness, v: V, brand: string, password: string, value = MOB, deviceId = 'device-1'): Promise<Res> {
  const sessionId = await startSession(h, v, brand, value, deviceId);
  return h.post(url(v, 'password/validate'), { ...idBody(v, brand, 'MOBILE', value, deviceId), sessionId, password });
}

async function login(h: Harness, v: V, brand: string, password: string, value = MOB, deviceId = 'device-1'): Promise<Login> {
  const r = await pwLogin(h, v, brand, password, value, deviceId);
  expectOk(r, `password login with ${password}`);
  return { token: r.body.auth.token, key: r.body.auth.key };
}

interface Opts {
  brand?: string;
  value?: string;
  deviceId?: string;
  /** `null` leaves confirmPassword out; default: equal to the password. */
  confirm?: string | null;
}

function forget(h: Harness, v: V, sessionId: string, password: string, o: Opts = {}): Promise<Res> {
  const body: Record<string, unknown> = { ...idBody(v, o.brand ?? 'PwDemo', 'MOBILE', o.value ?? MOB, o.deviceId ?? 'device-1'), sessionId, password };
  const confirm = o.confirm === undefined ? password : o.confirm;
  if (confirm !== null) body.confirmPassword = confirm;
  return h.post(url(v, 'password/forget'), body);
}

/** otp/generate + otp/validate on an existing session; returns the validate response. */
async function finishWithOtp(h: Harness, v: V, sessionId: string, brand = 'PwDemo', value = MOB, deviceId = 'device-1'): Promise<Res> {
  const id = idBody(v, brand, 'MOBILE', value, deviceId);
  expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 'otp/generate on the reset session');
  const otp = await h.lastOtp(brand, `MOBILE|${value}`);
  return h.post(url(v, 'otp/validate'), { ...id, sessionId, otp });
}

const change = (h: Harness, v: V, token: string, password: string, newPassword: string, deviceId = 'device-1') =>
  h.post(url(v, 'password/change'), { ...idBody(v, 'PwDemo', 'MOBILE', MOB, deviceId), token, password, newPassword, confirmPassword: newPassword });

/** The token passes every token check of password/change (it gets as far as 1527, which changes nothing). */
async function tokenAccepted(h: Harness, v: V, token: string, what: string, deviceId = 'device-1'): Promise<void> {
  expectError(await change(h, v, token, PW3, PW3, deviceId), 1527, `${what}: the token is accepted`);
}

const regenerate = (h: Harness, key: string, deviceId = 'device-1') =>
  h.post('/auth/v1/token/regenerate', { ...idBody('mobile', 'PwDemo', 'MOBILE', MOB, deviceId), key });

const webRegenerate = (h: Harness, expiredToken: string) => h.post('/auth/v1/web/token/regenerate', { ...idBody('web', 'PwDemo', 'MOBILE', MOB), expiredToken });

for (const v of VARIANTS) {
  test(`${v}: password/forget holds the new password until OTP validation on the same session, which then revokes every earlier credential`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true });
      // Earlier credentials: the registration, another device (mobile) or another web login,
      // and a mobile login of the same user.
      const first = await register(h, v, 'PwDemo', PW);
      const second = await login(h, v, 'PwDemo', PW, MOB, 'device-2');
      const mobile = await login(h, 'mobile', 'PwDemo', PW, MOB, 'device-3');

      const sessionId = await startSession(h, v, 'PwDemo');
      const r = await forget(h, v, sessionId, PW2);
      expectOk(r, 'password/forget');
      assert.deepEqual(r.body, { status: SUCCESS });
      assert.ok(!r.raw.includes(PW2), 'the password is not echoed');

      // Not changed yet: the old password logs in on a new session, the new one does not.
      const meanwhile = await login(h, v, 'PwDemo', PW);
      expectError(await pwLogin(h, v, 'PwDemo', PW2), 1528, 'the new password before the OTP');
      await tokenAccepted(h, v, first.token, 'an earlier token before the OTP');

      const done = await finishWithOtp(h, v, sessionId);
      expectOk(done, 'otp/validate on the reset session');
      assert.equal(done.body.user.role, 'USER');
      assert.equal(done.body.user.userRegisteredForPassword, true);
      const fresh: Login = { token: done.body.auth.token, key: done.body.auth.key };
      assert.equal(fresh.key === null, v === 'web');

      // Every earlier token and key is revoked …
      for (const [name, l, dev] of [['registration', first, 'device-1'], ['second login', second, 'device-2'], ['login during the reset', meanwhile, 'device-1']] as const) {
        expectError(await change(h, v, l.token, PW2, PW3, dev), 1529, `${name} token`);
        if (v === 'mobile') expectError(await regenerate(h, l.key as string, dev), 1597, `${name} key`);
        else expectError(await webRegenerate(h, l.token), 1525, `${name} web token regenerate`);
      }
      expectError(await change(h, 'mobile', mobile.token, PW2, PW3, 'device-3'), 1529, 'mobile token on device-3');
      expectError(await regenerate(h, mobile.key as string, 'device-3'), 1597, 'mobile key on device-3');

      // … the new password logs in, the old one does not …
      expectError(await pwLogin(h, v, 'PwDemo', PW), 1528, 'the old password after the reset');
      expectOk(await pwLogin(h, v, 'PwDemo', PW2), 'the new password after the reset');

      // … and the credentials of the reset session work.
      if (v === 'mobile') expectOk(await regenerate(h, fresh.key as string), 'the key of the reset session');
      else expectOk(await webRegenerate(h, fresh.token), 'the token of the reset session regenerates');
      expectOk(await change(h, v, fresh.token, PW2, PW3), 'the token of the reset session');
      expectOk(await pwLogin(h, v, 'PwDemo', PW3), 'the password changed with it');

      const audit = await h.admin('GET', '/admin/v1/audit?brand=PWDEMO&limit=200');
      assert.equal(audit.status, 200, audit.raw);
      const resets = audit.body.events.filter((e: any) => e.type === 'password_reset');
      assert.equal(resets.length, 1, audit.raw);
      assert.equal(resets[0].identifier, `MOBILE|${MOB}`);
      assert.equal(resets[0].deviceId, v === 'mobile' ? 'device-1' : null);
      assert.equal(resets[0].ip, '127.0.0.1');
      for (const secret of [PW, PW2, PW3, fresh.token, first.token]) assert.ok(!audit.raw.includes(secret), 'no secret in the audit log');
    } finally {
      await h.close();
    }
  });

  test(`${v}: a completed reset clears the spent password retry budget`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true, maxPasswordRetries: 2 });
      await register(h, v, 'PwDemo', PW);
      expectError(await pwLogin(h, v, 'PwDemo', 'Wrong-Password-1'), 1528, 'wrong 1');
      expectError(await pwLogin(h, v, 'PwDemo', 'Wrong-Password-2'), 1530, 'wrong 2 spends the budget');
      expectError(await pwLogin(h, v, 'PwDemo', PW), 1530, 'the right password, budget spent');

      const sessionId = await startSession(h, v, 'PwDemo');
      expectOk(await forget(h, v, sessionId, PW2), 'password/forget');
      expectError(await pwLogin(h, v, 'PwDemo', PW), 1530, 'still spent while the reset is pending');
      expectOk(await finishWithOtp(h, v, sessionId), 'the reset completes');

      expectOk(await pwLogin(h, v, 'PwDemo', PW2), 'the new password, with a fresh budget');
      expectError(await pwLogin(h, v, 'PwDemo', 'Wrong-Password-3'), 1528, 'the budget starts again at one');
    } finally {
      await h.close();
    }
  });

  test(`${v}: password/forget refusals — 1524, 1505, mismatches, 1515, 1521, 1542 — set nothing`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true });
      await h.createBrand('Other', { passwordEnabled: true });
      await h.createBrand('NoPw');
      await register(h, v, 'PwDemo', PW);
      await register(h, v, 'NoPw', null);

      const noPwSession = await startSession(h, v, 'NoPw');
      expectError(await forget(h, v, noPwSession, PW2, { brand: 'NoPw' }), 1524, 'a brand without passwords');
      expectError(await forget(h, v, `P-${randomUUID()}`, PW2, { brand: 'NoPw' }), 1524, '1524 before the session');

      const unknown = `P-${randomUUID()}`;
      expectError(await forget(h, v, unknown, PW2), 1505, 'unknown session');
      expectError(await forget(h, v, unknown, PW2, { value: OTHER }), 1505, 'unknown session before 1515');
      expectError(await forget(h, v, unknown, PW2, { confirm: 'different-one' }), 1505, 'unknown session before 1521');
      const otherVariant = await startSession(h, v === 'mobile' ? 'web' : 'mobile', 'PwDemo');
      expectError(await forget(h, v, otherVariant, PW2), 1505, 'a session of the other variant');

      const sessionId = await startSession(h, v, 'PwDemo');
      expectError(await forget(h, v, sessionId, PW2, { brand: 'Other' }), 1509, 'another brand');
      expectError(await forget(h, v, sessionId, PW2, { value: OTHER }), 1507, 'another identifier');
      if (v === 'mobile') expectError(await forget(h, v, sessionId, PW2, { deviceId: 'device-2' }), 1508, 'another device');
      expectError(await forget(h, v, sessionId, PW2, { confirm: `${PW2}x` }), 1521, 'confirm differs');
      expectError(await forget(h, v, sessionId, PW2, { confirm: null }), 1521, 'confirm missing');
      expectError(await forget(h, v, sessionId, 'short', { confirm: 'shorter' }), 1521, '1521 before 1542');
      expectError(await forget(h, v, sessionId, 'short'), 1542, 'too short');
      await h.createBrand('PwDemo', { passwordEnabled: true, passwordPolicy: { regex: '[A-Z][a-z]+[0-9]+' } });
      expectError(await forget(h, v, sessionId, PW2), 1542, 'regex not matched');
      await h.createBrand('PwDemo', { passwordEnabled: true });

      // An identifier without a user: 1515, before the password checks.
      const strangerSession = await startSession(h, v, 'PwDemo', OTHER);
      expectError(await forget(h, v, strangerSession, PW2, { value: OTHER }), 1515, 'no user');
      expectError(await forget(h, v, strangerSession, 'short', { value: OTHER, confirm: 'x' }), 1515, '1515 before 1521');

      // None of the refusals left a pending password: OTP validation on the session is a
      // plain login, and the password stays PW.
      expectOk(await finishWithOtp(h, v, sessionId), 'OTP login on the refused session');
      expectOk(await pwLogin(h, v, 'PwDemo', PW), 'PW still logs in');
      expectError(await pwLogin(h, v, 'PwDemo', PW2), 1528, 'PW2 was never set');
    } finally {
      await h.close();
    }
  });

  test(`${v}: a reset pending on session A is not completed by an OTP on session B`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true });
      const before = await register(h, v, 'PwDemo', PW);
      const a = await startSession(h, v, 'PwDemo');
      expectOk(await forget(h, v, a, PW2), 'password/forget on A');

      const b = await startSession(h, v, 'PwDemo');
      const onB = await finishWithOtp(h, v, b);
      expectOk(onB, 'OTP login on B');
      expectOk(await pwLogin(h, v, 'PwDemo', PW), 'PW still logs in after B');
      expectError(await pwLogin(h, v, 'PwDemo', PW2), 1528, 'PW2 not set by B');
      await tokenAccepted(h, v, before.token, 'an earlier token is not revoked by B');
      if (v === 'mobile') expectOk(await regenerate(h, before.key as string), 'an earlier key is not revoked by B');

      // A itself still completes the reset.
      expectOk(await finishWithOtp(h, v, a), 'OTP on A');
      expectOk(await pwLogin(h, v, 'PwDemo', PW2), 'PW2 after A');
      expectError(await change(h, v, onB.body.auth.token, PW2, PW3), 1529, 'the token from B was earlier than the reset');
    } finally {
      await h.close();
    }
  });

  test(`${v}: an abandoned reset (the session expires) changes nothing`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true, sessionValiditySeconds: 300 });
      const before = await register(h, v, 'PwDemo', PW);
      const sessionId = await startSession(h, v, 'PwDemo');
      expectOk(await forget(h, v, sessionId, PW2), 'password/forget');

      h.clock.advance(301_000);
      const id = idBody(v, 'PwDemo', 'MOBILE', MOB);
      expectError(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 1505, 'otp/generate on the expired session');
      expectError(await forget(h, v, sessionId, PW3), 1505, 'password/forget on the expired session');

      expectOk(await pwLogin(h, v, 'PwDemo', PW), 'PW still logs in');
      expectError(await pwLogin(h, v, 'PwDemo', PW2), 1528, 'PW2 was never set');
      await tokenAccepted(h, v, before.token, 'the earlier token');
      if (v === 'mobile') expectOk(await regenerate(h, before.key as string), 'the earlier key');
      else expectOk(await webRegenerate(h, before.token), 'the earlier web token regenerates');
      const audit = await h.admin('GET', '/admin/v1/audit?brand=PWDEMO&limit=200');
      assert.equal(audit.body.events.filter((e: any) => e.type === 'password_reset').length, 0, 'no reset audited');
    } finally {
      await h.close();
    }
  });
}
