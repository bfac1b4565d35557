// token/generate (spec §3.1) and the VIEW token it hands out (§4), on mobile and web: response
// shape, token header and claims, password registration on the session, and USERNAME sign-up
// and login.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { startHarness, idBody, otpLogin, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SUCCESS, expectError, expectOk } from '../helpers/spec.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A harness whose every customer and admin response is remembered, so a test can check that
 * no password it sent ever came back in any response (or reached the logs).
 */
async function tracked() {
  const h = await startHarness();
  const seen: Res[] = [];
  const post = h.post.bind(h);
  const admin = h.admin.bind(h);
  h.post = async (...a) => {
    const r = await post(...a);
    seen.push(r);
    return r;
  };
  h.admin = async (...a) => {
    const r = await admin(...a);
    seen.push(r);
    return r;
  };
  const assertNoSecrets = (secrets: string[]) => {
    assert.ok(seen.length > 0);
    const logs = h.logs.join('\n');
    assert.ok(logs.length > 0, 'expected some log output');
    for (const s of secrets) {
      for (const r of seen) assert.ok(!r.raw.includes(s), `a response carries the password ${s}: ${r.raw}`);
      assert.ok(!logs.includes(s), `the logs carry the password ${s}`);
    }
    for (const r of seen) assert.ok(!r.raw.includes('$argon2'), `a response carries a hash: ${r.raw}`);
    assert.ok(!logs.includes('$argon2'), 'the logs carry a password hash');
  };
  return { h, assertNoSecrets };
}

async function run(fn: (h: Harness, assertNoSecrets: (s: string[]) => void) => Promise<void>) {
  const { h, assertNoSecrets } = await tracked();
  try {
    await fn(h, assertNoSecrets);
  } finally {
    await h.close();
  }
}

const gen = (h: Harness, v: V, brand: string, type: string, value: string, extra: object = {}, deviceId?: string) =>
  h.post(url(v, 'token/generate'), { ...idBody(v, brand, type, value, deviceId), ...extra });

/** otp/generate + read the outbox (by the session identifier) + otp/validate on an existing session. */
async function completeOtp(h: Harness, v: V, brand: string, type: string, value: string, sessionId: string) {
  const id = idBody(v, brand, type, value);
  const send = await h.post(url(v, 'otp/generate'), { ...id, sessionId });
  assert.equal(send.status, 200, send.raw);
  const msg = await lastMessage(h, brand, `${type}|${value}`);
  const res = await h.post(url(v, 'otp/validate'), { ...id, sessionId, otp: msg.otp });
  return { msg, res };
}

async function lastMessage(h: Harness, brand: string, identifier: string) {
  const r = await h.admin('GET', `/admin/v1/outbox?brand=${brand}&identifier=${encodeURIComponent(identifier)}&limit=1`);
  assert.equal(r.status, 200, r.raw);
  const m = r.body.messages[0];
  assert.ok(m, `no message for ${identifier}`);
  return m as { brand: string; identifier: string; channel: string; to: string; text: string; otp: string };
}

/** token/generate + password/validate. */
async function passwordLogin(h: Harness, v: V, brand: string, type: string, value: string, password: string) {
  const g = await gen(h, v, brand, type, value);
  assert.equal(g.status, 200, g.raw);
  return h.post(url(v, 'password/validate'), { ...idBody(v, brand, type, value), sessionId: g.body.user.sessionId, password });
}

async function adminUser(h: Harness, brand: string, type: string, value: string) {
  return h.admin('GET', `/admin/v1/users/${brand}/${type}/${encodeURIComponent(value)}`);
}

const PW = 'Corr3ct-Horse-Battery';
const withPw = (p = PW) => ({ password: p, confirmPassword: p });

// ---------------------------------------------------------------------------------------------
// Response shape and VIEW token
// ---------------------------------------------------------------------------------------------

test('token/generate: the response has exactly the contract shape', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO');
    for (const v of VARIANTS) {
      const r = await gen(h, v, 'docdemo', 'MOBILE', '919999999001');
      assert.equal(r.status, 200, r.raw);
      assert.equal(typeof r.body.auth.token, 'string');
      assert.match(r.body.user.sessionId, /^P-/);
      assert.match(r.body.user.sessionId.slice(2), UUID_V4);
      assert.deepEqual(r.body, {
        status: SUCCESS,
        auth: { token: r.body.auth.token, key: null },
        user: { appRegistered: false, sessionId: r.body.user.sessionId, role: 'VIEW', userRegisteredForPassword: false },
      });
      // No OTP, no uid, no hash in a token/generate response.
      assert.ok(!/"otp"|"uid"/.test(r.raw), r.raw);
      // Session ids are unique.
      const again = await gen(h, v, 'docdemo', 'MOBILE', '919999999001');
      assert.notEqual(again.body.user.sessionId, r.body.user.sessionId);
    }
  });
});

test('token/generate: userRegisteredForPassword is true for a user with a password', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? 'm@x.co' : 'w@x.co';
      const first = await gen(h, v, 'DOCDEMO', 'EMAIL', value, withPw());
      assert.equal(first.body.user.userRegisteredForPassword, false);
      const { res } = await completeOtp(h, v, 'DOCDEMO', 'EMAIL', value, first.body.user.sessionId);
      assert.equal(res.status, 200, res.raw);
      const later = await gen(h, v, 'DOCDEMO', 'EMAIL', value);
      assert.equal(later.status, 200, later.raw);
      assert.equal(later.body.user.userRegisteredForPassword, true);
      assert.equal(later.body.user.role, 'VIEW');
      assert.equal(later.body.auth.key, null);
    }
  });
});

test('token/generate: the VIEW token header and claims (per variant lifetime, dev, org, no uid, unique jti)', async () => {
  await run(async (h) => {
    await h.createBrand('DocDemo', { tokenValiditySeconds: { mobile: 300, web: 700 } });
    const expectedTtl = { mobile: 300, web: 700 };
    for (const v of VARIANTS) {
      const nowSec = Math.floor(h.clock.now() / 1000);
      const a = await gen(h, v, 'docDemo', 'MOBILE', '+91 99999-99001', {}, 'dev-ABC');
      assert.equal(a.status, 200, a.raw);
      const header = jose.decodeProtectedHeader(a.body.auth.token);
      assert.deepEqual(Object.keys(header).sort(), ['alg', 'dev', 'idv', 'kid', 'org']);
      assert.equal(header.alg, 'HS256');
      assert.equal(typeof header.kid, 'string');
      assert.ok((header.kid as string).length > 0);
      assert.equal(header.org, 'DOCDEMO');
      assert.equal(header.dev, v === 'mobile' ? 'dev-ABC' : null);
      assert.deepEqual(header.idv, ['MOBILE|919999999001']);

      const claims = jose.decodeJwt(a.body.auth.token);
      assert.deepEqual(Object.keys(claims).sort(), ['exp', 'iat', 'iss', 'jti', 'rol']);
      assert.equal(claims.iss, 'AUTH ENGINE');
      assert.equal(claims.iat, nowSec);
      assert.equal(claims.exp, nowSec + expectedTtl[v]);
      assert.equal(claims.rol, 'VIEW');
      assert.equal(claims.uid, undefined);
      assert.equal(typeof claims.jti, 'string');

      h.clock.advance(10_000);
      const b = await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', {}, 'dev-ABC');
      const cb = jose.decodeJwt(b.body.auth.token);
      assert.notEqual(cb.jti, claims.jti);
      assert.equal(cb.iat, nowSec + 10);
      assert.equal(cb.exp, nowSec + 10 + expectedTtl[v]);
    }
  });
});

test('token/generate: a numeric deviceId is the device, as a string, in dev', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO');
    const r = await h.post(url('mobile', 'token/generate'), { brand: 'DOCDEMO', identifierType: 'MOBILE', identifierValue: '919999999001', deviceId: 12345 });
    assert.equal(r.status, 200, r.raw);
    assert.equal(jose.decodeProtectedHeader(r.body.auth.token).dev, '12345');
    // A deviceId sent to web is ignored.
    const w = await h.post(url('web', 'token/generate'), { brand: 'DOCDEMO', identifierType: 'MOBILE', identifierValue: '919999999001', deviceId: 'dev-X' });
    assert.equal(w.status, 200, w.raw);
    assert.equal(jose.decodeProtectedHeader(w.body.auth.token).dev, null);
  });
});

test('token/generate: idv is the request identifier for a first-time user and every identifier of a known user', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const [i, v] of VARIANTS.entries()) {
      const user = `alice${i}`;
      const mobile = `91999999100${i}`;
      const email = `alice${i}@x.co`;
      // First-time: only the identifier of the request (normalised).
      const first = await gen(h, v, 'DOCDEMO', 'EMAIL', email.toUpperCase());
      assert.deepEqual(jose.decodeProtectedHeader(first.body.auth.token).idv, [`EMAIL|${email}`]);

      // A user with three identifiers, created by a USERNAME sign-up.
      const su = await gen(h, v, 'DOCDEMO', 'USERNAME', user, { mobile, email, ...withPw() });
      assert.equal(su.status, 200, su.raw);
      assert.deepEqual(jose.decodeProtectedHeader(su.body.auth.token).idv, [`USERNAME|${user}`]);
      const { res } = await completeOtp(h, v, 'DOCDEMO', 'USERNAME', user, su.body.user.sessionId);
      assert.equal(res.status, 200, res.raw);

      const all = [`EMAIL|${email}`, `MOBILE|${mobile}`, `USERNAME|${user}`];
      for (const [type, value] of [['MOBILE', mobile], ['EMAIL', email], ['USERNAME', user]] as const) {
        const r = await gen(h, v, 'DOCDEMO', type, value);
        assert.equal(r.status, 200, r.raw);
        assert.deepEqual([...(jose.decodeProtectedHeader(r.body.auth.token).idv as string[])].sort(), all, `${v} ${type}`);
        assert.equal(jose.decodeJwt(r.body.auth.token).uid, undefined);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Password registration
// ---------------------------------------------------------------------------------------------

test('token/generate: a password registered at token/generate is held on the session until OTP validation', async () => {
  await run(async (h, assertNoSecrets) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const [i, v] of VARIANTS.entries()) {
      const mobile = `91999999200${i}`;
      const g = await gen(h, v, 'DOCDEMO', 'MOBILE', mobile, withPw());
      assert.equal(g.status, 200, g.raw);
      assert.equal(g.body.user.userRegisteredForPassword, false);
      // The user does not exist yet.
      expectError(await adminUser(h, 'DOCDEMO', 'MOBILE', mobile), 1515);
      // Password login before the OTP is proven: the user does not exist.
      const early = await h.post(url(v, 'password/validate'), { ...idBody(v, 'DOCDEMO', 'MOBILE', mobile), sessionId: g.body.user.sessionId, password: PW });
      expectError(early, 1515);

      const { res } = await completeOtp(h, v, 'DOCDEMO', 'MOBILE', mobile, g.body.user.sessionId);
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.user.userRegisteredForPassword, true);
      const u = await adminUser(h, 'DOCDEMO', 'MOBILE', mobile);
      assert.equal(u.status, 200, u.raw);
      assert.equal(u.body.user.hasPassword, true);

      const login = await passwordLogin(h, v, 'DOCDEMO', 'MOBILE', mobile, PW);
      expectOk(login, 'password login');
      assert.equal(login.body.user.role, 'USER');
      expectError(await passwordLogin(h, v, 'DOCDEMO', 'MOBILE', mobile, 'Wrong-Passw0rd-1'), 1528);
    }
    assertNoSecrets([PW, 'Wrong-Passw0rd-1']);
  });
});

test('token/generate: a session whose OTP is never validated does not register its password', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const [i, v] of VARIANTS.entries()) {
      const mobile = `91999999210${i}`;
      // Session A sets a password but is abandoned; session B (no password) proves the OTP.
      const a = await gen(h, v, 'DOCDEMO', 'MOBILE', mobile, withPw());
      assert.equal(a.status, 200, a.raw);
      const b = await gen(h, v, 'DOCDEMO', 'MOBILE', mobile);
      const { res } = await completeOtp(h, v, 'DOCDEMO', 'MOBILE', mobile, b.body.user.sessionId);
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.user.userRegisteredForPassword, false);
      assert.equal((await adminUser(h, 'DOCDEMO', 'MOBILE', mobile)).body.user.hasPassword, false);
    }
  });
});

test('token/generate: a password on a brand without passwords → 1524', async () => {
  await run(async (h, assertNoSecrets) => {
    await h.createBrand('DOCDEMO');
    for (const v of VARIANTS) {
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', withPw()), 1524);
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', { password: PW, confirmPassword: 'different' }), 1524);
      // USERNAME sign-up needs passwords too.
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'alice', { mobile: '919999999002', ...withPw() }), 1524);
    }
    assertNoSecrets([PW]);
  });
});

test('token/generate: password and confirmPassword must match (a missing confirmPassword is a mismatch) → 1521', async () => {
  await run(async (h, assertNoSecrets) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const v of VARIANTS) {
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', { password: PW, confirmPassword: 'Corr3ct-Horse-Batterz' }), 1521);
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', { password: PW }), 1521);
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', { password: PW, confirmPassword: '' }), 1521);
      // Mismatch is judged before the policy: a short mismatched password is 1521, not 1542.
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', { password: 'a1', confirmPassword: 'b1' }), 1521);
      // A non-string password is a body-shape error.
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', { password: 12345678, confirmPassword: 12345678 }), 1519);
    }
    assertNoSecrets([PW, 'Corr3ct-Horse-Batterz']);
  });
});

test('token/generate: the password policy is enforced (too short, too long, regex) → 1542', async () => {
  await run(async (h, assertNoSecrets) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true, passwordPolicy: { minLength: 8, maxLength: 20, regex: '(?=.*\\d).+', rejectCommon: false } });
    const bad = ['xyz1', 'abcdefg', 'k1'.repeat(10) + 'x', 'abcdefghij', 'NoDigitsHere!'];
    for (const v of VARIANTS) {
      for (const p of bad) expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', withPw(p)), 1542);
      // The limits themselves are accepted: exactly 8 and exactly 20 characters with a digit.
      assert.equal((await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', withPw('abcdefg1'))).status, 200);
      assert.equal((await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001', withPw('k1'.repeat(10)))).status, 200);
    }
    assertNoSecrets([...bad, 'abcdefg1', 'k1'.repeat(10)]);
  });
});

test('token/generate: passwordRequiredAtSignup makes a first-time user without password fail with 1520', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true, passwordRequiredAtSignup: true });
    for (const [i, v] of VARIANTS.entries()) {
      const mobile = `91999999300${i}`;
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', mobile), 1520);
      expectError(await gen(h, v, 'DOCDEMO', 'MOBILE', mobile, { password: '', confirmPassword: '' }), 1520);
      // With a password it works, and afterwards the known user needs none.
      const g = await gen(h, v, 'DOCDEMO', 'MOBILE', mobile, withPw());
      assert.equal(g.status, 200, g.raw);
      const { res } = await completeOtp(h, v, 'DOCDEMO', 'MOBILE', mobile, g.body.user.sessionId);
      assert.equal(res.status, 200, res.raw);
      const later = await gen(h, v, 'DOCDEMO', 'MOBILE', mobile);
      assert.equal(later.status, 200, later.raw);
      assert.equal(later.body.user.userRegisteredForPassword, true);
    }
  });
  // Without passwordEnabled the flag has no effect: no password needed.
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: false, passwordRequiredAtSignup: true });
    for (const v of VARIANTS) assert.equal((await gen(h, v, 'DOCDEMO', 'MOBILE', '919999999001')).status, 200);
  });
});

test('token/generate: an existing user with a password cannot overwrite it from token/generate', async () => {
  await run(async (h, assertNoSecrets) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    const NEW = 'Another-Passw0rd-99';
    for (const [i, v] of VARIANTS.entries()) {
      const email = `p${i}@x.co`;
      const first = await otpLogin(h, v, 'DOCDEMO', 'EMAIL', email, withPw());
      assert.equal(first.res.status, 200, first.res.raw);

      // A different password (even a mismatched one) is ignored, and the OTP login on that
      // session does not commit it either.
      const g = await gen(h, v, 'DOCDEMO', 'EMAIL', email, withPw(NEW));
      assert.equal(g.status, 200, g.raw);
      assert.equal(g.body.user.userRegisteredForPassword, true);
      const { res } = await completeOtp(h, v, 'DOCDEMO', 'EMAIL', email, g.body.user.sessionId);
      assert.equal(res.status, 200, res.raw);
      const g2 = await gen(h, v, 'DOCDEMO', 'EMAIL', email, { password: NEW, confirmPassword: 'x' });
      assert.equal(g2.status, 200, g2.raw);

      assert.equal((await passwordLogin(h, v, 'DOCDEMO', 'EMAIL', email, PW)).status, 200);
      expectError(await passwordLogin(h, v, 'DOCDEMO', 'EMAIL', email, NEW), 1528);
    }
    assertNoSecrets([PW, NEW]);
  });
});

// ---------------------------------------------------------------------------------------------
// USERNAME sign-up and login
// ---------------------------------------------------------------------------------------------

const sortIds = (ids: { type: string; value: string; verified: boolean }[]) => [...ids].sort((a, b) => a.type.localeCompare(b.type));

test('token/generate: USERNAME sign-up with a mobile sends the OTP to the mobile; both identifiers verified', async () => {
  await run(async (h, assertNoSecrets) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const [i, v] of VARIANTS.entries()) {
      const user = `Alice_${i}`;
      const lower = user.toLowerCase();
      const mobile = `91999999400${i}`;
      const g = await gen(h, v, 'DOCDEMO', 'USERNAME', user, { mobile: `+${mobile}`, ...withPw() });
      assert.equal(g.status, 200, g.raw);
      assert.equal(g.body.user.userRegisteredForPassword, false);
      expectError(await adminUser(h, 'DOCDEMO', 'USERNAME', lower), 1515);

      const { msg, res } = await completeOtp(h, v, 'DOCDEMO', 'USERNAME', user, g.body.user.sessionId);
      assert.equal(msg.to, mobile);
      assert.equal(msg.channel, 'SMS');
      assert.equal(msg.identifier, `USERNAME|${lower}`);
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.user.userRegisteredForPassword, true);
      assert.deepEqual(
        [...(jose.decodeProtectedHeader(res.body.auth.token).idv as string[])].sort(),
        [`MOBILE|${mobile}`, `USERNAME|${lower}`],
      );

      const u = await adminUser(h, 'DOCDEMO', 'USERNAME', user);
      assert.equal(u.status, 200, u.raw);
      assert.deepEqual(sortIds(u.body.user.identifiers), [
        { type: 'MOBILE', value: mobile, verified: true },
        { type: 'USERNAME', value: lower, verified: true },
      ]);
      assert.equal(u.body.user.hasPassword, true);
      // The same user is found by the mobile.
      assert.equal((await adminUser(h, 'DOCDEMO', 'MOBILE', mobile)).body.user.uid, u.body.user.uid);
      // And the password logs in with the username.
      assert.equal((await passwordLogin(h, v, 'DOCDEMO', 'USERNAME', lower, PW)).status, 200);
    }
    assertNoSecrets([PW]);
  });
});

test('token/generate: USERNAME sign-up with an email sends the OTP to the email; both identifiers verified', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const [i, v] of VARIANTS.entries()) {
      const user = `bob${i}`;
      const email = `bob${i}@x.co`;
      const g = await gen(h, v, 'DOCDEMO', 'USERNAME', user, { email: ` BOB${i}@X.CO `, ...withPw() });
      assert.equal(g.status, 200, g.raw);
      const { msg, res } = await completeOtp(h, v, 'DOCDEMO', 'USERNAME', user, g.body.user.sessionId);
      assert.equal(msg.to, email);
      assert.equal(msg.channel, 'EMAIL');
      assert.equal(res.status, 200, res.raw);
      const u = await adminUser(h, 'DOCDEMO', 'USERNAME', user);
      assert.deepEqual(sortIds(u.body.user.identifiers), [
        { type: 'EMAIL', value: email, verified: true },
        { type: 'USERNAME', value: user, verified: true },
      ]);
    }
  });
});

test('token/generate: USERNAME sign-up with mobile and email: the OTP goes to the mobile, the email stays unverified', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const [i, v] of VARIANTS.entries()) {
      const user = `carol${i}`;
      const mobile = `91999999500${i}`;
      const email = `carol${i}@x.co`;
      const g = await gen(h, v, 'DOCDEMO', 'USERNAME', user, { email, mobile, ...withPw() });
      assert.equal(g.status, 200, g.raw);
      const { msg, res } = await completeOtp(h, v, 'DOCDEMO', 'USERNAME', user, g.body.user.sessionId);
      assert.equal(msg.to, mobile);
      assert.equal(res.status, 200, res.raw);
      // Nothing was sent to the email.
      const toEmail = await h.admin('GET', `/admin/v1/outbox?identifier=${encodeURIComponent(`EMAIL|${email}`)}`);
      assert.deepEqual(toEmail.body.messages, []);
      const u = await adminUser(h, 'DOCDEMO', 'USERNAME', user);
      assert.deepEqual(sortIds(u.body.user.identifiers), [
        { type: 'EMAIL', value: email, verified: false },
        { type: 'MOBILE', value: mobile, verified: true },
        { type: 'USERNAME', value: user, verified: true },
      ]);
    }
  });
});

test('token/generate: USERNAME sign-up without a password → 1520', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const v of VARIANTS) {
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'dave', { mobile: '919999999001' }), 1520);
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'dave', { email: 'd@x.co', password: '', confirmPassword: '' }), 1520);
      // Sign-up passwords are checked like any other.
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'dave', { mobile: '919999999001', password: PW }), 1521);
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'dave', { mobile: '919999999001', ...withPw('short1') }), 1542);
      // A bad destination is a body-shape error.
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'dave', { mobile: '12', ...withPw() }), 1519);
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'dave', { email: 'not-an-email', ...withPw() }), 1519);
    }
    expectError(await adminUser(h, 'DOCDEMO', 'USERNAME', 'dave'), 1515);
  });
});

test('token/generate: USERNAME sign-up of a taken username, or with a mobile/email of another user → 1543', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    // An existing USERNAME user, and an existing MOBILE-only user, and an EMAIL-only user.
    const s = await gen(h, 'web', 'DOCDEMO', 'USERNAME', 'erin', { mobile: '919999999001', ...withPw() });
    assert.equal((await completeOtp(h, 'web', 'DOCDEMO', 'USERNAME', 'erin', s.body.user.sessionId)).res.status, 200);
    assert.equal((await otpLogin(h, 'web', 'DOCDEMO', 'MOBILE', '919999999002')).res.status, 200);
    assert.equal((await otpLogin(h, 'web', 'DOCDEMO', 'EMAIL', 'taken@x.co')).res.status, 200);

    for (const v of VARIANTS) {
      // Taken username, in any case.
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'erin', { mobile: '919999999100', ...withPw() }), 1543);
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'ERIN', { email: 'new@x.co', ...withPw() }), 1543);
      // A free username with a mobile of another user (a MOBILE-only user, and the USERNAME user's mobile).
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'frank', { mobile: '919999999002', ...withPw() }), 1543);
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'frank', { mobile: '+91 99999-99001', ...withPw() }), 1543);
      // … or an email of another user, even next to a free mobile.
      expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'frank', { mobile: '919999999100', email: 'TAKEN@x.co', ...withPw() }), 1543);
    }
    expectError(await adminUser(h, 'DOCDEMO', 'USERNAME', 'frank'), 1515);
    // The username of another brand is free here.
    await h.createBrand('OTHER', { passwordEnabled: true });
    assert.equal((await gen(h, 'web', 'OTHER', 'USERNAME', 'erin', { mobile: '919999999001', ...withPw() })).status, 200);
  });
});

test('token/generate: two pending sign-ups of one free username both get sessions; the first validation wins, the second gets 1543', async () => {
  for (const v of VARIANTS) {
    await run(async (h) => {
      await h.createBrand('DOCDEMO', { passwordEnabled: true });
      const a = await gen(h, v, 'DOCDEMO', 'USERNAME', 'grace', { mobile: '919999999001', ...withPw() });
      const b = await gen(h, v, 'DOCDEMO', 'USERNAME', 'Grace', { mobile: '919999999002', ...withPw('Other-Passw0rd-22') });
      assert.equal(a.status, 200, a.raw);
      assert.equal(b.status, 200, b.raw);
      const id = idBody(v, 'DOCDEMO', 'USERNAME', 'grace');
      for (const s of [a, b]) assert.equal((await h.post(url(v, 'otp/generate'), { ...id, sessionId: s.body.user.sessionId })).status, 200);
      const otpA = (await lastMessage(h, 'DOCDEMO', 'MOBILE|919999999001')).otp;
      const otpB = (await lastMessage(h, 'DOCDEMO', 'MOBILE|919999999002')).otp;

      const first = await h.post(url(v, 'otp/validate'), { ...id, sessionId: b.body.user.sessionId, otp: otpB });
      assert.equal(first.status, 200, first.raw);
      expectError(await h.post(url(v, 'otp/validate'), { ...id, sessionId: a.body.user.sessionId, otp: otpA }), 1543);

      // The user is the winner's: B's mobile and password; A's mobile belongs to nobody.
      const u = await adminUser(h, 'DOCDEMO', 'USERNAME', 'grace');
      assert.deepEqual(sortIds(u.body.user.identifiers), [
        { type: 'MOBILE', value: '919999999002', verified: true },
        { type: 'USERNAME', value: 'grace', verified: true },
      ]);
      expectError(await adminUser(h, 'DOCDEMO', 'MOBILE', '919999999001'), 1515);
      assert.equal((await passwordLogin(h, v, 'DOCDEMO', 'USERNAME', 'grace', 'Other-Passw0rd-22')).status, 200);
      expectError(await passwordLogin(h, v, 'DOCDEMO', 'USERNAME', 'grace', PW), 1528);
    });
  }
});

test('token/generate: USERNAME login of an unknown username → 1540', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    for (const v of VARIANTS) expectError(await gen(h, v, 'DOCDEMO', 'USERNAME', 'nobody'), 1540);
    // Also on a brand without passwords (a USERNAME login needs no password).
    await h.createBrand('PLAIN');
    for (const v of VARIANTS) expectError(await gen(h, v, 'PLAIN', 'USERNAME', 'nobody'), 1540);
  });
});

test('token/generate: USERNAME login of a known user sends the OTP to the registered mobile (else email)', async () => {
  await run(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    // heidi: username + email + mobile; ivan: username + email only.
    const sh = await gen(h, 'web', 'DOCDEMO', 'USERNAME', 'heidi', { email: 'heidi@x.co', mobile: '919999999001', ...withPw() });
    assert.equal((await completeOtp(h, 'web', 'DOCDEMO', 'USERNAME', 'heidi', sh.body.user.sessionId)).res.status, 200);
    const si = await gen(h, 'web', 'DOCDEMO', 'USERNAME', 'ivan', { email: 'ivan@x.co', ...withPw() });
    assert.equal((await completeOtp(h, 'web', 'DOCDEMO', 'USERNAME', 'ivan', si.body.user.sessionId)).res.status, 200);

    for (const v of VARIANTS) {
      h.clock.advance(1000);
      const g = await gen(h, v, 'DOCDEMO', 'USERNAME', 'HEIDI');
      assert.equal(g.status, 200, g.raw);
      assert.equal(g.body.user.userRegisteredForPassword, true);
      const { msg, res } = await completeOtp(h, v, 'DOCDEMO', 'USERNAME', 'heidi', g.body.user.sessionId);
      assert.equal(msg.to, '919999999001');
      assert.equal(msg.channel, 'SMS');
      assert.equal(msg.identifier, 'USERNAME|heidi');
      assert.equal(res.status, 200, res.raw);
      assert.equal(res.body.user.role, 'USER');
      // The found-by-destination filter sees the same code.
      assert.equal((await lastMessage(h, 'DOCDEMO', 'MOBILE|919999999001')).otp, msg.otp);

      const gi = await gen(h, v, 'DOCDEMO', 'USERNAME', 'ivan');
      const ri = await completeOtp(h, v, 'DOCDEMO', 'USERNAME', 'ivan', gi.body.user.sessionId);
      assert.equal(ri.msg.to, 'ivan@x.co');
      assert.equal(ri.msg.channel, 'EMAIL');
      assert.equal(ri.res.status, 200, ri.res.raw);
    }
  });
});
