// Token revocation marks accumulate: a later password change must never bring back a token an
// earlier change revoked; key reuse and a mobile logout end every token of that device.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, otpLogin, startHarness, url, type Harness } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';

const BRAND = 'Marks';
const MOB = '919999999993';
const P1 = 'First-pass-11';
const P2 = 'Second-pass-22';
const P3 = 'Third-pass-33';

async function login(h: Harness, device: string, extra: object = {}) {
  const r = await otpLogin(h, 'mobile', BRAND, 'MOBILE', MOB, extra, device);
  expectOk(r.res, `login on ${device}`);
  return { token: r.res.body.auth.token as string, key: r.res.body.auth.key as string };
}

const change = (h: Harness, device: string, token: string, from: string, to: string) =>
  h.post(url('mobile', 'password/change'), { ...idBody('mobile', BRAND, 'MOBILE', MOB, device), token, password: from, newPassword: to, confirmPassword: to });

/** A live token passes the token checks and stops at 1527 (new == current); a dead one gets 1529. */
const alive = async (h: Harness, device: string, token: string, current: string) =>
  (await change(h, device, token, current, current)).body.status.code === 1527;

test('a second password change does not bring back a token the first one revoked', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { passwordEnabled: true });
    const d1 = await login(h, 'device-1', { password: P1, confirmPassword: P1 });
    const d2old = await login(h, 'device-2');
    expectOk(await change(h, 'device-1', d1.token, P1, P2), 'change on device-1');
    assert.equal(await alive(h, 'device-2', d2old.token, P2), false, 'device-2 token revoked by the first change');
    h.clock.advance(1000);
    const d2new = await login(h, 'device-2');
    expectOk(await change(h, 'device-2', d2new.token, P2, P3), 'change on device-2');
    assert.equal(await alive(h, 'device-2', d2new.token, P3), true, 'the caller of the second change stays signed in');
    assert.equal(await alive(h, 'device-2', d2old.token, P3), false, 'the token revoked by the first change stays revoked');
    assert.equal(await alive(h, 'device-1', d1.token, P3), false, 'device-1 is revoked by the second change');
  } finally {
    await h.close();
  }
});

test('key reuse detection also revokes the USER tokens of that device, not of other devices', async () => {
  const h = await startHarness({ env: { AUTH_KEY_REUSE_GRACE_SECONDS: '5' } });
  try {
    await h.createBrand(BRAND, { passwordEnabled: true, rotateKeys: true });
    const d1 = await login(h, 'device-1', { password: P1, confirmPassword: P1 });
    const d2 = await login(h, 'device-2');
    const regen = (key: string) => h.post(url('mobile', 'token/regenerate'), { ...idBody('mobile', BRAND, 'MOBILE', MOB, 'device-1'), key });
    const rotated = await regen(d1.key);
    expectOk(rotated, 'rotation');
    const renewedToken = rotated.body.auth.token as string;
    h.clock.advance(6000);
    expectError(await regen(d1.key), 1597, 'reuse after the grace');
    assert.equal(await alive(h, 'device-1', d1.token, P1), false, 'login token of device-1 revoked');
    assert.equal(await alive(h, 'device-1', renewedToken, P1), false, 'renewed token of device-1 revoked');
    assert.equal(await alive(h, 'device-2', d2.token, P1), true, 'device-2 untouched');
  } finally {
    await h.close();
  }
});

test('a mobile logout ends every token of the user on that device, renewed ones included', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { passwordEnabled: true });
    const d1 = await login(h, 'device-1', { password: P1, confirmPassword: P1 });
    const d2 = await login(h, 'device-2');
    const renewed = await h.post(url('mobile', 'token/regenerate'), { ...idBody('mobile', BRAND, 'MOBILE', MOB, 'device-1'), key: d1.key });
    expectOk(renewed, 'regenerate');
    expectOk(await h.post(url('mobile', 'token/expire'), { ...idBody('mobile', BRAND, 'MOBILE', MOB, 'device-1'), token: d1.token }), 'logout');
    assert.equal(await alive(h, 'device-1', renewed.body.auth.token, P1), false, 'renewed token of the logged-out device');
    assert.equal(await alive(h, 'device-2', d2.token, P1), true, 'another device stays signed in');
    h.clock.advance(1000);
    const again = await login(h, 'device-1');
    assert.equal(await alive(h, 'device-1', again.token, P1), true, 'a new login on the device works');
  } finally {
    await h.close();
  }
});
