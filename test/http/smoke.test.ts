import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, otpLogin } from '../helpers/harness.ts';

test('OTP login end to end on mobile and web', async () => {
  const h = await startHarness();
  try {
    await h.createBrand('DocDemo');
    const m = await otpLogin(h, 'mobile', 'docdemo', 'MOBILE', '919999999993');
    assert.equal(m.res.status, 200, m.res.raw);
    assert.equal(m.res.body.user.role, 'USER');
    assert.ok(m.res.body.auth.key);
    const w = await otpLogin(h, 'web', 'docdemo', 'EMAIL', 'a@b.co');
    assert.equal(w.res.status, 200, w.res.raw);
    assert.equal(w.res.body.auth.key, null);
  } finally {
    await h.close();
  }
});
