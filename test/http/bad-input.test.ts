// Bad and lenient input on every customer endpoint, through HTTP (spec §1.1–§1.3, §9):
// body shape (1519), identifierType (1546), brand (1504) in that order, never a 5xx, no state
// changed by a refused request; the lenient inputs real clients send; the response envelope.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, url, idBody, otpLogin, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SUCCESS, expectError, expectOk as expectSuccess, type SpecCode } from '../helpers/spec.ts';

const ENDPOINTS = ['token/generate', 'otp/generate', 'otp/validate', 'password/validate'] as const;
type Ep = (typeof ENDPOINTS)[number];
const SESSION_EPS = ['otp/generate', 'otp/validate', 'password/validate'] as const;

const BRAND = 'DocDemo'; // password-enabled, every identifier type
const MOBILE = '919999999993';
const BOGUS_SESSION = 'P-00000000-0000-4000-8000-000000000000';
const PASSWORD = 'Correct-horse-1';

/** No response body may carry internals (spec §1.2). */
function assertClean(r: Res, what: string) {
  assert.ok(r.status < 500, `${what}: 5xx ${r.status} ${r.raw}`);
  assert.ok(!/stack/i.test(r.raw), `${what}: "stack" in ${r.raw}`);
  assert.ok(!r.raw.includes('SELECT'), `${what}: SQL in ${r.raw}`);
  assert.ok(!r.raw.includes('Error:'), `${what}: "Error:" in ${r.raw}`);
  assert.ok(!/\bat \S.*:\d+:\d+/.test(r.raw), `${what}: stack frame in ${r.raw}`);
}

function expectErr(r: Res, code: SpecCode, what: string, http?: number) {
  assertClean(r, what);
  expectError(r, code, what, { http });
  assert.ok(r.headers['x-request-id'], `${what}: x-request-id`);
}

function expectOk(r: Res, what: string) {
  assertClean(r, what);
  expectSuccess(r, what);
}

/** A body that passes every check of §1.3 up to the session (which is bogus unless given). */
function validBody(v: V, ep: Ep, sessionId = BOGUS_SESSION, brand = 'docdemo'): Record<string, unknown> {
  const id: Record<string, unknown> = idBody(v, brand, 'MOBILE', MOBILE);
  switch (ep) {
    case 'token/generate':
      return id;
    case 'otp/generate':
      return { ...id, sessionId };
    case 'otp/validate':
      return { ...id, sessionId, otp: '123456' };
    case 'password/validate':
      return { ...id, sessionId, password: PASSWORD };
  }
}

/** What validBody answers with the bogus session: token/generate starts one, the others find none. */
async function expectBaseline(h: Harness, v: V, ep: Ep, body: unknown, what: string, headers?: Record<string, string>) {
  const r = await h.post(url(v, ep), body, headers);
  if (ep === 'token/generate') expectOk(r, what);
  else expectErr(r, 1505, what);
}

const without = (o: Record<string, unknown>, k: string) => {
  const c = { ...o };
  delete c[k];
  return c;
};

const b64json = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const jwtHeader = (t: string) => b64json(t.split('.')[0]!);
const jwtPayload = (t: string) => b64json(t.split('.')[1]!);

async function withHarness(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { passwordEnabled: true });
    await h.createBrand('EmailOnly', { identifierTypes: ['EMAIL'], passwordEnabled: true });
    await h.createBrand('NoPw', {});
    await fn(h);
  } finally {
    await h.close();
  }
}

/** Every malformed variant of a valid body for an endpoint, each expected to answer 1519 (400). */
function shapeErrors(v: V, ep: Ep, sessionId = BOGUS_SESSION): [string, unknown, Record<string, string>?][] {
  const ok = validBody(v, ep, sessionId);
  const cases: [string, unknown, Record<string, string>?][] = [
    // Malformed JSON and non-object bodies (strings are sent raw).
    ['truncated JSON', '{"brand": "docdemo", "identifierType":'],
    ['unquoted keys', '{brand: docdemo}'],
    ['not JSON at all', 'hello'],
    ['empty body', ''],
    ['array body', [ok]],
    ['empty array body', []],
    ['string body', '"docdemo"'],
    ['number body', '42'],
    ['null body', 'null'],
    ['boolean body', 'true'],
    // Wrong types.
    ['identifierType as number', { ...ok, identifierType: 1 }],
    ['identifierType as null', { ...ok, identifierType: null }],
    ['identifierType as array', { ...ok, identifierType: ['MOBILE'] }],
    ['identifierValue as number', { ...ok, identifierValue: 919999999993 }],
    ['identifierValue as object', { ...ok, identifierValue: { v: MOBILE } }],
    ['brand as number', { ...ok, brand: 42 }],
    ['brand as null', { ...ok, brand: null }],
    ['legacy mobile as number', { ...without(without(ok, 'identifierType'), 'identifierValue'), mobile: 919999999993 }],
    // Missing required fields.
    ['missing brand', without(ok, 'brand')],
    ['missing identifierValue', without(ok, 'identifierValue')],
    ['missing identifierType', without(ok, 'identifierType')],
    ['missing both identifier fields', without(without(ok, 'identifierType'), 'identifierValue')],
    // Invalid identifier values.
    ['MOBILE of 5 digits', { ...ok, identifierValue: '12345' }],
    ['MOBILE with letters', { ...ok, identifierValue: '91999x999993' }],
    ['empty MOBILE', { ...ok, identifierValue: '' }],
    ['bad EMAIL', { ...ok, identifierType: 'EMAIL', identifierValue: 'not-an-email' }],
    ['EMAIL without a dot in the domain', { ...ok, identifierType: 'EMAIL', identifierValue: 'a@b' }],
    ['USERNAME too short', { ...ok, identifierType: 'USERNAME', identifierValue: 'ab' }],
    ['USERNAME with bad characters', { ...ok, identifierType: 'USERNAME', identifierValue: 'bad name!' }],
    // Wrong content type (the body itself is valid JSON).
    ['text/plain', JSON.stringify(ok), { 'content-type': 'text/plain' }],
    ['application/xml', JSON.stringify(ok), { 'content-type': 'application/xml' }],
    ['form-urlencoded', 'brand=docdemo&identifierType=MOBILE', { 'content-type': 'application/x-www-form-urlencoded' }],
  ];
  if (v === 'mobile') {
    cases.push(
      ['missing deviceId (mobile)', without(ok, 'deviceId')],
      ['deviceId null (mobile)', { ...ok, deviceId: null }],
      ['deviceId boolean (mobile)', { ...ok, deviceId: true }],
      ['deviceId object (mobile)', { ...ok, deviceId: { id: 1 } }],
      ['deviceId empty (mobile)', { ...ok, deviceId: '' }],
      ['deviceId blank (mobile)', { ...ok, deviceId: '   ' }],
      ['deviceId with a NUL (mobile)', { ...ok, deviceId: 'dev\u0000ice' }],
      ['deviceId with a newline (mobile)', { ...ok, deviceId: 'dev\nice' }],
    );
  }
  if (ep !== 'token/generate') {
    cases.push(['missing sessionId', without(ok, 'sessionId')], ['sessionId as number', { ...ok, sessionId: 12345 }], ['sessionId as null', { ...ok, sessionId: null }]);
  }
  if (ep === 'otp/validate') {
    cases.push(
      ['missing otp', without(ok, 'otp')],
      ['otp as boolean', { ...ok, otp: true }],
      ['otp as object', { ...ok, otp: { code: '123456' } }],
      ['otp as array', { ...ok, otp: ['123456'] }],
      ['otp as null', { ...ok, otp: null }],
      ['otp empty', { ...ok, otp: '' }],
    );
  }
  if (ep === 'password/validate') {
    cases.push(['missing password', without(ok, 'password')], ['password as number', { ...ok, password: 12345678 }], ['password as null', { ...ok, password: null }]);
  }
  if (ep === 'token/generate') {
    cases.push(['password as number', { ...ok, password: 12345678, confirmPassword: 12345678 }]);
  }
  return cases;
}

test('body-shape errors answer 1519 (HTTP 400) on every endpoint and variant, never a 5xx', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      for (const ep of ENDPOINTS) {
        // The unmodified body gets past the shape checks: each case below fails because of its change.
        await expectBaseline(h, v, ep, validBody(v, ep), `${v} ${ep} baseline`);
        for (const [name, body, headers] of shapeErrors(v, ep)) {
          expectErr(await h.post(url(v, ep), body, headers), 1519, `${v} ${ep}: ${name}`);
        }
      }
    }
  });
});

test('a body over 16 KiB answers HTTP 413 with code 1519; just under is accepted', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      for (const ep of ENDPOINTS) {
        const body = validBody(v, ep);
        const big = await h.post(url(v, ep), { ...body, padding: 'x'.repeat(17 * 1024) });
        expectErr(big, 1519, `${v} ${ep} over 16 KiB`, 413);
        // An unknown extra field that keeps the body under the limit is ignored.
        await expectBaseline(h, v, ep, { ...body, padding: 'x'.repeat(15 * 1024) }, `${v} ${ep} 15 KiB`);
      }
    }
  });
});

test('application/json with a charset parameter is accepted', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      for (const ep of ENDPOINTS) {
        await expectBaseline(h, v, ep, JSON.stringify(validBody(v, ep)), `${v} ${ep} charset`, { 'content-type': 'application/json; charset=utf-8' });
      }
    }
  });
});

test('unknown identifierType and a type not enabled for the brand answer 1546', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      for (const ep of ENDPOINTS) {
        const ok = validBody(v, ep);
        for (const t of ['PHONE', 'FAX', 'MOBILE_NUMBER']) {
          expectErr(await h.post(url(v, ep), { ...ok, identifierType: t }), 1546, `${v} ${ep}: type ${t}`);
        }
        // EmailOnly accepts EMAIL only: a valid MOBILE or USERNAME is refused before any session check.
        const onEmailOnly = { ...ok, brand: 'EmailOnly' };
        expectErr(await h.post(url(v, ep), onEmailOnly), 1546, `${v} ${ep}: MOBILE not enabled`);
        expectErr(await h.post(url(v, ep), { ...onEmailOnly, identifierType: 'USERNAME', identifierValue: 'alice' }), 1546, `${v} ${ep}: USERNAME not enabled`);
        // ...while EMAIL gets past the type check there.
        await expectBaseline(h, v, ep, { ...onEmailOnly, identifierType: 'EMAIL', identifierValue: 'a@b.co' }, `${v} ${ep}: EMAIL enabled`);
      }
    }
  });
});

test('unknown brand answers 1504, before the session is looked at', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      for (const ep of ENDPOINTS) {
        expectErr(await h.post(url(v, ep), validBody(v, ep, BOGUS_SESSION, 'NoSuchBrand')), 1504, `${v} ${ep}: unknown brand`);
      }
      // A live session of another brand: still 1504 (not 1509), the brand is judged first.
      const gen = await h.post(url(v, 'token/generate'), validBody(v, 'token/generate'));
      expectOk(gen, `${v} token/generate`);
      const sid = gen.body.user.sessionId as string;
      for (const ep of SESSION_EPS) {
        expectErr(await h.post(url(v, ep), validBody(v, ep, sid, 'NoSuchBrand')), 1504, `${v} ${ep}: unknown brand, live session`);
      }
    }
  });
});

test('§1.3 order: shape (1519) → identifierType (1546) → brand (1504) → password feature (1524) → session', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      for (const ep of ENDPOINTS) {
        const ok = validBody(v, ep);
        const unknownBrand = { ...ok, brand: 'NoSuchBrand' };
        const w = `${v} ${ep}`;
        // Shape before brand and type.
        expectErr(await h.post(url(v, ep), { ...unknownBrand, identifierValue: '12345' }), 1519, `${w}: bad value + unknown brand`);
        expectErr(await h.post(url(v, ep), { ...unknownBrand, identifierType: 7 }), 1519, `${w}: numeric type + unknown brand`);
        expectErr(await h.post(url(v, ep), { ...unknownBrand, identifierType: 'PHONE', identifierValue: 5 }), 1519, `${w}: numeric value + unknown type + unknown brand`);
        expectErr(await h.post(url(v, ep), { ...unknownBrand, identifierType: 'EMAIL', identifierValue: 'nope' }), 1519, `${w}: bad email + unknown brand`);
        if (v === 'mobile') {
          expectErr(await h.post(url(v, ep), without({ ...unknownBrand, identifierType: 'PHONE' }, 'deviceId')), 1519, `${w}: no deviceId + unknown type + unknown brand`);
        }
        if (ep !== 'token/generate') {
          expectErr(await h.post(url(v, ep), without(unknownBrand, 'sessionId')), 1519, `${w}: no sessionId + unknown brand`);
        }
        // Type before brand.
        expectErr(await h.post(url(v, ep), { ...unknownBrand, identifierType: 'PHONE' }), 1546, `${w}: unknown type + unknown brand`);
        // Type not enabled before the session.
        expectErr(await h.post(url(v, ep), { ...ok, brand: 'EmailOnly' }), 1546, `${w}: type not enabled + bogus session`);
      }
      // password/validate on a brand without passwords: 1524 before the (bogus) session.
      expectErr(await h.post(url(v, 'password/validate'), validBody(v, 'password/validate', BOGUS_SESSION, 'NoPw')), 1524, `${v} password/validate: 1524 before 1505`);
      expectErr(await h.post(url(v, 'password/validate'), validBody(v, 'password/validate', BOGUS_SESSION, 'NoSuchBrand')), 1504, `${v} password/validate: 1504 before 1524`);
    }
  });
});

test('a bad otp/validate request is not a wrong attempt: the correct OTP still validates', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('OneTry', { maxOtpRetries: 1 });
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? '919999990001' : '919999990002';
      const id = idBody(v, 'onetry', 'MOBILE', value);
      // Control: with maxOtpRetries 1, one genuinely wrong OTP kills the session.
      const c = await h.post(url(v, 'token/generate'), id);
      expectOk(c, `${v} control token/generate`);
      const cs = c.body.user.sessionId as string;
      expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId: cs }), `${v} control otp/generate`);
      const cotp = await h.lastOtp('onetry', `MOBILE|${value}`);
      const wrong = cotp === '000000' ? '111111' : '000000';
      expectErr(await h.post(url(v, 'otp/validate'), { ...id, sessionId: cs, otp: wrong }), 1518, `${v} control wrong OTP`);
      expectErr(await h.post(url(v, 'otp/validate'), { ...id, sessionId: cs, otp: cotp }), 1518, `${v} control session dead`);

      const gen = await h.post(url(v, 'token/generate'), id);
      expectOk(gen, `${v} token/generate`);
      const sid = gen.body.user.sessionId as string;
      expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId: sid }), `${v} otp/generate`);
      const otp = await h.lastOtp('onetry', `MOBILE|${value}`);
      const good = { ...id, sessionId: sid, otp };
      const bad: [string, unknown, (SpecCode | undefined)?, Record<string, string>?][] = [
        ['otp boolean', { ...good, otp: true }],
        ['otp object', { ...good, otp: { otp } }],
        ['otp missing', without(good, 'otp')],
        ['otp empty', { ...good, otp: '' }],
        ['bad identifierValue', { ...good, identifierValue: '12345' }],
        ['identifierValue number', { ...good, identifierValue: Number(value) }],
        ['unknown type', { ...good, identifierType: 'PHONE' }, 1546],
        ['unknown brand', { ...good, brand: 'NoSuchBrand' }, 1504],
        ['malformed JSON', `{"sessionId":"${sid}","otp":`],
        ['array body', [good]],
        ['wrong content type', JSON.stringify({ ...good, otp: wrong }), 1519, { 'content-type': 'text/plain' }],
        ['over 16 KiB', { ...good, otp: wrong, padding: 'x'.repeat(17 * 1024) }],
      ];
      if (v === 'mobile') bad.push(['no deviceId', { ...without(good, 'deviceId'), otp: wrong }]);
      for (const [name, body, code = 1519, headers] of bad) {
        const r = await h.post(url(v, 'otp/validate'), body, headers);
        if (name === 'over 16 KiB') expectErr(r, 1519, `${v} ${name}`, 413);
        else expectErr(r, code, `${v} ${name}`);
      }
      const res = await h.post(url(v, 'otp/validate'), good);
      expectOk(res, `${v} correct OTP after bad requests`);
      assert.equal(res.body.user.role, 'USER');
    }
  } finally {
    await h.close();
  }
});

test('a bad otp/generate request sends nothing, is not counted toward otpMaxCount and leaves the session usable', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('OneOtp', { otpMaxCount: 1, otpTimeOut: 60 });
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? '919999990011' : '919999990012';
      const id = idBody(v, 'oneotp', 'MOBILE', value);
      const gen = await h.post(url(v, 'token/generate'), id);
      expectOk(gen, `${v} token/generate`);
      const good = { ...id, sessionId: gen.body.user.sessionId as string };
      for (const [name, body, headers] of [
        ['bad value', { ...good, identifierValue: '12345' }],
        ['sessionId number', { ...good, sessionId: 1 }],
        ['no sessionId', without(good, 'sessionId')],
        ['unknown type', { ...good, identifierType: 'PHONE' }],
        ['unknown brand', { ...good, brand: 'NoSuchBrand' }],
        ['non-object', [good]],
        ['malformed JSON', `{"sessionId":"${good.sessionId}"`],
        ['wrong content type', JSON.stringify(good), { 'content-type': 'text/plain' }],
        ['over 16 KiB', { ...good, padding: 'x'.repeat(17 * 1024) }],
      ] as [string, unknown, Record<string, string>?][]) {
        const r = await h.post(url(v, 'otp/generate'), body, headers);
        assertClean(r, `${v} ${name}`);
        assert.notEqual(r.status, 200, `${v} ${name}`);
      }
      const outbox = await h.admin('GET', `/admin/v1/outbox?brand=ONEOTP&identifier=${encodeURIComponent(`MOBILE|${value}`)}`);
      assert.deepEqual(outbox.body.messages, [], `${v}: nothing sent by refused requests`);
      // The one accepted request is the only message sent, and it is within otpMaxCount 1.
      expectOk(await h.post(url(v, 'otp/generate'), good), `${v} real otp/generate`);
      const after = await h.admin('GET', `/admin/v1/outbox?brand=ONEOTP&identifier=${encodeURIComponent(`MOBILE|${value}`)}`);
      assert.equal(after.body.messages.length, 1);
      const otp = after.body.messages[0].otp as string;
      expectOk(await h.post(url(v, 'otp/validate'), { ...good, otp }), `${v} otp/validate`);
      // Control: the limit is real. The one accepted send spent the quota of 1, so another
      // accepted-shape request (new session) is refused — the bad ones above took nothing.
      const again = await h.post(url(v, 'token/generate'), id);
      expectOk(again, `${v} token/generate again`);
      const over = await h.post(url(v, 'otp/generate'), { ...id, sessionId: again.body.user.sessionId });
      expectErr(over, 1534, `${v} control: a second real send`);
      assert.equal(over.headers['retry-after'], '3600', `${v} control: Retry-After`);
    }
  } finally {
    await h.close();
  }
});

test('a refused token/generate creates no session and no user', async () => {
  await withHarness(async (h) => {
    const farFuture = h.clock.now() + 10 * 365 * 24 * 3600 * 1000;
    for (const v of VARIANTS) {
      const ok = validBody(v, 'token/generate');
      const refused: unknown[] = [
        ...shapeErrors(v, 'token/generate').filter(([, , hd]) => hd === undefined).map(([, b]) => b),
        { ...ok, identifierType: 'PHONE' },
        { ...ok, brand: 'NoSuchBrand' },
        { ...ok, brand: 'EmailOnly' },
        { ...ok, padding: 'x'.repeat(17 * 1024) },
        { ...ok, password: 'short', confirmPassword: 'short' }, // policy (1542)
        { ...ok, password: PASSWORD, confirmPassword: 'something-else-1' }, // mismatch (1521)
        { ...ok, brand: 'NoPw', password: PASSWORD, confirmPassword: PASSWORD }, // passwords off (1524)
      ];
      for (const body of refused) {
        const r = await h.post(url(v, 'token/generate'), body);
        assertClean(r, `${v} refused token/generate`);
        assert.notEqual(r.status, 200, `${v} refused token/generate: ${JSON.stringify(body).slice(0, 120)}`);
      }
    }
    assert.equal(await h.deps.sessions.sweep(farFuture), 0, 'no session was stored by a refused request');
    expectErr(await h.admin('GET', `/admin/v1/users/DOCDEMO/MOBILE/${MOBILE}`), 1515, 'no user');
    const outbox = await h.admin('GET', '/admin/v1/outbox');
    assert.deepEqual(outbox.body.messages, []);
    // The counter is real: one accepted request stores one session.
    expectOk(await h.post(url('web', 'token/generate'), validBody('web', 'token/generate')), 'accepted');
    assert.equal(await h.deps.sessions.sweep(farFuture), 1);
  });
});

test('a bad password/validate request neither consumes the session nor counts toward maxPasswordRetries', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('PwOne', { passwordEnabled: true, maxPasswordRetries: 1 });
    const pw = { password: PASSWORD, confirmPassword: PASSWORD };
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? '919999990021' : '919999990022';
      expectOk((await otpLogin(h, v, 'pwone', 'MOBILE', value, pw)).res, `${v} sign-up`);
      const g = await h.post(url(v, 'token/generate'), idBody(v, 'pwone', 'MOBILE', value));
      expectOk(g, `${v} token/generate`);
      const base = { ...idBody(v, 'pwone', 'MOBILE', value), sessionId: g.body.user.sessionId as string };
      const good = { ...base, password: PASSWORD };
      const bad: [string, unknown, SpecCode?][] = [
        ['password number', { ...base, password: 12345678 }],
        ['password null', { ...base, password: null }],
        ['password missing', base],
        ['bad identifierValue', { ...good, identifierValue: 'x' }],
        ['unknown type', { ...good, identifierType: 'PHONE' }, 1546],
        ['unknown brand', { ...good, brand: 'NoSuchBrand' }, 1504],
        ['malformed', `{"password":"${PASSWORD}"`],
      ];
      if (v === 'mobile') bad.push(['no deviceId', without(good, 'deviceId')]);
      for (const [name, body, code = 1519] of bad) {
        expectErr(await h.post(url(v, 'password/validate'), body), code, `${v} ${name}`);
      }
      const r = await h.post(url(v, 'password/validate'), good);
      expectOk(r, `${v} correct password after bad requests`);
      assert.deepEqual(r.body.identifiers.identifierList, [{ type: 'MOBILE', value }]);
      // Control: the budget of 1 is real. One genuinely wrong password spends it (1530), and
      // then even the right one is refused — the bad requests above were not failures.
      const session = async () => {
        const s = await h.post(url(v, 'token/generate'), idBody(v, 'pwone', 'MOBILE', value));
        expectOk(s, `${v} token/generate`);
        return { ...idBody(v, 'pwone', 'MOBILE', value), sessionId: s.body.user.sessionId as string };
      };
      expectErr(await h.post(url(v, 'password/validate'), { ...(await session()), password: 'Wrong-horse-9' }), 1530, `${v} control: one wrong password`);
      expectErr(await h.post(url(v, 'password/validate'), { ...(await session()), password: PASSWORD }), 1530, `${v} control: budget spent`);
    }
  } finally {
    await h.close();
  }
});

test('web ignores deviceId (absent, string, number, object); mobile binds it', async () => {
  await withHarness(async (h) => {
    const id = { brand: 'docdemo', identifierType: 'MOBILE', identifierValue: '919999990041' };
    const gen = await h.post(url('web', 'token/generate'), { ...id, deviceId: 'dev-A' });
    expectOk(gen, 'web token/generate with deviceId');
    assert.equal(jwtHeader(gen.body.auth.token).dev, null, 'web VIEW token has no device');
    const sessionId = gen.body.user.sessionId as string;
    expectOk(await h.post(url('web', 'otp/generate'), { ...id, sessionId, deviceId: 'dev-B' }), 'web otp/generate, other deviceId');
    const otp = await h.lastOtp('docdemo', 'MOBILE|919999990041');
    const res = await h.post(url('web', 'otp/validate'), { ...id, sessionId, otp, deviceId: { weird: true } });
    expectOk(res, 'web otp/validate, object deviceId');
    assert.equal(jwtHeader(res.body.auth.token).dev, null);
    assert.equal(res.body.auth.key, null);

    const noDev = await h.post(url('web', 'token/generate'), id);
    expectOk(noDev, 'web token/generate without deviceId');

    // Mobile, by contrast, is bound to the device.
    const mid = { ...id, deviceId: 'dev-A' };
    const mg = await h.post(url('mobile', 'token/generate'), mid);
    expectOk(mg, 'mobile token/generate');
    expectErr(await h.post(url('mobile', 'otp/generate'), { ...mid, deviceId: 'dev-B', sessionId: mg.body.user.sessionId }), 1508, 'mobile other device');
  });
});

test('lenient: otp as a JSON number, padded back to its leading zero', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('DocDemo', { testOtps: { 'MOBILE|919999999993': '012345' } });
    for (const v of VARIANTS) {
      const id = idBody(v, 'docdemo', 'MOBILE', MOBILE);
      const session = async () => {
        const g = await h.post(url(v, 'token/generate'), id);
        expectOk(g, `${v} token/generate`);
        const sessionId = g.body.user.sessionId as string;
        expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), `${v} otp/generate`);
        return sessionId;
      };
      // A different number is still a wrong OTP (the padding does not make anything pass).
      const s1 = await session();
      expectErr(await h.post(url(v, 'otp/validate'), { ...id, sessionId: s1, otp: 12346 }), 1506, `${v} wrong numeric otp`);
      const ok1 = await h.post(url(v, 'otp/validate'), { ...id, sessionId: s1, otp: 12345 });
      expectOk(ok1, `${v} numeric otp 12345 for code 012345`);
      assert.equal(ok1.body.user.role, 'USER');
      const s2 = await session();
      expectOk(await h.post(url(v, 'otp/validate'), { ...id, sessionId: s2, otp: '012345' }), `${v} string otp`);
    }
    // A generated code sent as a number works too (on another identifier).
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? '919999990051' : '919999990052';
      const id = idBody(v, 'docdemo', 'MOBILE', value);
      const g = await h.post(url(v, 'token/generate'), id);
      const sessionId = g.body.user.sessionId as string;
      expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), `${v} otp/generate`);
      const otp = await h.lastOtp('docdemo', `MOBILE|${value}`);
      expectOk(await h.post(url(v, 'otp/validate'), { ...id, sessionId, otp: Number(otp) }), `${v} generated otp ${otp} as number`);
    }
  } finally {
    await h.close();
  }
});

test('lenient: a numeric deviceId is the same device as its string form', async () => {
  await withHarness(async (h) => {
    const id = { brand: 'docdemo', identifierType: 'MOBILE', identifierValue: '919999990061' };
    const g = await h.post(url('mobile', 'token/generate'), { ...id, deviceId: 12345 });
    expectOk(g, 'token/generate with numeric deviceId');
    assert.equal(jwtHeader(g.body.auth.token).dev, '12345');
    const sessionId = g.body.user.sessionId as string;
    expectErr(await h.post(url('mobile', 'otp/generate'), { ...id, sessionId, deviceId: '123456' }), 1508, 'another device');
    expectOk(await h.post(url('mobile', 'otp/generate'), { ...id, sessionId, deviceId: '12345' }), 'string form of the device');
    const otp = await h.lastOtp('docdemo', 'MOBILE|919999990061');
    const r = await h.post(url('mobile', 'otp/validate'), { ...id, sessionId, otp, deviceId: 12345 });
    expectOk(r, 'numeric deviceId again');
    assert.equal(jwtHeader(r.body.auth.token).dev, '12345');
  });
});

test('lenient: brand is case-insensitive and upper-cased in tokens', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? '919999990071' : '919999990072';
      const g = await h.post(url(v, 'token/generate'), idBody(v, 'docdemo', 'MOBILE', value));
      expectOk(g, `${v} lower-case brand`);
      assert.equal(jwtHeader(g.body.auth.token).org, 'DOCDEMO');
      const sessionId = g.body.user.sessionId as string;
      // The session started as "docdemo" continues as "DocDemo" and "DOCDEMO" (no 1509).
      expectOk(await h.post(url(v, 'otp/generate'), { ...idBody(v, 'DocDemo', 'MOBILE', value), sessionId }), `${v} mixed-case brand`);
      const otp = await h.lastOtp('DOCDEMO', `MOBILE|${value}`);
      const r = await h.post(url(v, 'otp/validate'), { ...idBody(v, 'DOCDEMO', 'MOBILE', value), sessionId, otp });
      expectOk(r, `${v} upper-case brand`);
      assert.equal(jwtHeader(r.body.auth.token).org, 'DOCDEMO');
    }
  });
});

test('lenient: identifierType is case-insensitive', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? '919999990081' : '919999990082';
      const g = await h.post(url(v, 'token/generate'), idBody(v, 'docdemo', 'mobile', value));
      expectOk(g, `${v} lower-case type`);
      assert.deepEqual(jwtHeader(g.body.auth.token).idv, [`MOBILE|${value}`]);
      const sessionId = g.body.user.sessionId as string;
      expectOk(await h.post(url(v, 'otp/generate'), { ...idBody(v, 'docdemo', 'Mobile', value), sessionId }), `${v} mixed-case type`);
      const otp = await h.lastOtp('docdemo', `MOBILE|${value}`);
      expectOk(await h.post(url(v, 'otp/validate'), { ...idBody(v, 'docdemo', 'MOBILE', value), sessionId, otp }), `${v} upper-case type`);
    }
  });
});

test('lenient: the legacy { mobile } shape means a MOBILE identifier; explicit fields win over it', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const legacy = v === 'mobile' ? { mobile: '+91 99999-99993', brand: 'docdemo', deviceId: 'device-1' } : { mobile: '+91 99999-99993', brand: 'docdemo' };
      const g = await h.post(url(v, 'token/generate'), legacy);
      expectOk(g, `${v} legacy token/generate`);
      assert.deepEqual(jwtHeader(g.body.auth.token).idv, [`MOBILE|${MOBILE}`]);
      const sessionId = g.body.user.sessionId as string;
      // The legacy session is the MOBILE identifier's session: the explicit shape continues it...
      expectOk(await h.post(url(v, 'otp/generate'), { ...idBody(v, 'docdemo', 'MOBILE', MOBILE), sessionId }), `${v} explicit otp/generate`);
      const otp = await h.lastOtp('docdemo', `MOBILE|${MOBILE}`);
      // ...and so does the legacy shape itself.
      expectOk(await h.post(url(v, 'otp/validate'), { ...legacy, sessionId, otp }), `${v} legacy otp/validate`);

      // Both sent: identifierType/identifierValue win.
      const email = v === 'mobile' ? 'both-m@example.com' : 'both-w@example.com';
      const both = { ...idBody(v, 'docdemo', 'EMAIL', email), mobile: '919999990091' };
      const bg = await h.post(url(v, 'token/generate'), both);
      expectOk(bg, `${v} both shapes`);
      assert.deepEqual(jwtHeader(bg.body.auth.token).idv, [`EMAIL|${email}`]);
      const bs = bg.body.user.sessionId as string;
      expectErr(await h.post(url(v, 'otp/generate'), { ...idBody(v, 'docdemo', 'MOBILE', '919999990091'), sessionId: bs }), 1541, `${v} the mobile is not the session's identifier`);
      expectOk(await h.post(url(v, 'otp/generate'), { ...both, sessionId: bs }), `${v} both shapes otp/generate`);
      const eotp = await h.lastOtp('docdemo', `EMAIL|${email}`);
      expectOk(await h.post(url(v, 'otp/validate'), { ...idBody(v, 'docdemo', 'EMAIL', email), sessionId: bs, otp: eotp }), `${v} both shapes otp/validate`);
    }
  });
});

test('normalisation: two spellings of a mobile number or an email address are one user', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const [spaced, plain] = v === 'mobile' ? ['+91 99999-00101', '919999900101'] : ['+91 (99999) 00.102', '919999900102'];
      const a = await otpLogin(h, v, 'docdemo', 'MOBILE', spaced);
      expectOk(a.res, `${v} ${spaced}`);
      // A session started with one spelling is continued with the other.
      const g = await h.post(url(v, 'token/generate'), idBody(v, 'docdemo', 'MOBILE', plain));
      const sessionId = g.body.user.sessionId as string;
      expectOk(await h.post(url(v, 'otp/generate'), { ...idBody(v, 'docdemo', 'MOBILE', spaced), sessionId }), `${v} other spelling continues the session`);
      const otp = await h.lastOtp('docdemo', `MOBILE|${plain}`);
      const b = await h.post(url(v, 'otp/validate'), { ...idBody(v, 'docdemo', 'MOBILE', plain), sessionId, otp });
      expectOk(b, `${v} ${plain}`);
      assert.equal(jwtPayload(b.body.auth.token).uid, jwtPayload(a.res.body.auth.token).uid, `${v}: one user for both spellings`);
      const user = await h.admin('GET', `/admin/v1/users/DOCDEMO/MOBILE/${plain}`);
      assert.equal(user.status, 200, user.raw);
      assert.deepEqual(user.body.user.identifiers.map((i: { type: string; value: string }) => `${i.type}|${i.value}`), [`MOBILE|${plain}`]);

      const [messy, clean] = v === 'mobile' ? ['  Alice.M@Example.COM ', 'alice.m@example.com'] : ['\tBob.W@EXAMPLE.com  ', 'bob.w@example.com'];
      const e1 = await otpLogin(h, v, 'docdemo', 'EMAIL', messy);
      expectOk(e1.res, `${v} ${JSON.stringify(messy)}`);
      assert.deepEqual(jwtHeader(e1.res.body.auth.token).idv, [`EMAIL|${clean}`]);
      const e2 = await otpLogin(h, v, 'docdemo', 'EMAIL', clean);
      expectOk(e2.res, `${v} ${clean}`);
      assert.equal(jwtPayload(e2.res.body.auth.token).uid, jwtPayload(e1.res.body.auth.token).uid, `${v}: one user for both addresses`);
      assert.notEqual(jwtPayload(e2.res.body.auth.token).uid, jwtPayload(b.body.auth.token).uid);
    }
  });
});

test('unknown extra fields are ignored on every endpoint', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      for (const ep of ENDPOINTS) {
        const extra = { foo: 'bar', nested: { a: [1, 2, 3] }, n: null, isAdmin: true, role: 'ADMIN' };
        await expectBaseline(h, v, ep, { ...validBody(v, ep), ...extra }, `${v} ${ep} with extra fields`);
      }
      // And a whole flow with extra fields succeeds, granting nothing more than USER.
      const value = v === 'mobile' ? '919999990111' : '919999990112';
      const m = await otpLogin(h, v, 'docdemo', 'MOBILE', value, { role: 'ADMIN', uid: '1', extra: { x: 1 } });
      expectOk(m.res, `${v} flow with extra fields`);
      assert.equal(m.res.body.user.role, 'USER');
      assert.equal(jwtPayload(m.res.body.auth.token).rol, 'USER');
    }
  });
});

test('envelope: unknown routes answer 404 with the failure envelope', async () => {
  await withHarness(async (h) => {
    const requests: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string }[] = [
      { method: 'POST', url: '/auth/v1/nope' },
      { method: 'POST', url: '/auth/v1/web/nope' },
      { method: 'GET', url: '/nope' },
      { method: 'GET', url: '/auth/v1/token/generate' }, // wrong method on a real path
      { method: 'DELETE', url: '/auth/v1/web/otp/validate' },
      { method: 'POST', url: '/auth/v2/token/generate' },
    ];
    for (const rq of requests) {
      const r = await h.app.inject({ method: rq.method, url: rq.url, headers: { 'content-type': 'application/json' }, payload: rq.method === 'GET' ? undefined : '{}' });
      const what = `${rq.method} ${rq.url}`;
      assert.equal(r.statusCode, 404, what);
      const body = JSON.parse(r.body);
      assert.deepEqual(Object.keys(body), ['status'], what);
      assert.equal(body.status.success, false, what);
      assert.equal(typeof body.status.code, 'number', what);
      assert.equal(typeof body.status.message, 'string', what);
      assert.ok(r.headers['x-request-id'], `${what}: x-request-id`);
    }
  });
});

test('envelope: every response has an x-request-id, echoed when sent, generated otherwise', async () => {
  await withHarness(async (h) => {
    type Call = (hdr: Record<string, string>) => Promise<Res>;
    const kinds: [string, Call, number][] = [];
    for (const v of VARIANTS) {
      const body = validBody(v, 'token/generate');
      kinds.push(
        [`${v} success`, (hdr) => h.post(url(v, 'token/generate'), body, hdr), 200],
        [`${v} error`, (hdr) => h.post(url(v, 'otp/generate'), validBody(v, 'otp/generate'), hdr), 401],
        [`${v} bad shape`, (hdr) => h.post(url(v, 'token/generate'), '{', hdr), 400],
        [`${v} 413`, (hdr) => h.post(url(v, 'token/generate'), { ...body, p: 'x'.repeat(17 * 1024) }, hdr), 413],
      );
    }
    kinds.push(['404', (hdr) => h.post('/auth/v1/nope', {}, hdr), 404]);
    kinds.push([
      'health',
      async (hdr) => {
        const r = await h.app.inject({ method: 'GET', url: '/health', headers: hdr });
        return { status: r.statusCode, headers: r.headers, body: JSON.parse(r.body), raw: r.body };
      },
      200,
    ]);
    for (const sent of [true, false]) {
      const seen = new Set<string>();
      for (const [what, call, status] of kinds) {
        const r = await call(sent ? { 'x-request-id': 'abc-123' } : {});
        assert.equal(r.status, status, `${what}: ${r.raw}`);
        const id = r.headers['x-request-id'];
        assert.equal(typeof id, 'string', `${what}: x-request-id`);
        if (sent) assert.equal(id, 'abc-123', `${what}: echoed`);
        else {
          assert.ok((id as string).length >= 8, `${what}: generated id ${id}`);
          assert.ok(!seen.has(id as string), `${what}: generated ids differ`);
          seen.add(id as string);
        }
      }
    }
  });
});

test('envelope: success is exactly { success: true, code: 200, message: "SUCCESS" } on every endpoint', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const value = v === 'mobile' ? '919999990121' : '919999990122';
      const m = await otpLogin(h, v, 'docdemo', 'MOBILE', value, { password: PASSWORD, confirmPassword: PASSWORD });
      assert.deepEqual(m.gen.body.status, SUCCESS);
      assert.deepEqual(m.res.body.status, SUCCESS);
      const id = idBody(v, 'docdemo', 'MOBILE', value);
      const g = await h.post(url(v, 'token/generate'), id);
      const sessionId = g.body.user.sessionId as string;
      const send = await h.post(url(v, 'otp/generate'), { ...id, sessionId });
      assert.equal(send.status, 200);
      assert.deepEqual(send.body, { status: SUCCESS }, 'otp/generate answers the status only');
      const pv = await h.post(url(v, 'password/validate'), { ...id, sessionId, password: PASSWORD });
      assert.equal(pv.status, 200, pv.raw);
      assert.deepEqual(pv.body.status, SUCCESS);
    }
  });
});

test('GET /health answers 200 with the success envelope', async () => {
  await withHarness(async (h) => {
    const r = await h.app.inject({ method: 'GET', url: '/health' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(JSON.parse(r.body), { status: SUCCESS });
    assert.ok(r.headers['x-request-id']);
  });
});
