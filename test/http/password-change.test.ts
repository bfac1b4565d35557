// Spec §3.6 password/change, on mobile and web: the success (status only, the new password
// replaces the old), every refusal in the order §3.6 gives (1524 → 1529 → 1509/1507/1508 →
// 1521 → 1527 → 1542 → 1530 → 1528), the retry budget shared with password/validate, the
// user without a password (1526), what a success revokes (other devices' keys and tokens,
// other web tokens) and keeps (the caller), and the audit event (no password in it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
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

/** Registers MOB (or `value`) with a password: token/generate with password + OTP validation. */
async function register(h: Harness, v: V, brand: string, password: string | null, value = MOB, deviceId = 'device-1'): Promise<Login> {
  const extra = password === null ? {} : { password, confirmPassword: password };
  const r = await otpLogin(h, v, brand, 'MOBILE', value, extra, deviceId);
  expectOk(r.res, 'registration by OTP');
  return { token: r.res.body.auth.token, key: r.res.body.auth.key };
}

/** token/generate; returns the session id and its VIEW token. */
async function startSession(h: Harness, v: V, brand: string, value = MOB, deviceId = 'device-1') {
  const r = await h.post(url(v, 'token/generate'), idBody(v, brand, 'MOBILE', value, deviceId));
  expectOk(r, 'token/generate');
  return { sessionId: r.body.user.sessionId as string, viewToken: r.body.auth.token as string };
}

/** A password login on a fresh session. */
async function pwLogin(h: Harness, v: V, brand: string, password: string, value = MOB, deviceId = 'device-1'): Promise<Res> {
  const { sessionId } = await startSession(h, v, brand, value, deviceId);
  return h.post(url(v, 'password/validate'), { ...idBody(v, brand, 'MOBILE', value, deviceId), sessionId, password });
}

async function login(h: Harness, v: V, brand: string, password: string, value = MOB, deviceId = 'device-1'): Promise<Login> {
  const r = await pwLogin(h, v, brand, password, value, deviceId);
  expectOk(r, `password login with ${password}`);
  return { token: r.body.auth.token, key: r.body.auth.key };
}

interface ChangeOpts {
  brand?: string;
  value?: string;
  deviceId?: string;
  /** `null` leaves confirmPassword out of the body; default: equal to newPassword. */
  confirm?: string | null;
  extra?: object;
}

function change(h: Harness, v: V, token: string, password: string, newPassword: string, o: ChangeOpts = {}): Promise<Res> {
  const body: Record<string, unknown> = { ...idBody(v, o.brand ?? 'PwDemo', 'MOBILE', o.value ?? MOB, o.deviceId ?? 'device-1'), token, password, newPassword, ...o.extra };
  const confirm = o.confirm === undefined ? newPassword : o.confirm;
  if (confirm !== null) body.confirmPassword = confirm;
  return h.post(url(v, 'password/change'), body);
}

/**
 * The token passes every token check (1529 and the mismatches) and the confirm check: the
 * request gets as far as 1527 (new == current), which changes nothing.
 */
async function tokenAccepted(h: Harness, v: V, token: string, what: string, o: ChangeOpts = {}): Promise<void> {
  expectError(await change(h, v, token, PW3, PW3, o), 1527, `${what}: the token is accepted (1527 comes after the token checks)`);
}

const regenerate = (h: Harness, brand: string, key: string, deviceId = 'device-1', value = MOB) =>
  h.post('/auth/v1/token/regenerate', { ...idBody('mobile', brand, 'MOBILE', value, deviceId), key });

const webRegenerate = (h: Harness, brand: string, expiredToken: string, value = MOB) =>
  h.post('/auth/v1/web/token/regenerate', { ...idBody('web', brand, 'MOBILE', value), expiredToken });

const logout = (h: Harness, v: V, brand: string, token: string, deviceId = 'device-1') =>
  h.post(url(v, 'token/expire'), { ...idBody(v, brand, 'MOBILE', MOB, deviceId), token });

/** The same header and claims signed with another secret. */
async function forge(token: string): Promise<string> {
  const header = decodeProtectedHeader(token);
  const claims = decodeJwt(token);
  return new SignJWT(claims).setProtectedHeader(header as any).sign(createSecretKey(Buffer.from('not-the-deployment-secret-0123456789abcdef', 'utf8')));
}

/** The real signature over a payload with another uid. */
function tamper(token: string): string {
  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  claims.uid = String(Number(claims.uid) + 1);
  return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
}

for (const v of VARIANTS) {
  test(`${v}: password/change success — status only; the old password is refused, the new one logs in; audited without the password`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true });
      const { token } = await register(h, v, 'PwDemo', PW);

      const r = await change(h, v, token, PW, PW2);
      expectOk(r, 'password/change');
      assert.deepEqual(r.body, { status: SUCCESS });
      assert.ok(!r.raw.includes(PW) && !r.raw.includes(PW2), 'no password echoed');

      expectError(await pwLogin(h, v, 'PwDemo', PW), 1528, 'the old password');
      expectOk(await pwLogin(h, v, 'PwDemo', PW2), 'the new password');
      const user = await h.admin('GET', `/admin/v1/users/PWDEMO/MOBILE/${MOB}`);
      assert.equal(user.body.user.hasPassword, true);

      const audit = await h.admin('GET', '/admin/v1/audit?brand=PWDEMO&limit=100');
      assert.equal(audit.status, 200, audit.raw);
      const events = audit.body.events.filter((e: any) => e.type === 'password_change');
      assert.equal(events.length, 1, audit.raw);
      assert.equal(events[0].brand, 'PWDEMO');
      assert.equal(events[0].identifier, `MOBILE|${MOB}`);
      assert.equal(events[0].deviceId, v === 'mobile' ? 'device-1' : null);
      assert.equal(events[0].ip, '127.0.0.1');
      assert.equal(events[0].at, new Date(h.clock.now()).toISOString());
      for (const secret of [PW, PW2, token]) assert.ok(!audit.raw.includes(secret), `the audit log carries a secret: ${audit.raw}`);
      assert.ok(!/\$argon2/i.test(audit.raw), 'the audit log carries a hash');
    } finally {
      await h.close();
    }
  });

  test(`${v}: password/change 1524 comes first — a brand without passwords refuses even a garbage token`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('NoPw');
      await h.createBrand('PwDemo', { passwordEnabled: true });
      const plain = await register(h, v, 'NoPw', null);
      expectError(await change(h, v, 'garbage', PW, PW2, { brand: 'NoPw' }), 1524, 'garbage token');
      expectError(await change(h, v, plain.token, PW, PW2, { brand: 'NoPw' }), 1524, 'a valid token of the brand');
      expectError(await change(h, v, 'garbage', PW, PW2, { brand: 'NoPw', confirm: 'different-one' }), 1524, 'before 1521');

      // A brand that turns passwords off refuses the change of an existing password …
      const { token } = await register(h, v, 'PwDemo', PW);
      await h.createBrand('PwDemo', { passwordEnabled: false });
      expectError(await change(h, v, token, PW, PW2), 1524, 'password feature switched off');
      // … and nothing changed: with the feature back on, the old password logs in.
      await h.createBrand('PwDemo', { passwordEnabled: true });
      expectOk(await pwLogin(h, v, 'PwDemo', PW), 'the old password after the refused change');
    } finally {
      await h.close();
    }
  });

  test(`${v}: password/change 1529 — malformed, forged, tampered, VIEW token, key, revoked, expired`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true, tokenValiditySeconds: { mobile: 60, web: 60 } });
      await h.createBrand('Other', { passwordEnabled: true });
      const { token } = await register(h, v, 'PwDemo', PW);

      expectError(await change(h, v, 'not-a-token', PW, PW2), 1529, 'malformed');
      expectError(await change(h, v, '', PW, PW2), 1529, 'empty');
      expectError(await change(h, v, `${token}x`, PW, PW2), 1529, 'bad signature bytes');
      expectError(await change(h, v, await forge(token), PW, PW2), 1529, 'signed with another secret');
      expectError(await change(h, v, tamper(token), PW, PW2), 1529, 'payload changed under the real signature');
      expectError(await change(h, v, await forge(token), PW, PW2, { confirm: 'different-one' }), 1529, 'the token before 1521');

      const { viewToken } = await startSession(h, v, 'PwDemo');
      expectError(await change(h, v, viewToken, PW, PW2), 1529, 'a VIEW token');

      // A key (rol AUTH) is not a token, on either variant.
      const mobile = await login(h, 'mobile', 'PwDemo', PW, MOB, 'device-1');
      assert.ok(mobile.key);
      expectError(await change(h, v, mobile.key as string, PW, PW2), 1529, 'a key sent as token');

      // Revoked by logout.
      // On its own device: a mobile logout ends every token of that device.
      const doomed = await login(h, v, 'PwDemo', PW, MOB, 'device-3');
      expectOk(await logout(h, v, 'PwDemo', doomed.token, 'device-3'), 'token/expire');
      expectError(await change(h, v, doomed.token, PW, PW2), 1529, 'a logged-out token');

      // Expired: accepted until its end, refused after it (the clock moves, nothing sleeps).
      h.clock.advance(55_000);
      await tokenAccepted(h, v, token, 'shortly before expiry');
      h.clock.advance(20_000);
      expectError(await change(h, v, token, PW, PW2), 1529, 'expired');
      expectError(await change(h, v, token, PW, PW2, { brand: 'Other' }), 1529, 'expired, before the brand mismatch');

      // Nothing above changed the password; a live token does.
      expectError(await pwLogin(h, v, 'PwDemo', PW2), 1528, 'PW2 was never set');
      const fresh = await login(h, v, 'PwDemo', PW);
      expectOk(await change(h, v, fresh.token, PW, PW2), 'a live USER token');
    } finally {
      await h.close();
    }
  });

  test(`${v}: password/change mismatches — 1509 brand, 1507 identifier${v === 'mobile' ? ', 1508 device' : ''}, before 1521`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true });
      await h.createBrand('Other', { passwordEnabled: true });
      const { token } = await register(h, v, 'PwDemo', PW);
      await register(h, v, 'Other', PW);
      await register(h, v, 'PwDemo', PW, OTHER);

      expectError(await change(h, v, token, PW, PW2, { brand: 'Other' }), 1509, 'another brand');
      expectError(await change(h, v, token, PW, PW2, { brand: 'Other', confirm: 'different-one' }), 1509, 'brand before 1521');
      expectError(await change(h, v, token, PW, PW2, { value: OTHER }), 1507, 'another identifier');
      expectError(await change(h, v, token, PW, PW2, { value: OTHER, confirm: null }), 1507, 'identifier before 1521');
      if (v === 'mobile') {
        expectError(await change(h, v, token, PW, PW2, { deviceId: 'device-2' }), 1508, 'another device');
        expectError(await change(h, v, token, PW, PW2, { deviceId: 'device-2', confirm: 'different-one' }), 1508, 'device before 1521');
      } else {
        // A deviceId sent to a web endpoint is ignored (§1.1).
        await tokenAccepted(h, v, token, 'web with a stray deviceId', { extra: { deviceId: 'device-2' } });
      }
      // None of them changed a password.
      expectOk(await pwLogin(h, v, 'PwDemo', PW), 'PwDemo user keeps PW');
      expectOk(await pwLogin(h, v, 'Other', PW), 'Other user keeps PW');
      expectOk(await pwLogin(h, v, 'PwDemo', PW, OTHER), 'the other identifier keeps PW');
      expectOk(await change(h, v, token, PW, PW2), 'the matching request');
    } finally {
      await h.close();
    }
  });

  test(`${v}: password/change 1521, 1527, 1542 in that order, before the current password is looked at`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true, maxPasswordRetries: 2 });
      const { token } = await register(h, v, 'PwDemo', PW);

      expectError(await change(h, v, token, PW, PW2, { confirm: `${PW2}x` }), 1521, 'confirm differs');
      expectError(await change(h, v, token, PW, PW2, { confirm: null }), 1521, 'confirm missing');
      expectError(await change(h, v, token, PW, PW, { confirm: PW2 }), 1521, '1521 before 1527');
      expectError(await change(h, v, token, PW, PW), 1527, 'new == current');
      expectError(await change(h, v, token, 'short', 'short'), 1527, '1527 before 1542');
      expectError(await change(h, v, token, PW, 'short'), 1542, 'too short');
      expectError(await change(h, v, token, PW, 'x'.repeat(129)), 1542, 'too long');
      expectError(await change(h, v, token, 'Wrong-Password-1', 'short'), 1542, '1542 before the current password (1528)');
      expectError(await change(h, v, token, 'Wrong-Password-1', 'short', { confirm: 'shorter' }), 1521, '1521 before the current password');

      // The policy regex, and 1527 before a policy the current password itself fails.
      await h.createBrand('PwDemo', { passwordEnabled: true, maxPasswordRetries: 2, passwordPolicy: { regex: '(?=.*[0-9])(?=.*[A-Z]).{8,}' } });
      expectError(await change(h, v, token, PW, 'alllowercase-no-digits'), 1542, 'regex not matched');
      await h.createBrand('PwDemo', { passwordEnabled: true, maxPasswordRetries: 2, passwordPolicy: { minLength: 30 } });
      expectError(await change(h, v, token, PW, PW), 1527, 'new == current although it fails the new policy');
      await h.createBrand('PwDemo', { passwordEnabled: true, maxPasswordRetries: 2 });

      // None of those counted toward the retry budget (2): one wrong current password is 1528.
      expectError(await change(h, v, token, 'Wrong-Password-1', PW2), 1528, 'first wrong current password');
      expectOk(await change(h, v, token, PW, PW2), 'the valid request');
      expectOk(await pwLogin(h, v, 'PwDemo', PW2), 'the new password');
    } finally {
      await h.close();
    }
  });

  test(`${v}: password/change retry budget — 1528, 1528, 1530, then 1530 even for the right password until the window passes`, async () => {
    const h = await startHarness();
    try {
      // Tokens outlive the window here, so the same token is used across it.
      await h.createBrand('PwDemo', { passwordEnabled: true, maxPasswordRetries: 3, passwordRetryWindowMinutes: 30, tokenValiditySeconds: { mobile: 7200, web: 7200 } });
      const { token } = await register(h, v, 'PwDemo', PW, MOB);

      expectError(await change(h, v, token, 'Wrong-Password-1', PW2), 1528, 'wrong 1');
      expectError(await change(h, v, token, 'Wrong-Password-2', PW2), 1528, 'wrong 2');
      expectError(await change(h, v, token, 'Wrong-Password-3', PW2), 1530, 'wrong 3 spends the budget');
      expectError(await change(h, v, token, PW, PW2), 1530, 'the right password, budget spent');
      expectError(await pwLogin(h, v, 'PwDemo', PW), 1530, 'password/validate shares the spent budget');
      // 1542 still comes before the budget.
      expectError(await change(h, v, token, PW, 'short'), 1542, '1542 before 1530');

      // The window runs from the last failure.
      h.clock.advance(29 * 60_000);
      expectError(await change(h, v, token, PW, PW2), 1530, 'inside the window');
      h.clock.advance(60_000);
      expectOk(await change(h, v, token, PW, PW2), 'the window passed');
      expectOk(await pwLogin(h, v, 'PwDemo', PW2), 'the new password');
    } finally {
      await h.close();
    }
  });

  test(`${v}: password/change and password/validate count in one budget; a success or an admin unlock clears it`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true, maxPasswordRetries: 3 });
      const { token } = await register(h, v, 'PwDemo', PW, MOB);

      // validate, validate, change.
      expectError(await pwLogin(h, v, 'PwDemo', 'Wrong-Password-1'), 1528, 'validate wrong 1');
      expectError(await pwLogin(h, v, 'PwDemo', 'Wrong-Password-2'), 1528, 'validate wrong 2');
      expectError(await change(h, v, token, 'Wrong-Password-3', PW2), 1530, 'the change is the third failure');
      expectError(await change(h, v, token, PW, PW2), 1530, 'the right password, budget spent');

      const unlock = await h.admin('POST', `/admin/v1/users/PwDemo/MOBILE/${MOB}/unlock`);
      expectOk(unlock, 'admin unlock');
      expectOk(await change(h, v, token, PW, PW2), 'after the admin unlock');

      // A successful change restarts the count …
      expectError(await change(h, v, token, 'Wrong-Password-1', PW3), 1528, 'change wrong 1');
      expectError(await change(h, v, token, 'Wrong-Password-2', PW3), 1528, 'change wrong 2');
      expectOk(await change(h, v, token, PW2, PW3), 'a successful change clears the count');
      expectError(await change(h, v, token, 'Wrong-Password-1', PW), 1528, 'counting from one again');
      // … so does a password login; then change, change, validate spend it.
      expectOk(await pwLogin(h, v, 'PwDemo', PW3), 'a successful login clears the count');
      expectError(await change(h, v, token, 'Wrong-Password-1', PW), 1528, 'change wrong 1 again');
      expectError(await change(h, v, token, 'Wrong-Password-2', PW), 1528, 'change wrong 2 again');
      expectError(await pwLogin(h, v, 'PwDemo', 'Wrong-Password-3'), 1530, 'validate is the third failure');
      expectError(await pwLogin(h, v, 'PwDemo', PW3), 1530, 'the right password at validate, budget spent');
    } finally {
      await h.close();
    }
  });

  test(`${v}: password/change of a user without a password (OTP only) answers 1526`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('PwDemo', { passwordEnabled: true });
      const { token } = await register(h, v, 'PwDemo', null);
      expectError(await change(h, v, token, 'Anything-At-All-1', PW2), 1526, 'no password to change');
      const user = await h.admin('GET', `/admin/v1/users/PWDEMO/MOBILE/${MOB}`);
      assert.equal(user.body.user.hasPassword, false, 'still no password');
      expectError(await pwLogin(h, v, 'PwDemo', PW2), 1526, 'PW2 was not set');
    } finally {
      await h.close();
    }
  });
}

test('mobile: a password change revokes the keys and tokens of the other devices and keeps the caller\'s', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('PwDemo', { passwordEnabled: true });
    const d1 = await register(h, 'mobile', 'PwDemo', PW, MOB, 'device-1');
    const d2 = await login(h, 'mobile', 'PwDemo', PW, MOB, 'device-2');
    const web = await login(h, 'web', 'PwDemo', PW);
    assert.ok(d1.key && d2.key);
    // Both devices work before the change.
    expectOk(await regenerate(h, 'PwDemo', d2.key as string, 'device-2'), 'device-2 key before');
    await tokenAccepted(h, 'mobile', d2.token, 'device-2 token before', { deviceId: 'device-2' });

    expectOk(await change(h, 'mobile', d1.token, PW, PW2, { deviceId: 'device-1' }), 'change from device-1');

    expectError(await regenerate(h, 'PwDemo', d2.key as string, 'device-2'), 1597, 'device-2 key after');
    expectError(await change(h, 'mobile', d2.token, PW2, PW3, { deviceId: 'device-2' }), 1529, 'device-2 token after');
    expectError(await change(h, 'web', web.token, PW2, PW3), 1529, 'a web token of the user after');
    expectError(await webRegenerate(h, 'PwDemo', web.token), 1525, 'the web token cannot be regenerated either');

    // The calling device keeps its key and token.
    const again = await regenerate(h, 'PwDemo', d1.key as string, 'device-1');
    expectOk(again, 'device-1 key after');
    await tokenAccepted(h, 'mobile', again.body.auth.token, 'the token regenerated on device-1');
    expectOk(await change(h, 'mobile', d1.token, PW2, PW3, { deviceId: 'device-1' }), 'device-1 token after');

    // A new login on device-2 (same instant) is not caught by the revocation; its change now
    // revokes device-1.
    const d2b = await login(h, 'mobile', 'PwDemo', PW3, MOB, 'device-2');
    expectOk(await regenerate(h, 'PwDemo', d2b.key as string, 'device-2'), 'the new device-2 key');
    expectOk(await change(h, 'mobile', d2b.token, PW3, PW, { deviceId: 'device-2' }), 'change from device-2');
    expectError(await regenerate(h, 'PwDemo', d1.key as string, 'device-1'), 1597, 'device-1 key after the change from device-2');
    expectError(await change(h, 'mobile', d1.token, PW, PW2, { deviceId: 'device-1' }), 1529, 'device-1 token after the change from device-2');
    expectOk(await pwLogin(h, 'mobile', 'PwDemo', PW), 'the latest password');
  } finally {
    await h.close();
  }
});

test('web: a password change keeps the calling token and revokes every other token and key of the user', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('PwDemo', { passwordEnabled: true });
    const a = await register(h, 'web', 'PwDemo', PW);
    const b = await login(h, 'web', 'PwDemo', PW);
    const m = await login(h, 'mobile', 'PwDemo', PW, MOB, 'device-1');
    await tokenAccepted(h, 'web', b.token, 'the other web token before');

    expectOk(await change(h, 'web', a.token, PW, PW2), 'change with web token A');

    expectError(await change(h, 'web', b.token, PW2, PW3), 1529, 'web token B after');
    expectError(await webRegenerate(h, 'PwDemo', b.token), 1525, 'web token B cannot be regenerated');
    expectError(await regenerate(h, 'PwDemo', m.key as string, 'device-1'), 1597, 'the mobile key after');
    expectError(await change(h, 'mobile', m.token, PW2, PW3, { deviceId: 'device-1' }), 1529, 'the mobile token after');

    // Token A keeps working: it regenerates and changes the password again.
    const regen = await webRegenerate(h, 'PwDemo', a.token);
    expectOk(regen, 'web token A regenerates');
    await tokenAccepted(h, 'web', regen.body.auth.token, 'the token regenerated from A');
    expectOk(await change(h, 'web', a.token, PW2, PW3), 'web token A after');
    expectOk(await pwLogin(h, 'web', 'PwDemo', PW3), 'the latest password');
  } finally {
    await h.close();
  }
});
