// Spec §3.5 token/regenerate, mobile (key → 1597 for every failure) and web (expiredToken →
// 1525 for every failure), and the rotateKeys option of §2 with its reuse detection and
// retry grace (issue 3). Time moves with the harness clock, never by sleeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SIGNING_KEY, SUCCESS, expectAdminError, expectError, expectOk } from '../helpers/spec.ts';

const BRAND = 'DocDemo';
const OTHER_BRAND = 'OtherBrand';
const MOB = '919999999993';
const MOB2 = '919999999994';
const UNKNOWN_MOB = '919999999995';
const PASSWORD = 'Correct-Horse-42';
const NEW_PASSWORD = 'Battery-Staple-77';
const WITH_PASSWORD = { password: PASSWORD, confirmPassword: PASSWORD };

interface Creds {
  token: string;
  key: string | null;
}

/** An OTP login that must succeed; returns the USER token and the key (null on web). */
async function login(h: Harness, v: V, value: string, opts: { brand?: string; deviceId?: string; extra?: object } = {}): Promise<Creds> {
  const r = await otpLogin(h, v, opts.brand ?? BRAND, 'MOBILE', value, opts.extra ?? {}, opts.deviceId ?? 'device-1');
  expectOk(r.res, `${v} login ${value}`);
  return { token: r.res.body.auth.token, key: r.res.body.auth.key };
}

/** token/regenerate: mobile sends `key`, web sends `expiredToken`. */
function regen(h: Harness, v: V, credential: string, opts: { brand?: string; value?: string; deviceId?: string } = {}): Promise<Res> {
  const id = idBody(v, opts.brand ?? BRAND, 'MOBILE', opts.value ?? MOB, opts.deviceId ?? 'device-1');
  return h.post(url(v, 'token/regenerate'), v === 'mobile' ? { ...id, key: credential } : { ...id, expiredToken: credential });
}

/** A successful regenerate: exactly `{ status, auth: { token, key } }`. */
function expectRegenerated(r: Res, what: string): { token: string; key: string | null } {
  expectOk(r, what);
  assert.deepEqual(Object.keys(r.body).sort(), ['auth', 'status'], `${what}: ${r.raw}`);
  assert.deepEqual(Object.keys(r.body.auth).sort(), ['key', 'token'], `${what}: ${r.raw}`);
  assert.equal(typeof r.body.auth.token, 'string', what);
  return r.body.auth;
}

function verifyJwt(h: Harness, token: string) {
  return jose.jwtVerify(token, SIGNING_KEY, { algorithms: ['HS256'], currentDate: new Date(h.clock.now()) });
}

/** The same header and claims, signed with a secret that is not the deployment's. */
async function forge(token: string): Promise<string> {
  const header = jose.decodeProtectedHeader(token) as jose.JWTHeaderParameters;
  const claims = jose.decodeJwt(token);
  return new jose.SignJWT(claims).setProtectedHeader(header).sign(new TextEncoder().encode('not-the-deployment-secret-0123456789abcdef'));
}

/** The token with one character of its signature changed. */
function tamper(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return token.slice(0, -2) + last + token.at(-1);
}

/** A VIEW token from token/generate. */
async function viewToken(h: Harness, v: V, value = MOB, brand = BRAND): Promise<string> {
  const r = await h.post(url(v, 'token/generate'), idBody(v, brand, 'MOBILE', value));
  expectOk(r, 'token/generate');
  return r.body.auth.token;
}

function passwordChange(h: Harness, v: V, token: string, password: string, newPassword: string, opts: { value?: string; deviceId?: string } = {}) {
  return h.post(url(v, 'password/change'), { ...idBody(v, BRAND, 'MOBILE', opts.value ?? MOB, opts.deviceId ?? 'device-1'), token, password, newPassword, confirmPassword: newPassword });
}

function tokenExpire(h: Harness, v: V, token: string, extra: object = {}, opts: { value?: string; deviceId?: string } = {}) {
  return h.post(url(v, 'token/expire'), { ...idBody(v, BRAND, 'MOBILE', opts.value ?? MOB, opts.deviceId ?? 'device-1'), token, ...extra });
}

async function eraseUser(h: Harness, value: string, brand = BRAND) {
  const r = await h.admin('DELETE', `/admin/v1/users/${brand}/MOBILE/${value}`);
  expectOk(r, 'admin DELETE user');
  expectAdminError(await h.admin('GET', `/admin/v1/users/${brand}/MOBILE/${value}`), 1515, 'erased user is gone');
}

async function auditEvents(h: Harness, brand = BRAND): Promise<any[]> {
  const r = await h.admin('GET', `/admin/v1/audit?brand=${brand}&limit=500`);
  expectOk(r, 'GET audit');
  return r.body.events;
}

// ───────────────────────────── mobile: key ─────────────────────────────

test('mobile: a valid key gives a new USER token of the same user on the same device, key null, and works again', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    const { token: first, key } = await login(h, 'mobile', MOB);
    assert.ok(key);
    const keyClaims = (await verifyJwt(h, key)).payload;
    assert.equal(keyClaims.rol, 'AUTH');

    h.clock.advance(60_000);
    const a = expectRegenerated(await regen(h, 'mobile', key), 'regenerate');
    assert.equal(a.key, null, 'no rotation without rotateKeys');
    assert.notEqual(a.token, first, 'a new token');
    const { payload, protectedHeader } = await verifyJwt(h, a.token);
    assert.equal(payload.rol, 'USER');
    assert.equal(payload.uid, keyClaims.uid);
    assert.equal(protectedHeader.dev, 'device-1');
    assert.equal(protectedHeader.org, 'DOCDEMO');
    assert.deepEqual(protectedHeader.idv, [`MOBILE|${MOB}`]);
    assert.equal(payload.iat, Math.floor(h.clock.now() / 1000), 'issued now');
    assert.equal(payload.exp, payload.iat! + 900, 'tokenValiditySeconds.mobile');
    assert.notEqual(payload.jti, jose.decodeJwt(first).jti);

    // No rotation: the same key keeps working, every time with key null.
    for (let i = 0; i < 3; i++) {
      h.clock.advance(1000);
      const again = expectRegenerated(await regen(h, 'mobile', key), `regenerate again #${i}`);
      assert.equal(again.key, null);
      assert.equal((await verifyJwt(h, again.token)).payload.uid, keyClaims.uid);
    }
    // Numeric and string deviceId name the same device; the brand is case-insensitive.
    expectRegenerated(await h.post(url('mobile', 'token/regenerate'), { brand: 'docdemo', identifierType: 'mobile', identifierValue: `+${MOB}`, deviceId: 'device-1', key }), 'lenient ID fields');
  } finally {
    await h.close();
  }
});

test('mobile: every bad, foreign or mismatched key answers exactly 1597 (never 1507/1508/1509)', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    await h.createBrand(OTHER_BRAND);
    const mine = await login(h, 'mobile', MOB);
    const otherDevice = await login(h, 'mobile', MOB, { deviceId: 'device-2' });
    const otherUser = await login(h, 'mobile', MOB2);
    const otherBrand = await login(h, 'mobile', MOB, { brand: OTHER_BRAND });
    const view = await viewToken(h, 'mobile');
    const key = mine.key as string;
    expectRegenerated(await regen(h, 'mobile', key), 'the genuine key works first');

    const cases: Array<[string, string, { value?: string; deviceId?: string; brand?: string }]> = [
      ['malformed: not a JWS', 'not-a-key', {}],
      ['malformed: three junk segments', 'abc.def.ghi', {}],
      ['malformed: signature changed', tamper(key), {}],
      ['malformed: payload cut off', key.split('.').slice(0, 2).join('.'), {}],
      ['forged: same claims, another secret', await forge(key), {}],
      ['a USER token sent as key', mine.token, {}],
      ['a VIEW token sent as key', view, {}],
      ['a key of another user', otherUser.key as string, {}],
      ['a key of another device of the same user', otherDevice.key as string, {}],
      ['a key of another brand (same identifier)', otherBrand.key as string, {}],
      ['identifier mismatch: my key, an unknown identifier', key, { value: UNKNOWN_MOB }],
      ['identifier mismatch: my key, another user\'s identifier', key, { value: MOB2 }],
      ['device mismatch: my key, another device', key, { deviceId: 'device-2' }],
      ['device mismatch: my key, a device never used', key, { deviceId: 'device-9' }],
      ['brand mismatch: my key, another brand', key, { brand: OTHER_BRAND }],
      ['brand mismatch: another brand\'s key, its own device on my brand', otherBrand.key as string, { deviceId: 'device-1' }],
    ];
    for (const [what, credential, opts] of cases) expectError(await regen(h, 'mobile', credential, opts), 1597, what);

    // None of those refusals touched the genuine keys.
    expectRegenerated(await regen(h, 'mobile', key), 'my key still works');
    expectRegenerated(await regen(h, 'mobile', otherDevice.key as string, { deviceId: 'device-2' }), 'device-2 key still works');
    expectRegenerated(await regen(h, 'mobile', otherUser.key as string, { value: MOB2 }), 'other user key still works');
    expectRegenerated(await regen(h, 'mobile', otherBrand.key as string, { brand: OTHER_BRAND }), 'other brand key still works');
  } finally {
    await h.close();
  }
});

test('mobile: the key of a user erased by the admin is refused (1597), also after the identifier signs up again', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    const { key } = await login(h, 'mobile', MOB);
    expectRegenerated(await regen(h, 'mobile', key as string), 'before erasure');
    await eraseUser(h, MOB);
    expectError(await regen(h, 'mobile', key as string), 1597, 'erased user');
    // The identifier comes back as a new user (new uid): the old key is not theirs.
    const again = await login(h, 'mobile', MOB);
    assert.notEqual(jose.decodeJwt(again.token).uid, jose.decodeJwt(key as string).uid, 'a new uid');
    expectError(await regen(h, 'mobile', key as string), 1597, 'old key, re-registered identifier');
    expectRegenerated(await regen(h, 'mobile', again.key as string), 'the new key works');
  } finally {
    await h.close();
  }
});

test('mobile: a key revoked by token/expire on its device is refused (1597); another device keeps working', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    const d1 = await login(h, 'mobile', MOB);
    const d2 = await login(h, 'mobile', MOB, { deviceId: 'device-2' });
    expectRegenerated(await regen(h, 'mobile', d1.key as string), 'before logout');
    expectOk(await tokenExpire(h, 'mobile', d1.token), 'logout device-1');
    expectError(await regen(h, 'mobile', d1.key as string), 1597, 'revoked key');
    expectRegenerated(await regen(h, 'mobile', d2.key as string, { deviceId: 'device-2' }), 'device-2 key');
  } finally {
    await h.close();
  }
});

test('mobile: keyValidityMinutes — the key expires (1597) and carries exp; null means it never expires', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { keyValidityMinutes: 1 });
    await h.createBrand(OTHER_BRAND);
    const { key } = await login(h, 'mobile', MOB);
    const forever = await login(h, 'mobile', MOB, { brand: OTHER_BRAND });
    const claims = jose.decodeJwt(key as string);
    assert.equal(claims.exp, (claims.iat as number) + 60, 'exp = iat + keyValidityMinutes');
    assert.equal(jose.decodeJwt(forever.key as string).exp, undefined, 'keyValidityMinutes null: no exp');

    h.clock.advance(30_000);
    expectRegenerated(await regen(h, 'mobile', key as string), 'within the lifetime');
    h.clock.advance(31_000); // 61 s after issue
    expectError(await regen(h, 'mobile', key as string), 1597, 'expired key');
    h.clock.advance(3600_000);
    expectError(await regen(h, 'mobile', key as string), 1597, 'long expired key');

    // keyValidityMinutes null: still valid more than a year later.
    h.clock.advance(400 * 86_400_000);
    expectRegenerated(await regen(h, 'mobile', forever.key as string, { brand: OTHER_BRAND }), 'a key without lifetime');
  } finally {
    await h.close();
  }
});

// ───────────────────────────── mobile: rotateKeys ─────────────────────────────

test('rotateKeys: a new key each time; a retry with the retired key within the grace gets the same successor', async () => {
  const h = await startHarness({ env: { AUTH_KEY_REUSE_GRACE_SECONDS: '5' } });
  try {
    await h.createBrand(BRAND, { rotateKeys: true });
    const { key: k0 } = await login(h, 'mobile', MOB);
    const uid = jose.decodeJwt(k0 as string).uid;

    const a = expectRegenerated(await regen(h, 'mobile', k0 as string), 'rotate k0');
    const k1 = a.key;
    assert.ok(k1, 'rotateKeys returns a new key');
    assert.notEqual(k1, k0);
    const { payload: c1, protectedHeader: h1 } = await verifyJwt(h, k1);
    assert.equal(c1.rol, 'AUTH');
    assert.equal(c1.uid, uid);
    assert.equal(h1.dev, 'device-1');
    assert.equal(h1.org, 'DOCDEMO');
    assert.notEqual(c1.jti, jose.decodeJwt(k0 as string).jti);
    assert.equal((await verifyJwt(h, a.token)).payload.rol, 'USER');

    // A client that lost the response retries with k0: same successor, a fresh token.
    const retry = expectRegenerated(await regen(h, 'mobile', k0 as string), 'retry at once');
    assert.equal(retry.key, k1, 'the same successor');
    assert.equal((await verifyJwt(h, retry.token)).payload.uid, uid);
    h.clock.advance(4000); // still within the 5 s grace
    assert.equal(expectRegenerated(await regen(h, 'mobile', k0 as string), 'retry after 4 s').key, k1, 'the same successor again');

    // The successor rotates in its turn, to a third, different key.
    const b = expectRegenerated(await regen(h, 'mobile', k1), 'rotate k1');
    assert.ok(b.key);
    assert.notEqual(b.key, k1);
    assert.notEqual(b.key, k0);
    expectRegenerated(await regen(h, 'mobile', b.key), 'k2 works');
  } finally {
    await h.close();
  }
});

test('rotateKeys: a retired key presented after the grace revokes every key of that user on that device, audited', async () => {
  const h = await startHarness({ env: { AUTH_KEY_REUSE_GRACE_SECONDS: '5' } });
  try {
    await h.createBrand(BRAND, { rotateKeys: true });
    const { key: k0 } = await login(h, 'mobile', MOB);
    const d2 = await login(h, 'mobile', MOB, { deviceId: 'device-2' });
    const other = await login(h, 'mobile', MOB2);
    const k1 = expectRegenerated(await regen(h, 'mobile', k0 as string), 'rotate').key as string;
    assert.ok(k1);

    h.clock.advance(6000); // past the 5 s grace
    expectError(await regen(h, 'mobile', k0 as string), 1597, 'retired key after the grace');
    expectError(await regen(h, 'mobile', k1), 1597, 'the successor is revoked with the family');
    expectError(await regen(h, 'mobile', k0 as string), 1597, 'still refused');

    // Only that device's family: the same user's other device and other users are untouched.
    const d2r = expectRegenerated(await regen(h, 'mobile', d2.key as string, { deviceId: 'device-2' }), 'device-2 key');
    assert.ok(d2r.key, 'device-2 rotates normally');
    expectRegenerated(await regen(h, 'mobile', other.key as string, { value: MOB2 }), 'another user');

    const events = (await auditEvents(h)).filter((e) => e.type === 'key_reuse_detected');
    assert.ok(events.length >= 1, 'key_reuse_detected is audited');
    const e = events[0];
    assert.equal(e.brand, 'DOCDEMO');
    assert.equal(e.identifier, `MOBILE|${MOB}`);
    assert.equal(e.deviceId, 'device-1');
    assert.equal(typeof e.at, 'string');
    const raw = JSON.stringify(events);
    for (const secret of [k0 as string, k1, k0!.split('.')[2], k1.split('.')[2]]) assert.ok(!raw.includes(secret), 'no key in the audit log');
  } finally {
    await h.close();
  }
});

test('rotateKeys: reuse of a key retired two rotations ago revokes the newest key too', async () => {
  const h = await startHarness({ env: { AUTH_KEY_REUSE_GRACE_SECONDS: '5' } });
  try {
    await h.createBrand(BRAND, { rotateKeys: true });
    const { key: k0 } = await login(h, 'mobile', MOB);
    const k1 = expectRegenerated(await regen(h, 'mobile', k0 as string), 'rotate k0').key as string;
    h.clock.advance(60_000);
    const k2 = expectRegenerated(await regen(h, 'mobile', k1), 'rotate k1').key as string;
    assert.ok(k2 && k2 !== k1 && k2 !== k0);
    expectError(await regen(h, 'mobile', k0 as string), 1597, 'k0 reused a minute later');
    expectError(await regen(h, 'mobile', k2), 1597, 'k2, the live key of the family, is revoked');
  } finally {
    await h.close();
  }
});

test('rotateKeys with keyValidityMinutes: the successor keeps the first key\'s absolute expiry', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { rotateKeys: true, keyValidityMinutes: 10 });
    const { key: k0 } = await login(h, 'mobile', MOB);
    const exp0 = jose.decodeJwt(k0 as string).exp as number;
    assert.equal(exp0, (jose.decodeJwt(k0 as string).iat as number) + 600);

    // Not on a whole second, as a real clock would be.
    h.clock.advance(30_250);
    const k1 = expectRegenerated(await regen(h, 'mobile', k0 as string), 'rotate').key as string;
    assert.equal(jose.decodeJwt(k1).exp, exp0, 'successor exp = original exp');
    h.clock.advance(200_500);
    const k2 = expectRegenerated(await regen(h, 'mobile', k1), 'rotate again').key as string;
    assert.equal(jose.decodeJwt(k2).exp, exp0, 'and so on down the chain');

    // Just before the first key's end the chain works; after it, it is over.
    h.clock.set(exp0 * 1000 - 2000);
    const k3 = expectRegenerated(await regen(h, 'mobile', k2), 'just before the end').key as string;
    assert.equal(jose.decodeJwt(k3).exp, exp0);
    h.clock.advance(3000);
    expectError(await regen(h, 'mobile', k3), 1597, 'the chain ends with the first key');
  } finally {
    await h.close();
  }
});

// ───────────────────────────── web: expiredToken ─────────────────────────────

test('web: a live USER token regenerates; an expired one within webRegenerateGraceSeconds too (not single-use); beyond it 1525', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { webRegenerateGraceSeconds: 3600, passwordEnabled: true });
    const { token } = await login(h, 'web', MOB);
    const { payload: c0 } = await verifyJwt(h, token);
    const exp = (c0.exp as number) * 1000;

    const live = expectRegenerated(await regen(h, 'web', token), 'live token');
    assert.equal(live.key, null, 'web never returns a key');
    const { payload, protectedHeader } = await verifyJwt(h, live.token);
    assert.equal(payload.rol, 'USER');
    assert.equal(payload.uid, c0.uid);
    assert.equal(protectedHeader.dev, null);
    assert.equal(protectedHeader.org, 'DOCDEMO');
    assert.deepEqual(protectedHeader.idv, [`MOBILE|${MOB}`]);
    assert.notEqual(payload.jti, c0.jti);

    // Past the token's lifetime: password/change refuses it, regenerate still accepts it.
    h.clock.advance(exp - h.clock.now() + 1800_000);
    expectError(await passwordChange(h, 'web', token, PASSWORD, NEW_PASSWORD), 1529, 'the token has expired');
    const r1 = expectRegenerated(await regen(h, 'web', token), 'expired 30 min ago, grace 60 min');
    const r2 = expectRegenerated(await regen(h, 'web', token), 'the same expired token again');
    assert.notEqual(r1.token, r2.token);
    for (const t of [r1.token, r2.token]) {
      const c = (await verifyJwt(h, t)).payload;
      assert.equal(c.uid, c0.uid);
      assert.equal(c.exp, Math.floor(h.clock.now() / 1000) + 900, 'a fresh lifetime');
    }
    h.clock.advance(1740_000); // 59 min after expiry
    expectRegenerated(await regen(h, 'web', token), '59 min after expiry');
    h.clock.advance(120_000); // 61 min after expiry
    expectError(await regen(h, 'web', token), 1525, 'beyond the grace');
    // The tokens it produced are themselves live tokens.
    expectRegenerated(await regen(h, 'web', r1.token), 'a regenerated token regenerates');
  } finally {
    await h.close();
  }
});

test('web: the default webRegenerateGraceSeconds is 24 h', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    const { token } = await login(h, 'web', MOB);
    const exp = (jose.decodeJwt(token).exp as number) * 1000;
    h.clock.advance(exp - h.clock.now() + 23 * 3600_000);
    expectRegenerated(await regen(h, 'web', token), '23 h after expiry');
    h.clock.advance(2 * 3600_000);
    expectError(await regen(h, 'web', token), 1525, '25 h after expiry');
  } finally {
    await h.close();
  }
});

test('web: every bad, foreign or mismatched expiredToken answers exactly 1525', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    await h.createBrand(OTHER_BRAND);
    const mine = await login(h, 'web', MOB);
    const otherUser = await login(h, 'web', MOB2);
    const otherBrand = await login(h, 'web', MOB, { brand: OTHER_BRAND });
    const mobile = await login(h, 'mobile', MOB);
    const view = await viewToken(h, 'web');
    const mobileView = await viewToken(h, 'mobile');
    expectRegenerated(await regen(h, 'web', mine.token), 'the genuine token works first');

    const cases: Array<[string, string, { value?: string; brand?: string }]> = [
      ['malformed: not a JWS', 'not-a-token', {}],
      ['malformed: three junk segments', 'abc.def.ghi', {}],
      ['malformed: signature changed', tamper(mine.token), {}],
      ['forged: same claims, another secret', await forge(mine.token), {}],
      ['a VIEW token (web)', view, {}],
      ['a VIEW token (mobile)', mobileView, {}],
      ['a key', mobile.key as string, {}],
      ['another brand\'s token', otherBrand.token, {}],
      ['my token, another brand in the request', mine.token, { brand: OTHER_BRAND }],
      ['another identifier\'s token', otherUser.token, {}],
      ['my token, another identifier in the request', mine.token, { value: MOB2 }],
      ['my token, an unknown identifier in the request', mine.token, { value: UNKNOWN_MOB }],
      // A mobile USER token renews only with its key: web must not keep it alive.
      ['a mobile USER token of the same user', mobile.token, {}],
    ];
    for (const [what, credential, opts] of cases) expectError(await regen(h, 'web', credential, opts), 1525, what);
    expectRegenerated(await regen(h, 'web', mine.token), 'still works afterwards');
  } finally {
    await h.close();
  }
});

test('web: a token revoked by token/expire is refused (1525), within its lifetime and after it', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    const a = await login(h, 'web', MOB);
    const b = await login(h, 'web', MOB);
    expectOk(await tokenExpire(h, 'web', a.token), 'logout');
    expectError(await regen(h, 'web', a.token), 1525, 'revoked token');
    h.clock.advance(3600_000);
    expectError(await regen(h, 'web', a.token), 1525, 'revoked and expired');
    expectRegenerated(await regen(h, 'web', b.token), 'the other session is not logged out');
  } finally {
    await h.close();
  }
});

test('web: a token older than a password change made from another session is refused (1525)', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { passwordEnabled: true });
    const older = await login(h, 'web', MOB, { extra: WITH_PASSWORD });
    h.clock.advance(1000);
    const caller = await login(h, 'web', MOB);
    expectRegenerated(await regen(h, 'web', older.token), 'before the change');
    h.clock.advance(1000);
    expectOk(await passwordChange(h, 'web', caller.token, PASSWORD, NEW_PASSWORD), 'change from the other session');
    expectError(await regen(h, 'web', older.token), 1525, 'older token after the change');
    h.clock.advance(1800_000); // expired too, still within the grace
    expectError(await regen(h, 'web', older.token), 1525, 'older token, expired, after the change');
    expectRegenerated(await regen(h, 'web', caller.token), 'the caller keeps its session');
  } finally {
    await h.close();
  }
});

test('web: the token of a user erased by the admin is refused (1525), also after the identifier signs up again', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    const { token } = await login(h, 'web', MOB);
    expectRegenerated(await regen(h, 'web', token), 'before erasure');
    await eraseUser(h, MOB);
    expectError(await regen(h, 'web', token), 1525, 'erased user');
    const again = await login(h, 'web', MOB);
    assert.notEqual(jose.decodeJwt(again.token).uid, jose.decodeJwt(token).uid);
    expectError(await regen(h, 'web', token), 1525, 'old token, re-registered identifier');
    expectRegenerated(await regen(h, 'web', again.token), 'the new token works');
  } finally {
    await h.close();
  }
});

// ───────────────────────────── both ─────────────────────────────

for (const v of VARIANTS) {
  test(`${v}: the regenerated token is a live USER token (password/change accepts it)`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand(BRAND, { passwordEnabled: true });
      const creds = await login(h, v, MOB, { extra: WITH_PASSWORD });
      // Let the login token expire: only the regenerated one can be live.
      h.clock.advance(910_000); // past the lifetime and the 5 s verification leeway
      expectError(await passwordChange(h, v, creds.token, PASSWORD, NEW_PASSWORD), 1529, 'login token expired');
      const r = expectRegenerated(await regen(h, v, v === 'mobile' ? (creds.key as string) : creds.token), 'regenerate');
      const change = await passwordChange(h, v, r.token, PASSWORD, NEW_PASSWORD);
      expectOk(change, 'password/change with the regenerated token');
      assert.deepEqual(change.body, { status: SUCCESS });
    } finally {
      await h.close();
    }
  });

  test(`${v}: a missing credential field is a body-shape error (1519)`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand(BRAND);
      expectError(await h.post(url(v, 'token/regenerate'), idBody(v, BRAND, 'MOBILE', MOB)), 1519, 'no key / expiredToken');
    } finally {
      await h.close();
    }
  });
}
