// OTP send limits through HTTP (spec §2, §3.2): otpMaxCount/otpTimeOut and otpDailyLimit per
// identifier across sessions, devices and variants (1534 + Retry-After), otpResendCooldownSeconds
// per session (1547 + Retry-After), what counts (accepted sends, test OTPs) and what does not
// (refusals, delivery failures), and otpMaxCount: 0 refused when saved (1535).
// Time moves only through the harness clock; every Retry-After is computed from the moves made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { expectAdminError, expectError, expectOk, type SpecCode } from '../helpers/spec.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

/** The Retry-After header: present, whole seconds, at least 1 (spec §1.2; docs/decisions.md). */
function retryAfter(r: Res, what: string): number {
  const v = r.headers['retry-after'];
  assert.equal(typeof v, 'string', `${what}: Retry-After missing (${r.raw})`);
  assert.match(v as string, /^[1-9][0-9]*$/, `${what}: Retry-After "${v}" is not whole seconds >= 1`);
  return Number(v);
}

/** A §9 failure that must carry `Retry-After: seconds`. */
function expectRetry(r: Res, code: SpecCode, seconds: number, what: string) {
  expectError(r, code, what);
  assert.equal(retryAfter(r, what), seconds, `${what}: Retry-After`);
}

interface Session {
  v: V;
  id: ReturnType<typeof idBody>;
  sessionId: string;
}

/** token/generate for `value` on variant v (mobile: on `device`). */
async function session(h: Harness, v: V, brand: string, value: string, device = 'device-1'): Promise<Session> {
  const id = idBody(v, brand, 'MOBILE', value, device);
  const g = await h.post(url(v, 'token/generate'), id);
  expectOk(g, `${v} token/generate ${value} ${device}`);
  return { v, id, sessionId: g.body.user.sessionId as string };
}

const send = (h: Harness, s: Session) => h.post(url(s.v, 'otp/generate'), { ...s.id, sessionId: s.sessionId });
const validate = (h: Harness, s: Session, otp: string) => h.post(url(s.v, 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp });

/** A new session that sends one OTP, which must be accepted. */
async function sendOk(h: Harness, v: V, brand: string, value: string, what: string, device = 'device-1'): Promise<Session> {
  const s = await session(h, v, brand, value, device);
  expectOk(await send(h, s), what);
  return s;
}

/** A new session whose first otp/generate must answer `code` with Retry-After `seconds`. */
async function sendRefused(h: Harness, v: V, brand: string, value: string, code: SpecCode, seconds: number, what: string, device = 'device-1') {
  const s = await session(h, v, brand, value, device);
  expectRetry(await send(h, s), code, seconds, what);
  return s;
}

/** Every outbox message for `MOBILE|value` in the brand, newest first. */
async function outbox(h: Harness, brand: string, value: string): Promise<{ otp: string; to: string }[]> {
  const r = await h.admin('GET', `/admin/v1/outbox?brand=${brand}&identifier=${encodeURIComponent(`MOBILE|${value}`)}&limit=1000`);
  assert.equal(r.status, 200, r.raw);
  return r.body.messages;
}

async function withBrands(brands: Record<string, object>, fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    for (const [name, cfg] of Object.entries(brands)) await h.createBrand(name, cfg);
    await fn(h);
  } finally {
    await h.close();
  }
}

/** Mobile requests rotate over devices: the limits are per identifier, not per device. */
const dev = (i: number) => `device-${(i % 3) + 1}`;

for (const v of VARIANTS) {
  test(`${v}: otpMaxCount 3 / otpTimeOut 10 — the 4th send answers 1534 with Retry-After until the oldest send leaves the window`, async () => {
    await withBrands({ Lim: { otpMaxCount: 3, otpTimeOut: 10 } }, async (h) => {
      const value = '919800000001';
      const t0 = h.clock.now();
      await sendOk(h, v, 'lim', value, `${v} send 1 at t0`, dev(0));
      h.clock.advance(60 * SEC);
      await sendOk(h, v, 'lim', value, `${v} send 2 at t0+60s`, dev(1));
      h.clock.advance(60 * SEC);
      await sendOk(h, v, 'lim', value, `${v} send 3 at t0+120s`, dev(2));
      h.clock.advance(30 * SEC); // t0+150 s: the oldest send (t0) leaves the window at t0+600 s
      await sendRefused(h, v, 'lim', value, 1534, 450, `${v} send 4 at t0+150s`, dev(3));
      assert.equal((await outbox(h, 'LIM', value)).length, 3, 'nothing sent by the refusal');

      // The wait counts down with the clock; one second before the slot frees it is still 1.
      h.clock.advance(200 * SEC);
      await sendRefused(h, v, 'lim', value, 1534, 250, `${v} at t0+350s`, dev(4));
      h.clock.advance(249 * SEC);
      const late = await sendRefused(h, v, 'lim', value, 1534, 1, `${v} at t0+599s`, dev(5));
      assert.equal(h.clock.now() - t0, 599 * SEC);

      // At t0+600 s exactly one slot is free: the three refusals above counted for nothing.
      h.clock.advance(1 * SEC);
      expectOk(await send(h, late), `${v} the refused session sends once the slot frees`);
      // The next slot frees when the t0+60 s send leaves: 60 s from now.
      await sendRefused(h, v, 'lim', value, 1534, 60, `${v} window full again`, dev(6));
      assert.equal((await outbox(h, 'LIM', value)).length, 4);

      // Once the whole window has passed, the full quota is back.
      h.clock.advance(10 * MIN);
      for (let i = 0; i < 3; i++) await sendOk(h, v, 'lim', value, `${v} new window send ${i + 1}`, dev(i));
      await sendRefused(h, v, 'lim', value, 1534, 600, `${v} new window full`);
      assert.equal((await outbox(h, 'LIM', value)).length, 7);
    });
  });
}

test('otpMaxCount spans sessions, devices and variants of one identifier, and nothing else', async () => {
  const cfg = { otpMaxCount: 3, otpTimeOut: 10 };
  await withBrands({ Lim: cfg, Other: cfg }, async (h) => {
    const x = '919800000011';
    // Three sends for x: two mobile devices and the web.
    const m1 = await sendOk(h, 'mobile', 'lim', x, 'mobile device-1');
    await sendOk(h, 'mobile', 'lim', x, 'mobile device-2', 'device-2');
    const w1 = await sendOk(h, 'web', 'lim', x, 'web');
    h.clock.advance(10 * SEC);
    // x is spent everywhere: a new device, a new web session, and the sessions that already sent.
    await sendRefused(h, 'mobile', 'lim', x, 1534, 590, 'mobile device-3', 'device-3');
    await sendRefused(h, 'mobile', 'lim', x, 1534, 590, 'mobile device-1, new session');
    await sendRefused(h, 'web', 'lim', x, 1534, 590, 'web, new session');
    expectRetry(await send(h, m1), 1534, 590, 'mobile, the session that sent first');
    expectRetry(await send(h, w1), 1534, 590, 'web, the session that sent');
    assert.equal((await outbox(h, 'LIM', x)).length, 3);

    // Other identifiers of the brand, and x in another brand, are untouched.
    for (const v of VARIANTS) {
      await sendOk(h, v, 'lim', v === 'mobile' ? '919800000012' : '919800000013', `${v} another identifier`);
      await sendOk(h, v, 'other', x, `${v} same identifier, other brand`);
    }
    const emailId = { ...idBody('web', 'lim', 'EMAIL', 'x@example.com') };
    const eg = await h.post(url('web', 'token/generate'), emailId);
    expectOk(await h.post(url('web', 'otp/generate'), { ...emailId, sessionId: eg.body.user.sessionId }), 'another identifier type');

    // And the other way round: web sends spend the mobile quota.
    const y = '919800000014';
    for (let i = 0; i < 3; i++) await sendOk(h, 'web', 'lim', y, `web send ${i + 1} for y`);
    await sendRefused(h, 'mobile', 'lim', y, 1534, 600, 'mobile after three web sends', 'device-9');
  });
});

for (const v of VARIANTS) {
  test(`${v}: otpDailyLimit 3 — a rolling 24 h window, not a calendar day`, async () => {
    await withBrands({ Daily: { otpDailyLimit: 3 } }, async (h) => {
      const value = '919800000021';
      // The clock starts at 12:00 UTC: the third send is at midnight, the refusal on the next day.
      await sendOk(h, v, 'daily', value, `${v} send at 12:00`, dev(0));
      h.clock.advance(6 * HOUR);
      await sendOk(h, v, 'daily', value, `${v} send at 18:00`, dev(1));
      h.clock.advance(6 * HOUR);
      await sendOk(h, v, 'daily', value, `${v} send at 00:00`, dev(2));
      h.clock.advance(6 * HOUR);
      await sendRefused(h, v, 'daily', value, 1534, 6 * 3600, `${v} 06:00 next day`, dev(3));
      h.clock.advance(6 * HOUR - SEC);
      await sendRefused(h, v, 'daily', value, 1534, 1, `${v} 11:59:59 next day`, dev(4));
      h.clock.advance(SEC);
      // The 12:00 send left; the refusals took nothing: exactly one more.
      await sendOk(h, v, 'daily', value, `${v} 12:00 next day`, dev(5));
      await sendRefused(h, v, 'daily', value, 1534, 6 * 3600, `${v} full again until 18:00`, dev(6));
      assert.equal((await outbox(h, 'DAILY', value)).length, 4);
      h.clock.advance(24 * HOUR);
      for (let i = 0; i < 3; i++) await sendOk(h, v, 'daily', value, `${v} a day later ${i + 1}`, dev(i));
      await sendRefused(h, v, 'daily', value, 1534, 24 * 3600, `${v} a day later, full`);
    });
  });

  test(`${v}: with both limits, a refusal waits for the later of the two`, async () => {
    await withBrands({ Both: { otpMaxCount: 2, otpTimeOut: 10, otpDailyLimit: 3 }, Full: { otpMaxCount: 2, otpTimeOut: 10, otpDailyLimit: 2 } }, async (h) => {
      // Both full at once: the window frees a slot in 10 minutes, the day only in 24 hours.
      await sendOk(h, v, 'full', '919800000032', `${v} full 1`, dev(0));
      await sendOk(h, v, 'full', '919800000032', `${v} full 2`, dev(1));
      await sendRefused(h, v, 'full', '919800000032', 1534, 24 * 3600, `${v} both full: the day decides`, dev(2));

      const value = '919800000031';
      await sendOk(h, v, 'both', value, `${v} send 1`, dev(0));
      await sendOk(h, v, 'both', value, `${v} send 2`, dev(1));
      await sendRefused(h, v, 'both', value, 1534, 600, `${v} the 10-minute window is full`, dev(2));
      h.clock.advance(10 * MIN);
      await sendOk(h, v, 'both', value, `${v} send 3`, dev(3));
      // The window holds one send, but the day holds three: wait for the first to leave the day.
      await sendRefused(h, v, 'both', value, 1534, 24 * 3600 - 600, `${v} the day is full`, dev(4));
    });
  });

  test(`${v}: a delivery failure answers 1503, counts toward nothing and leaves the session usable`, async () => {
    await withBrands({ Lim: { otpMaxCount: 3, otpTimeOut: 10, otpResendCooldownSeconds: 30 } }, async (h) => {
      const value = '919800000041';
      const s = await session(h, v, 'lim', value);
      const orig = h.deps.sender;
      let attempts = 0;
      h.deps.sender = {
        canDeliver: () => true,
        send: async () => {
          attempts++;
          throw new Error('provider down');
        },
      };
      try {
        // More failures than the quota, back to back: no 1534, and no cooldown (1547) either.
        for (let i = 0; i < 5; i++) {
          const r = await send(h, s);
          expectError(r, 1503, `${v} failed delivery ${i + 1}`);
          assert.equal(r.headers['retry-after'], undefined, `${v} 1503 has no Retry-After`);
        }
        // Another session of the identifier fails the same way.
        const other = await session(h, v, 'lim', value, 'device-2');
        expectError(await send(h, other), 1503, `${v} failed delivery on another session`);
      } finally {
        h.deps.sender = orig;
      }
      assert.equal(attempts, 6, 'the provider was called for every attempt');
      assert.deepEqual(await outbox(h, 'LIM', value), []);

      // The retry on the same session, at the same instant, is accepted and its code validates.
      expectOk(await send(h, s), `${v} retry after the failures`);
      const otp = await h.lastOtp('LIM', `MOBILE|${value}`);
      const ok = await validate(h, s, otp);
      expectOk(ok, `${v} the retried code validates`);
      assert.equal(ok.body.user.role, 'USER');
      // The whole quota of 3 was still there: the retry plus two more.
      await sendOk(h, v, 'lim', value, `${v} quota 2/3`, 'device-2');
      await sendOk(h, v, 'lim', value, `${v} quota 3/3`, 'device-3');
      await sendRefused(h, v, 'lim', value, 1534, 600, `${v} quota spent`);
    });
  });

  test(`${v}: a failed delivery keeps the code the user already holds`, async () => {
    await withBrands({ Lim: { otpMaxCount: 3, otpTimeOut: 10 } }, async (h) => {
      const value = '919800000042';
      const s = await session(h, v, 'lim', value);
      expectOk(await send(h, s), `${v} first send`);
      const held = await h.lastOtp('LIM', `MOBILE|${value}`);
      const orig = h.deps.sender;
      h.deps.sender = { canDeliver: () => true, send: async () => Promise.reject(new Error('provider down')) };
      try {
        expectError(await send(h, s), 1503, `${v} resend fails`);
      } finally {
        h.deps.sender = orig;
      }
      expectOk(await validate(h, s, held), `${v} the earlier code still validates`);
      // Only the accepted send was counted: two more fit.
      await sendOk(h, v, 'lim', value, `${v} 2/3`, 'device-2');
      await sendOk(h, v, 'lim', value, `${v} 3/3`, 'device-3');
      await sendRefused(h, v, 'lim', value, 1534, 600, `${v} 4/3`);
    });
  });

  test(`${v}: testOtps sends count toward the limit (nothing is delivered)`, async () => {
    const value = '919800000051';
    await withBrands({ Lim: { otpMaxCount: 2, otpTimeOut: 10, testOtps: { [`MOBILE|${value}`]: '999999' } } }, async (h) => {
      const orig = h.deps.sender;
      h.deps.sender = { canDeliver: () => true, send: async () => assert.fail('a test OTP must not be delivered') };
      try {
        const s1 = await sendOk(h, v, 'lim', value, `${v} test OTP 1`);
        await sendOk(h, v, 'lim', value, `${v} test OTP 2`, 'device-2');
        await sendRefused(h, v, 'lim', value, 1534, 600, `${v} test OTP 3`, 'device-3');
        expectOk(await validate(h, s1, '999999'), `${v} the fixed code validates`);
      } finally {
        h.deps.sender = orig;
      }
      assert.deepEqual(await outbox(h, 'LIM', value), []);
    });
  });

  test(`${v}: otpResendCooldownSeconds 30 — the same session waits; other sessions do not`, async () => {
    await withBrands({ Cool: { otpResendCooldownSeconds: 30 } }, async (h) => {
      const value = '919800000061';
      const s = await session(h, v, 'cool', value);
      expectOk(await send(h, s), `${v} first send`);
      expectRetry(await send(h, s), 1547, 30, `${v} immediately again`);
      h.clock.advance(10 * SEC);
      expectRetry(await send(h, s), 1547, 20, `${v} after 10 s`);
      h.clock.advance(19.5 * SEC);
      expectRetry(await send(h, s), 1547, 1, `${v} 0.5 s left rounds up to 1`);
      // Another session of the same identifier (mobile: same device too) is not held back.
      const other = await session(h, v, 'cool', value);
      expectOk(await send(h, other), `${v} another session of the identifier`);
      expectRetry(await send(h, other), 1547, 30, `${v} ...which now has its own cooldown`);
      assert.equal((await outbox(h, 'COOL', value)).length, 2, 'refusals sent nothing');
      h.clock.advance(0.5 * SEC);
      expectOk(await send(h, s), `${v} 30 s after the first send`);
      expectRetry(await send(h, s), 1547, 30, `${v} the cooldown restarts from the new send`);
      // The newest code is the session's valid one.
      expectOk(await validate(h, s, await h.lastOtp('COOL', `MOBILE|${value}`)), `${v} the resent code validates`);
    });
  });

  test(`${v}: a cooldown refusal is not counted toward otpMaxCount, and the cooldown is checked first`, async () => {
    await withBrands({ Both: { otpMaxCount: 2, otpTimeOut: 10, otpResendCooldownSeconds: 30 } }, async (h) => {
      const value = '919800000071';
      const s = await session(h, v, 'both', value);
      expectOk(await send(h, s), `${v} send 1`);
      for (let i = 0; i < 5; i++) expectRetry(await send(h, s), 1547, 30, `${v} cooldown refusal ${i + 1}`);
      h.clock.advance(5 * SEC);
      // The five refusals took nothing: the second slot is free.
      await sendOk(h, v, 'both', value, `${v} send 2 on another session`, 'device-2');
      await sendRefused(h, v, 'both', value, 1534, 595, `${v} quota spent`, 'device-3');
      // Both the cooldown and the limit hold for s: the cooldown answers.
      expectRetry(await send(h, s), 1547, 25, `${v} cooldown before limit`);
    });
  });

  test(`${v}: a 1534 refusal does not start the cooldown`, async () => {
    await withBrands({ Both: { otpMaxCount: 2, otpTimeOut: 1, otpResendCooldownSeconds: 30 } }, async (h) => {
      const value = '919800000081';
      const a = await session(h, v, 'both', value);
      expectOk(await send(h, a), `${v} a sends`);
      await sendOk(h, v, 'both', value, `${v} b sends`, 'device-2');
      h.clock.advance(50 * SEC);
      expectRetry(await send(h, a), 1534, 10, `${v} a is over the limit (its cooldown is over)`);
      h.clock.advance(10 * SEC);
      // Had the refused request claimed the cooldown, this would be 1547 for 20 more seconds.
      expectOk(await send(h, a), `${v} a sends once a slot frees`);
    });
  });

  test(`${v}: after a delivery failure the cooldown does not apply to the retry`, async () => {
    await withBrands({ Cool: { otpResendCooldownSeconds: 30 } }, async (h) => {
      const value = '919800000091';
      const s = await session(h, v, 'cool', value);
      expectOk(await send(h, s), `${v} first send`);
      h.clock.advance(30 * SEC);
      const orig = h.deps.sender;
      h.deps.sender = { canDeliver: () => true, send: async () => Promise.reject(new Error('provider down')) };
      try {
        expectError(await send(h, s), 1503, `${v} the resend fails`);
      } finally {
        h.deps.sender = orig;
      }
      // Immediately again: not 1547, the failed attempt did not restart the cooldown.
      expectOk(await send(h, s), `${v} retry right after the failure`);
      expectRetry(await send(h, s), 1547, 30, `${v} the successful retry does`);
      expectOk(await validate(h, s, await h.lastOtp('COOL', `MOBILE|${value}`)), `${v} the retried code validates`);
    });
  });
}

test('otpMaxCount: 0 is refused with 1535 and the stored config stays', async () => {
  await withBrands({ Lim: { otpMaxCount: 2, otpTimeOut: 10 } }, async (h) => {
    const before = await h.admin('GET', '/admin/v1/brands/LIM');
    assert.equal(before.status, 200, before.raw);
    const put = await h.admin('PUT', '/admin/v1/brands/LIM', { otpMaxCount: 0, otpTimeOut: 10 });
    expectAdminError(put, 1535, 'otpMaxCount 0');
    const after = await h.admin('GET', '/admin/v1/brands/LIM');
    assert.equal(after.status, 200, after.raw);
    assert.deepEqual(after.body.config, before.body.config);
    assert.equal(after.body.config.otpMaxCount, 2);
    // On a new brand it is refused too: nothing is created.
    expectAdminError(await h.admin('PUT', '/admin/v1/brands/Zero', { otpMaxCount: 0, otpTimeOut: 10 }), 1535, 'otpMaxCount 0, new brand');
    expectAdminError(await h.admin('GET', '/admin/v1/brands/ZERO'), 1504, 'not created');
    // The old limit is still the one enforced, on both variants.
    const value = '919800000101';
    await sendOk(h, 'mobile', 'lim', value, 'mobile 1/2');
    await sendOk(h, 'web', 'lim', value, 'web 2/2');
    for (const v of VARIANTS) await sendRefused(h, v, 'lim', value, 1534, 600, `${v} 3/2`);
  });
});
