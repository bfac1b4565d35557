// The attack suite of issue 5: one named test per item of the security checklist
// (../shared/reference/security-checklist.md, R1–R46) that applies to this service, each
// sending the attack over HTTP (fastify inject through test/helpers/harness.ts) and asserting
// the refusal or the property, as the item's "Test:" line describes it. Where the wire contract
// (../shared/spec/auth-engine-api.md) prescribes another answer than the checklist (e.g. 1515
// for an unknown user at password/validate, 1502 for an expired OTP), the contract's answer is
// asserted and the difference is noted at the test. Items that do not apply, or are
// deliberately not covered, have no test here: README.md "## Security" lists them with the
// reason, and points to the fault tests (F1–F16).
//
// `npm run test:security` runs this folder alone; `npm test` runs it with everything else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createHmac, createSecretKey, constants, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, decodeJwt, decodeProtectedHeader } from 'jose';
import { ADMIN_TOKEN, idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SIGNING_KEY, SPEC_ERRORS, expectError, expectOk, type SpecCode } from '../helpers/spec.ts';
import { argon2Hasher, type PasswordHasher } from '../../src/crypto/password-hasher.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import type { OtpMessage } from '../../src/ports/otp-sender.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** The harness's deployment signing secret (test/helpers/harness.ts AUTH_SIGNING_SECRET). */
const SIGNING_SECRET = 'test-signing-secret-0123456789abcdefghijklmnop';
const PW = 'Correct-Horse-42';
const PW2 = 'Battery-Staple-77';
const IP_A = '203.0.113.7';
const IP_B = '198.51.100.23';

/** A MOBILE number per variant and index: the two variants never share an identifier. */
const num = (v: V, n: number) => `91${v === 'mobile' ? '8' : '7'}${String(n).padStart(9, '0')}`;
/** A brand name per test and variant (brands are upper-cased when stored). */
const brandOf = (base: string, v: V) => `${base}-${v}`;

// ---------------------------------------------------------------------------------------------
// helpers

async function withHarness(fn: (h: Harness) => Promise<void>, env?: Record<string, string>): Promise<void> {
  const h = await startHarness(env ? { env } : {});
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

function toRes(r: { statusCode: number; headers: Res['headers']; body: string }): Res {
  let body: unknown;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = undefined;
  }
  return { status: r.statusCode, headers: r.headers, body, raw: r.body };
}

/** A POST from a given client address (fastify inject's remoteAddress). */
async function postFrom(h: Harness, ip: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Res> {
  return toRes(await h.app.inject({ method: 'POST', url: path, payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, remoteAddress: ip }));
}

interface Session {
  v: V;
  id: Record<string, unknown>;
  sessionId: string;
  gen: Res;
}

async function startSession(h: Harness, v: V, brand: string, value: string, extra: object = {}, type = 'MOBILE', deviceId = 'device-1'): Promise<Session> {
  const id = idBody(v, brand, type, value, deviceId);
  const gen = await h.post(url(v, 'token/generate'), { ...id, ...extra });
  expectOk(gen, `${v} token/generate ${value}`);
  return { v, id, sessionId: gen.body.user.sessionId as string, gen };
}

const send = (h: Harness, s: Session, ip = IP_A, extra: object = {}) => postFrom(h, ip, url(s.v, 'otp/generate'), { ...s.id, sessionId: s.sessionId, ...extra });
const validate = (h: Harness, s: Session, otp: string, ip = IP_A) => postFrom(h, ip, url(s.v, 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp });

/** A session with an OTP sent; the code read from the outbox. */
async function sessionWithOtp(h: Harness, v: V, brand: string, value: string, extra: object = {}): Promise<Session & { otp: string }> {
  const s = await startSession(h, v, brand, value, extra);
  expectOk(await send(h, s), `${v} otp/generate ${value}`);
  return { ...s, otp: await h.lastOtp(brand, `MOBILE|${value}`) };
}

/** Registers a user with a password (token/generate with password + OTP); returns its token and key. */
async function register(h: Harness, v: V, brand: string, value: string, password = PW, deviceId = 'device-1'): Promise<{ token: string; key: string | null }> {
  const r = await otpLogin(h, v, brand, 'MOBILE', value, { password, confirmPassword: password }, deviceId);
  expectOk(r.res, `${v} register ${value}`);
  return r.res.body.auth;
}

/** An OTP login; returns its token and key. */
async function login(h: Harness, v: V, brand: string, value: string, deviceId = 'device-1'): Promise<{ token: string; key: string | null }> {
  const r = await otpLogin(h, v, brand, 'MOBILE', value, {}, deviceId);
  expectOk(r.res, `${v} login ${value}`);
  return r.res.body.auth;
}

/** password/validate on a fresh session. */
async function pwLogin(h: Harness, v: V, brand: string, value: string, password: string, ip = IP_A, headers: Record<string, string> = {}): Promise<Res> {
  const s = await startSession(h, v, brand, value);
  return postFrom(h, ip, url(v, 'password/validate'), { ...s.id, sessionId: s.sessionId, password }, headers);
}

/** password/change with `token`; with password == newPassword an accepted token stops at 1527. */
const change = (h: Harness, v: V, brand: string, value: string, token: string, password = PW, newPassword = PW) =>
  h.post(url(v, 'password/change'), { ...idBody(v, brand, 'MOBILE', value), token, password, newPassword, confirmPassword: newPassword });

/** A token passes every token check of password/change (it stops at 1527: new == current). */
async function expectTokenAccepted(h: Harness, v: V, brand: string, value: string, token: string, what: string) {
  expectError(await change(h, v, brand, value, token), 1527, `${what}: accepted`);
}
/** A token is refused by password/change with 1529. */
async function expectTokenRefused(h: Harness, v: V, brand: string, value: string, token: string, what: string) {
  expectError(await change(h, v, brand, value, token), 1529, what);
}

/** token/regenerate: mobile presents `key`, web `expiredToken`. */
const regen = (h: Harness, v: V, brand: string, value: string, credential: string, ip = IP_A, deviceId = 'device-1') =>
  postFrom(h, ip, url(v, 'token/regenerate'), v === 'mobile' ? { ...idBody(v, brand, 'MOBILE', value, deviceId), key: credential } : { ...idBody(v, brand, 'MOBILE', value), expiredToken: credential });

/** Counts provider calls; the messages still reach the outbox (lastOtp keeps working). */
function captureSends(h: Harness): OtpMessage[] {
  const sent: OtpMessage[] = [];
  const orig = h.deps.sender;
  h.deps.sender = { canDeliver: () => true, send: async (m) => { sent.push(m); return orig.send(m); } };
  return sent;
}

async function auditEvents(h: Harness, brand: string): Promise<{ type: string; ip: string | null; identifier: string | null; detail: any }[]> {
  const r = await h.admin('GET', `/admin/v1/audit?brand=${encodeURIComponent(brand)}&limit=1000`);
  expectOk(r, 'GET audit');
  return r.body.events;
}

/** Wraps h.deps.passwords, counting calls. */
function countingHasher(h: Harness) {
  const base = h.deps.passwords;
  const calls = { hash: 0, verify: [] as string[] };
  const wrapper: PasswordHasher = {
    hash: (p) => (calls.hash++, base.hash(p)),
    verify: (stored, p) => (calls.verify.push(stored), base.verify(stored, p)),
    needsRehash: (stored) => base.needsRehash(stored),
  };
  h.deps.passwords = wrapper;
  return { calls, base, restore: () => void (h.deps.passwords = base) };
}

const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** An HS256 JWS over arbitrary header and payload with any secret (attacks on the verifier). */
function hs256(header: object, payload: object, secret: Buffer | string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The exact §9 failure of `code`, as a predicate (for tallies of concurrent answers). */
function isError(r: Res, code: SpecCode): boolean {
  const [http, message] = SPEC_ERRORS[code];
  return r.status === http && r.body?.status?.success === false && r.body.status.code === code && r.body.status.message === message;
}

function tally(rs: Res[], codes: SpecCode[]) {
  const t: Record<string, number> = { ok: 0 };
  for (const c of codes) t[c] = 0;
  const other: string[] = [];
  for (const r of rs) {
    if (r.status === 200 && r.body?.status?.code === 200) t.ok++;
    else {
      const c = codes.find((code) => isError(r, code));
      if (c !== undefined) t[c]++;
      else other.push(`${r.status} ${r.raw}`);
    }
  }
  return { ...t, other };
}

/**
 * Makes every session read yield first, so requests fired together all read the session before
 * any of them writes (what several instances answering at once look like); only the store's
 * atomic consume / increment can then keep the outcome exact.
 */
function interleaveSessionReads(h: Harness): void {
  const store = h.deps.sessions;
  const get = store.get.bind(store);
  store.get = async (id, now) => {
    const s = await get(id, now);
    await new Promise<void>((resolve) => setImmediate(resolve));
    return s;
  };
}

/** A certainly different code of the same length. */
const wrongOf = (otp: string) => String((Number(otp[0]) + 1) % 10) + otp.slice(1);

// =============================================================================================
// A. OTP generation, validity and single use

test('R1: codes are CSPRNG-uniform 6-digit strings — chi-square per position, ~10% leading zeros, birthday-level duplicates', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R1');
    assert.equal((await h.admin('GET', '/admin/v1/brands/R1')).body.config.otpLength, 6, 'the default is 6 digits');
    const codes: string[] = [];
    h.deps.sender = { canDeliver: () => true, send: async (m) => void codes.push(m.otp) };
    const N = 1200;
    for (const v of VARIANTS) {
      // One session, many resends (no cooldown or limit by default): each send draws a new code.
      const s = await startSession(h, v, 'R1', num(v, 1));
      for (let i = 0; i < N / 2; i++) expectOk(await send(h, s), `send ${i}`);
    }
    assert.equal(codes.length, N);
    for (const c of codes) assert.match(c, /^[0-9]{6}$/);
    // Chi-square of each digit position against uniform (9 degrees of freedom). 46 is the
    // p ≈ 1e-6 quantile: a fair generator fails it about once in a million runs; a
    // `100000 + rand(900000)` generator scores ≈ 133 at the first position.
    for (let p = 0; p < 6; p++) {
      const counts = Array<number>(10).fill(0);
      for (const c of codes) counts[Number(c[p])]++;
      const e = N / 10;
      const chi = counts.reduce((s, o) => s + (o - e) ** 2 / e, 0);
      assert.ok(chi < 46, `position ${p}: chi-square ${chi.toFixed(1)} (counts ${counts.join(',')})`);
    }
    const leadingZero = codes.filter((c) => c[0] === '0').length / N;
    // 10% expected; the bounds are ±4.6 standard deviations for 1200 codes.
    assert.ok(leadingZero > 0.06 && leadingZero < 0.14, `leading zeros: ${(leadingZero * 100).toFixed(1)}%`);
    // Expected duplicates among 1200 draws from 10^6: n²/2N ≈ 0.7; P(≥ 9) < 1e-6.
    const dups = N - new Set(codes).size;
    assert.ok(dups <= 8, `${dups} duplicate codes`);
  });
});

test('R2: a code lives at most otpValiditySeconds (600 = 10 min): valid at TTL−1 s, refused at TTL+1 s', async () => {
  // Contract: the default otpValiditySeconds is 1200 (20 min); the 10-minute maximum of the
  // checklist is the brand setting 600. An expired code answers 1502, a wrong one 1506 (§9):
  // the contract's distinct answers, not the checklist's single generic failure.
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R2', v);
      await h.createBrand(brand, { otpValiditySeconds: 600 });
      const a = await sessionWithOtp(h, v, brand, num(v, 1));
      h.clock.advance(599 * SEC);
      expectOk(await validate(h, a, a.otp), `${v}: at TTL − 1 s`);
      const b = await sessionWithOtp(h, v, brand, num(v, 1));
      h.clock.advance(601 * SEC);
      expectError(await validate(h, b, b.otp), 1502, `${v}: the right code at TTL + 1 s`);
      expectError(await validate(h, b, b.otp), 1502, `${v}: and again`);
    }
  });
});

test('R3: a code can be used successfully only once — a replay from the same or another client is refused', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R3');
    for (const v of VARIANTS) {
      const s = await sessionWithOtp(h, v, 'R3', num(v, 1));
      const ok = await validate(h, s, s.otp);
      expectOk(ok, `${v}: first use`);
      assert.equal(typeof ok.body.auth.token, 'string');
      // Contract §3.3: a consumed session answers 1505.
      expectError(await validate(h, s, s.otp), 1505, `${v}: replay, same client`);
      expectError(await validate(h, s, s.otp, IP_B), 1505, `${v}: replay from another address`);
    }
  });
});

test('R4: consuming a code is atomic under concurrency — 30 simultaneous verifies, exactly one token pair and one key row', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R4');
    interleaveSessionReads(h);
    for (const v of VARIANTS) {
      const s = await sessionWithOtp(h, v, 'R4', num(v, 1));
      const [users, keys] = [await h.countRows('users'), await h.countRows('keys')];
      const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => validate(h, s, s.otp, `192.0.2.${i + 1}`)));
      const t = tally(rs, [1505]);
      assert.deepEqual(t, { ok: 1, 1505: 29, other: [] }, `${v}: ${JSON.stringify(t)}`);
      assert.equal(await h.countRows('users'), users + 1, `${v}: one user`);
      assert.equal(await h.countRows('keys'), keys + (v === 'mobile' ? 1 : 0), `${v}: one key row (mobile), none (web)`);
    }
  });
});

test('R5: a code is bound to its identifier, session (request), purpose and brand', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const X = brandOf('R5x', v);
      const Y = brandOf('R5y', v);
      // 10-digit codes: two sessions' codes never collide by chance.
      await h.createBrand(X, { otpLength: 10, passwordEnabled: true });
      await h.createBrand(Y, { otpLength: 10 });
      const a = await sessionWithOtp(h, v, X, num(v, 1));
      const b = await sessionWithOtp(h, v, X, num(v, 2));
      // Phone A's code on phone B's session.
      expectError(await validate(h, b, a.otp), 1506, `${v}: A's code on B's session`);
      // A's session presented for identifier B (contract: 1541 on OTP endpoints).
      expectError(await postFrom(h, IP_A, url(v, 'otp/validate'), { ...idBody(v, X, 'MOBILE', num(v, 2)), sessionId: a.sessionId, otp: a.otp }), 1541, `${v}: A's session and code for B`);
      // Request #1's code with request #2's id, same identifier.
      const a2 = await sessionWithOtp(h, v, X, num(v, 1));
      expectError(await validate(h, a2, a.otp), 1506, `${v}: request 1's code on request 2`);
      // A login code on the password-reset flow (contract: the reset is completed by an OTP on
      // the password/forget session, so "another purpose" is another session).
      await register(h, v, X, num(v, 3));
      const login = await sessionWithOtp(h, v, X, num(v, 3));
      const reset = await startSession(h, v, X, num(v, 3));
      expectOk(await postFrom(h, IP_A, url(v, 'password/forget'), { ...reset.id, sessionId: reset.sessionId, password: PW2, confirmPassword: PW2 }), `${v}: password/forget`);
      expectOk(await send(h, reset), `${v}: reset code sent`);
      expectError(await validate(h, reset, login.otp), 1506, `${v}: the login code on the reset session`);
      expectError(await pwLogin(h, v, X, num(v, 3), PW2), 1528, `${v}: the reset did not happen`);
      // A brand-X session and code submitted to brand Y (contract §1.3: 1509), and X's code on a Y session.
      expectError(await postFrom(h, IP_A, url(v, 'otp/validate'), { ...idBody(v, Y, 'MOBILE', num(v, 1)), sessionId: a2.sessionId, otp: a2.otp }), 1509, `${v}: X's session on brand Y`);
      const y = await sessionWithOtp(h, v, Y, num(v, 1));
      expectError(await validate(h, y, a2.otp), 1506, `${v}: X's code on a Y session`);
      // Every genuine pairing still works: the refusals were about the binding.
      expectOk(await validate(h, b, b.otp), `${v}: B's own code`);
      expectOk(await validate(h, a2, a2.otp), `${v}: request 2's own code`);
      expectOk(await validate(h, y, y.otp), `${v}: Y's own code`);
    }
  });
});

test('R6: resending replaces the earlier code — code1 fails, code2 succeeds', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R6', { otpLength: 10 });
    for (const v of VARIANTS) {
      const s = await startSession(h, v, 'R6', num(v, 1));
      expectOk(await send(h, s), 'code 1');
      const code1 = await h.lastOtp('R6', `MOBILE|${num(v, 1)}`);
      expectOk(await send(h, s), 'code 2');
      const code2 = await h.lastOtp('R6', `MOBILE|${num(v, 1)}`);
      assert.notEqual(code1, code2);
      expectError(await validate(h, s, code1), 1506, `${v}: the replaced code`);
      expectOk(await validate(h, s, code2), `${v}: the current code`);
    }
  });
});

test('R7: codes are stored only as a keyed hash and never logged', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R7', { otpLength: 10 });
    const seen: { sessionId: string; otp: string }[] = [];
    for (const v of VARIANTS) {
      for (let i = 1; i <= 3; i++) {
        const s = await sessionWithOtp(h, v, 'R7', num(v, i));
        seen.push({ sessionId: s.sessionId, otp: s.otp });
        expectError(await validate(h, s, wrongOf(s.otp)), 1506, 'a wrong guess (logged paths too)');
      }
    }
    const stored = await h.rawStorageDump('sessions');
    for (const { sessionId, otp } of seen) {
      assert.ok(stored.includes(sessionId), `the session ${sessionId} is in the dump (the right thing was read)`);
      assert.ok(!stored.includes(otp), 'no plaintext code in the session store');
      // An unkeyed digest would fall to 10^10 guesses after a leak: none of its spellings is stored.
      for (const input of [otp, `${sessionId}:${otp}`]) {
        const d = createHash('sha256').update(input).digest();
        for (const enc of ['hex', 'base64', 'base64url'] as const) assert.ok(!stored.includes(d.toString(enc)), `no plain SHA-256 (${enc}) of the code`);
      }
    }
    const logs = h.logs.join('');
    assert.ok(logs.length > 0, 'logs were captured');
    for (const { otp } of seen) {
      assert.ok(!logs.includes(otp), 'no code in any log line');
      assert.ok(!logs.includes(wrongOf(otp)), 'nor a guessed code');
    }
  });
});

// =============================================================================================
// B. OTP verification throttling and lockout

test('R8: each code has an attempt cap (maxOtpRetries 5); after it the code is dead, the correct code too', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R8');
    for (const v of VARIANTS) {
      const s = await sessionWithOtp(h, v, 'R8', num(v, 1));
      for (let i = 1; i <= 4; i++) expectError(await validate(h, s, wrongOf(s.otp)), 1506, `${v}: wrong ${i}`);
      expectError(await validate(h, s, wrongOf(s.otp)), 1518, `${v}: the 5th wrong code ends the session`);
      expectError(await validate(h, s, s.otp), 1518, `${v}: the correct code after the cap`);
      // A resend cannot revive it (§2: the session is dead).
      expectError(await send(h, s), 1518, `${v}: otp/generate on the dead session`);
    }
  });
});

test('R9: a per-account failure counter survives resends, new sessions and other IPs; it locks, and a success resets it', async () => {
  // Contract: accountLocking is a brand option (enabled: false by default, when only the
  // per-session cap maxOtpRetries applies); the checklist's per-account cap is that option.
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R9', v);
      await h.createBrand(brand, { maxOtpRetries: 3, accountLocking: { enabled: true, maxFailures: 6, lockMinutes: 30 } });
      const who = num(v, 1);
      await login(h, v, brand, who);
      let ip = 0;
      const guess = async (s: Session & { otp: string }, code: SpecCode) => expectError(await validate(h, s, wrongOf(s.otp), `192.0.2.${++ip}`), code, `${v}: guess from 192.0.2.${ip}`);
      // 5 failures over three sessions (≤ cap − 1 each) and a resend, then a success: the count resets.
      let s = await sessionWithOtp(h, v, brand, who);
      await guess(s, 1506);
      expectOk(await send(h, s, `192.0.2.${++ip}`), 'resend');
      s = { ...s, otp: await h.lastOtp(brand, `MOBILE|${who}`) };
      await guess(s, 1506);
      s = await sessionWithOtp(h, v, brand, who);
      await guess(s, 1506);
      await guess(s, 1506);
      s = await sessionWithOtp(h, v, brand, who);
      await guess(s, 1506);
      expectOk(await validate(h, s, s.otp), `${v}: a success after 5 failures`);
      // Again: the 6th failure in a row, spread the same way, locks the account.
      const held = await sessionWithOtp(h, v, brand, who);
      for (let i = 0; i < 2; i++) {
        const t = await sessionWithOtp(h, v, brand, who);
        await guess(t, 1506);
        await guess(t, 1506);
      }
      const t = await sessionWithOtp(h, v, brand, who);
      await guess(t, 1506);
      await guess(t, 1544);
      // Locked: the correct code of a session opened before the lock fails too, as does sending.
      const r = await validate(h, held, held.otp);
      expectError(r, 1544, `${v}: the correct code while locked`);
      assert.equal(r.headers['retry-after'], String(30 * 60));
      expectError(await send(h, await startSession(h, v, brand, who), IP_B), 1544, `${v}: otp/generate while locked`);
    }
  });
});

test('R10: counters stay exact under concurrent bursts — 4 × cap parallel wrong guesses, per session and per account', async () => {
  await withHarness(async (h) => {
    interleaveSessionReads(h);
    for (const v of VARIANTS) {
      // Per session: maxOtpRetries 5 → exactly 4 × 1506 and 16 × 1518, no success, then dead.
      const brand = brandOf('R10', v);
      await h.createBrand(brand);
      const s = await sessionWithOtp(h, v, brand, num(v, 1));
      const burst = await Promise.all(Array.from({ length: 20 }, (_, i) => validate(h, s, wrongOf(s.otp), `192.0.2.${i + 1}`)));
      const t = tally(burst, [1506, 1518]);
      assert.deepEqual(t, { ok: 0, 1506: 4, 1518: 16, other: [] }, `${v} session: ${JSON.stringify(t)}`);
      expectError(await validate(h, s, s.otp), 1518, `${v}: the correct code after the burst`);

      // Per account: 20 sessions, one wrong guess each, at once; accountLocking maxFailures 5 →
      // exactly 4 × 1506 and 16 × 1544.
      const locked = brandOf('R10L', v);
      await h.createBrand(locked, { accountLocking: { enabled: true, maxFailures: 5, lockMinutes: 30 } });
      const sessions: (Session & { otp: string })[] = [];
      for (let i = 0; i < 20; i++) sessions.push(await sessionWithOtp(h, v, locked, num(v, 2)));
      const wave = await Promise.all(sessions.map((x, i) => validate(h, x, wrongOf(x.otp), `198.51.100.${i + 1}`)));
      const w = tally(wave, [1506, 1544]);
      assert.deepEqual(w, { ok: 0, 1506: 4, 1544: 16, other: [] }, `${v} account: ${JSON.stringify(w)}`);
      expectError(await validate(h, sessions[19], sessions[19].otp), 1544, `${v}: the correct code while locked`);
    }
  });
});

test('R11: a lockout answers alike for unknown and real identifiers, and the owner gets back in (admin unlock, or the lock ends)', async () => {
  // Contract: lockMinutes is fixed (no growing waits); password/validate checks "user exists"
  // (1515) before the lock, so there an unknown identifier answers 1515 (§3.4 order). On the
  // OTP endpoints, where a lock can be hit without an account, the answers are identical.
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R11', v);
      await h.createBrand(brand, { accountLocking: { enabled: true, maxFailures: 3, lockMinutes: 30 } });
      const known = num(v, 1);
      const unknown = num(v, 2);
      await login(h, v, brand, known);
      const held: Record<string, Session & { otp: string }> = {};
      for (const who of [known, unknown]) {
        held[who] = await sessionWithOtp(h, v, brand, who);
        for (let i = 0; i < 3; i++) {
          const s = await sessionWithOtp(h, v, brand, who);
          expectError(await validate(h, s, wrongOf(s.otp)), i < 2 ? 1506 : 1544, `${v} ${who}: failure ${i + 1}`);
        }
      }
      const sameAnswer = (a: Res, b: Res, what: string) => {
        assert.equal(a.status, b.status, what);
        assert.deepEqual(a.body, b.body, what);
        assert.equal(a.headers['retry-after'], b.headers['retry-after'], `${what}: Retry-After`);
        const names = (r: Res) => Object.keys(r.headers).filter((k) => k !== 'x-request-id' && k !== 'date').sort();
        assert.deepEqual(names(a), names(b), `${what}: header names`);
        assert.equal(a.headers['content-length'], b.headers['content-length'], `${what}: length`);
      };
      const sendK = await send(h, await startSession(h, v, brand, known));
      const sendU = await send(h, await startSession(h, v, brand, unknown));
      expectError(sendK, 1544, `${v}: otp/generate, locked account`);
      sameAnswer(sendK, sendU, `${v}: otp/generate`);
      sameAnswer(await validate(h, held[known], held[known].otp), await validate(h, held[unknown], held[unknown].otp), `${v}: otp/validate`);
      // Recovery: the admin unlock lets the owner in at once; the identifier's own lock ends after lockMinutes.
      expectOk(await h.admin('POST', `/admin/v1/users/${brand}/MOBILE/${known}/unlock`), 'admin unlock');
      expectOk((await otpLogin(h, v, brand, 'MOBILE', known)).res, `${v}: the owner logs in after the unlock`);
      expectError(await send(h, await startSession(h, v, brand, unknown)), 1544, `${v}: the other lock still holds`);
      h.clock.advance(30 * MIN);
      expectOk((await otpLogin(h, v, brand, 'MOBILE', unknown)).res, `${v}: after lockMinutes`);
    }
  });
});

// =============================================================================================
// C. OTP send limits and SMS pumping

test('R12: per-identifier send limits — a minimum gap, N per window and a daily cap, 429 + Retry-After before the provider; a burst cannot overrun', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R12', v);
      await h.createBrand(brand, { otpResendCooldownSeconds: 30, otpMaxCount: 3, otpTimeOut: 10, otpDailyLimit: 5, passwordEnabled: true });
      const sent = captureSends(h);
      const who = num(v, 1);
      const s1 = await startSession(h, v, brand, who);
      expectOk(await send(h, s1), 'send 1');
      // The gap: the same session again at once → 1547 with the cooldown's Retry-After.
      const gap = await send(h, s1);
      expectError(gap, 1547, `${v}: resend within the cooldown`);
      assert.equal(gap.headers['retry-after'], '30');
      expectOk(await send(h, await startSession(h, v, brand, who)), 'send 2');
      expectOk(await send(h, await startSession(h, v, brand, who)), 'send 3');
      // N + 1 in the window: 1534 with Retry-After; the provider got exactly N.
      const over = await send(h, await startSession(h, v, brand, who), IP_B);
      expectError(over, 1534, `${v}: 4th send in 10 min`);
      assert.equal(over.headers['retry-after'], String(10 * 60));
      assert.equal(sent.length, 3, 'the provider saw 3 messages');
      // After the window, sending works again, up to the daily cap (5 per rolling 24 h).
      h.clock.advance(10 * MIN);
      expectOk(await send(h, await startSession(h, v, brand, who)), 'send 4');
      expectOk(await send(h, await startSession(h, v, brand, who)), 'send 5');
      h.clock.advance(10 * MIN);
      const daily = await send(h, await startSession(h, v, brand, who));
      expectError(daily, 1534, `${v}: 6th send in a day`);
      assert.equal(daily.headers['retry-after'], String((DAY - 20 * MIN) / SEC));
      assert.equal(sent.length, 5);
      h.clock.advance(DAY - 20 * MIN);
      expectOk(await send(h, await startSession(h, v, brand, who)), `${v}: a day after the first send`);

      // A registered user and an unknown identifier get the same answers.
      const user = num(v, 2);
      const stranger = num(v, 3);
      await register(h, v, brand, user);
      h.clock.advance(DAY);
      for (let i = 0; i < 4; i++) {
        const a = await send(h, await startSession(h, v, brand, user));
        const b = await send(h, await startSession(h, v, brand, stranger));
        assert.equal(a.status, b.status, `${v}: send ${i + 1}`);
        assert.deepEqual(a.body, b.body);
        assert.equal(a.headers['retry-after'], b.headers['retry-after']);
      }

      // A parallel burst of 50 sends for one fresh identifier: the provider gets at most N (3).
      const burstWho = num(v, 4);
      const sessions = await Promise.all(Array.from({ length: 50 }, () => startSession(h, v, brand, burstWho)));
      const before = sent.length;
      const rs = await Promise.all(sessions.map((x, i) => send(h, x, `192.0.2.${i + 1}`)));
      const t = tally(rs, [1534]);
      assert.deepEqual(t, { ok: 3, 1534: 47, other: [] }, `${v} burst: ${JSON.stringify(t)}`);
      assert.equal(sent.length - before, 3, `${v}: the provider got 3 of the burst`);
    }
  });
});

test('R13: SMS pumping — number-prefix velocity from rotating IPs, per-IP limit, country allowlist and a brand budget, refused before the provider and audited', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R13', v);
      await h.createBrand(brand, { otpAbuse: { perPrefixPerHour: 5, prefixLength: 9, perIpPerHour: 10, allowedCountryCodes: ['91'], brandDailyBudget: 16 } });
      const sent = captureSends(h);
      // Adjacent numbers +91 70000 000xx from a new address each: 5 pass, then the range is closed.
      const results: Res[] = [];
      for (let i = 0; i < 20; i++) results.push(await send(h, await startSession(h, v, brand, `91700000${String(i).padStart(3, '0')}`), `192.0.2.${i + 1}`));
      assert.equal(results.filter((r) => r.status === 200).length, 5);
      for (const r of results.slice(5)) expectError(r, 1534, `${v}: prefix threshold reached`);
      assert.equal(sent.length, 5, 'no provider call for the refused range');
      // A number outside the brand's countries: refused, nothing sent.
      expectError(await send(h, await startSession(h, v, brand, '+1 555 010 0001'), '192.0.2.200'), 1534, `${v}: country not allowed`);
      assert.equal(sent.length, 5);
      // Per IP: one address sending to 11 different ranges — the 11th is refused (1547).
      for (let i = 0; i < 10; i++) expectOk(await send(h, await startSession(h, v, brand, `9171${String(i).padStart(3, '0')}000001`), IP_A), `${v}: IP A ${i + 1}`);
      const perIp = await send(h, await startSession(h, v, brand, '917199000001'), IP_A);
      expectError(perIp, 1547, `${v}: IP A's 11th send in the hour`);
      assert.ok(Number(perIp.headers['retry-after']) >= 1);
      // The budget (16) still had room when IP A was refused: another address sends the 16th.
      expectOk(await send(h, await startSession(h, v, brand, '917299000001'), IP_B), `${v}: IP B, the 16th send of the day`);
      // Now the brand's daily budget is spent, whoever asks.
      const budget = await send(h, await startSession(h, v, brand, '917399000001'), '192.0.2.201');
      expectError(budget, 1534, `${v}: the brand's daily budget`);
      assert.equal(sent.length, 16, 'nothing sent past the budget');
      // Each refusal is an audit event (the spend alert), with its reason.
      const reasons = (await auditEvents(h, brand)).filter((e) => e.type === 'otp_send_refused').map((e) => e.detail.reason);
      assert.deepEqual(
        [...new Set(reasons)].sort(),
        ['brand_daily_budget', 'country_not_allowed', 'ip_hourly_limit', 'prefix_hourly_limit'],
      );
      assert.equal(reasons.filter((r) => r === 'prefix_hourly_limit').length, 15);
    }
  });
});

// =============================================================================================
// D. Account enumeration

test('R15: OTP endpoints answer a registered and an unknown identifier identically (the contract\'s password endpoints do not)', async () => {
  // Contract: password/validate and password/forget answer 1515 for an unknown user (§3.4,
  // §3.7) and token/generate tells userRegisteredForPassword — the original API's trade of
  // enumeration for usability. Asserted as the contract prescribes; every OTP step is identical.
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R15', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const known = num(v, 1);
      const unknown = num(v, 2);
      await register(h, v, brand, known);
      const same = (a: Res, b: Res, what: string) => {
        assert.equal(a.status, b.status, what);
        assert.deepEqual(a.body, b.body, what);
        const names = (r: Res) => Object.keys(r.headers).filter((k) => k !== 'x-request-id' && k !== 'date').sort();
        assert.deepEqual(names(a), names(b), `${what}: header names (set-cookie included)`);
        assert.equal(a.headers['content-length'], b.headers['content-length'], `${what}: Content-Length`);
        assert.equal(a.headers['set-cookie'], undefined, `${what}: no cookie`);
      };
      const sk = await startSession(h, v, brand, known);
      const su = await startSession(h, v, brand, unknown);
      // token/generate: same status and the same keys; only the contract's flag differs.
      assert.equal(sk.gen.status, su.gen.status);
      assert.deepEqual(Object.keys(sk.gen.body.user).sort(), Object.keys(su.gen.body.user).sort());
      const gk = await send(h, sk);
      const gu = await send(h, su);
      expectOk(gk);
      same(gk, gu, `${v}: otp/generate`);
      const otpK = await h.lastOtp(brand, `MOBILE|${known}`);
      const otpU = await h.lastOtp(brand, `MOBILE|${unknown}`);
      same(await validate(h, sk, wrongOf(otpK)), await validate(h, su, wrongOf(otpU)), `${v}: otp/validate with a wrong code`);
      // The contract's answers on the password endpoints.
      expectError(await pwLogin(h, v, brand, known, PW2), 1528, `${v}: wrong password, known user`);
      expectError(await pwLogin(h, v, brand, unknown, PW2), 1515, `${v}: unknown user (contract §3.4)`);
      const fk = await startSession(h, v, brand, known);
      const fu = await startSession(h, v, brand, unknown);
      expectOk(await postFrom(h, IP_A, url(v, 'password/forget'), { ...fk.id, sessionId: fk.sessionId, password: PW2, confirmPassword: PW2 }), `${v}: forget, known`);
      expectError(await postFrom(h, IP_A, url(v, 'password/forget'), { ...fu.id, sessionId: fu.sessionId, password: PW2, confirmPassword: PW2 }), 1515, `${v}: forget, unknown (contract §3.7)`);
    }
  });
});

test('R16: an unknown user and a user without a password cost the same argon2 verification as a real password check', async () => {
  // No timing assertion (too noisy for CI): the property behind equal timing is asserted
  // instead — every path runs exactly one argon2 verify, against a hash of the current parameters.
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R16', v);
      await h.createBrand(brand, { passwordEnabled: true });
      await register(h, v, brand, num(v, 1));
      await login(h, v, brand, num(v, 2)); // OTP-only user: no password
      const sessions = {
        unknown: await startSession(h, v, brand, num(v, 3)),
        noPassword: await startSession(h, v, brand, num(v, 2)),
        wrong: await startSession(h, v, brand, num(v, 1)),
      };
      const spy = countingHasher(h);
      try {
        const attempt = (value: string, s: Session) => postFrom(h, IP_A, url(v, 'password/validate'), { ...idBody(v, brand, 'MOBILE', value), sessionId: s.sessionId, password: PW });
        expectError(await attempt(num(v, 3), sessions.unknown), 1515, `${v}: unknown user`);
        assert.equal(spy.calls.verify.length, 1, `${v}: one argon2 verify for an unknown user`);
        assert.equal(spy.base.needsRehash(spy.calls.verify[0]), false, 'the dummy hash has the current parameters');
        expectError(await attempt(num(v, 2), sessions.noPassword), 1526, `${v}: user without a password`);
        assert.equal(spy.calls.verify.length, 2, `${v}: one argon2 verify for a user without a password`);
        expectError(await postFrom(h, IP_A, url(v, 'password/validate'), { ...idBody(v, brand, 'MOBILE', num(v, 1)), sessionId: sessions.wrong.sessionId, password: PW2 }), 1528, `${v}: wrong password`);
        assert.equal(spy.calls.verify.length, 3, `${v}: one argon2 verify for a real check`);
      } finally {
        spy.restore();
      }
    }
  });
});

// =============================================================================================
// E. Passwords

test('R17: length limits — 7 refused, 8 / 64 / 128 accepted, 129 refused; a 1 MiB body is refused (413) before any hashing', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R17', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const pw = (n: number) => 'Zq7-kP2m-Wx4v-Rt9s-'.repeat(8).slice(0, n);
      const register1 = (p: string) => h.post(url(v, 'token/generate'), { ...idBody(v, brand, 'MOBILE', num(v, 1)), password: p, confirmPassword: p });
      expectError(await register1(pw(7)), 1542, `${v}: 7 characters`);
      expectOk(await register1(pw(8)), `${v}: 8 characters`);
      expectOk(await register1(pw(64)), `${v}: 64 characters`);
      expectOk(await register1(pw(128)), `${v}: 128 characters`);
      expectError(await register1(pw(129)), 1542, `${v}: 129 characters`);
      // 1 MiB: refused by the body limit (spec §1.1: 413 / 1519) without reaching argon2.
      const spy = countingHasher(h);
      try {
        const huge = 'x'.repeat(1024 * 1024);
        for (const path of ['token/generate', 'password/validate', 'password/change']) {
          const r = await h.post(url(v, path), { ...idBody(v, brand, 'MOBILE', num(v, 1)), sessionId: 'P-x', token: 'x', password: huge, newPassword: huge, confirmPassword: huge });
          expectError(r, 1519, `${v} ${path}: 1 MiB`, { http: 413 });
        }
        assert.equal(spy.calls.hash + spy.calls.verify.length, 0, 'no hashing for an oversized body');
      } finally {
        spy.restore();
      }
    }
  });
});

test('R18: no composition rules; all of Unicode accepted; length counted in code points', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R18', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const phrase = 'correct horse battery staple';
      const cyrillic = 'пароль-🔑-секретный';
      const emoji8 = '😀🔑🐢🌵🎲🧭🪐🍋';
      for (const [i, p] of [phrase, cyrillic, emoji8].entries()) {
        await register(h, v, brand, num(v, i + 1), p);
        expectOk(await pwLogin(h, v, brand, num(v, i + 1), p), `${v}: login with ${JSON.stringify(p)}`);
      }
      // 8 emoji are 16 UTF-16 units but 8 characters; 7 emoji (14 units) are below the minimum of 8.
      expectError(await h.post(url(v, 'token/generate'), { ...idBody(v, brand, 'MOBILE', num(v, 9)), password: emoji8.slice(0, 14), confirmPassword: emoji8.slice(0, 14) }), 1542, `${v}: 7 emoji`);
    }
  });
});

test('R19: Unicode is normalised before hashing — "é" (U+00E9) logs in as "e" + U+0301', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R19', v);
      await h.createBrand(brand, { passwordEnabled: true });
      await register(h, v, brand, num(v, 1), 'caf\u00e9-au-lait-9');
      expectOk(await pwLogin(h, v, brand, num(v, 1), 'cafe\u0301-au-lait-9'), `${v}: decomposed form`);
      expectError(await pwLogin(h, v, brand, num(v, 1), 'cafe-au-lait-9'), 1528, `${v}: without the accent`);
    }
  });
});

test('R20: no truncation — a 100-character password: its first 72 characters, or one letter in another case, fail', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R20', v);
      await h.createBrand(brand, { passwordEnabled: true, maxPasswordRetries: 100 });
      const pw = 'Tr0ub4dor&3-horse-'.repeat(6).slice(0, 100);
      assert.equal(pw.length, 100);
      await register(h, v, brand, num(v, 1), pw);
      expectError(await pwLogin(h, v, brand, num(v, 1), pw.slice(0, 72)), 1528, `${v}: the first 72 characters`);
      expectError(await pwLogin(h, v, brand, num(v, 1), `${pw.slice(0, 99)}${pw[99] === 'x' ? 'y' : 'x'}`), 1528, `${v}: the last character changed`);
      expectError(await pwLogin(h, v, brand, num(v, 1), pw.replace('T', 't')), 1528, `${v}: one letter in lower case`);
      expectOk(await pwLogin(h, v, brand, num(v, 1), pw), `${v}: the exact password`);
    }
  });
});

test('R21: common passwords from the shipped blocklist are refused (1542) at registration, change and reset', async () => {
  // Contract: the only policy code is 1542 (no machine-readable sub-reason). Context words
  // (brand name, e-mail local part) are not checked: README "Security" notes it.
  const common = ['qwerty123456', 'Password123', 'iloveyou2', 'trustno1'];
  const list = new Set(readFileSync(new URL('../../assets/common-passwords.txt', import.meta.url), 'utf8').split('\n'));
  for (const p of common) assert.ok(list.has(p.toLowerCase()), `${p} is on the shipped list`);
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R21', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const { token } = await register(h, v, brand, num(v, 1));
      for (const p of common) {
        expectError(await h.post(url(v, 'token/generate'), { ...idBody(v, brand, 'MOBILE', num(v, 2)), password: p, confirmPassword: p }), 1542, `${v}: register ${p}`);
        expectError(await change(h, v, brand, num(v, 1), token, PW, p), 1542, `${v}: change to ${p}`);
        const s = await startSession(h, v, brand, num(v, 1));
        expectError(await h.post(url(v, 'password/forget'), { ...s.id, sessionId: s.sessionId, password: p, confirmPassword: p }), 1542, `${v}: reset to ${p}`);
      }
      // The same lengths pass when not listed: the refusal is the blocklist's.
      expectOk(await h.post(url(v, 'token/generate'), { ...idBody(v, brand, 'MOBILE', num(v, 2)), password: 'mauve-otter-1492', confirmPassword: 'mauve-otter-1492' }), `${v}: an unlisted password`);
    }
  });
});

test('R23: changing a password needs the current one, and ends the other devices\' sessions', async () => {
  // User notification of the change is not covered (no user-notification sink; README R46).
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R23', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const who = num(v, 1);
      const me = await register(h, v, brand, who);
      const other = await login(h, 'mobile', brand, who, 'device-2');
      const body = { ...idBody(v, brand, 'MOBILE', who), token: me.token, newPassword: PW2, confirmPassword: PW2 };
      expectError(await h.post(url(v, 'password/change'), body), 1519, `${v}: without the current password`);
      expectError(await h.post(url(v, 'password/change'), { ...body, password: 'Not-The-Password-1' }), 1528, `${v}: a wrong current password`);
      expectError(await pwLogin(h, v, brand, who, PW2), 1528, `${v}: nothing changed`);
      expectOk(await h.post(url(v, 'password/change'), { ...body, password: PW }), `${v}: with the current password`);
      expectOk(await pwLogin(h, v, brand, who, PW2), `${v}: the new password`);
      expectError(await regen(h, 'mobile', brand, who, other.key as string, IP_A, 'device-2'), 1597, `${v}: the other device's key is revoked`);
      await expectTokenRefused(h, 'mobile', brand, who, other.token, `${v}: the other device's token is revoked`);
    }
  });
});

test('R24: passwords are salted argon2id with the parameters stored; raised parameters rehash at the next login; absurd stored parameters fail closed', async () => {
  // The harness hashes with small parameters for speed; the service's default is OWASP's
  // m=19456 KiB, t=2, p=1 (src/crypto/password-hasher.ts OWASP_ARGON2). No pepper (README).
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R24', v);
      await h.createBrand(brand, { passwordEnabled: true, maxPasswordRetries: 100 });
      await register(h, v, brand, num(v, 1));
      await register(h, v, brand, num(v, 2));
      const stored = async (n: number) => (await h.deps.users.findUser(brand.toUpperCase(), { type: 'MOBILE', value: num(v, n) }))!.passwordHash!;
      const [a, b] = [await stored(1), await stored(2)];
      assert.match(a, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]+$/);
      assert.notEqual(a, b, 'the same password, two users: two salts, two hashes');
      // Raise the parameters (a deployment upgrade): the next successful login rehashes.
      const original = h.deps.passwords;
      h.deps.passwords = argon2Hasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
      try {
        expectOk(await pwLogin(h, v, brand, num(v, 1), PW), `${v}: login with the old-parameter hash`);
        assert.match(await stored(1), /^\$argon2id\$v=19\$m=2048,t=2,p=1\$/, `${v}: rehashed with the raised parameters`);
        expectOk(await pwLogin(h, v, brand, num(v, 1), PW), `${v}: the new hash logs in`);
      } finally {
        h.deps.passwords = original;
      }
      // An imported / tampered hash asking for 4 GiB of memory: refused without running argon2.
      const uid = (await h.deps.users.findUser(brand.toUpperCase(), { type: 'MOBILE', value: num(v, 2) }))!.uid;
      await h.deps.users.updateUser(brand.toUpperCase(), uid, { passwordHash: b.replace(/m=\d+/, 'm=4194304') });
      expectError(await pwLogin(h, v, brand, num(v, 2), PW), 1528, `${v}: absurd parameters`);
    }
  });
});

test('R25: secrets of the wrong length are ordinary failures, never a 5xx (constant-time comparisons)', async () => {
  // The comparisons themselves (timingSafeEqual after a length-safe step) are checked in code
  // review: src/http/admin-auth.ts, src/crypto/otp.ts. No timing trend test (CI noise).
  await withHarness(async (h) => {
    await h.createBrand('R25', { passwordEnabled: true, otpLength: 6 });
    for (const bearer of ['x', ADMIN_TOKEN.slice(0, -1), `${ADMIN_TOKEN}x`, 'y'.repeat(4000)]) {
      const r = toRes(await h.app.inject({ method: 'GET', url: '/admin/v1/brands', headers: { authorization: `Bearer ${bearer}` } }));
      assert.equal(r.status, 401, `admin bearer of ${bearer.length} characters`);
      assert.equal(r.body.status.code, 1548);
    }
    for (const v of VARIANTS) {
      const s = await sessionWithOtp(h, v, 'R25', num(v, 1));
      for (const otp of ['1', '12345', '1234567', '1234567890']) {
        const r = await validate(h, s, otp);
        assert.ok(isError(r, 1506) || isError(r, 1519), `${v}: OTP of ${otp.length} digits → ${r.status} ${r.raw}`);
      }
      expectOk(await validate(h, s, s.otp), `${v}: the code still works (the short guesses were not 5xx)`);
      const { token, key } = await login(h, v, 'R25', num(v, 2));
      const cred = (v === 'mobile' ? key : token) as string;
      for (const bad of [cred.slice(0, -1), `${cred}A`, cred.slice(0, 10), 'A'.repeat(5000)]) {
        expectError(await regen(h, v, 'R25', num(v, 2), bad), v === 'mobile' ? 1597 : 1525, `${v}: credential of ${bad.length} characters`);
      }
    }
  });
});

// =============================================================================================
// F. Password login throttling

test('R26: the per-account password budget — n−1 failures then success; n failures lock (the right password too); the wait ends it; failures while locked do not extend it', async () => {
  // Contract §2: maxPasswordRetries 5 within passwordRetryWindowMinutes 30; the n-th wrong
  // answer and every attempt while spent are 1530 (not a generic 1528).
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R26', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const who = num(v, 1);
      await register(h, v, brand, who);
      for (let i = 0; i < 4; i++) expectError(await pwLogin(h, v, brand, who, PW2, `192.0.2.${i + 1}`), 1528, `${v}: failure ${i + 1}`);
      expectOk(await pwLogin(h, v, brand, who, PW), `${v}: n − 1 failures, then the right password`);
      // The success reset the count: 4 more failures are all 1528 again, the 5th locks.
      for (let i = 0; i < 4; i++) expectError(await pwLogin(h, v, brand, who, PW2, `198.51.100.${i + 1}`), 1528, `${v}: failure ${i + 1} after the reset`);
      expectError(await pwLogin(h, v, brand, who, PW2), 1530, `${v}: the 5th failure`);
      expectError(await pwLogin(h, v, brand, who, PW), 1530, `${v}: the right password while spent`);
      h.clock.advance(20 * MIN);
      for (let i = 0; i < 3; i++) expectError(await pwLogin(h, v, brand, who, PW2), 1530, `${v}: guesses while spent`);
      h.clock.advance(10 * MIN);
      expectOk(await pwLogin(h, v, brand, who, PW), `${v}: the window since the last counted failure has passed`);
    }
  });
});

test('R27: distributed guessing is limited per IP and per identifier — spoofed X-Forwarded-For, rotated IPv6 /64 addresses and a missing client header do not escape', async () => {
  // Brand loginAbuse (off by default, the contract has no such limit); 1547 with Retry-After.
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R27', v);
      await h.createBrand(brand, { passwordEnabled: true, maxPasswordRetries: 1000, loginAbuse: { perIpPerMinute: 3, perIdentifierPerMinute: 8 } });
      const who = num(v, 1);
      await register(h, v, brand, who);
      // A new X-Forwarded-For on every request (not a trusted proxy): counted under the real address.
      for (let i = 0; i < 3; i++) expectError(await pwLogin(h, v, brand, who, PW2, IP_A, { 'x-forwarded-for': `10.0.0.${i + 1}` }), 1528, `${v}: spoofed XFF ${i + 1}`);
      const xff = await pwLogin(h, v, brand, who, PW, IP_A, { 'x-forwarded-for': '10.0.0.99' });
      expectError(xff, 1547, `${v}: 4th attempt with yet another XFF`);
      assert.equal(xff.headers['retry-after'], '60');
      h.clock.advance(MIN);
      // Addresses rotated inside one IPv6 /64.
      for (let i = 0; i < 3; i++) expectError(await pwLogin(h, v, brand, who, PW2, `2001:db8:7:7::${(i + 1).toString(16)}`), 1528, `${v}: IPv6 ${i + 1}`);
      expectError(await pwLogin(h, v, brand, who, PW, '2001:db8:7:7:abcd:ef01:2345:6789'), 1547, `${v}: another address of the same /64`);
      h.clock.advance(MIN);
      // No client header at all: the socket address is the subject (the harness peer).
      for (let i = 0; i < 3; i++) {
        const s = await startSession(h, v, brand, who);
        expectError(await h.post(url(v, 'password/validate'), { ...s.id, sessionId: s.sessionId, password: PW2 }), 1528, `${v}: plain request ${i + 1}`);
      }
      const s = await startSession(h, v, brand, who);
      expectError(await h.post(url(v, 'password/validate'), { ...s.id, sessionId: s.sessionId, password: PW }), 1547, `${v}: 4th plain request`);
      h.clock.advance(MIN);
      // Per identifier: 8 distinct addresses guess one account, the 9th is stopped.
      for (let i = 0; i < 8; i++) expectError(await pwLogin(h, v, brand, who, PW2, `192.0.2.${i + 1}`), 1528, `${v}: IP ${i + 1}`);
      expectError(await pwLogin(h, v, brand, who, PW, '192.0.2.100'), 1547, `${v}: a 9th address`);
      // token/regenerate is guarded the same way.
      h.clock.advance(MIN);
      for (let i = 0; i < 3; i++) expectError(await regen(h, v, brand, who, `guess-${i}`, IP_B), v === 'mobile' ? 1597 : 1525, `${v}: key guess ${i + 1}`);
      expectError(await regen(h, v, brand, who, 'guess-4', IP_B), 1547, `${v}: 4th key guess from one address`);
    }
  });
});

// =============================================================================================
// G. Access tokens

test('R28: the algorithm is pinned — none/None/NONE, an empty signature, a changed payload, HS256 keyed with the ES256 public key, and r = s = 0 are refused', async () => {
  // HS256 deployment (the default).
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R28', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const { token } = await register(h, v, brand, num(v, 1));
      await expectTokenAccepted(h, v, brand, num(v, 1), token, `${v}: the genuine token`);
      const [head, body, sig] = token.split('.');
      const header = decodeProtectedHeader(token);
      const payload = decodeJwt(token);
      for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
        await expectTokenRefused(h, v, brand, num(v, 1), `${b64({ ...header, alg })}.${body}.`, `${v}: alg ${alg}`);
      }
      await expectTokenRefused(h, v, brand, num(v, 1), `${head}.${body}.`, `${v}: HS256 with an empty signature`);
      const tampered = b64({ ...payload, uid: `${payload.uid}0` });
      await expectTokenRefused(h, v, brand, num(v, 1), `${head}.${tampered}.${sig}`, `${v}: payload changed, signature kept`);
      const flipped = body.slice(0, 10) + (body[10] === 'A' ? 'B' : 'A') + body.slice(11);
      await expectTokenRefused(h, v, brand, num(v, 1), `${head}.${flipped}.${sig}`, `${v}: one payload character changed`);
    }
  });
  // ES256 deployment: HS/ES confusion and the "psychic signature".
  const dir = mkdtempSync(join(tmpdir(), 'ae-r28-'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'signing.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  try {
    await withHarness(async (h) => {
      const v: V = 'mobile';
      await h.createBrand('R28ES', { passwordEnabled: true });
      const { token } = await register(h, v, 'R28ES', num(v, 1));
      const header = decodeProtectedHeader(token);
      assert.equal(header.alg, 'ES256');
      await expectTokenAccepted(h, v, 'R28ES', num(v, 1), token, 'the genuine ES256 token');
      const payload = decodeJwt(token);
      for (const pub of [publicKey.export({ type: 'spki', format: 'pem' }) as string, JSON.stringify(publicKey.export({ format: 'jwk' }))]) {
        await expectTokenRefused(h, v, 'R28ES', num(v, 1), hs256({ ...header, alg: 'HS256' }, payload, pub), 'HS256 keyed with the public key');
      }
      const [head, body] = token.split('.');
      await expectTokenRefused(h, v, 'R28ES', num(v, 1), `${head}.${body}.${Buffer.alloc(64).toString('base64url')}`, 'ES256 with r = s = 0');
      await expectTokenRefused(h, v, 'R28ES', num(v, 1), `${head}.${body}.`, 'ES256 with an empty signature');
    }, { AUTH_SIGNING_ALG: 'ES256', AUTH_SIGNING_PRIVATE_KEY_FILE: join(dir, 'signing.pem') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('R29: keys come only from server configuration — embedded jwk, jku, kid path traversal and kid injection are refused (never 5xx), nothing is fetched', async () => {
  let fetched = 0;
  const attacker = createServer((_req, res) => {
    fetched++;
    res.setHeader('content-type', 'application/json');
    res.end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  const jku = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/jwks.json`;
  try {
    await withHarness(async (h) => {
      for (const v of VARIANTS) {
        const brand = brandOf('R29', v);
        await h.createBrand(brand, { passwordEnabled: true });
        const { token } = await register(h, v, brand, num(v, 1));
        await expectTokenAccepted(h, v, brand, num(v, 1), token, `${v}: genuine`);
        const header = decodeProtectedHeader(token);
        const payload = decodeJwt(token);
        const evil = generateKeyPairSync('ec', { namedCurve: 'P-256' });
        const evilJwk = evil.publicKey.export({ format: 'jwk' });
        const attacks: [string, string][] = [
          ['embedded jwk, signed with it', await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'ES256', jwk: evilJwk as never }).sign(evil.privateKey)],
          ['embedded jwk under the real kid', await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'ES256', kid: header.kid, jwk: evilJwk as never }).sign(evil.privateKey)],
          ['jku to an attacker URL', await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'ES256', kid: 'attacker', jku }).sign(evil.privateKey)],
          ['jku under the real kid', await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'ES256', jku }).sign(evil.privateKey)],
          ['x5u to an attacker URL', await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'ES256', kid: 'attacker', x5u: jku } as never).sign(evil.privateKey)],
          ['kid path traversal, empty key', hs256({ ...header, kid: '../../../../dev/null' }, payload, Buffer.alloc(0))],
          ['kid SQL injection', hs256({ ...header, kid: "x' OR '1'='1' --" }, payload, 'attacker-secret')],
          ['kid SQL injection, empty key', hs256({ ...header, kid: "'; DROP TABLE keys; --" }, payload, Buffer.alloc(0))],
          ['kid a number', hs256({ ...header, kid: 0 }, payload, 'attacker-secret')],
          ['kid an object', hs256({ ...header, kid: { $ne: null } }, payload, 'attacker-secret')],
          ['no kid', hs256({ ...header, kid: undefined }, payload, SIGNING_SECRET)],
        ];
        for (const [what, t] of attacks) await expectTokenRefused(h, v, brand, num(v, 1), t, `${v}: ${what}`);
        // Introspection (the gateway's view) refuses them as well.
        for (const [what, t] of attacks) {
          const r = toRes(await h.app.inject({ method: 'POST', url: '/auth/v1/token/introspect', payload: { token: t }, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
          assert.equal(r.status, 200, `${v} introspect ${what}: ${r.raw}`);
          assert.equal(r.body.active, false, `${v} introspect ${what}`);
        }
        await expectTokenAccepted(h, v, brand, num(v, 1), token, `${v}: genuine, after the attacks (the keys table was not dropped)`);
      }
    });
  } finally {
    await new Promise((resolve) => attacker.close(resolve));
  }
  assert.equal(fetched, 0, 'no request reached the attacker URL');
});

test('R30: exp is required and enforced with a 5 s leeway, nbf is enforced, and exp − iat is the brand lifetime (900 s)', async () => {
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R30', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const { token } = await register(h, v, brand, num(v, 1));
      const header = decodeProtectedHeader(token);
      const payload = decodeJwt(token);
      assert.equal((payload.exp as number) - (payload.iat as number), 900, `${v}: exp − iat`);
      // Re-signed with the real key: only the claims differ.
      const sign = (claims: object) => new SignJWT(claims as never).setProtectedHeader(header as never).sign(SIGNING_KEY);
      const now = Math.floor(h.clock.now() / 1000);
      const { exp: _exp, ...noExp } = payload;
      await expectTokenAccepted(h, v, brand, num(v, 1), await sign(payload), `${v}: re-signed unchanged`);
      await expectTokenRefused(h, v, brand, num(v, 1), await sign(noExp), `${v}: no exp`);
      await expectTokenRefused(h, v, brand, num(v, 1), await sign({ ...payload, exp: now - 10 }), `${v}: exp 10 s in the past`);
      await expectTokenAccepted(h, v, brand, num(v, 1), await sign({ ...payload, exp: now - 3 }), `${v}: exp 3 s in the past (within the leeway)`);
      await expectTokenRefused(h, v, brand, num(v, 1), await sign({ ...payload, nbf: now + 60 }), `${v}: nbf a minute ahead`);
      await expectTokenRefused(h, v, brand, num(v, 1), await sign({ ...payload, exp: 'never' }), `${v}: exp not a number`);
      // The genuine token past its lifetime.
      h.clock.advance(900 * SEC + 6 * SEC);
      await expectTokenRefused(h, v, brand, num(v, 1), token, `${v}: the genuine token 6 s past exp`);
    }
  });
});

test('R31: issuer, brand and token kind are checked — another brand\'s token, a VIEW token, a key as a token, a token as a key', async () => {
  // Contract: a token of another brand at password/change answers 1509 (§3.6: "then
  // 1509/1507/1508 mismatch"); regenerate answers 1597 / 1525 for any failure (§3.5).
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const A = brandOf('R31a', v);
      const B = brandOf('R31b', v);
      await h.createBrand(A, { passwordEnabled: true });
      await h.createBrand(B, { passwordEnabled: true });
      const who = num(v, 1);
      const a = await register(h, v, A, who);
      const b = await register(h, v, B, who);
      await expectTokenAccepted(h, v, B, who, b.token, `${v}: B's own token`);
      expectError(await change(h, v, B, who, a.token), 1509, `${v}: A's USER token at brand B`);
      const view = (await startSession(h, v, A, who)).gen.body.auth.token as string;
      await expectTokenRefused(h, v, A, who, view, `${v}: a VIEW token where a USER token is needed`);
      const key = (await login(h, 'mobile', A, who, 'device-1')).key as string;
      await expectTokenRefused(h, 'mobile', A, who, key, `${v}: an AUTH key used as a token`);
      expectError(await regen(h, 'mobile', A, who, a.token), 1597, `${v}: a USER token used as a key`);
      expectError(await regen(h, 'mobile', A, who, view), 1597, `${v}: a VIEW token used as a key`);
      expectError(await regen(h, 'mobile', B, who, key), 1597, `${v}: A's key at brand B`);
      expectError(await regen(h, 'web', A, who, key), 1525, `${v}: a key as a web expiredToken`);
      expectError(await regen(h, 'web', A, who, view), 1525, `${v}: a VIEW token as a web expiredToken`);
      expectError(await regen(h, 'web', B, who, (await login(h, 'web', A, who)).token), 1525, `${v}: A's web token at brand B`);
      // Another issuer, signed with the real key.
      const other = await new SignJWT({ ...decodeJwt(b.token), iss: 'SOMEONE ELSE' }).setProtectedHeader(decodeProtectedHeader(b.token) as never).sign(SIGNING_KEY);
      await expectTokenRefused(h, v, B, who, other, `${v}: another issuer`);
    }
  });
});

/** Runs `node --import tsx src/main.ts` with `env` until it exits (or is killed after 30 s). */
function runService(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: new URL('../..', import.meta.url).pathname, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

test('R32: HMAC signing keys are at least 256 random bits — a short secret stops the service, and a dictionary attack on a token fails', async () => {
  // A short signing secret: the service refuses to start and does not print the value.
  const dir = mkdtempSync(join(tmpdir(), 'ae-r32-'));
  try {
    const weak = 'hunter2hunter2';
    const r = await runService({ NODE_ENV: 'production', HOST: '127.0.0.1', PORT: '0', DATA_DIR: dir, AUTH_ADMIN_TOKEN: ADMIN_TOKEN, AUTH_SIGNING_SECRET: weak, AUTH_OTP_SECRET: 'otp-secret-0123456789abcdefghijklmnopqrstu', LOG_LEVEL: 'silent' });
    assert.notEqual(r.code, 0, `the service started with a short secret:\n${r.output}`);
    assert.match(r.output, /AUTH_SIGNING_SECRET: must be at least 32 characters/);
    assert.ok(!r.output.includes(weak), 'the secret is not printed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // A generated (development) secret: 32 random bytes; no word of the common-password list
  // (nor the brand name, nor the usual suspects) signs the token.
  await withHarness(async (h) => {
    assert.notEqual(h.config.signingSecret, SIGNING_SECRET, 'the secret was generated');
    assert.equal(Buffer.from(h.config.signingSecret, 'base64url').length, 32, '256 random bits');
    await h.createBrand('R32');
    const { token } = await login(h, 'web', 'R32', num('web', 1));
    const [head, body, sig] = token.split('.');
    const signs = (secret: string) => createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url') === sig;
    assert.equal(signs(h.config.signingSecret), true, 'control: the real secret signs it');
    const words = readFileSync(new URL('../../assets/common-passwords.txt', import.meta.url), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(words.length >= 10_000);
    const guesses = [...words, 'secret', 'changeme', 'R32', 'AUTH ENGINE', '', SIGNING_SECRET];
    assert.deepEqual(guesses.filter(signs), [], 'a dictionary word signs the token');
  }, { AUTH_SIGNING_SECRET: '' });
});

test('R33: logout, user deletion and a password reset revoke the key and the access token at once', async () => {
  // Documented rule (docs/decisions.md): every token check consults the revoked-jti list and
  // the per-user revocation marks, so an access token is refused immediately, not after 15 min.
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const brand = brandOf('R33', v);
      await h.createBrand(brand, { passwordEnabled: true });
      const who = num(v, 1);
      const credential = (c: { token: string; key: string | null }) => (v === 'mobile' ? (c.key as string) : c.token);
      const refusedCode = v === 'mobile' ? 1597 : 1525;
      // Logout.
      let c = await register(h, v, brand, who);
      expectOk(await h.post(url(v, 'token/expire'), { ...idBody(v, brand, 'MOBILE', who), token: c.token }), `${v}: logout`);
      await expectTokenRefused(h, v, brand, who, c.token, `${v}: token after logout`);
      expectError(await regen(h, v, brand, who, credential(c)), refusedCode, `${v}: key / token renewal after logout`);
      // Password reset (forget + OTP on the same session).
      c = await login(h, v, brand, who);
      await expectTokenAccepted(h, v, brand, who, c.token, `${v}: live before the reset`);
      const s = await startSession(h, v, brand, who);
      expectOk(await h.post(url(v, 'password/forget'), { ...s.id, sessionId: s.sessionId, password: PW2, confirmPassword: PW2 }), 'forget');
      expectOk(await send(h, s), 'reset code');
      expectOk(await validate(h, s, await h.lastOtp(brand, `MOBILE|${who}`)), 'reset completed');
      await expectTokenRefused(h, v, brand, who, c.token, `${v}: token after the reset`);
      expectError(await regen(h, v, brand, who, credential(c)), refusedCode, `${v}: renewal after the reset`);
      // The admin erases the user.
      c = await login(h, v, brand, who);
      expectOk(await h.admin('DELETE', `/admin/v1/users/${brand}/MOBILE/${who}`), 'admin delete');
      expectError(await regen(h, v, brand, who, credential(c)), refusedCode, `${v}: renewal after deletion`);
      expectError(await change(h, v, brand, who, c.token), 1529, `${v}: token after deletion`);
    }
  });
});

test('R34: signing keys rotate without breaking live tokens on every instance; an unknown kid is refused', async () => {
  // Two instances before and after an HS256 rotation: the new one signs with a new secret and
  // keeps the old one for verification (AUTH_SIGNING_SECRETS_PREVIOUS).
  const next = 'the-next-signing-secret-0123456789abcdefghij';
  const old = await startHarness();
  const dataDir = old.dataDir;
  let a: Harness | undefined;
  let b: Harness | undefined;
  try {
    await old.createBrand('R34', { passwordEnabled: true });
    const m = await register(old, 'mobile', 'R34', num('mobile', 1));
    const w = await register(old, 'web', 'R34', num('web', 1));
    await old.close({ keepData: true });
    const env = { AUTH_SIGNING_SECRET: next, AUTH_SIGNING_SECRETS_PREVIOUS: SIGNING_SECRET };
    a = await startHarness({ dataDir, env });
    b = await startHarness({ dataDir, env });
    for (const inst of [a, b]) {
      await expectTokenAccepted(inst, 'mobile', 'R34', num('mobile', 1), m.token, 'a mobile token of the old key');
      await expectTokenAccepted(inst, 'web', 'R34', num('web', 1), w.token, 'a web token of the old key');
    }
    // The old key renews on one instance; the new token is accepted on the other.
    const renewed = await regen(a, 'mobile', 'R34', num('mobile', 1), m.key as string);
    expectOk(renewed, 'the old key renews after the rotation');
    assert.notEqual(decodeProtectedHeader(renewed.body.auth.token).kid, decodeProtectedHeader(m.token).kid, 'signed with the new key');
    await expectTokenAccepted(b, 'mobile', 'R34', num('mobile', 1), renewed.body.auth.token, 'the new token on the other instance');
    // A token naming a kid the deployment does not have.
    const header = decodeProtectedHeader(m.token);
    await expectTokenRefused(b, 'mobile', 'R34', num('mobile', 1), hs256({ ...header, kid: 'retired-or-invented' }, decodeJwt(m.token), SIGNING_SECRET), 'an unknown kid');
    await a.close({ keepData: true });
    await b.close({ keepData: true });
    // Control: the same deployment without the previous secret refuses the old token (it was
    // the rotation support above that kept it alive).
    a = b = undefined;
    a = await startHarness({ dataDir, env: { AUTH_SIGNING_SECRET: next } });
    await expectTokenRefused(a, 'mobile', 'R34', num('mobile', 1), m.token, 'the old token without the previous secret');
  } finally {
    await a?.close({ keepData: true });
    await b?.close({ keepData: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// =============================================================================================
// H. Long-lived keys

test('R35: keys carry at least 128 random bits and are stored only hashed', async () => {
  // Contract §4: a key is a JWS (rol AUTH), not an opaque string; its unforgeable part is the
  // 256-bit HMAC signature (43 base64url characters), and it is recorded server-side by hash.
  await withHarness(async (h) => {
    await h.createBrand('R35');
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) keys.push((await login(h, 'mobile', 'R35', num('mobile', 1))).key as string);
    assert.equal(new Set(keys).size, 3, 'every login gets another key');
    const durable = await h.rawStorageDump('durable');
    for (const key of keys) {
      const [, , sig] = key.split('.');
      assert.ok(sig.length >= 43, `signature of ${sig.length} base64url characters`);
      assert.ok(Buffer.from(sig, 'base64url').length * 8 >= 256);
      assert.equal(decodeJwt(key).rol, 'AUTH');
      assert.ok(durable.includes(decodeJwt(key).jti as string), 'the key row is in the dump (the right thing was read)');
      assert.ok(!durable.includes(key), 'the key is not stored');
      assert.ok(!durable.includes(sig), 'nor its signature');
      assert.ok(!durable.includes(createHash('sha256').update(key).digest('hex')), 'nor an unkeyed SHA-256 of it');
    }
    // A guessed key: a real key's payload with a random 256-bit signature.
    const [head, body] = keys[0].split('.');
    for (let i = 0; i < 20; i++) expectError(await regen(h, 'mobile', 'R35', num('mobile', 1), `${head}.${body}.${randomBytes(32).toString('base64url')}`), 1597, 'a guessed signature');
  });
});

test('R36: rotation with reuse detection — K0 → K1 → K2 → K3, then K0 replayed revokes K3, audited', async () => {
  // Contract: rotateKeys is a brand option (default false: the key is reusable until it expires
  // or is revoked). AUTH_KEY_REUSE_GRACE_SECONDS is the grace for lost responses (R37).
  await withHarness(async (h) => {
    await h.createBrand('R36', { rotateKeys: true });
    const who = num('mobile', 1);
    const keys = [(await login(h, 'mobile', 'R36', who)).key as string];
    for (let i = 0; i < 3; i++) {
      h.clock.advance(10 * SEC);
      const r = await regen(h, 'mobile', 'R36', who, keys[i]);
      expectOk(r, `rotation ${i + 1}`);
      assert.ok(r.body.auth.key && !keys.includes(r.body.auth.key));
      keys.push(r.body.auth.key);
    }
    h.clock.advance(10 * SEC);
    expectError(await regen(h, 'mobile', 'R36', who, keys[0]), 1597, 'K0 replayed');
    expectError(await regen(h, 'mobile', 'R36', who, keys[3]), 1597, 'K3, the live key of the family, is revoked');
    expectError(await regen(h, 'mobile', 'R36', who, keys[2]), 1597, 'K2 too');
    expectOk((await otpLogin(h, 'mobile', 'R36', 'MOBILE', who)).res, 'a new login is needed, and works');
    const reuse = (await auditEvents(h, 'R36')).filter((e) => e.type === 'key_reuse_detected');
    assert.ok(reuse.length >= 1, 'the reuse is audited');
  }, { AUTH_KEY_REUSE_GRACE_SECONDS: '5' });
});

test('R37: 20 parallel renewals of one key give one successor to all; a replay after the grace revokes the family', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R37', { rotateKeys: true });
    const who = num('mobile', 1);
    const k0 = (await login(h, 'mobile', 'R37', who)).key as string;
    const keysBefore = await h.countRows('keys');
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => regen(h, 'mobile', 'R37', who, k0, `192.0.2.${i + 1}`)));
    for (const r of rs) expectOk(r, 'concurrent renewal');
    const successors = new Set(rs.map((r) => r.body.auth.key as string));
    assert.equal(successors.size, 1, 'one successor for every caller');
    assert.equal(await h.countRows('keys'), keysBefore + 1, 'one new key row');
    const [k1] = successors;
    h.clock.advance(4 * SEC);
    expectOk(await regen(h, 'mobile', 'R37', who, k0), 'a lost-response retry within the grace');
    h.clock.advance(2 * SEC);
    expectError(await regen(h, 'mobile', 'R37', who, k0), 1597, 'the same key after the grace');
    expectError(await regen(h, 'mobile', 'R37', who, k1), 1597, 'the successor is revoked with the family');
  }, { AUTH_KEY_REUSE_GRACE_SECONDS: '5' });
});

test('R38: a key has an absolute lifetime that rotation does not extend', async () => {
  // An idle timeout for keys is not implemented (README "Security": not covered).
  await withHarness(async (h) => {
    await h.createBrand('R38', { rotateKeys: true, keyValidityMinutes: 60 });
    await h.createBrand('R38plain', { keyValidityMinutes: 60 });
    const who = num('mobile', 1);
    let key = (await login(h, 'mobile', 'R38', who)).key as string;
    const plain = (await login(h, 'mobile', 'R38plain', who)).key as string;
    for (let i = 0; i < 5; i++) {
      h.clock.advance(11 * MIN);
      const r = await regen(h, 'mobile', 'R38', who, key);
      expectOk(r, `rotation at ${(i + 1) * 11} min`);
      key = r.body.auth.key;
    }
    expectOk(await regen(h, 'mobile', 'R38plain', who, plain), 'the plain key at 55 min');
    h.clock.advance(5 * MIN + 6 * SEC);
    expectError(await regen(h, 'mobile', 'R38', who, key), 1597, 'a key rotated 5 times, past the first key\'s hour');
    expectError(await regen(h, 'mobile', 'R38plain', who, plain), 1597, 'a plain key past its hour');
  });
});

// =============================================================================================
// I. Session fixation and flow integrity

test('R39: login always issues fresh credentials — a client-chosen session id is ignored, and the attacker\'s copy of the session id gets no tokens', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R39', { passwordEnabled: true });
    for (const v of VARIANTS) {
      const victim = num(v, 1);
      await register(h, v, 'R39', victim);
      // A session id and credentials sent to token/generate are ignored: the id is new and random.
      const chosen = 'P-00000000-0000-4000-8000-000000000000';
      const s = await startSession(h, v, 'R39', victim, { sessionId: chosen, key: 'attacker-key', token: 'attacker-token' });
      assert.notEqual(s.sessionId, chosen);
      assert.match(s.sessionId, /^P-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expectError(await postFrom(h, IP_B, url(v, 'otp/generate'), { ...s.id, sessionId: chosen }), 1505, `${v}: the chosen id is no session`);
      // The attacker started the login (knows the session id); the victim completes the OTP step.
      const sent = await send(h, s, IP_B);
      expectOk(sent);
      assert.equal(sent.body.auth, undefined, 'no credential on the sending step');
      const done = await validate(h, s, await h.lastOtp('R39', `MOBILE|${victim}`), IP_A);
      expectOk(done, `${v}: the victim's verification`);
      assert.equal(done.body.user.sessionId, null, 'the session id is not handed on');
      // With the session id alone the attacker gets nothing afterwards.
      expectError(await validate(h, s, await h.lastOtp('R39', `MOBILE|${victim}`), IP_B), 1505, `${v}: attacker replays the code`);
      expectError(await postFrom(h, IP_B, url(v, 'password/validate'), { ...s.id, sessionId: s.sessionId, password: PW }), 1505, `${v}: attacker tries a password on it`);
      expectError(await send(h, s, IP_B), 1505, `${v}: attacker asks for a new code on it`);
      // The VIEW token of step 1 is not a login.
      await expectTokenRefused(h, v, 'R39', victim, s.gen.body.auth.token, `${v}: the step-1 VIEW token`);
    }
  });
});

test('R40: no skipping steps — verifying without a code sent, and using step-1 credentials as a login, are refused', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R40', { passwordEnabled: true });
    for (const v of VARIANTS) {
      const who = num(v, 1);
      await register(h, v, 'R40', who);
      const s = await startSession(h, v, 'R40', who);
      for (const otp of ['000000', '123456']) expectError(await validate(h, s, otp), 1537, `${v}: otp/validate with no code ever sent`);
      const view = s.gen.body.auth.token as string;
      await expectTokenRefused(h, v, 'R40', who, view, `${v}: password/change with the step-1 token`);
      expectError(await regen(h, v, 'R40', who, view), v === 'mobile' ? 1597 : 1525, `${v}: token/regenerate with the step-1 token`);
      // And the session is still usable the normal way (the refusals did not spend it).
      expectOk(await send(h, s), 'send');
      expectOk(await validate(h, s, await h.lastOtp('R40', `MOBILE|${who}`)), `${v}: the real flow`);
    }
  });
});

// =============================================================================================
// J. Request-payload hash (contract §7: RSA-OAEP, code 5004)

test('R42: the §7 payload hash — a changed body value, a stale or replayed hash, another brand\'s key, a missing or malformed hash are all 5004, nothing sent', async () => {
  // Contract §7 differs from the checklist: the hash is RSA-OAEP-SHA256 under the brand's key
  // pair over `identifierValue|sessionId|timeStamp` (not an HMAC over the raw body), and every
  // refusal is 5004 (HTTP 400). The timestamp window and single use replace the nonce.
  const keyA = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyB = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = (k: { privateKey: KeyObject }) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const hashOf = (text: string, key: KeyObject) => publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(text, 'utf8')).toString('base64');
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const A = brandOf('R42a', v);
      const B = brandOf('R42b', v);
      await h.createBrand(A, { encryption: { enabled: true, privateKeyPem: pem(keyA), validSeconds: 120, endpoints: ['OTP'] } });
      await h.createBrand(B, { encryption: { enabled: true, privateKeyPem: pem(keyB), validSeconds: 120, endpoints: ['OTP'] } });
      const sent = captureSends(h);
      const who = num(v, 1);
      const s = await startSession(h, v, A, who);
      const now = h.clock.now();
      const good = { timeStamp: now, hash: hashOf(`${who}|${s.sessionId}|${now}`, keyA.publicKey) };
      const sb = await startSession(h, v, B, who);
      const attacks: [string, Session, object][] = [
        ['no hash (brand requires it)', s, {}],
        ['hash without timeStamp', s, { hash: good.hash }],
        ['another identifier in the hash', s, { timeStamp: now, hash: hashOf(`${num(v, 2)}|${s.sessionId}|${now}`, keyA.publicKey) }],
        ['another session in the hash', s, { timeStamp: now, hash: hashOf(`${who}|P-other|${now}`, keyA.publicKey) }],
        ['timeStamp changed in the body', s, { ...good, timeStamp: now + 1 }],
        ['stale timeStamp (beyond validSeconds)', s, { timeStamp: now - 121 * SEC, hash: hashOf(`${who}|${s.sessionId}|${now - 121 * SEC}`, keyA.publicKey) }],
        ['future timeStamp', s, { timeStamp: now + 121 * SEC, hash: hashOf(`${who}|${s.sessionId}|${now + 121 * SEC}`, keyA.publicKey) }],
        ['wrong-length value', s, { timeStamp: now, hash: good.hash.slice(0, 40) }],
        ['one extra byte', s, { timeStamp: now, hash: Buffer.concat([Buffer.from(good.hash, 'base64'), Buffer.from([0])]).toString('base64') }],
        ['hex garbage', s, { timeStamp: now, hash: 'ab'.repeat(256) }],
        ['a hash of brand A sent to brand B', sb, { timeStamp: now, hash: hashOf(`${who}|${sb.sessionId}|${now}`, keyA.publicKey) }],
      ];
      for (const [what, sess, extra] of attacks) {
        const r = await send(h, sess, IP_A, extra);
        expectError(r, 5004, `${v}: ${what}`);
      }
      assert.equal(sent.length, 0, 'nothing was sent for a refused hash');
      expectOk(await send(h, s, IP_A, good), `${v}: the genuine hash`);
      assert.equal(sent.length, 1);
      // The same hash again, within the window (on a second session of the same values it would not match; here: the same request replayed).
      expectError(await send(h, s, IP_B, good), 5004, `${v}: replayed within the window`);
      h.clock.advance(130 * SEC);
      expectError(await send(h, s, IP_B, good), 5004, `${v}: replayed after the window`);
      assert.equal(sent.length, 1, 'no send for a replay');
    }
  });
});

// =============================================================================================
// K. Brand isolation

test('R43: brands are isolated — brand A\'s session, code, token and key are refused by brand B, and A\'s limits do not touch B', async () => {
  // A global per-number send cap across brands is not implemented (README "Security").
  await withHarness(async (h) => {
    for (const v of VARIANTS) {
      const A = brandOf('R43a', v);
      const B = brandOf('R43b', v);
      const cfg = { passwordEnabled: true, otpLength: 10, otpMaxCount: 3, otpTimeOut: 60, loginAbuse: { perIpPerMinute: 50, perIdentifierPerMinute: 3 } };
      await h.createBrand(A, cfg);
      await h.createBrand(B, cfg);
      const who = num(v, 1);
      const a = await register(h, v, A, who);
      await register(h, v, B, who);
      // Session and code.
      const sa = await sessionWithOtp(h, v, A, who);
      expectError(await postFrom(h, IP_A, url(v, 'otp/validate'), { ...idBody(v, B, 'MOBILE', who), sessionId: sa.sessionId, otp: sa.otp }), 1509, `${v}: A's session at B`);
      const sb = await sessionWithOtp(h, v, B, who);
      expectError(await validate(h, sb, sa.otp), 1506, `${v}: A's code on a B session`);
      // Token and key.
      expectError(await change(h, v, B, who, a.token), 1509, `${v}: A's token at B`);
      expectError(await regen(h, v, B, who, v === 'mobile' ? (a.key as string) : a.token), v === 'mobile' ? 1597 : 1525, `${v}: A's credential renews at B`);
      const r = toRes(await h.app.inject({ method: 'POST', url: '/auth/v1/token/introspect', payload: { token: a.token }, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }));
      assert.equal(r.body.claims?.org, A.toUpperCase(), 'introspection names the issuing brand');
      // Limits: A's send quota (3 per hour, 2 used above) and login budget are A's alone.
      expectOk(await send(h, await startSession(h, v, A, who)), `${v}: A's 3rd send`);
      expectError(await send(h, await startSession(h, v, A, who)), 1534, `${v}: A's quota spent`);
      expectOk(await send(h, await startSession(h, v, B, who)), `${v}: B's 3rd send`);
      for (let i = 0; i < 3; i++) expectOk(await pwLogin(h, v, A, who, PW), `${v}: A login ${i + 1}`);
      expectError(await pwLogin(h, v, A, who, PW), 1547, `${v}: A's login budget spent`);
      expectOk(await pwLogin(h, v, B, who, PW), `${v}: B unaffected`);
    }
  });
});

// =============================================================================================
// L. Logging, errors and notifications

test('R44: no secret reaches any log line — passwords, codes, tokens, keys and their signatures, at log level trace', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R44', { passwordEnabled: true, otpLength: 10, rotateKeys: true });
    assert.equal(h.config.logLevel, 'trace');
    const secrets: string[] = [PW, PW2, 'Wrong-Guess-0042'];
    for (const v of VARIANTS) {
      const who = num(v, 1);
      const r = await otpLogin(h, v, 'R44', 'MOBILE', who, { password: PW, confirmPassword: PW });
      expectOk(r.res);
      secrets.push(r.otp, r.res.body.auth.token, r.gen.body.auth.token);
      if (r.res.body.auth.key) secrets.push(r.res.body.auth.key);
      const s = await sessionWithOtp(h, v, 'R44', who);
      secrets.push(s.otp);
      expectError(await validate(h, s, wrongOf(s.otp)), 1506);
      secrets.push(wrongOf(s.otp));
      expectError(await pwLogin(h, v, 'R44', who, 'Wrong-Guess-0042'), 1528);
      const ok = await pwLogin(h, v, 'R44', who, PW);
      expectOk(ok);
      secrets.push(ok.body.auth.token);
      const rg = await regen(h, v, 'R44', who, v === 'mobile' ? ok.body.auth.key : ok.body.auth.token);
      expectOk(rg);
      secrets.push(rg.body.auth.token);
      if (rg.body.auth.key) secrets.push(rg.body.auth.key);
      expectOk(await change(h, v, 'R44', who, rg.body.auth.token, PW, PW2));
      expectOk(await h.post(url(v, 'token/expire'), { ...idBody(v, 'R44', 'MOBILE', who), token: rg.body.auth.token }));
    }
    const logs = h.logs.join('');
    assert.ok(h.logs.length > 20, 'the run was logged');
    const all = secrets.flatMap((x) => (x.split('.').length === 3 ? [x, x.split('.')[2]] : [x]));
    const leaked = all.filter((x) => logs.includes(x));
    assert.deepEqual(leaked, [], 'secrets found in the logs');
  });
});

test('R45: authentication events are audited; storage failures fail closed with a generic answer, no stack trace and no token', async () => {
  await withHarness(async (h) => {
    await h.createBrand('R45', { passwordEnabled: true, rotateKeys: true, maxPasswordRetries: 2, accountLocking: { enabled: true, maxFailures: 3, lockMinutes: 5 } });
    const v: V = 'mobile';
    const who = num(v, 1);
    const { key } = await register(h, v, 'R45', who);
    h.clock.advance(MIN);
    expectError(await pwLogin(h, v, 'R45', who, PW2), 1528);
    const k1 = (await regen(h, v, 'R45', who, key as string)).body.auth.key as string;
    assert.ok(k1);
    h.clock.advance(MIN);
    expectError(await regen(h, v, 'R45', who, key as string), 1597, 'reuse');
    expectError(await pwLogin(h, v, 'R45', who, PW2), 1530);
    const s = await sessionWithOtp(h, v, 'R45', num(v, 2));
    expectError(await validate(h, s, wrongOf(s.otp)), 1506);
    expectError(await validate(h, s, wrongOf(s.otp)), 1506);
    expectError(await validate(h, s, wrongOf(s.otp)), 1544);
    const types = new Set((await auditEvents(h, 'R45')).map((e) => e.type));
    for (const t of ['otp_sent', 'login_success', 'login_failure', 'key_reuse_detected', 'lock']) assert.ok(types.has(t), `audited: ${t} (${[...types].join(', ')})`);

    // Storage down at the moment a login would be written: 503 / 1599, nothing issued.
    const users = h.deps.users;
    const find = users.findUser;
    const t = await sessionWithOtp(h, v, 'R45', num(v, 3));
    users.findUser = async () => {
      throw new StoreUnavailableError(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'));
    };
    let r: Res;
    try {
      r = await validate(h, t, t.otp);
    } finally {
      users.findUser = find;
    }
    expectError(r, 1599, 'storage unavailable');
    // A bug deep inside: a generic 500 without the error's text or a stack.
    const p = await startSession(h, v, 'R45', who);
    users.findUser = async () => {
      throw new Error('boom at /srv/app/src/flows/secret-path.ts:42 SELECT * FROM users');
    };
    try {
      r = await postFrom(h, IP_A, url(v, 'password/validate'), { ...p.id, sessionId: p.sessionId, password: PW });
    } finally {
      users.findUser = find;
    }
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { status: { success: false, code: 500, message: 'Internal server error.' } });
    for (const leak of ['boom', 'secret-path', 'SELECT', ' at ', 'hunter2', 'stack']) assert.ok(!r.raw.includes(leak), `no "${leak}" in the answer`);
    // The code of the session whose verification failed was not spent by the outage: it still verifies once.
    expectOk(await validate(h, t, t.otp), 'after the outage');
  });
});
