// Storage faults in the middle of otp/generate: our own store being down is 503 / 1599 (not a
// provider failure, 1503), and a send that could not complete gives its quota back.
import { test } from 'node:test';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { idBody, startHarness, url, VARIANTS } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';

const BRAND = 'Faulty';
const MOB = '919999999993';

for (const v of VARIANTS) {
  test(`${v}: the outbox store down during delivery → 1599, quota given back`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand(BRAND, { otpMaxCount: 2, otpTimeOut: 10 });
      const id = idBody(v, BRAND, 'MOBILE', MOB);
      const sessionId = (await h.post(url(v, 'token/generate'), id)).body.user.sessionId;
      const orig = h.deps.sender;
      h.deps.sender = { canDeliver: () => true, send: async () => { throw new StoreUnavailableError(new Error('db down')); } };
      try {
        expectError(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 1599, 'store down');
      } finally {
        h.deps.sender = orig;
      }
      expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 'first of two');
      expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 'second of two: the failed send was not counted');
      expectError(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 1534, 'the limit still holds');
    } finally {
      await h.close();
    }
  });

  test(`${v}: the session store down after delivery → 1599, quota given back`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand(BRAND, { otpMaxCount: 1, otpTimeOut: 10 });
      const id = idBody(v, BRAND, 'MOBILE', MOB);
      const sessionId = (await h.post(url(v, 'token/generate'), id)).body.user.sessionId;
      const store = h.deps.sessions;
      const orig = store.setOtp;
      store.setOtp = async () => { throw new StoreUnavailableError(new Error('redis down')); };
      try {
        expectError(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 1599, 'store down');
      } finally {
        store.setOtp = orig;
      }
      expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 'the quota of one is still there');
      const otp = await h.lastOtp(BRAND, `MOBILE|${MOB}`);
      expectOk(await h.post(url(v, 'otp/validate'), { ...id, sessionId, otp }), 'the stored code validates');
    } finally {
      await h.close();
    }
  });
}
