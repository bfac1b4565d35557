// Spec §3.8 token/expire (logout) on mobile and web, and the revocation side of §3.6
// password/change (every other device's keys and tokens die, the caller's survive).
// Liveness of a token is probed with password/change where password == newPassword: a live
// token reaches the 1527 check (no side effect), a dead one answers 1529.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { idBody, otpLogin, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SUCCESS, expectError, expectOk } from '../helpers/spec.ts';

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
interface Where {
  brand?: string;
  value?: string;
  deviceId?: string;
}

const id = (v: V, w: Where = {}) => idBody(v, w.brand ?? BRAND, 'MOBILE', w.value ?? MOB, w.deviceId ?? 'device-1');

async function login(h: Harness, v: V, w: Where & { extra?: object } = {}): Promise<Creds> {
  const r = await otpLogin(h, v, w.brand ?? BRAND, 'MOBILE', w.value ?? MOB, w.extra ?? {}, w.deviceId ?? 'device-1');
  expectOk(r.res, `${v} login`);
  return { token: r.res.body.auth.token, key: r.res.body.auth.key };
}

function logout(h: Harness, v: V, token: string, w: Where & { key?: string } = {}): Promise<Res> {
  const body: Record<string, unknown> = { ...id(v, w), token };
  if (w.key !== undefined) body.key = w.key;
  return h.post(url(v, 'token/expire'), body);
}

/** A successful logout: HTTP 200 and exactly the success status. */
function expectLoggedOut(r: Res, what: string) {
  expectOk(r, what);
  assert.deepEqual(r.body, { status: SUCCESS }, what);
}

/** password/change with password == newPassword: 1527 when the token is live, 1529 when not. */
async function expectLive(h: Harness, v: V, token: string, what: string, w: Where = {}) {
  const p = 'Probe-Password-1';
  expectError(await h.post(url(v, 'password/change'), { ...id(v, w), token, password: p, newPassword: p, confirmPassword: p }), 1527, `${what} (token live)`);
}
async function expectDead(h: Harness, v: V, token: string, what: string, w: Where = {}) {
  const p = 'Probe-Password-1';
  expectError(await h.post(url(v, 'password/change'), { ...id(v, w), token, password: p, newPassword: p, confirmPassword: p }), 1529, `${what} (token refused)`);
}

function regenKey(h: Harness, key: string, w: Where = {}) {
  return h.post(url('mobile', 'token/regenerate'), { ...id('mobile', w), key });
}
function regenWeb(h: Harness, token: string, w: Where = {}) {
  return h.post(url('web', 'token/regenerate'), { ...id('web', w), expiredToken: token });
}
async function expectKeyWorks(h: Harness, key: string, what: string, w: Where = {}) {
  expectOk(await regenKey(h, key, w), `${what} (key works)`);
}
async function expectKeyRefused(h: Harness, key: string, what: string, w: Where = {}) {
  expectError(await regenKey(h, key, w), 1597, `${what} (key refused)`);
}

async function forge(token: string): Promise<string> {
  const header = jose.decodeProtectedHeader(token) as jose.JWTHeaderParameters;
  return new jose.SignJWT(jose.decodeJwt(token)).setProtectedHeader(header).sign(new TextEncoder().encode('not-the-deployment-secret-0123456789abcdef'));
}

async function auditOf(h: Harness, type: string, brand = BRAND): Promise<any[]> {
  const r = await h.admin('GET', `/admin/v1/audit?brand=${brand}&limit=500`);
  expectOk(r, 'GET audit');
  return r.body.events.filter((e: any) => e.type === type);
}

async function setup(h: Harness, cfg: object = {}) {
  await h.createBrand(BRAND, { passwordEnabled: true, ...cfg });
  await h.createBrand(OTHER_BRAND, { passwordEnabled: true });
}

// ───────────────────────────── logout, both variants ─────────────────────────────

for (const v of VARIANTS) {
  test(`${v}: after token/expire the token is refused by password/change (1529) and by regenerate`, async () => {
    const h = await startHarness();
    try {
      await setup(h);
      const me = await login(h, v, { extra: WITH_PASSWORD });
      const other = await login(h, v, { deviceId: 'device-2' }); // another session of the same user
      await expectLive(h, v, me.token, 'before logout');

      expectLoggedOut(await logout(h, v, me.token), 'logout');
      await expectDead(h, v, me.token, 'after logout');
      // Still refused once the token would have expired anyway.
      expectError(await regenWeb(h, me.token), 1525, 'web regenerate of the logged-out token');
      if (v === 'mobile') await expectKeyRefused(h, me.key as string, 'the device key after logout');

      await expectLive(h, v, other.token, 'another session is not logged out', { deviceId: 'device-2' });
      h.clock.advance(1800_000);
      expectError(await regenWeb(h, me.token), 1525, 'web regenerate, logged out and expired (within the grace)');
    } finally {
      await h.close();
    }
  });

  test(`${v}: token/expire is idempotent — the same token again, an expired token, a token revoked by a password change`, async () => {
    const h = await startHarness();
    try {
      await setup(h);
      const a = await login(h, v, { extra: WITH_PASSWORD });
      expectLoggedOut(await logout(h, v, a.token), 'first logout');
      expectLoggedOut(await logout(h, v, a.token), 'second logout with the same token');
      expectLoggedOut(await logout(h, v, a.token), 'third');
      await expectDead(h, v, a.token, 'still logged out');

      // An already-expired token (past its exp and the verification leeway) is accepted, and
      // the logout still takes effect: within the web grace it could have been regenerated.
      const b = await login(h, v);
      h.clock.advance(1000_000);
      expectLoggedOut(await logout(h, v, b.token), 'expired token');
      expectError(await regenWeb(h, b.token), 1525, 'the expired, logged-out token cannot be regenerated');
      if (v === 'mobile') await expectKeyRefused(h, b.key as string, 'the device key after logout with an expired token');

      // A token already revoked by a password change made from another session.
      const c = await login(h, v, { deviceId: 'device-3' });
      const changer = await login(h, v, { deviceId: 'device-4' });
      expectOk(await h.post(url(v, 'password/change'), { ...id(v, { deviceId: 'device-4' }), token: changer.token, password: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }), 'password/change');
      await expectDead(h, v, c.token, 'revoked by the change', { deviceId: 'device-3' });
      expectLoggedOut(await logout(h, v, c.token, { deviceId: 'device-3' }), 'logout with a token revoked by a password change');
    } finally {
      await h.close();
    }
  });

  test(`${v}: token/expire refuses malformed, forged, VIEW tokens and keys (1529) and revokes nothing`, async () => {
    const h = await startHarness();
    try {
      await setup(h);
      const me = await login(h, v, { extra: WITH_PASSWORD });
      const mobile = await login(h, 'mobile', { deviceId: 'device-9' });
      const view = await h.post(url(v, 'token/generate'), id(v));
      expectOk(view, 'token/generate');
      const cases: Array<[string, string]> = [
        ['not a JWS', 'not-a-token'],
        ['three junk segments', 'abc.def.ghi'],
        ['signature changed', me.token.slice(0, -2) + (me.token.at(-2) === 'A' ? 'B' : 'A') + me.token.at(-1)],
        ['forged with another secret', await forge(me.token)],
        ['a VIEW token', view.body.auth.token],
        ['a key', mobile.key as string],
      ];
      for (const [what, token] of cases) expectError(await logout(h, v, token), 1529, what);
      await expectLive(h, v, me.token, 'nothing was revoked');
      if (v === 'mobile') await expectKeyWorks(h, me.key as string, 'nothing was revoked');
      assert.equal((await auditOf(h, 'logout')).length, 0, 'no logout audited for refusals');
    } finally {
      await h.close();
    }
  });

  test(`${v}: token/expire mismatches answer 1509 / 1507${v === 'mobile' ? ' / 1508' : ''} and revoke nothing`, async () => {
    const h = await startHarness();
    try {
      await setup(h);
      const me = await login(h, v, { extra: WITH_PASSWORD });
      await login(h, v, { value: MOB2 });
      expectError(await logout(h, v, me.token, { brand: OTHER_BRAND }), 1509, 'another brand in the request');
      expectError(await logout(h, v, me.token, { value: MOB2 }), 1507, 'another user\'s identifier');
      expectError(await logout(h, v, me.token, { value: UNKNOWN_MOB }), 1507, 'an unknown identifier');
      if (v === 'mobile') {
        expectError(await logout(h, v, me.token, { deviceId: 'device-2' }), 1508, 'another device');
        // Brand is checked before identifier and device, identifier before device.
        expectError(await logout(h, v, me.token, { brand: OTHER_BRAND, value: MOB2, deviceId: 'device-2' }), 1509, 'all three mismatch');
        expectError(await logout(h, v, me.token, { value: MOB2, deviceId: 'device-2' }), 1507, 'identifier and device mismatch');
      } else {
        // Web ignores any deviceId sent.
        expectLoggedOut(await h.post(url(v, 'token/expire'), { ...id(v), deviceId: 'device-2', token: (await login(h, v)).token }), 'web ignores deviceId');
      }
      await expectLive(h, v, me.token, 'nothing was revoked');
      if (v === 'mobile') await expectKeyWorks(h, me.key as string, 'nothing was revoked');
    } finally {
      await h.close();
    }
  });

  test(`${v}: token/expire writes a secret-free logout audit event`, async () => {
    const h = await startHarness();
    try {
      await setup(h);
      const me = await login(h, v);
      expectLoggedOut(await logout(h, v, me.token, v === 'mobile' ? { key: me.key as string } : {}), 'logout');
      const events = await auditOf(h, 'logout');
      assert.equal(events.length, 1, JSON.stringify(events));
      const e = events[0];
      assert.equal(e.brand, 'DOCDEMO');
      assert.equal(e.identifier, `MOBILE|${MOB}`);
      assert.equal(e.deviceId, v === 'mobile' ? 'device-1' : null);
      assert.equal(typeof e.ip, 'string');
      assert.equal(e.at, new Date(h.clock.now()).toISOString());
      const raw = JSON.stringify(events);
      for (const secret of [me.token, me.token.split('.')[2], ...(me.key ? [me.key, me.key.split('.')[2]] : [])]) assert.ok(!raw.includes(secret), 'no token or key in the audit log');
    } finally {
      await h.close();
    }
  });

  test(`${v}: token/expire answers 1531 when the revocation cannot be stored, and the token stays usable`, async () => {
    const h = await startHarness();
    try {
      await setup(h);
      const me = await login(h, v, { extra: WITH_PASSWORD });
      // The revocation is one atomic credential change: make its store fail.
      const store = h.deps.credentials;
      const orig = store.applyCredentialChange;
      store.applyCredentialChange = async () => {
        throw new StoreUnavailableError(new Error('disk gone'));
      };
      try {
        expectError(await logout(h, v, me.token), 1531, 'revocation store down');
      } finally {
        store.applyCredentialChange = orig;
      }
      await expectLive(h, v, me.token, 'nothing was half-done');
      expectLoggedOut(await logout(h, v, me.token), 'retry succeeds');
      await expectDead(h, v, me.token, 'logged out now');
    } finally {
      await h.close();
    }
  });
}

// ───────────────────────────── logout, mobile keys ─────────────────────────────

test('mobile: logout revokes every key of the user on that device, not on other devices', async () => {
  const h = await startHarness();
  try {
    await setup(h);
    const first = await login(h, 'mobile', { extra: WITH_PASSWORD });
    const second = await login(h, 'mobile'); // a second login on the same device: a second key
    const d2 = await login(h, 'mobile', { deviceId: 'device-2' });
    const otherUser = await login(h, 'mobile', { value: MOB2 });
    assert.notEqual(first.key, second.key);
    await expectKeyWorks(h, first.key as string, 'before');

    expectLoggedOut(await logout(h, 'mobile', second.token), 'logout with the second token, no key');
    await expectKeyRefused(h, first.key as string, 'the first key of device-1');
    await expectKeyRefused(h, second.key as string, 'the second key of device-1');
    await expectKeyWorks(h, d2.key as string, 'device-2', { deviceId: 'device-2' });
    await expectLive(h, 'mobile', d2.token, 'device-2 token', { deviceId: 'device-2' });
    await expectKeyWorks(h, otherUser.key as string, 'another user on device-1', { value: MOB2 });
  } finally {
    await h.close();
  }
});

test('mobile: logout with a key of that device succeeds; a repeat with the now-revoked key too', async () => {
  const h = await startHarness();
  try {
    await setup(h);
    const older = await login(h, 'mobile');
    const me = await login(h, 'mobile');
    const d2 = await login(h, 'mobile', { deviceId: 'device-2' });
    expectLoggedOut(await logout(h, 'mobile', me.token, { key: me.key as string }), 'logout with its own key');
    await expectKeyRefused(h, me.key as string, 'its key');
    await expectKeyRefused(h, older.key as string, 'the older key of the device');
    await expectDead(h, 'mobile', me.token, 'its token');
    expectLoggedOut(await logout(h, 'mobile', me.token, { key: me.key as string }), 'the same logout again');
    expectLoggedOut(await logout(h, 'mobile', older.token, { key: me.key as string }), 'another token of the device with an already revoked key');
    await expectKeyWorks(h, d2.key as string, 'device-2', { deviceId: 'device-2' });

    // An older (but live) key of the device is one of its keys too.
    const a = await login(h, 'mobile', { deviceId: 'device-3' });
    const b = await login(h, 'mobile', { deviceId: 'device-3' });
    expectLoggedOut(await logout(h, 'mobile', b.token, { deviceId: 'device-3', key: a.key as string }), 'the older key of device-3');
    await expectKeyRefused(h, b.key as string, 'device-3 newer key', { deviceId: 'device-3' });
  } finally {
    await h.close();
  }
});

test('mobile: logout with a key of another device, user or brand, or a bad key → 1597, and nothing is revoked', async () => {
  const h = await startHarness();
  try {
    await setup(h);
    const me = await login(h, 'mobile', { extra: WITH_PASSWORD });
    const d2 = await login(h, 'mobile', { deviceId: 'device-2' });
    const otherUser = await login(h, 'mobile', { value: MOB2 });
    const otherBrand = await login(h, 'mobile', { brand: OTHER_BRAND });
    const cases: Array<[string, string]> = [
      ['a key of another device of the same user', d2.key as string],
      ['a key of another user on the same device', otherUser.key as string],
      ['a key of another brand', otherBrand.key as string],
      ['a malformed key', 'not-a-key'],
      ['a forged key', await forge(me.key as string)],
      ['the USER token as key', me.token],
    ];
    for (const [what, key] of cases) expectError(await logout(h, 'mobile', me.token, { key }), 1597, what);

    await expectLive(h, 'mobile', me.token, 'the token was not revoked');
    await expectKeyWorks(h, me.key as string, 'my key was not revoked');
    await expectKeyWorks(h, d2.key as string, 'device-2 key', { deviceId: 'device-2' });
    await expectKeyWorks(h, otherUser.key as string, 'the other user key', { value: MOB2 });
    assert.equal((await auditOf(h, 'logout')).length, 0, 'no logout audited');
    // And the real logout still works afterwards.
    expectLoggedOut(await logout(h, 'mobile', me.token, { key: me.key as string }), 'proper logout');
    await expectDead(h, 'mobile', me.token, 'now revoked');
  } finally {
    await h.close();
  }
});

// ───────────────────────────── password/change revocation ─────────────────────────────

test('mobile password/change: other devices\' keys and tokens are revoked, the calling device keeps its token and key', async () => {
  const h = await startHarness();
  try {
    await setup(h);
    const d1 = await login(h, 'mobile', { extra: WITH_PASSWORD });
    const d2 = await login(h, 'mobile', { deviceId: 'device-2' });
    const web = await login(h, 'web');
    const otherUser = await login(h, 'mobile', { value: MOB2, deviceId: 'device-2' });
    h.clock.advance(1000);

    expectOk(await h.post(url('mobile', 'password/change'), { ...id('mobile'), token: d1.token, password: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }), 'change on device-1');

    await expectLive(h, 'mobile', d1.token, 'calling token');
    const r = await regenKey(h, d1.key as string);
    expectOk(r, 'calling device key');
    await expectLive(h, 'mobile', r.body.auth.token, 'token regenerated on the calling device');

    await expectDead(h, 'mobile', d2.token, 'device-2 token', { deviceId: 'device-2' });
    await expectKeyRefused(h, d2.key as string, 'device-2 key', { deviceId: 'device-2' });
    await expectDead(h, 'web', web.token, 'web token');
    expectError(await regenWeb(h, web.token), 1525, 'web token cannot be regenerated');

    await expectKeyWorks(h, otherUser.key as string, 'another user is untouched', { value: MOB2, deviceId: 'device-2' });
    // device-2 can log in again and is then live.
    const again = await login(h, 'mobile', { deviceId: 'device-2' });
    await expectLive(h, 'mobile', again.token, 'a new login on device-2', { deviceId: 'device-2' });
    await expectKeyWorks(h, again.key as string, 'a new key on device-2', { deviceId: 'device-2' });
  } finally {
    await h.close();
  }
});

test('web password/change: the calling token stays live, every other token and every key is revoked', async () => {
  const h = await startHarness();
  try {
    await setup(h);
    const a = await login(h, 'web', { extra: WITH_PASSWORD });
    const b = await login(h, 'web');
    const mobile = await login(h, 'mobile');
    h.clock.advance(1000);

    expectOk(await h.post(url('web', 'password/change'), { ...id('web'), token: a.token, password: PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }), 'change on web');

    await expectLive(h, 'web', a.token, 'calling token');
    expectOk(await regenWeb(h, a.token), 'calling token regenerates');
    await expectDead(h, 'web', b.token, 'second web login');
    expectError(await regenWeb(h, b.token), 1525, 'second web login regenerate');
    await expectDead(h, 'mobile', mobile.token, 'mobile token');
    await expectKeyRefused(h, mobile.key as string, 'mobile key');
    // A fresh login afterwards is live.
    const c = await login(h, 'web');
    await expectLive(h, 'web', c.token, 'a login after the change');
  } finally {
    await h.close();
  }
});
