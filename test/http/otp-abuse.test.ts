// OTP-send abuse controls (brand `otpAbuse`, issue 5, checklist R13): MOBILE country allowlist
// (1534, Retry-After 86400), sends per client IP per hour (1547), per MOBILE number prefix per hour
// (1534), per brand per rolling day (1534). Each refusal happens before the provider is called,
// spends nothing (no quota, no cooldown) and is audited; counters are per brand and per IP;
// X-Forwarded-For is believed only from a trusted proxy (AUTH_TRUST_PROXY); a concurrent burst
// cannot overrun a limit. Also brand testOtps: ignored in production unless AUTH_ALLOW_TEST_OTPS,
// and every use audited (`test_otp_used`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { expectError, expectOk, type SpecCode } from '../helpers/spec.ts';
import type { OtpMessage } from '../../src/ports/otp-sender.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const IP_A = '203.0.113.7';
const IP_B = '198.51.100.20';

async function postFrom(h: Harness, ip: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const r = await h.app.inject({ method: 'POST', url: path, payload: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, remoteAddress: ip });
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body);
  } catch {
    parsed = undefined;
  }
  return { status: r.statusCode, headers: r.headers as Res['headers'], body: parsed, raw: r.body };
}

/** Counts provider calls (the outbox provider still stores each message). */
function countSends(h: Harness): OtpMessage[] {
  const sent: OtpMessage[] = [];
  const orig = h.deps.sender;
  h.deps.sender = { canDeliver: () => true, send: async (m) => { sent.push(m); return orig.send(m); } };
  return sent;
}

interface Session {
  v: V;
  id: Record<string, unknown>;
  sessionId: string;
}

async function session(h: Harness, v: V, brand: string, type: string, value: string, extra: object = {}): Promise<Session> {
  const id = idBody(v, brand, type, value);
  const g = await h.post(url(v, 'token/generate'), { ...id, ...extra });
  expectOk(g, `${v} token/generate ${value}`);
  return { v, id, sessionId: g.body.user.sessionId as string };
}

const sendFrom = (h: Harness, ip: string, s: Session, headers: Record<string, string> = {}) => postFrom(h, ip, url(s.v, 'otp/generate'), { ...s.id, sessionId: s.sessionId }, headers);

/** A refusal with its Retry-After, nothing sent for it, and the audit event. */
async function expectRefused(h: Harness, r: Res, code: SpecCode, retryAfter: number, brand: string, reason: string, what: string) {
  expectError(r, code, what);
  assert.equal(r.headers['retry-after'], String(retryAfter), `${what}: Retry-After`);
  const a = await h.admin('GET', `/admin/v1/audit?brand=${brand}&limit=1`);
  expectOk(a, 'audit');
  const e = a.body.events[0];
  assert.equal(e.type, 'otp_send_refused', `${what}: audit type`);
  assert.deepEqual(e.detail, { code, reason }, `${what}: audit detail`);
}

async function withHarness(fn: (h: Harness) => Promise<void>, env?: Record<string, string>) {
  const h = await startHarness(env ? { env } : {});
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

for (const v of VARIANTS) {
  test(`${v}: allowedCountryCodes refuses other MOBILE destinations (1534, Retry-After 86400) before the provider, spending nothing`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Cc', { otpAbuse: { allowedCountryCodes: ['91', '44'], brandDailyBudget: 2 }, otpDailyLimit: 1, passwordEnabled: true });
      const sent = countSends(h);
      const us = await session(h, v, 'Cc', 'MOBILE', '+1 555 123 4567');
      await expectRefused(h, await sendFrom(h, IP_A, us), 1534, 86400, 'CC', 'country_not_allowed', `${v} US number`);
      await expectRefused(h, await sendFrom(h, IP_A, us), 1534, 86400, 'CC', 'country_not_allowed', `${v} US number again`);
      assert.equal(sent.length, 0, 'the provider was not called');

      // A USERNAME sign-up whose mobile is outside the list: the destination decides.
      const pw = { password: 'Tr0ub4dor&3-horse', confirmPassword: 'Tr0ub4dor&3-horse' };
      const signup = await session(h, v, 'Cc', 'USERNAME', 'alice', { mobile: '15551230000', ...pw });
      await expectRefused(h, await sendFrom(h, IP_A, signup), 1534, 86400, 'CC', 'country_not_allowed', `${v} USERNAME sign-up to a US mobile`);
      assert.equal(sent.length, 0);

      // Allowed codes and email pass; the refusals spent no budget (2 sends left).
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Cc', 'MOBILE', '447700900123')), `${v} UK number`);
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Cc', 'EMAIL', 'a@example.com')), `${v} email`);
      assert.deepEqual(sent.map((m) => m.to), ['447700900123', 'a@example.com']);
      await expectRefused(h, await sendFrom(h, IP_A, await session(h, v, 'Cc', 'MOBILE', '919999999001')), 1534, 86400, 'CC', 'brand_daily_budget', `${v} budget now spent`);
    });
  });

  test(`${v}: allowedCountryCodes applies to a USERNAME login's registered mobile`, async () => {
    await withHarness(async (h) => {
      const pw = { password: 'Tr0ub4dor&3-horse', confirmPassword: 'Tr0ub4dor&3-horse' };
      await h.createBrand('Cu', { passwordEnabled: true });
      const s = await session(h, v, 'Cu', 'USERNAME', 'bob', { mobile: '15551230001', ...pw });
      expectOk(await sendFrom(h, IP_A, s), 'sign-up send before the allowlist');
      const otp = await h.lastOtp('CU', 'MOBILE|15551230001');
      expectOk(await h.post(url(v, 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp }), 'sign-up');
      await h.createBrand('Cu', { passwordEnabled: true, otpAbuse: { allowedCountryCodes: ['91'] } });
      const sent = countSends(h);
      const login = await session(h, v, 'Cu', 'USERNAME', 'bob');
      await expectRefused(h, await sendFrom(h, IP_A, login), 1534, 86400, 'CU', 'country_not_allowed', `${v} login to a US mobile`);
      assert.equal(sent.length, 0);
    });
  });

  test(`${v}: perIpPerHour answers 1547 with Retry-After, per IP and per brand, and spends no quota or cooldown`, async () => {
    await withHarness(async (h) => {
      const cfg = { otpAbuse: { perIpPerHour: 2 }, otpDailyLimit: 1, otpResendCooldownSeconds: 60 };
      await h.createBrand('Ip', cfg);
      await h.createBrand('Ip2', cfg);
      const sent = countSends(h);
      const t0 = h.clock.now();
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Ip', 'MOBILE', '919999999001')), 'A 1');
      h.clock.advance(10 * MIN);
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Ip', 'MOBILE', '919999999002')), 'A 2');
      h.clock.advance(10 * MIN);
      const third = await session(h, v, 'Ip', 'MOBILE', '919999999003');
      await expectRefused(h, await sendFrom(h, IP_A, third), 1547, 2400, 'IP', 'ip_hourly_limit', `${v} A 3`);
      assert.equal(sent.length, 2, 'the refused send did not reach the provider');
      assert.equal((await h.admin('GET', '/admin/v1/audit?brand=IP&limit=1')).body.events[0].ip, IP_A);

      // Another IP has its own budget; the refused request took neither the identifier's daily
      // quota (1) nor the session's cooldown: the same session sends at once from there.
      expectOk(await sendFrom(h, IP_B, third), `${v} B sends for the refused session`);
      // Another brand counts separately for the same IP.
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Ip2', 'MOBILE', '919999999001')), `${v} A in another brand`);
      // The first send leaves A's window an hour after it was made.
      h.clock.set(t0 + HOUR - 1);
      await expectRefused(h, await sendFrom(h, IP_A, await session(h, v, 'Ip', 'MOBILE', '919999999004')), 1547, 1, 'IP', 'ip_hourly_limit', `${v} 1 ms before`);
      h.clock.set(t0 + HOUR);
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Ip', 'MOBILE', '919999999004')), `${v} A after an hour`);
    });
  });

  test(`${v}: perPrefixPerHour counts MOBILE destinations by their first prefixLength digits (1534)`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Px', { otpAbuse: { perPrefixPerHour: 2, prefixLength: 7 }, otpDailyLimit: 1 });
      const sent = countSends(h);
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Px', 'MOBILE', '919999900001')), '1');
      h.clock.advance(5 * MIN);
      expectOk(await sendFrom(h, IP_B, await session(h, v, 'Px', 'MOBILE', '+91 99999-00002')), '2 from another IP');
      h.clock.advance(5 * MIN);
      const third = await session(h, v, 'Px', 'MOBILE', '919999900003');
      await expectRefused(h, await sendFrom(h, '192.0.2.99', third), 1534, 50 * 60, 'PX', 'prefix_hourly_limit', `${v} 3rd in the range, from a third IP`);
      assert.equal(sent.length, 2);
      // Another range and email are not affected.
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Px', 'MOBILE', '919999800001')), `${v} other prefix`);
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Px', 'EMAIL', 'x@example.com')), `${v} email`);
      // When the range has room again, the refused identifier's daily quota (1) is intact.
      h.clock.advance(50 * MIN);
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Px', 'MOBILE', '919999900003')), `${v} the refused identifier later`);
      assert.equal(sent.length, 5);
    });
  });

  test(`${v}: brandDailyBudget caps a brand's sends per rolling 24 h (1534), per brand`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Bd', { otpAbuse: { brandDailyBudget: 3 } });
      await h.createBrand('Bd2', { otpAbuse: { brandDailyBudget: 3 } });
      const sent = countSends(h);
      const t0 = h.clock.now();
      for (let i = 1; i <= 3; i++) {
        expectOk(await sendFrom(h, `192.0.2.${i}`, await session(h, v, 'Bd', 'MOBILE', `91999999900${i}`)), `send ${i}`);
        h.clock.advance(HOUR);
      }
      const fourth = await session(h, v, 'Bd', 'EMAIL', 'late@example.com');
      await expectRefused(h, await sendFrom(h, '192.0.2.9', fourth), 1534, (DAY - 3 * HOUR) / SEC, 'BD', 'brand_daily_budget', `${v} 4th`);
      assert.equal(sent.length, 3);
      expectOk(await sendFrom(h, '192.0.2.9', await session(h, v, 'Bd2', 'MOBILE', '919999999001')), `${v} another brand`);
      h.clock.set(t0 + DAY - 1);
      await expectRefused(h, await sendFrom(h, '192.0.2.9', await session(h, v, 'Bd', 'EMAIL', 'late@example.com')), 1534, 1, 'BD', 'brand_daily_budget', `${v} 1 ms before a day`);
      h.clock.set(t0 + DAY);
      expectOk(await sendFrom(h, '192.0.2.9', await session(h, v, 'Bd', 'EMAIL', 'late@example.com')), `${v} a day after the first send`);
    });
  });

  test(`${v}: the windows are reserved all or nothing: a per-IP refusal spends no brand budget, a budget refusal no per-IP slot`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Mix', { otpAbuse: { perIpPerHour: 1, brandDailyBudget: 3 } });
      expectOk(await sendFrom(h, IP_A, await session(h, v, 'Mix', 'MOBILE', '919999999001')), 'A');
      for (let i = 0; i < 3; i++) await expectRefused(h, await sendFrom(h, IP_A, await session(h, v, 'Mix', 'MOBILE', `91999999901${i}`)), 1547, 3600, 'MIX', 'ip_hourly_limit', `A again ${i}`);
      expectOk(await sendFrom(h, IP_B, await session(h, v, 'Mix', 'MOBILE', '919999999002')), 'B: budget 2 of 3');
      expectOk(await sendFrom(h, '192.0.2.1', await session(h, v, 'Mix', 'MOBILE', '919999999003')), 'C: budget 3 of 3');
      await expectRefused(h, await sendFrom(h, '192.0.2.2', await session(h, v, 'Mix', 'MOBILE', '919999999004')), 1534, 86400, 'MIX', 'brand_daily_budget', 'D: budget spent');
      // D's refusal did not take D's per-IP slot: with a bigger budget D sends at once.
      await h.createBrand('Mix', { otpAbuse: { perIpPerHour: 1, brandDailyBudget: 4 } });
      expectOk(await sendFrom(h, '192.0.2.2', await session(h, v, 'Mix', 'MOBILE', '919999999004')), 'D after the budget grew');
    });
  });
}

test('X-Forwarded-For is ignored by default: a client cannot pick its own address', async () => {
  await withHarness(async (h) => {
    await h.createBrand('Xff', { otpAbuse: { perIpPerHour: 1 } });
    const sent = countSends(h);
    expectOk(await sendFrom(h, IP_A, await session(h, 'web', 'Xff', 'MOBILE', '919999999001'), { 'x-forwarded-for': '1.2.3.4' }), 'first');
    for (const xff of ['5.6.7.8', '1.2.3.4, 9.9.9.9', IP_B]) {
      await expectRefused(h, await sendFrom(h, IP_A, await session(h, 'web', 'Xff', 'MOBILE', '919999999002'), { 'x-forwarded-for': xff }), 1547, 3600, 'XFF', 'ip_hourly_limit', `X-Forwarded-For: ${xff}`);
    }
    assert.equal(sent.length, 1);
    const events = (await h.admin('GET', '/admin/v1/audit?brand=XFF&limit=100')).body.events;
    assert.ok(events.length >= 4 && events.every((e: { ip: string }) => e.ip === IP_A), JSON.stringify(events.map((e: { ip: string }) => e.ip)));
  });
});

test('with AUTH_TRUST_PROXY, X-Forwarded-For from the trusted proxy names the client; from anyone else it is ignored', async () => {
  await withHarness(async (h) => {
    assert.deepEqual(h.config.trustProxy, ['127.0.0.1']);
    await h.createBrand('Xff', { otpAbuse: { perIpPerHour: 1 } });
    const viaProxy = (s: Session, client: string) => sendFrom(h, '127.0.0.1', s, { 'x-forwarded-for': client });
    expectOk(await viaProxy(await session(h, 'web', 'Xff', 'MOBILE', '919999999001'), '1.2.3.4'), 'client 1.2.3.4');
    expectOk(await viaProxy(await session(h, 'web', 'Xff', 'MOBILE', '919999999002'), '5.6.7.8'), 'client 5.6.7.8 has its own budget');
    await expectRefused(h, await viaProxy(await session(h, 'web', 'Xff', 'MOBILE', '919999999003'), '1.2.3.4'), 1547, 3600, 'XFF', 'ip_hourly_limit', '1.2.3.4 again');
    assert.equal((await h.admin('GET', '/admin/v1/audit?brand=XFF&limit=1')).body.events[0].ip, '1.2.3.4');
    // An untrusted peer's header is not believed: it is counted under its own address.
    expectOk(await sendFrom(h, IP_A, await session(h, 'web', 'Xff', 'MOBILE', '919999999004'), { 'x-forwarded-for': '9.9.9.9' }), 'untrusted peer');
    await expectRefused(h, await sendFrom(h, IP_A, await session(h, 'web', 'Xff', 'MOBILE', '919999999005'), { 'x-forwarded-for': '8.8.8.8' }), 1547, 3600, 'XFF', 'ip_hourly_limit', 'untrusted peer again');
  }, { AUTH_TRUST_PROXY: '127.0.0.1' });
});

test('a burst of 30 concurrent sends from one IP with perIpPerHour 5: exactly 5 accepted and sent', async () => {
  await withHarness(async (h) => {
    await h.createBrand('Burst', { otpAbuse: { perIpPerHour: 5 } });
    const sessions: Session[] = [];
    for (let i = 0; i < 30; i++) sessions.push(await session(h, VARIANTS[i % 2], 'Burst', 'MOBILE', `9199999990${String(i).padStart(2, '0')}`));
    const sent = countSends(h);
    const results = await Promise.all(sessions.map((s) => sendFrom(h, IP_A, s)));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    assert.equal(ok.length, 5, results.map((r) => r.status).join(','));
    for (const r of ok) expectOk(r);
    for (const r of refused) {
      expectError(r, 1547, 'burst refusal');
      assert.equal(r.headers['retry-after'], '3600');
    }
    assert.equal(sent.length, 5, 'exactly 5 provider calls');
  });
});

// ---- testOtps in production ----

const FIXED = '99999999'; // 8 digits: can never be the real 6-digit code
const TEST_NUMBER = '919999999993';

async function testOtpRun(h: Harness, v: V) {
  await h.createBrand('Demo', { testOtps: { [`MOBILE|${TEST_NUMBER}`]: FIXED } });
  const s = await session(h, v, 'Demo', 'MOBILE', TEST_NUMBER);
  expectOk(await sendFrom(h, IP_A, s), `${v} otp/generate`);
  const outbox = (await h.admin('GET', `/admin/v1/outbox?brand=DEMO&identifier=MOBILE|${TEST_NUMBER}&limit=10`)).body.messages;
  const fixedRes = await h.post(url(v, 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp: FIXED });
  const events = (await h.admin('GET', '/admin/v1/audit?brand=DEMO&limit=100')).body.events as { type: string; detail: Record<string, unknown> }[];
  return { s, outbox, fixedRes, events };
}

for (const v of VARIANTS) {
  test(`${v}: in production, brand testOtps are ignored: a real code is generated and sent, the fixed one is refused`, async () => {
    await withHarness(async (h) => {
      assert.equal(h.config.nodeEnv, 'production');
      assert.equal(h.deps.testOtpsAllowed, false);
      const { s, outbox, fixedRes, events } = await testOtpRun(h, v);
      assert.equal(outbox.length, 1, 'a real message was sent');
      assert.match(outbox[0].otp, /^[0-9]{6}$/);
      expectError(fixedRes, 1506, `${v} the fixed code`);
      assert.ok(!events.some((e) => e.type === 'test_otp_used'), 'no test OTP was used');
      assert.deepEqual(events.find((e) => e.type === 'otp_sent')?.detail, { channel: 'SMS', test: false });
      expectOk(await h.post(url(v, 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp: outbox[0].otp }), `${v} the real code`);
    }, { NODE_ENV: 'production' });
  });

  test(`${v}: in production with AUTH_ALLOW_TEST_OTPS=true, and outside production, testOtps work and each use is audited`, async () => {
    const envs: Record<string, string>[] = [{ NODE_ENV: 'production', AUTH_ALLOW_TEST_OTPS: 'true' }, {}];
    for (const env of envs) {
      await withHarness(async (h) => {
        assert.equal(h.deps.testOtpsAllowed, true);
        const { outbox, fixedRes, events } = await testOtpRun(h, v);
        assert.equal(outbox.length, 0, 'nothing is sent for a test identifier');
        expectOk(fixedRes, `${v} ${JSON.stringify(env)}: the fixed code`);
        const used = events.filter((e) => e.type === 'test_otp_used');
        assert.equal(used.length, 1, JSON.stringify(events));
        assert.deepEqual(used[0].detail, { channel: 'SMS' });
        assert.deepEqual(events.find((e) => e.type === 'otp_sent')?.detail, { channel: 'SMS', test: true });
      }, env);
    }
  });
}
