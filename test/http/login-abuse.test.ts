// Issue 5, password and key guessing (R27, brand `loginAbuse`), on mobile and web: attempts on
// password/validate and token/regenerate per client IP and per identifier per minute, per brand;
// 1547 with Retry-After; every attempt counts (successes too), a refused one counts nothing;
// separate budgets per IP and per identifier; other brands and other IPs unaffected;
// X-Forwarded-For is not believed by default; each refusal is audited. Time moves with the
// harness clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';

const BRAND = 'Guard';
const OTHER = 'GuardTwo';
const MOB = '919999999993';
const MOB2 = '919999999994';
const MOB3 = '919999999995';
const PW = 'Correct-Horse-42';
const WRONG = 'Battery-Staple-77';
const IP_A = '203.0.113.7';
const IP_B = '198.51.100.23';
const IP_C = '192.0.2.99';

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** A POST from a given client address (fastify inject's remoteAddress). */
async function postFrom(h: Harness, ip: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const r = await h.app.inject({ method: 'POST', url: path, payload: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, remoteAddress: ip });
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body);
  } catch {
    parsed = undefined;
  }
  return { status: r.statusCode, headers: r.headers, body: parsed, raw: r.body };
}

const brandConfig = (loginAbuse: object | null, extra: object = {}) => ({ passwordEnabled: true, maxPasswordRetries: 100, ...(loginAbuse ? { loginAbuse } : {}), ...extra });

async function register(h: Harness, v: V, value: string, brand = BRAND): Promise<{ token: string; key: string | null }> {
  const r = await otpLogin(h, v, brand, 'MOBILE', value, { password: PW, confirmPassword: PW });
  expectOk(r.res, `register ${value}`);
  return r.res.body.auth;
}

/** A session from token/generate (not limited by loginAbuse). */
async function session(h: Harness, v: V, value: string, brand = BRAND): Promise<string> {
  const r = await h.post(url(v, 'token/generate'), idBody(v, brand, 'MOBILE', value));
  expectOk(r, 'token/generate');
  return r.body.user.sessionId as string;
}

/** password/validate from `ip` on a fresh session (or the given one). */
async function pwFrom(h: Harness, v: V, ip: string, value: string, password: string, opts: { brand?: string; sessionId?: string; headers?: Record<string, string> } = {}): Promise<Res> {
  const brand = opts.brand ?? BRAND;
  const sessionId = opts.sessionId ?? (await session(h, v, value, brand));
  return postFrom(h, ip, url(v, 'password/validate'), { ...idBody(v, brand, 'MOBILE', value), sessionId, password }, opts.headers);
}

/** token/regenerate from `ip`: mobile sends `key`, web `expiredToken`. */
function regenFrom(h: Harness, v: V, ip: string, value: string, credential: string, brand = BRAND): Promise<Res> {
  const id = idBody(v, brand, 'MOBILE', value);
  return postFrom(h, ip, url(v, 'token/regenerate'), v === 'mobile' ? { ...id, key: credential } : { ...id, expiredToken: credential });
}

/** 1547 with Retry-After of exactly `seconds`. */
function expectRefused(r: Res, seconds: number, what: string): void {
  expectError(r, 1547, what);
  assert.equal(r.headers['retry-after'], String(seconds), `${what}: Retry-After`);
}

async function refusals(h: Harness, brand = BRAND): Promise<any[]> {
  const r = await h.admin('GET', `/admin/v1/audit?brand=${brand}&limit=1000`);
  expectOk(r, 'GET audit');
  return r.body.events.filter((e: any) => e.type === 'login_refused');
}

for (const v of VARIANTS) {
  test(`${v}: password/validate per IP — the (N+1)-th attempt in a minute answers 1547 with Retry-After; successes count; other IPs unaffected; audited`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, brandConfig({ perIpPerMinute: 3 }));
      await register(h, v, MOB);
      // Three attempts from IP A: a wrong one and two right ones — all count.
      expectError(await pwFrom(h, v, IP_A, MOB, WRONG), 1528, 'attempt 1 (wrong)');
      h.clock.advance(10_000);
      expectOk(await pwFrom(h, v, IP_A, MOB, PW), 'attempt 2 (right)');
      h.clock.advance(10_000);
      expectOk(await pwFrom(h, v, IP_A, MOB, PW), 'attempt 3 (right)');
      // The fourth is refused before the password is looked at: even the right one. The oldest
      // attempt leaves the window 40 s from now.
      const held = await session(h, v, MOB);
      expectRefused(await pwFrom(h, v, IP_A, MOB, PW, { sessionId: held }), 40, 'attempt 4');
      expectRefused(await pwFrom(h, v, IP_A, MOB, WRONG), 40, 'attempt 5 (wrong)');
      // Another address has its own budget (per identifier is off).
      expectOk(await pwFrom(h, v, IP_B, MOB, PW), 'IP B');
      // Once the oldest attempt is out of the window, IP A gets one slot back; the refused
      // attempt did not consume its session, and refused attempts counted nothing.
      h.clock.advance(40_000);
      expectOk(await pwFrom(h, v, IP_A, MOB, PW, { sessionId: held }), 'IP A after Retry-After, on the session of the refused attempt');
      expectRefused(await pwFrom(h, v, IP_A, MOB, PW), 10, 'IP A: the other two are still in the window');

      const events = await refusals(h);
      assert.equal(events.length, 3);
      for (const e of events) {
        assert.equal(e.ip, IP_A);
        assert.equal(e.identifier, `MOBILE|${MOB}`);
        assert.deepEqual(e.detail, { code: 1547, reason: 'ip', endpoint: 'password' });
        assert.equal(e.deviceId, v === 'mobile' ? 'device-1' : null);
      }
      // The refused password never reached the audit log or the logs.
      assert.ok(!h.logs.join('').includes(PW));
    });
  });

  test(`${v}: password/validate per identifier — many IPs guessing one identifier are stopped; other identifiers unaffected`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, brandConfig({ perIdentifierPerMinute: 2 }));
      await register(h, v, MOB);
      await register(h, v, MOB2);
      expectError(await pwFrom(h, v, IP_A, MOB, WRONG), 1528, 'IP A');
      expectError(await pwFrom(h, v, IP_B, MOB, WRONG), 1528, 'IP B');
      // A third address, the right password: the identifier's budget is spent.
      expectRefused(await pwFrom(h, v, IP_C, MOB, PW), 60, 'IP C on the same identifier');
      // An unknown identifier is limited the same way (nothing tells it apart).
      expectError(await pwFrom(h, v, IP_A, MOB3, WRONG), 1515, 'unknown identifier 1');
      expectError(await pwFrom(h, v, IP_B, MOB3, WRONG), 1515, 'unknown identifier 2');
      expectRefused(await pwFrom(h, v, IP_C, MOB3, WRONG), 60, 'unknown identifier 3');
      // Another identifier from the same addresses is fine.
      expectOk(await pwFrom(h, v, IP_C, MOB2, PW), 'another identifier');
      h.clock.advance(60_000);
      expectOk(await pwFrom(h, v, IP_C, MOB, PW), 'after the minute');
      const events = await refusals(h);
      assert.deepEqual(events.map((e) => [e.ip, e.identifier, e.detail.reason]).sort(), [
        [IP_C, `MOBILE|${MOB}`, 'identifier'],
        [IP_C, `MOBILE|${MOB3}`, 'identifier'],
      ].sort());
    });
  });

  test(`${v}: per-IP and per-identifier budgets are separate, and a refused attempt counts against neither`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, brandConfig({ perIpPerMinute: 3, perIdentifierPerMinute: 2 }));
      for (const m of [MOB, MOB2, MOB3]) await register(h, v, m);
      expectOk(await pwFrom(h, v, IP_A, MOB, PW), 'A/MOB 1');
      expectOk(await pwFrom(h, v, IP_A, MOB, PW), 'A/MOB 2');
      expectRefused(await pwFrom(h, v, IP_A, MOB, PW), 60, 'A/MOB 3: identifier budget spent');
      // The refused attempt took nothing from IP A: one slot is left there.
      expectOk(await pwFrom(h, v, IP_A, MOB2, PW), 'A/MOB2: the third IP attempt');
      expectRefused(await pwFrom(h, v, IP_A, MOB3, PW), 60, 'A/MOB3: IP budget spent');
      // MOB3's budget is untouched by that refusal: two attempts from elsewhere pass.
      expectOk(await pwFrom(h, v, IP_B, MOB3, PW), 'B/MOB3 1');
      expectOk(await pwFrom(h, v, IP_C, MOB3, PW), 'C/MOB3 2');
      const reasons = (await refusals(h)).map((e) => `${e.ip} ${e.identifier} ${e.detail.reason}`).sort();
      assert.deepEqual(reasons, [`${IP_A} MOBILE|${MOB3} ip`, `${IP_A} MOBILE|${MOB} identifier`].sort());
    });
  });

  test(`${v}: loginAbuse is per brand — another brand, and a brand with the controls off, are unaffected`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, brandConfig({ perIpPerMinute: 2, perIdentifierPerMinute: 2 }));
      await h.createBrand(OTHER, brandConfig({ perIpPerMinute: 2, perIdentifierPerMinute: 2 }));
      await h.createBrand('GuardOff', brandConfig(null));
      for (const b of [BRAND, OTHER, 'GuardOff']) await register(h, v, MOB, b);
      expectOk(await pwFrom(h, v, IP_A, MOB, PW), `${BRAND} 1`);
      expectOk(await pwFrom(h, v, IP_A, MOB, PW), `${BRAND} 2`);
      expectRefused(await pwFrom(h, v, IP_A, MOB, PW), 60, `${BRAND} 3`);
      // Same IP, same identifier, another brand: its own budget.
      expectOk(await pwFrom(h, v, IP_A, MOB, PW, { brand: OTHER }), `${OTHER} 1`);
      expectOk(await pwFrom(h, v, IP_A, MOB, PW, { brand: OTHER }), `${OTHER} 2`);
      expectRefused(await pwFrom(h, v, IP_A, MOB, PW, { brand: OTHER }), 60, `${OTHER} 3`);
      // Controls off (the default): no limit.
      for (let i = 1; i <= 8; i++) expectOk(await pwFrom(h, v, IP_A, MOB, PW, { brand: 'GuardOff' }), `GuardOff ${i}`);
      assert.equal((await refusals(h, 'GuardOff')).length, 0);
      assert.equal((await refusals(h, OTHER)).length, 1);
    });
  });

  test(`${v}: X-Forwarded-For is not believed by default — a new forwarded address per request is still limited by the real one`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, brandConfig({ perIpPerMinute: 2 }));
      await register(h, v, MOB);
      expectOk(await pwFrom(h, v, IP_A, MOB, PW, { headers: { 'x-forwarded-for': '10.0.0.1' } }), 'xff 1');
      expectOk(await pwFrom(h, v, IP_A, MOB, PW, { headers: { 'x-forwarded-for': '10.0.0.2' } }), 'xff 2');
      expectRefused(await pwFrom(h, v, IP_A, MOB, PW, { headers: { 'x-forwarded-for': '10.0.0.3' } }), 60, 'xff 3');
      expectRefused(await pwFrom(h, v, IP_A, MOB, PW, { headers: { 'x-forwarded-for': `${IP_B}, 10.0.0.4` } }), 60, 'xff naming another client');
      // And a request from B claiming to be A is counted as B, not against A.
      expectOk(await pwFrom(h, v, IP_B, MOB, PW, { headers: { 'x-forwarded-for': IP_A } }), 'B claiming A');
      const events = await refusals(h);
      assert.deepEqual(events.map((e) => e.ip), [IP_A, IP_A]);
    });
  });

  test(`${v}: token/regenerate per IP and per identifier — guessed credentials count, 1547 with Retry-After before the credential is looked at`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, brandConfig({ perIpPerMinute: 3, perIdentifierPerMinute: 4 }, { rotateKeys: false }));
      const creds = await register(h, v, MOB);
      const good = v === 'mobile' ? creds.key! : creds.token;
      assert.ok(good);
      const badCode = v === 'mobile' ? 1597 : 1525;
      // Two guesses and one real renewal from IP A.
      expectError(await regenFrom(h, v, IP_A, MOB, 'guess-1'), badCode, 'guess 1');
      expectError(await regenFrom(h, v, IP_A, MOB, `${good.slice(0, -3)}abc`), badCode, 'guess 2');
      expectOk(await regenFrom(h, v, IP_A, MOB, good), 'real renewal');
      // IP A is spent: the genuine credential is refused too, until the window moves.
      expectRefused(await regenFrom(h, v, IP_A, MOB, good), 60, 'IP A spent');
      // IP B: one more for the identifier (4), then the identifier is spent as well.
      expectOk(await regenFrom(h, v, IP_B, MOB, good), 'IP B');
      expectRefused(await regenFrom(h, v, IP_C, MOB, good), 60, 'identifier spent');
      // Password login has its own budget: the regenerate attempts did not use it up.
      expectOk(await pwFrom(h, v, IP_A, MOB, PW), 'password login from IP A');
      h.clock.advance(60_000);
      expectOk(await regenFrom(h, v, IP_A, MOB, good), 'after the minute');
      const events = (await refusals(h)).map((e) => `${e.ip} ${e.detail.reason} ${e.detail.endpoint} ${e.detail.code}`).sort();
      assert.deepEqual(events, [`${IP_A} ip regenerate 1547`, `${IP_C} identifier regenerate 1547`].sort());
    });
  });
}

test('mobile and web share one budget per brand, IP and identifier', async () => {
  await withHarness(async (h) => {
    await h.createBrand(BRAND, brandConfig({ perIpPerMinute: 3 }));
    await register(h, 'mobile', MOB);
    expectOk(await pwFrom(h, 'mobile', IP_A, MOB, PW), 'mobile 1');
    expectOk(await pwFrom(h, 'web', IP_A, MOB, PW), 'web 1');
    expectOk(await pwFrom(h, 'mobile', IP_A, MOB, PW), 'mobile 2');
    expectRefused(await pwFrom(h, 'web', IP_A, MOB, PW), 60, 'web 2');
    expectRefused(await pwFrom(h, 'mobile', IP_A, MOB, PW), 60, 'mobile 3');
  });
});

test('§1.3 checks come first: a body-shape, type, brand or 1524 error neither counts nor is refused with 1547', async () => {
  await withHarness(async (h) => {
    await h.createBrand(BRAND, brandConfig({ perIpPerMinute: 1, perIdentifierPerMinute: 1 }));
    await h.createBrand('NoPw', { loginAbuse: { perIpPerMinute: 1, perIdentifierPerMinute: 1 } });
    await register(h, 'web', MOB);
    const id = idBody('web', BRAND, 'MOBILE', MOB);
    for (let i = 0; i < 3; i++) {
      expectError(await postFrom(h, IP_A, url('web', 'password/validate'), { ...id, sessionId: 'P-x' }), 1519, 'no password');
      expectError(await postFrom(h, IP_A, url('web', 'password/validate'), { ...id, identifierType: 'FAX', sessionId: 'P-x', password: PW }), 1546, 'bad type');
      expectError(await postFrom(h, IP_A, url('web', 'password/validate'), { ...id, brand: 'Nope', sessionId: 'P-x', password: PW }), 1504, 'unknown brand');
      expectError(await postFrom(h, IP_A, url('web', 'password/validate'), { ...id, brand: 'NoPw', sessionId: 'P-x', password: PW }), 1524, 'passwords off');
    }
    // None of that counted: the one allowed attempt is still there.
    expectOk(await pwFrom(h, 'web', IP_A, MOB, PW), 'the first counted attempt');
    expectRefused(await pwFrom(h, 'web', IP_A, MOB, PW), 60, 'the second');
  });
});
