// Two sign-ups of one new identifier, both started before either validates (token/generate
// found no user for either). The first validation creates the user; the second logs into that
// same user (it does not create another or fail), and the audit says which one created it.
// With account locking on, a lock set on the identifier before sign-up still holds at validation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, startHarness, url, VARIANTS } from '../helpers/harness.ts';

const MOB = '919999999981';

for (const v of VARIANTS) {
  test(`${v}: overlapping sign-ups of one mobile: one user, the second validation logs into it (created: false)`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('OVL');
      const id = idBody(v, 'OVL', 'MOBILE', MOB);
      const a = (await h.post(url(v, 'token/generate'), id)).body.user.sessionId as string;
      const b = (await h.post(url(v, 'token/generate'), id)).body.user.sessionId as string;
      await h.post(url(v, 'otp/generate'), { ...id, sessionId: a });
      const otpA = await h.lastOtp('OVL', `MOBILE|${MOB}`);
      await h.post(url(v, 'otp/generate'), { ...id, sessionId: b });
      const otpB = await h.lastOtp('OVL', `MOBILE|${MOB}`);
      const first = await h.post(url(v, 'otp/validate'), { ...id, sessionId: a, otp: otpA });
      const second = await h.post(url(v, 'otp/validate'), { ...id, sessionId: b, otp: otpB });
      assert.equal(first.status, 200, first.raw);
      assert.equal(second.status, 200, second.raw);
      assert.equal(await h.countRows('users', 'brand = ?', ['OVL']), 1);
      const uids = (await h.admin('GET', '/admin/v1/audit?brand=OVL&limit=10')).body.events
        .filter((e: { type: string }) => e.type === 'login_success')
        .map((e: { detail: { uid: string; created: boolean } }) => e.detail);
      assert.equal(uids.length, 2);
      assert.equal(uids[0].uid, uids[1].uid, 'both logins are of the one user');
      assert.deepEqual(uids.map((d: { created: boolean }) => d.created).sort(), [false, true]);
    } finally {
      await h.close();
    }
  });
}

test('account locking on: a sign-up session validates against the lock of its identifier', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('OVL', { accountLocking: { enabled: true, maxFailures: 2, lockMinutes: 15 } });
    const id = idBody('web', 'OVL', 'MOBILE', MOB);
    const s = (await h.post(url('web', 'token/generate'), id)).body.user.sessionId as string;
    await h.post(url('web', 'otp/generate'), { ...id, sessionId: s });
    const otp = await h.lastOtp('OVL', `MOBILE|${MOB}`);
    const wrong = otp === '000000' ? '111111' : '000000';
    await h.post(url('web', 'otp/validate'), { ...id, sessionId: s, otp: wrong });
    const locking = await h.post(url('web', 'otp/validate'), { ...id, sessionId: s, otp: wrong });
    assert.equal(locking.body.status.code, 1544, locking.raw);
    const right = await h.post(url('web', 'otp/validate'), { ...id, sessionId: s, otp });
    assert.equal(right.body.status.code, 1544, 'the lock holds for the right code too');
    assert.equal(await h.countRows('users', 'brand = ?', ['OVL']), 0);
  } finally {
    await h.close();
  }
});
