// "Nothing lost" (issue 4, checklist I2/I3/F8): flushing this deployment's Redis keys — every
// session and OTP state — must not reset an attempt counter, a lock or a send cap, and must
// not bring a consumed OTP back. Those records live in PostgreSQL.
process.env.AE_TEST_STORAGE = 'production';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedis, redisReady } from '../../src/storage/redis/redis-client.ts';
import { keysUnder } from '../helpers/redis.ts';

const { idBody, startHarness, url } = await import('../../test/helpers/harness.ts');
const { expectError, expectOk } = await import('../../test/helpers/spec.ts');
type H = Awaited<ReturnType<typeof startHarness>>;

const BRAND = 'Flush';

/** Deletes every Redis key of this harness's deployment (what FLUSHALL would do to it). */
async function flushDeployment(h: H): Promise<number> {
  const redis = createRedis(h.config.redisUrl as string);
  try {
    await redisReady(redis, 5000);
    const keys = await keysUnder(redis, h.config.redisKeyPrefix);
    if (keys.length) await redis.del(...keys);
    return keys.length;
  } finally {
    redis.disconnect();
  }
}

async function session(h: H, value: string) {
  const id = idBody('mobile', BRAND, 'MOBILE', value);
  const gen = await h.post(url('mobile', 'token/generate'), id);
  expectOk(gen, 'token/generate');
  return { id, sessionId: gen.body.user.sessionId as string };
}

test('after 4 wrong guesses a Redis flush does not reset the account lock count', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { maxOtpRetries: 10, accountLocking: { enabled: true, maxFailures: 5, lockMinutes: 15 } });
    const a = await session(h, '919999999901');
    expectOk(await h.post(url('mobile', 'otp/generate'), { ...a.id, sessionId: a.sessionId }), 'send');
    for (let i = 0; i < 4; i++) expectError(await h.post(url('mobile', 'otp/validate'), { ...a.id, sessionId: a.sessionId, otp: '000000x' }), 1506, `wrong ${i + 1}`);
    assert.ok((await flushDeployment(h)) > 0, 'there were session keys to flush');
    expectError(await h.post(url('mobile', 'otp/validate'), { ...a.id, sessionId: a.sessionId, otp: '000000x' }), 1505, 'the flushed session is gone (fails closed)');
    const b = await session(h, '919999999901');
    expectOk(await h.post(url('mobile', 'otp/generate'), { ...b.id, sessionId: b.sessionId }), 'send on a new session');
    expectError(await h.post(url('mobile', 'otp/validate'), { ...b.id, sessionId: b.sessionId, otp: '000000x' }), 1544, 'the 5th failure still locks');
  } finally {
    await h.close();
  }
});

test('after the send cap is reached a Redis flush does not hand out a fresh quota', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { otpMaxCount: 3, otpTimeOut: 10 });
    for (let i = 0; i < 3; i++) {
      const s = await session(h, '919999999902');
      expectOk(await h.post(url('mobile', 'otp/generate'), { ...s.id, sessionId: s.sessionId }), `send ${i + 1}`);
    }
    assert.ok((await flushDeployment(h)) > 0);
    const s = await session(h, '919999999902');
    expectError(await h.post(url('mobile', 'otp/generate'), { ...s.id, sessionId: s.sessionId }), 1534, 'the cap still holds');
  } finally {
    await h.close();
  }
});

test('a consumed OTP does not come back after a Redis flush', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND);
    const s = await session(h, '919999999903');
    expectOk(await h.post(url('mobile', 'otp/generate'), { ...s.id, sessionId: s.sessionId }), 'send');
    const otp = await h.lastOtp(BRAND, 'MOBILE|919999999903');
    expectOk(await h.post(url('mobile', 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp }), 'login');
    await flushDeployment(h);
    expectError(await h.post(url('mobile', 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp }), 1505, 'replay after the flush');
  } finally {
    await h.close();
  }
});
