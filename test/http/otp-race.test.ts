// Concurrency of the single-use and retry-budget rules (spec §3.3, §3.4, §2 maxOtpRetries):
// many requests on one session at once, through the real app and the real SQLite stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SPEC_ERRORS, type SpecCode } from '../helpers/spec.ts';

const MOB = '919999999993';
const PASSWORD = 'Correct-Horse-42';

/** The exact §9 failure (HTTP status, code and message) of `code`, as a predicate. */
function isError(r: Res, code: SpecCode): boolean {
  const [http, message] = SPEC_ERRORS[code];
  return r.status === http && r.body?.status?.success === false && r.body.status.code === code && r.body.status.message === message;
}

/** How many of the responses are 200 SUCCESS, and how many each error (exact status/code/message). */
function tally(rs: Res[]) {
  const t = { ok: 0, 1505: 0, 1506: 0, 1518: 0, other: [] as string[] };
  for (const r of rs) {
    if (r.status === 200 && r.body?.status?.success === true && r.body.status.code === 200) t.ok++;
    else if (isError(r, 1505)) t[1505]++;
    else if (isError(r, 1506)) t[1506]++;
    else if (isError(r, 1518)) t[1518]++;
    else t.other.push(`${r.status} ${r.raw}`);
  }
  return t;
}

/** Row counts read straight from the durable store (auth.db through a second connection, or PostgreSQL). */
async function counts(h: Harness): Promise<{ users: number; keys: number; identifiers: number }> {
  return { users: await h.countRows('users'), keys: await h.countRows('keys'), identifiers: await h.countRows('identifiers') };
}

/**
 * In-process, the embedded store answers synchronously, so requests fired together may still
 * run one after another. 'interleaved' makes every session read yield a macrotask first, so
 * all racing requests read the same session state before any of them writes: the situation
 * of several instances (or a networked store) answering at once. The guards must hold then
 * too: only the atomic consume/increment of the store can make the outcome exact.
 */
const MODES = ['as-is', 'interleaved'] as const;
type Mode = (typeof MODES)[number];

function applyMode(h: Harness, mode: Mode): void {
  if (mode === 'as-is') return;
  const store = h.deps.sessions;
  const get = store.get.bind(store);
  store.get = async (id, now) => {
    const s = await get(id, now);
    await new Promise<void>((resolve) => setImmediate(resolve));
    return s;
  };
}

async function sessionWithOtp(h: Harness, v: V, brand: string) {
  const id = idBody(v, brand, 'MOBILE', MOB);
  const gen = await h.post(url(v, 'token/generate'), id);
  assert.equal(gen.status, 200, gen.raw);
  const sessionId = gen.body.user.sessionId as string;
  const send = await h.post(url(v, 'otp/generate'), { ...id, sessionId });
  assert.equal(send.status, 200, send.raw);
  return { id, sessionId, otp: await h.lastOtp(brand, `MOBILE|${MOB}`) };
}

for (const v of VARIANTS) for (const mode of MODES) {
  test(`${v} (${mode}): 20 concurrent otp/validate with the correct OTP — exactly one wins`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo');
      const { id, sessionId, otp } = await sessionWithOtp(h, v, 'DocDemo');
      applyMode(h, mode);
      assert.deepEqual(await counts(h), { users: 0, keys: 0, identifiers: 0 });
      const rs = await Promise.all(Array.from({ length: 20 }, () => h.post(url(v, 'otp/validate'), { ...id, sessionId, otp })));
      const t = tally(rs);
      assert.deepEqual(t, { ok: 1, 1505: 19, 1506: 0, 1518: 0, other: [] }, JSON.stringify(t));
      assert.deepEqual(await counts(h), { users: 1, keys: v === 'mobile' ? 1 : 0, identifiers: 1 });
      const winner = rs.find((r) => r.status === 200)!;
      assert.equal(typeof winner.body.auth.token, 'string');
      assert.equal(winner.body.auth.key === null, v === 'web');
    } finally {
      await h.close();
    }
  });

  test(`${v} (${mode}): 20 concurrent wrong guesses with maxOtpRetries 5 — 4 × 1506, 16 × 1518, then the session is dead`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { maxOtpRetries: 5 });
      const { id, sessionId, otp } = await sessionWithOtp(h, v, 'DocDemo');
      applyMode(h, mode);
      const wrong = String((Number(otp[0]) + 1) % 10) + otp.slice(1);
      const rs = await Promise.all(Array.from({ length: 20 }, () => h.post(url(v, 'otp/validate'), { ...id, sessionId, otp: wrong })));
      const t = tally(rs);
      assert.deepEqual(t, { ok: 0, 1505: 0, 1506: 4, 1518: 16, other: [] }, JSON.stringify(t));
      const after = await h.post(url(v, 'otp/validate'), { ...id, sessionId, otp });
      assert.ok(isError(after, 1518), `correct OTP afterwards: ${after.status} ${after.raw}`);
      assert.equal((await counts(h)).users, 0);
    } finally {
      await h.close();
    }
  });

  test(`${v} (${mode}): wrong and correct guesses racing — never more than one success, budget never exceeded`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { maxOtpRetries: 3 });
      const { id, sessionId, otp } = await sessionWithOtp(h, v, 'DocDemo');
      applyMode(h, mode);
      const wrong = String((Number(otp[0]) + 1) % 10) + otp.slice(1);
      const bodies = Array.from({ length: 20 }, (_, i) => ({ ...id, sessionId, otp: i % 4 === 3 ? otp : wrong }));
      const t = tally(await Promise.all(bodies.map((b) => h.post(url(v, 'otp/validate'), b))));
      assert.deepEqual(t.other, []);
      assert.ok(t.ok <= 1, JSON.stringify(t));
      assert.ok(t[1506] <= 2, `at most maxOtpRetries-1 wrong answers are 1506: ${JSON.stringify(t)}`);
      assert.equal((await counts(h)).users, t.ok);
    } finally {
      await h.close();
    }
  });

  test(`${v} (${mode}): 10 concurrent password/validate with the correct password — exactly one wins`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('DocDemo', { passwordEnabled: true });
      const reg = await otpLogin(h, v, 'DocDemo', 'MOBILE', MOB, { password: PASSWORD, confirmPassword: PASSWORD });
      assert.equal(reg.res.status, 200, reg.res.raw);
      const keysBefore = (await counts(h)).keys;
      const id = idBody(v, 'DocDemo', 'MOBILE', MOB);
      const gen = await h.post(url(v, 'token/generate'), id);
      assert.equal(gen.status, 200, gen.raw);
      const sessionId = gen.body.user.sessionId as string;
      applyMode(h, mode);
      const rs = await Promise.all(Array.from({ length: 10 }, () => h.post(url(v, 'password/validate'), { ...id, sessionId, password: PASSWORD })));
      const t = tally(rs);
      assert.deepEqual(t, { ok: 1, 1505: 9, 1506: 0, 1518: 0, other: [] }, JSON.stringify(t));
      assert.deepEqual(await counts(h), { users: 1, keys: keysBefore + (v === 'mobile' ? 1 : 0), identifiers: 1 });
    } finally {
      await h.close();
    }
  });
}
