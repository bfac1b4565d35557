// Issue 5, passwords (R17–R21, R24, R16; F15), on mobile and web: the shipped common-password
// blocklist at registration, change and reset (and its brand switch); lengths counted in code
// points; NFKC before hashing; no truncation; argon2 parameters stored with each hash and a
// rehash at the next successful login; corrupt or absurd stored hashes fail closed; a dummy
// argon2 verification for unknown users and users without a password.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { hash as argon2Hash } from '@node-rs/argon2';
import { argon2Hasher, type PasswordHasher } from '../../src/crypto/password-hasher.ts';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';

const BRAND = 'PwHard';
const MOB = '919999999993';
const MOB2 = '919999999994';
const GOOD = 'Correct-Horse-42';
const GOOD2 = 'Battery-Staple-77';
/** On the shipped list as 'password123'; the blocklist compares NFKC + lower case. */
const COMMON = 'Password123';
/** The harness's hasher parameters (test/helpers/harness.ts fastHasher). */
const CURRENT_PHC = '$argon2id$v=19$m=1024,t=1,p=1$';

const BLOCKLIST = readFileSync(new URL('../../assets/common-passwords.txt', import.meta.url), 'utf8');
const ENTRIES = BLOCKLIST.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

const noHash = (r: Res) => assert.ok(!/\$argon2/i.test(r.raw), `a hash leaked: ${r.raw}`);

/** token/generate with a password (a first-time user: the password waits for the OTP). */
const generateWithPassword = (h: Harness, v: V, value: string, password: string, brand = BRAND) =>
  h.post(url(v, 'token/generate'), { ...idBody(v, brand, 'MOBILE', value), password, confirmPassword: password });

/** Registers a user with a password (token/generate + OTP); returns the USER token. */
async function register(h: Harness, v: V, value: string, password: string, brand = BRAND): Promise<string> {
  const r = await otpLogin(h, v, brand, 'MOBILE', value, { password, confirmPassword: password });
  expectOk(r.res, `register ${value}`);
  assert.equal(r.res.body.user.userRegisteredForPassword, true);
  return r.res.body.auth.token as string;
}

async function newSession(h: Harness, v: V, value: string, brand = BRAND): Promise<string> {
  const r = await h.post(url(v, 'token/generate'), idBody(v, brand, 'MOBILE', value));
  expectOk(r, 'token/generate');
  return r.body.user.sessionId as string;
}

/** password/validate on a fresh session. */
async function pwLogin(h: Harness, v: V, value: string, password: string, brand = BRAND): Promise<Res> {
  const sessionId = await newSession(h, v, value, brand);
  const r = await h.post(url(v, 'password/validate'), { ...idBody(v, brand, 'MOBILE', value), sessionId, password });
  noHash(r);
  return r;
}

const change = (h: Harness, v: V, value: string, token: string, password: string, newPassword: string) =>
  h.post(url(v, 'password/change'), { ...idBody(v, BRAND, 'MOBILE', value), token, password, newPassword, confirmPassword: newPassword });

/** password/forget on a fresh session; returns the response and the session (for the OTP step). */
async function forget(h: Harness, v: V, value: string, password: string) {
  const sessionId = await newSession(h, v, value);
  const r = await h.post(url(v, 'password/forget'), { ...idBody(v, BRAND, 'MOBILE', value), sessionId, password, confirmPassword: password });
  return { r, sessionId };
}

/** Completes a reset: otp/generate + otp/validate on the password/forget session. */
async function completeReset(h: Harness, v: V, value: string, sessionId: string): Promise<void> {
  const id = idBody(v, BRAND, 'MOBILE', value);
  expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 'otp/generate (reset)');
  const otp = await h.lastOtp(BRAND, `MOBILE|${value}`);
  expectOk(await h.post(url(v, 'otp/validate'), { ...id, sessionId, otp }), 'otp/validate (reset)');
}

const storedHash = async (h: Harness, value: string): Promise<string | null> =>
  (await h.deps.users.findUser(BRAND.toUpperCase(), { type: 'MOBILE', value }))?.passwordHash ?? null;

async function uidOf(h: Harness, value: string): Promise<string> {
  const u = await h.deps.users.findUser(BRAND.toUpperCase(), { type: 'MOBILE', value });
  assert.ok(u, `user ${value} exists`);
  return u.uid;
}

/** Wraps h.deps.passwords, counting calls; restore() puts the original back. */
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

// ---- the blocklist file ----

test('the shipped blocklist has at least 10,000 entries, names its source and licence, and is normalised', () => {
  assert.ok(ENTRIES.length >= 10_000, `${ENTRIES.length} entries`);
  const header = BLOCKLIST.split('\n').filter((l) => l.startsWith('#')).join('\n');
  assert.match(header, /zxcvbn@4\.4\.2/);
  assert.match(header, /MIT/);
  assert.match(header, /Permission is hereby granted/);
  assert.match(header, /scripts\/build-common-passwords\.mjs/);
  for (const e of ENTRIES) assert.equal(e, e.normalize('NFKC').toLowerCase(), `entry ${JSON.stringify(e)} is normalised`);
  assert.equal(new Set(ENTRIES).size, ENTRIES.length, 'no duplicates');
  assert.ok(ENTRIES.includes('password123'));
});

// ---- blocklist at registration, change and reset ----

for (const v of VARIANTS) {
  test(`${v}: a common password is refused (1542) at registration, change and reset; upper case and fullwidth forms too`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true });
      // An entry from deep in the shipped file (not a hand-picked one), long enough for the policy.
      const deep = ENTRIES.slice(20_000).find((e) => [...e].length >= 8 && [...e].length <= 128 && e !== e.toUpperCase());
      assert.ok(deep);
      const forms = [COMMON, 'password123', 'PASSWORD123', 'ｐａｓｓｗｏｒｄ１２３', deep, deep.toUpperCase()];
      for (const p of forms) expectError(await generateWithPassword(h, v, MOB2, p), 1542, `registration with ${JSON.stringify(p)}`);
      // Nothing was registered: the user does not exist.
      assert.equal(await h.deps.users.findUser(BRAND.toUpperCase(), { type: 'MOBILE', value: MOB2 }), null);

      const token = await register(h, v, MOB, GOOD);
      for (const p of forms) expectError(await change(h, v, MOB, token, GOOD, p), 1542, `change to ${JSON.stringify(p)}`);
      for (const p of forms) expectError((await forget(h, v, MOB, p)).r, 1542, `reset to ${JSON.stringify(p)}`);
      // The password is still the registered one.
      expectOk(await pwLogin(h, v, MOB, GOOD), 'the registered password still logs in');
      expectError(await pwLogin(h, v, MOB, COMMON), 1528, 'the common password was never stored');
    });
  });

  test(`${v}: with passwordPolicy.rejectCommon false a common password is accepted at registration, change and reset`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true, passwordPolicy: { rejectCommon: false } });
      // Registration.
      const token = await register(h, v, MOB, COMMON);
      expectOk(await pwLogin(h, v, MOB, COMMON), 'login with the registered common password');
      // Change.
      expectOk(await change(h, v, MOB, token, COMMON, 'password1234'), 'change to a common password');
      expectOk(await pwLogin(h, v, MOB, 'password1234'), 'login after the change');
      // Reset.
      const { r, sessionId } = await forget(h, v, MOB, 'iloveyou1');
      expectOk(r, 'reset to a common password');
      await completeReset(h, v, MOB, sessionId);
      expectOk(await pwLogin(h, v, MOB, 'iloveyou1'), 'login after the reset');
    });
  });
}

// ---- length in code points, NFKC, no truncation ----

for (const v of VARIANTS) {
  test(`${v}: length limits count code points: 8 emoji are 8 characters (min 8), 10 emoji pass max 10, 7 and 11 do not`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true, passwordPolicy: { minLength: 8, maxLength: 10 } });
      const emoji = (n: number) => '😀🔑🐢🌵🎲🧭🪐🍋🦉🎈🚲'.slice(0, 2 * n); // each is one code point, two UTF-16 units
      assert.equal([...emoji(8)].length, 8);
      // 7 emoji are 14 UTF-16 units: a .length check would pass them.
      expectError(await generateWithPassword(h, v, MOB2, emoji(7)), 1542, '7 emoji');
      // 11 emoji are 11 code points (22 units) > 10.
      expectError(await generateWithPassword(h, v, MOB2, emoji(11)), 1542, '11 emoji');
      // 10 emoji are 20 UTF-16 units: a .length check would refuse them.
      expectOk(await generateWithPassword(h, v, MOB2, emoji(10)), '10 emoji');
      // 8 emoji register and log in.
      await register(h, v, MOB, emoji(8));
      expectOk(await pwLogin(h, v, MOB, emoji(8)), 'login with 8 emoji');
      expectError(await pwLogin(h, v, MOB, emoji(7)), 1528, 'a prefix of the emoji password');
    });
  });

  test(`${v}: NFKC before hashing — a fullwidth password logs in with its ASCII form and the reverse; é composed = e + U+0301`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true });
      await register(h, v, MOB, 'ｐａｓｓｗｏｒｄ１２３Ｘ');
      expectOk(await pwLogin(h, v, MOB, 'password123X'), 'ASCII form of the fullwidth password');
      expectOk(await pwLogin(h, v, MOB, 'ｐａｓｓｗｏｒｄ１２３Ｘ'), 'the fullwidth password itself');
      expectError(await pwLogin(h, v, MOB, 'password123x'), 1528, 'case still matters');

      await register(h, v, MOB2, 'café-au-lait-9\u00e9');
      expectOk(await pwLogin(h, v, MOB2, 'cafe\u0301-au-lait-9e\u0301'), 'decomposed form');
    });
  });

  test(`${v}: no truncation — two 200-character passwords differing only in the last character are different (maxLength 256)`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true, passwordPolicy: { maxLength: 256 } });
      const stem = 'Tr0ub4dor&3-'.repeat(17).slice(0, 199);
      const right = `${stem}A`;
      const wrong = `${stem}B`;
      assert.equal(right.length, 200);
      await register(h, v, MOB, right);
      expectError(await pwLogin(h, v, MOB, wrong), 1528, 'last character differs');
      expectError(await pwLogin(h, v, MOB, right.slice(0, 72)), 1528, 'the first 72 characters (bcrypt-style truncation)');
      expectError(await pwLogin(h, v, MOB, stem), 1528, 'the first 199 characters');
      expectOk(await pwLogin(h, v, MOB, right), 'the exact password');
      // 257 characters are over the limit (and are never cut down to 256).
      expectError(await generateWithPassword(h, v, MOB2, `${right}${'x'.repeat(57)}`), 1542, '257 characters');
    });
  });
}

// ---- argon2 parameters, rehash on login, corrupt hashes ----

for (const v of VARIANTS) {
  test(`${v}: a hash made with other argon2 parameters is replaced by one with the current parameters at the next successful login`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true });
      await register(h, v, MOB, GOOD);
      const uid = await uidOf(h, MOB);
      assert.ok((await storedHash(h, MOB))?.startsWith(CURRENT_PHC), 'registered with the current parameters');

      const old = await argon2Hasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 }).hash(GOOD);
      assert.ok(old.startsWith('$argon2id$v=19$m=2048,t=2,p=1$'));
      await h.deps.users.updateUser(BRAND.toUpperCase(), uid, { passwordHash: old });
      assert.equal(await storedHash(h, MOB), old);

      // A wrong password does not rehash.
      expectError(await pwLogin(h, v, MOB, GOOD2), 1528, 'wrong password');
      assert.equal(await storedHash(h, MOB), old, 'no rehash after a failed login');

      expectOk(await pwLogin(h, v, MOB, GOOD), 'login with the old-parameter hash');
      const fresh = await storedHash(h, MOB);
      assert.ok(fresh?.startsWith(CURRENT_PHC), `rehashed with the current parameters: ${fresh}`);
      assert.notEqual(fresh, old);
      // The new hash works, and a login with it does not rehash again.
      expectOk(await pwLogin(h, v, MOB, GOOD), 'login with the new hash');
      assert.equal(await storedHash(h, MOB), fresh, 'a current hash is left alone');
      expectError(await pwLogin(h, v, MOB, GOOD2), 1528, 'a wrong password is still wrong');
    });
  });

  test(`${v}: a failure to store the rehash is logged and the login still succeeds`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true });
      await register(h, v, MOB, GOOD);
      const old = await argon2Hasher({ memoryCost: 2048, timeCost: 1, parallelism: 1 }).hash(GOOD);
      await h.deps.users.updateUser(BRAND.toUpperCase(), await uidOf(h, MOB), { passwordHash: old });
      const users = h.deps.users;
      const original = users.updateUser;
      users.updateUser = async () => {
        throw new Error('storage down for the rehash');
      };
      const logsBefore = h.logs.length;
      try {
        expectOk(await pwLogin(h, v, MOB, GOOD), 'login while the rehash cannot be stored');
      } finally {
        users.updateUser = original;
      }
      assert.equal(await storedHash(h, MOB), old, 'the old hash stays');
      const logged = h.logs.slice(logsBefore).join('');
      assert.match(logged, /password rehash failed/);
      assert.ok(!logged.includes(GOOD), 'the password is not logged');
      // Next time it works.
      expectOk(await pwLogin(h, v, MOB, GOOD), 'next login');
      assert.ok((await storedHash(h, MOB))?.startsWith(CURRENT_PHC));
    });
  });

  test(`${v}: a corrupt or absurd stored hash fails closed (1528, never a 5xx, argon2 not run on absurd parameters)`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true, maxPasswordRetries: 100 });
      await register(h, v, MOB, GOOD);
      const uid = await uidOf(h, MOB);
      const good = (await storedHash(h, MOB))!;
      // Correct-password hashes whose parameters are beyond the limits (t > 20, p > 16): they
      // would verify if argon2 ran, so a 200 here means the bounds were not checked.
      const tooManyPasses = await argon2Hash(GOOD, { memoryCost: 1024, timeCost: 21, parallelism: 1 });
      const tooParallel = await argon2Hash(GOOD, { memoryCost: 1024, timeCost: 1, parallelism: 17 });
      const corrupt = [
        'not-a-hash',
        '',
        good.slice(0, -10),
        good.replace('$argon2id$', '$argon2xx$'),
        good.replace('m=1024', 'm=1048577'), // just over 1 GiB
        good.replace('t=1', 't=1000'),
        good.replace(/\$[^$]+$/, '$'),
        '$2b$10$abcdefghijklmnopqrstuuJ5jKf5pEJc0zOIs0Tq3Qz6m9R0x5n0K', // bcrypt-shaped
        tooManyPasses,
        tooParallel,
      ];
      for (const stored of corrupt) {
        await h.deps.users.updateUser(BRAND.toUpperCase(), uid, { passwordHash: stored });
        const r = await pwLogin(h, v, MOB, GOOD);
        expectError(r, 1528, `stored ${JSON.stringify(stored.slice(0, 40))}`);
      }
      // A refused corrupt hash is never "rehashed" into a working one.
      assert.equal(await storedHash(h, MOB), tooParallel);
      await h.deps.users.updateUser(BRAND.toUpperCase(), uid, { passwordHash: good });
      expectOk(await pwLogin(h, v, MOB, GOOD), 'the good hash again');
    });
  });
}

test('needsRehash and verify bounds of argon2Hasher', async () => {
  const current = argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const stored = await current.hash('pw-0123456789');
  assert.equal(current.needsRehash(stored), false);
  assert.equal(current.needsRehash(await argon2Hasher({ memoryCost: 1024, timeCost: 2, parallelism: 1 }).hash('x')), true, 't differs');
  assert.equal(current.needsRehash(await argon2Hasher({ memoryCost: 2048, timeCost: 1, parallelism: 1 }).hash('x')), true, 'm differs');
  assert.equal(current.needsRehash(await argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 2 }).hash('x')), true, 'p differs');
  assert.equal(current.needsRehash(stored.replace('$argon2id$', '$argon2i$')), true, 'algorithm differs');
  assert.equal(current.needsRehash('garbage'), true);
  assert.equal(await current.verify(stored, 'pw-0123456789'), true);
  assert.equal(await current.verify(stored, 'pw-012345678'), false);
  // Parameters the hasher must never write are refused up front.
  assert.throws(() => argon2Hasher({ memoryCost: 2 * 1024 * 1024, timeCost: 1, parallelism: 1 }), /ARGON2_LIMITS/);
  assert.throws(() => argon2Hasher({ memoryCost: 1024, timeCost: 21, parallelism: 1 }), /ARGON2_LIMITS/);
});

// ---- dummy verification (timing parity for unknown users) ----

for (const v of VARIANTS) {
  test(`${v}: an unknown user (1515) and a user without a password (1526) cost exactly one argon2 verify, like a real check`, async () => {
    await withHarness(async (h) => {
      await h.createBrand(BRAND, { passwordEnabled: true });
      await register(h, v, MOB, GOOD);
      // A user who signed up by OTP only has no password.
      expectOk((await otpLogin(h, v, BRAND, 'MOBILE', MOB2)).res, 'OTP-only sign-up');
      const sessions = {
        unknown: [await newSession(h, v, '919999999995'), await newSession(h, v, '919999999996')],
        noPassword: await newSession(h, v, MOB2),
        wrong: await newSession(h, v, MOB),
        right: await newSession(h, v, MOB),
      };
      const validate = (value: string, sessionId: string, password: string) =>
        h.post(url(v, 'password/validate'), { ...idBody(v, BRAND, 'MOBILE', value), sessionId, password });

      const spy = countingHasher(h);
      try {
        expectError(await validate('919999999995', sessions.unknown[0], GOOD), 1515, 'unknown user');
        assert.equal(spy.calls.verify.length, 1, 'one verify for an unknown user');
        const dummy = spy.calls.verify[0];
        assert.equal(spy.base.needsRehash(dummy), false, 'the dummy hash has the current parameters');
        assert.ok(dummy.startsWith(CURRENT_PHC));

        expectError(await validate('919999999996', sessions.unknown[1], GOOD), 1515, 'another unknown user');
        assert.equal(spy.calls.verify.length, 2);
        assert.equal(spy.calls.verify[1], dummy, 'the same fixed dummy hash');

        expectError(await validate(MOB2, sessions.noPassword, GOOD), 1526, 'user without a password');
        assert.equal(spy.calls.verify.length, 3, 'one verify for a user without a password');
        assert.equal(spy.calls.verify[2], dummy);
        assert.ok(spy.calls.hash <= 1, 'the dummy hash is made once');

        // The real checks cost the same: one verify each.
        expectError(await validate(MOB, sessions.wrong, GOOD2), 1528, 'wrong password');
        assert.equal(spy.calls.verify.length, 4);
        expectOk(await validate(MOB, sessions.right, GOOD), 'right password');
        assert.equal(spy.calls.verify.length, 5);
        assert.notEqual(spy.calls.verify[4], dummy);
      } finally {
        spy.restore();
      }
    });
  });
}
