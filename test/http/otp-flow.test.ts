// Spec §3.2 otp/generate and §3.3 otp/validate, on mobile and web: the success shape and the
// tokens it carries (§4), user creation (§5), every error of the two steps, the OTP rules of
// §2 (lengths, expiry, retries, test OTPs, enabled flag), delivery (§6) and how the OTP and
// the key are stored (keyed hashes only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jwtVerify } from 'jose';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SIGNING_KEY, SUCCESS, expectError, expectOk } from '../helpers/spec.ts';

const MOB = '919999999993';
const MOB2 = '919999999994';

/** token/generate; returns the sessionId. */
async function startSession(h: Harness, v: V, brand: string, type: string, value: string, deviceId = 'device-1'): Promise<string> {
  const r = await h.post(url(v, 'token/generate'), idBody(v, brand, type, value, deviceId));
  expectOk(r, 'token/generate');
  return r.body.user.sessionId as string;
}

const generate = (h: Harness, v: V, brand: string, type: string, value: string, sessionId: string, deviceId = 'device-1') =>
  h.post(url(v, 'otp/generate'), { ...idBody(v, brand, type, value, deviceId), sessionId });

const validate = (h: Harness, v: V, brand: string, type: string, value: string, sessionId: string, otp: string | number, deviceId = 'device-1') =>
  h.post(url(v, 'otp/validate'), { ...idBody(v, brand, type, value, deviceId), sessionId, otp });

/** token/generate + otp/generate; returns the session and the code from the outbox. */
async function sessionWithOtp(h: Harness, v: V, brand: string, type: string, value: string, deviceId = 'device-1') {
  const sessionId = await startSession(h, v, brand, type, value, deviceId);
  expectOk(await generate(h, v, brand, type, value, sessionId, deviceId), 'otp/generate');
  const otp = await h.lastOtp(brand, `${type}|${value}`);
  return { sessionId, otp };
}

/** A code of the same length that is certainly wrong. */
const wrongOf = (otp: string) => String((Number(otp[0]) + 1) % 10) + otp.slice(1);

async function verifyJwt(h: Harness, token: string) {
  return jwtVerify(token, SIGNING_KEY, { algorithms: ['HS256'], currentDate: new Date(h.clock.now()) });
}

for (const v of VARIANTS) {
  test(`${v}: otp/generate then otp/validate — success shape, USER token, key, user created`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { tokenValiditySeconds: { mobile: 600, web: 300 } });
      const before = await h.admin('GET', `/admin/v1/users/DOCDEMO/MOBILE/${MOB}`);
      expectError(before, 1515, 'user before login');

      const sessionId = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      const g = await generate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId);
      assert.equal(g.status, 200, g.raw);
      assert.deepEqual(g.body, { status: SUCCESS }, 'otp/generate answers status only (no OTP)');
      const otp = await h.lastOtp('DOCDEMO', `MOBILE|${MOB}`);
      assert.match(otp, /^[0-9]{6}$/);

      const r = await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, otp);
      assert.equal(r.status, 200, r.raw);
      assert.deepEqual(Object.keys(r.body).sort(), ['auth', 'status', 'user']);
      assert.deepEqual(r.body.status, SUCCESS);
      assert.deepEqual(r.body.user, { appRegistered: false, sessionId: null, role: 'USER', userRegisteredForPassword: false });
      assert.deepEqual(Object.keys(r.body.auth).sort(), ['key', 'token']);
      assert.ok(!r.raw.includes(otp), 'no customer response carries the OTP');

      const now = Math.floor(h.clock.now() / 1000);
      const t = await verifyJwt(h, r.body.auth.token);
      assert.equal(t.payload.rol, 'USER');
      assert.equal(typeof t.payload.uid, 'string');
      assert.match(t.payload.uid as string, /^[0-9]+$/);
      assert.equal(t.payload.iss, 'AUTH ENGINE');
      assert.equal(t.payload.iat, now);
      assert.equal(t.payload.exp, now + (v === 'mobile' ? 600 : 300));
      assert.equal(typeof t.payload.jti, 'string');
      assert.ok((t.payload.jti as string).length > 0);
      assert.deepEqual(t.protectedHeader.idv, [`MOBILE|${MOB}`]);
      assert.equal(t.protectedHeader.dev, v === 'mobile' ? 'device-1' : null);
      assert.equal(t.protectedHeader.org, 'DOCDEMO');
      assert.equal(t.protectedHeader.alg, 'HS256');
      assert.equal(typeof t.protectedHeader.kid, 'string');
      assert.ok((t.protectedHeader.kid as string).length > 0);
      const uid = t.payload.uid as string;

      if (v === 'mobile') {
        assert.equal(typeof r.body.auth.key, 'string', 'mobile with issueKey (default) gets a key');
        const k = await verifyJwt(h, r.body.auth.key);
        assert.equal(k.payload.rol, 'AUTH');
        assert.equal(k.payload.uid, uid);
        assert.equal(k.payload.mfa, false);
        assert.equal(typeof k.payload.jti, 'string');
        assert.notEqual(k.payload.jti, t.payload.jti, 'jti is unique');
        assert.equal(k.payload.iat, now);
        assert.equal(k.payload.exp, undefined, 'keys never expire when keyValidityMinutes is null');
        assert.deepEqual(k.protectedHeader.idv, [`MOBILE|${MOB}`]);
        assert.equal(k.protectedHeader.dev, 'device-1');
        assert.equal(k.protectedHeader.org, 'DOCDEMO');
        assert.equal(k.protectedHeader.kid, t.protectedHeader.kid);
      } else {
        assert.equal(r.body.auth.key, null, 'web never gets a key');
      }

      const after = await h.admin('GET', `/admin/v1/users/DOCDEMO/MOBILE/${MOB}`);
      assert.equal(after.status, 200, after.raw);
      assert.equal(after.body.user.uid, uid);
      assert.equal(after.body.user.brand, 'DOCDEMO');
      assert.deepEqual(after.body.user.identifiers, [{ type: 'MOBILE', value: MOB, verified: true }]);
      assert.equal(after.body.user.hasPassword, false);

      // A second login of the same identifier is the same user; another identifier is another user.
      const again = await otpLogin(h, v, 'DocDemo', 'MOBILE', MOB);
      expectOk(again.res, 'second login');
      assert.equal((await verifyJwt(h, again.res.body.auth.token)).payload.uid, uid);
      const other = await otpLogin(h, v, 'DocDemo', 'EMAIL', 'someone@example.com');
      expectOk(other.res, 'other user');
      const otherUid = (await verifyJwt(h, other.res.body.auth.token)).payload.uid;
      assert.match(otherUid as string, /^[0-9]+$/);
      assert.notEqual(otherUid, uid);
      const third = await otpLogin(h, v, 'DocDemo', 'MOBILE', MOB2);
      const thirdUid = (await verifyJwt(h, third.res.body.auth.token)).payload.uid;
      assert.ok(thirdUid !== uid && thirdUid !== otherUid, 'uids are unique');
    } finally {
      await h.close();
    }
  });
}

test('mobile: issueKey false gives no key; keyValidityMinutes sets the key exp', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('NoKey', { issueKey: false });
    const a = await otpLogin(h, 'mobile', 'NoKey', 'MOBILE', MOB);
    expectOk(a.res);
    assert.equal(a.res.body.auth.key, null);
    assert.equal((await verifyJwt(h, a.res.body.auth.token)).payload.rol, 'USER');

    await h.createBrand('KeyTtl', { keyValidityMinutes: 90 });
    const b = await otpLogin(h, 'mobile', 'KeyTtl', 'MOBILE', MOB);
    expectOk(b.res);
    const k = await verifyJwt(h, b.res.body.auth.key);
    assert.equal(k.payload.rol, 'AUTH');
    assert.equal(k.payload.iat, Math.floor(h.clock.now() / 1000));
    assert.equal(k.payload.exp, (k.payload.iat as number) + 90 * 60);
  } finally {
    await h.close();
  }
});

for (const v of VARIANTS) {
  test(`${v}: session errors — unknown 1505, other variant 1505, other brand 1509, identifier 1541, device 1508`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('BrandA');
      await h.createBrand('BrandB');
      const unknown = `P-${randomUUID()}`;
      expectError(await generate(h, v, 'BrandA', 'MOBILE', MOB, unknown), 1505, 'generate unknown');
      expectError(await validate(h, v, 'BrandA', 'MOBILE', MOB, unknown, '123456'), 1505, 'validate unknown');

      // A session belongs to the variant that created it.
      const other: V = v === 'mobile' ? 'web' : 'mobile';
      const foreign = await sessionWithOtp(h, other, 'BrandA', 'MOBILE', MOB);
      expectError(await generate(h, v, 'BrandA', 'MOBILE', MOB, foreign.sessionId), 1505, 'generate other variant');
      expectError(await validate(h, v, 'BrandA', 'MOBILE', MOB, foreign.sessionId, foreign.otp), 1505, 'validate other variant');

      const { sessionId, otp } = await sessionWithOtp(h, v, 'BrandA', 'MOBILE', MOB);
      expectError(await generate(h, v, 'BrandB', 'MOBILE', MOB, sessionId), 1509, 'generate other brand');
      expectError(await validate(h, v, 'BrandB', 'MOBILE', MOB, sessionId, otp), 1509, 'validate other brand');
      expectError(await generate(h, v, 'BrandA', 'MOBILE', MOB2, sessionId), 1541, 'generate other value');
      expectError(await validate(h, v, 'BrandA', 'MOBILE', MOB2, sessionId, otp), 1541, 'validate other value');
      expectError(await generate(h, v, 'BrandA', 'EMAIL', 'x@example.com', sessionId), 1541, 'generate other type');
      expectError(await validate(h, v, 'BrandA', 'EMAIL', 'x@example.com', sessionId, otp), 1541, 'validate other type');
      if (v === 'mobile') {
        expectError(await generate(h, v, 'BrandA', 'MOBILE', MOB, sessionId, 'device-2'), 1508, 'generate other device');
        expectError(await validate(h, v, 'BrandA', 'MOBILE', MOB, sessionId, otp, 'device-2'), 1508, 'validate other device');
      } else {
        // A deviceId sent to a web endpoint is ignored.
        const r = await h.post(url(v, 'otp/validate'), { ...idBody(v, 'BrandA', 'MOBILE', MOB), deviceId: 'whatever', sessionId, otp });
        expectOk(r, 'web ignores deviceId');
        return;
      }
      // None of the refused calls spent the session or its OTP (the mismatches did not count as wrong OTPs).
      expectOk(await validate(h, v, 'BrandA', 'MOBILE', MOB, sessionId, otp), 'the owner still logs in');
    } finally {
      await h.close();
    }
  });

  test(`${v}: an expired session answers 1505`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { sessionValiditySeconds: 60 });
      const live = await sessionWithOtp(h, v, 'DocDemo', 'MOBILE', MOB);
      const dead = await sessionWithOtp(h, v, 'DocDemo', 'EMAIL', 'a@example.com');
      h.clock.advance(59_000);
      expectOk(await validate(h, v, 'DocDemo', 'MOBILE', MOB, live.sessionId, live.otp), 'just before the end');
      h.clock.advance(2_000);
      expectError(await generate(h, v, 'DocDemo', 'EMAIL', 'a@example.com', dead.sessionId), 1505, 'generate after the end');
      expectError(await validate(h, v, 'DocDemo', 'EMAIL', 'a@example.com', dead.sessionId, dead.otp), 1505, 'validate after the end');
    } finally {
      await h.close();
    }
  });

  test(`${v}: otp/validate before any otp/generate answers 1537`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo');
      const sessionId = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, '123456'), 1537);
    } finally {
      await h.close();
    }
  });

  test(`${v}: an expired OTP answers 1502; an OTP never outlives its session`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Short', { otpValiditySeconds: 60, sessionValiditySeconds: 1200 });
      const a = await sessionWithOtp(h, v, 'Short', 'MOBILE', MOB);
      const b = await sessionWithOtp(h, v, 'Short', 'MOBILE', MOB2);
      h.clock.advance(59_000);
      expectOk(await validate(h, v, 'Short', 'MOBILE', MOB, a.sessionId, a.otp), 'OTP just before expiry');
      h.clock.advance(2_000);
      expectError(await validate(h, v, 'Short', 'MOBILE', MOB2, b.sessionId, b.otp), 1502, 'OTP after expiry');
      // A new OTP on the (still live) session works again.
      expectOk(await generate(h, v, 'Short', 'MOBILE', MOB2, b.sessionId));
      expectOk(await validate(h, v, 'Short', 'MOBILE', MOB2, b.sessionId, await h.lastOtp('SHORT', `MOBILE|${MOB2}`)), 'fresh OTP');

      // otpValiditySeconds 1200 but the session ends after 60 s: the OTP ends with it.
      await h.createBrand('Capped', { otpValiditySeconds: 1200, sessionValiditySeconds: 60 });
      const c = await sessionWithOtp(h, v, 'Capped', 'MOBILE', MOB);
      h.clock.advance(61_000);
      expectError(await validate(h, v, 'Capped', 'MOBILE', MOB, c.sessionId, c.otp), 1505, 'session gone');

      // Session of 100 s: the OTP still works at 99 s, and the message announces 2 minutes
      // (100 s rounded up), not the 20 of otpValiditySeconds.
      await h.createBrand('Capped100', { otpValiditySeconds: 1200, sessionValiditySeconds: 100 });
      const d = await sessionWithOtp(h, v, 'Capped100', 'MOBILE', MOB);
      const msg = (await h.admin('GET', `/admin/v1/outbox?brand=CAPPED100&identifier=${encodeURIComponent(`MOBILE|${MOB}`)}&limit=1`)).body.messages[0];
      assert.match(msg.text, /expires in 2 minutes/, msg.text);
      h.clock.advance(99_000);
      expectOk(await validate(h, v, 'Capped100', 'MOBILE', MOB, d.sessionId, d.otp), 'within the session');
    } finally {
      await h.close();
    }
  });

  test(`${v}: wrong OTP 1506; maxOtpRetries-th wrong answers 1518 and the session is dead`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { maxOtpRetries: 3 });
      const { sessionId, otp } = await sessionWithOtp(h, v, 'DocDemo', 'MOBILE', MOB);
      const wrong = wrongOf(otp);
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, wrong), 1506, 'wrong 1');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, wrong), 1506, 'wrong 2');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, wrong), 1518, 'wrong 3');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, otp), 1518, 'correct OTP on a dead session');
      // "every later call on it answers 1518": a resend cannot revive it either.
      expectError(await generate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId), 1518, 'otp/generate on a dead session');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, otp), 1518, 'still dead');
      // Nobody was created.
      expectError(await h.admin('GET', `/admin/v1/users/DOCDEMO/MOBILE/${MOB}`), 1515, 'no user');
      // A fresh session of the same identifier has its own budget.
      const fresh = await sessionWithOtp(h, v, 'DocDemo', 'MOBILE', MOB);
      expectOk(await validate(h, v, 'DocDemo', 'MOBILE', MOB, fresh.sessionId, fresh.otp), 'fresh session');
    } finally {
      await h.close();
    }
  });

  test(`${v}: single use — replaying a successful session/OTP answers 1505`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo');
      const { sessionId, otp } = await sessionWithOtp(h, v, 'DocDemo', 'MOBILE', MOB);
      expectOk(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, otp), 'first');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, otp), 1505, 'replay');
      expectError(await generate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId), 1505, 'otp/generate on a consumed session');
    } finally {
      await h.close();
    }
  });

  test(`${v}: a new OTP supersedes the old one`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo');
      const { sessionId, otp: first } = await sessionWithOtp(h, v, 'DocDemo', 'MOBILE', MOB);
      let second = first;
      for (let i = 0; i < 20 && second === first; i++) {
        expectOk(await generate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId), 'resend');
        second = await h.lastOtp('DOCDEMO', `MOBILE|${MOB}`);
      }
      assert.notEqual(second, first, 'resends produce a different code');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, first), 1506, 'old code');
      expectOk(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, second), 'new code');
    } finally {
      await h.close();
    }
  });

  test(`${v}: a resend does not reset the wrong-attempt count`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { maxOtpRetries: 3 });
      const { sessionId, otp } = await sessionWithOtp(h, v, 'DocDemo', 'MOBILE', MOB);
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, wrongOf(otp)), 1506, 'wrong 1');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, wrongOf(otp)), 1506, 'wrong 2');
      expectOk(await generate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId), 'resend');
      const next = await h.lastOtp('DOCDEMO', `MOBILE|${MOB}`);
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, wrongOf(next)), 1518, 'wrong 3 after the resend');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, next), 1518, 'correct code after that');
    } finally {
      await h.close();
    }
  });

  test(`${v}: otpEnabled false — otp/generate 1503, otp/validate 1502`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { otpEnabled: false });
      const sessionId = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      expectError(await generate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId), 1503, 'generate');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, '123456'), 1502, 'validate');
      const out = await h.admin('GET', '/admin/v1/outbox?brand=DOCDEMO');
      assert.deepEqual(out.body.messages, [], 'nothing was sent');
    } finally {
      await h.close();
    }
  });

  test(`${v}: testOtps — a listed identifier gets no message and its fixed code validates`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { testOtps: { [`MOBILE|${MOB}`]: '999999', 'EMAIL|qa@example.com': '00001234' } });
      const sessionId = await startSession(h, v, 'DocDemo', 'MOBILE', MOB);
      expectOk(await generate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId), 'generate');
      const out = await h.admin('GET', `/admin/v1/outbox?brand=DOCDEMO&identifier=${encodeURIComponent(`MOBILE|${MOB}`)}`);
      assert.deepEqual(out.body.messages, [], 'no message for a test identifier');
      expectError(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, '999998'), 1506, 'another code');
      expectOk(await validate(h, v, 'DocDemo', 'MOBILE', MOB, sessionId, '999999'), 'fixed code');

      // A fixed code of another length than otpLength, with leading zeros.
      const s2 = await startSession(h, v, 'DocDemo', 'EMAIL', 'qa@example.com');
      expectOk(await generate(h, v, 'DocDemo', 'EMAIL', 'qa@example.com', s2));
      expectOk(await validate(h, v, 'DocDemo', 'EMAIL', 'qa@example.com', s2, '00001234'), 'fixed 8-digit code');

      // An identifier not listed is sent a real, random code.
      const other = await sessionWithOtp(h, v, 'DocDemo', 'MOBILE', MOB2);
      assert.match(other.otp, /^[0-9]{6}$/);
      const all = await h.admin('GET', '/admin/v1/outbox?brand=DOCDEMO');
      assert.equal(all.body.messages.length, 1, 'only the unlisted identifier got a message');
      expectOk(await validate(h, v, 'DocDemo', 'MOBILE', MOB2, other.sessionId, other.otp));
    } finally {
      await h.close();
    }
  });

  test(`${v}: otpLength 4 and 10 give codes of that many digits`, async () => {
    const h = await startHarness();
    try {
      for (const len of [4, 10]) {
        const brand = `Len${len}`;
        await h.createBrand(brand, { otpLength: len });
        for (let i = 0; i < 5; i++) {
          const { sessionId, otp } = await sessionWithOtp(h, v, brand, 'MOBILE', MOB);
          assert.match(otp, new RegExp(`^[0-9]{${len}}$`), `otpLength ${len}: ${otp}`);
          if (i === 0) expectOk(await validate(h, v, brand, 'MOBILE', MOB, sessionId, otp), `validates with length ${len}`);
        }
      }
    } finally {
      await h.close();
    }
  });

  test(`${v}: delivery — SMS for MOBILE, EMAIL for EMAIL, to the identifier, text holds the code`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo');
      const m = await sessionWithOtp(h, v, 'DocDemo', 'MOBILE', MOB);
      const e = await sessionWithOtp(h, v, 'DocDemo', 'EMAIL', 'Person@Example.com');
      const list = (id: string) => h.admin('GET', `/admin/v1/outbox?brand=DOCDEMO&identifier=${encodeURIComponent(id)}`);
      const sms = (await list(`MOBILE|${MOB}`)).body.messages;
      assert.equal(sms.length, 1);
      assert.equal(sms[0].brand, 'DOCDEMO');
      assert.equal(sms[0].identifier, `MOBILE|${MOB}`);
      assert.equal(sms[0].channel, 'SMS');
      assert.equal(sms[0].to, MOB);
      assert.equal(sms[0].otp, m.otp);
      assert.ok(sms[0].text.includes(m.otp), sms[0].text);
      const mail = (await list('EMAIL|person@example.com')).body.messages;
      assert.equal(mail.length, 1);
      assert.equal(mail[0].identifier, 'EMAIL|person@example.com');
      assert.equal(mail[0].channel, 'EMAIL');
      assert.equal(mail[0].to, 'person@example.com');
      assert.ok(mail[0].text.includes(e.otp), mail[0].text);
    } finally {
      await h.close();
    }
  });
}

test('mobile: the OTP is stored only as a keyed hash; the key only hashed', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('DocDemo', { otpLength: 10 });
    const { sessionId, otp } = await sessionWithOtp(h, 'mobile', 'DocDemo', 'MOBILE', MOB);
    // Embedded: the bytes of sessions.db(-wal); production: every key and value under the
    // Redis prefix. (The durable store is not checked for the OTP: the test outbox holds it.)
    const sessions = await h.rawStorageDump('sessions');
    // What is read is the right thing: the session itself is in it.
    assert.ok(sessions.includes(sessionId), `the session is in the session store (${h.storage})`);
    assert.ok(!sessions.includes(otp), `the plain OTP is not in the session store (${h.storage})`);

    const r = await validate(h, 'mobile', 'DocDemo', 'MOBILE', MOB, sessionId, otp);
    expectOk(r);
    const key = r.body.auth.key as string;
    const { payload } = await verifyJwt(h, key);
    // Embedded: the bytes of auth.db(-wal); production: every row of every table.
    const durable = await h.rawStorageDump('durable');
    assert.ok(durable.includes(payload.jti as string), `the key row is in the durable store (${h.storage})`);
    assert.ok(!durable.includes(key), 'the key string is not stored');
    assert.ok(!durable.includes(key.split('.')[2]), 'nor its signature');
    assert.ok(!(await h.rawStorageDump('sessions')).includes(key), 'nor in the session store');
  } finally {
    await h.close();
  }
});

test('CSPRNG sanity: every digit appears in the first position over 600 OTPs', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('DocDemo');
    const firsts = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const sessionId = await startSession(h, 'web', 'DocDemo', 'MOBILE', MOB);
      expectOk(await generate(h, 'web', 'DocDemo', 'MOBILE', MOB, sessionId));
      const otp = await h.lastOtp('DOCDEMO', `MOBILE|${MOB}`);
      assert.match(otp, /^[0-9]{6}$/);
      firsts.set(otp[0], (firsts.get(otp[0]) ?? 0) + 1);
    }
    // P(some digit never leads in 600 uniform draws) ≈ 10 · 0.9^600 ≈ 2e-27.
    assert.deepEqual([...firsts.keys()].sort(), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], JSON.stringify([...firsts]));
    // A gross bias (a digit far off 60) would also show: each should be well within [20, 120].
    for (const [d, n] of firsts) assert.ok(n >= 20 && n <= 120, `digit ${d} led ${n} times of 600`);
  } finally {
    await h.close();
  }
});
