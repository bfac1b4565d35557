// The webhook provider against a real local HTTP server: the wire format, the signature a
// receiver can verify, which answers are retried and how many times, and that a failure
// never carries the OTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../helpers/process.ts';
import type { OtpMessage } from '../../src/ports/otp-sender.ts';
import { DeliveryError } from '../../src/senders/delivery-error.ts';
import { signWebhook, webhookSender, webhookWorstCaseMs } from '../../src/senders/webhook-sender.ts';
import { WEBHOOK_SECRET, startReceiver, verifySignature, type Receiver } from './webhook-helpers.ts';

const OTP = '482913';
const sms: OtpMessage = {
  brand: 'DOCDEMO',
  identifier: 'MOBILE|919999999993',
  channel: 'SMS',
  to: '919999999993',
  subject: null,
  text: `Your DOCDEMO code is ${OTP}. It expires in 20 minutes.`,
  otp: OTP,
  provider: null,
};

interface Logged { obj: Record<string, unknown>; msg: string }
const captureLogger = () => {
  const lines: Logged[] = [];
  return { lines, warn: (obj: object, msg: string) => void lines.push({ obj: obj as Record<string, unknown>, msg }) };
};

const sender = (r: Receiver, over: Partial<Parameters<typeof webhookSender>[0]> = {}) =>
  webhookSender({ url: r.url, secret: WEBHOOK_SECRET, timeoutMs: 2000, retries: 2, backoffBaseMs: 5, ...over });

/** Asserts the promise rejects with a DeliveryError that does not carry the OTP; returns it. */
async function rejectsClean(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected a DeliveryError, got ${String(err)}`);
    for (const s of [err.message, String(err.stack), JSON.stringify(err), String(err.cause ?? '')]) {
      assert.ok(!s.includes(OTP), `the error must not carry the OTP: ${s}`);
      assert.ok(!s.includes(WEBHOOK_SECRET), 'the error must not carry the secret');
    }
    return err;
  }
  assert.fail('expected the send to reject');
}

test('webhook: POSTs the four fields as JSON, signed; the receiver verifies the signature', async () => {
  const r = await startReceiver();
  try {
    const t0 = Math.floor(Date.now() / 1000);
    await sender(r).send(sms);
    assert.equal(r.received.length, 1);
    const req = r.received[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/hook');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req.rawBody), { brand: 'DOCDEMO', channel: 'SMS', to: '919999999993', text: sms.text });
    assert.ok(verifySignature(req), 'signature verifies with the shared secret');
    assert.ok(!verifySignature(req, 'another-secret-0123456789-abcdefghijklmnop'), 'and not with another secret');
    assert.ok(!verifySignature({ ...req, rawBody: req.rawBody.replace(OTP, '000000') }), 'a changed body fails verification');
    const ts = Number(req.headers['x-auth-engine-timestamp']);
    assert.ok(Math.abs(ts - t0) <= 5, 'timestamp is the current unix time in seconds');
    assert.match(String(req.headers['x-auth-engine-delivery']), /^[0-9a-f-]{36}$/);
    assert.equal(req.headers['x-auth-engine-signature'], signWebhook(WEBHOOK_SECRET, String(ts), req.rawBody));
  } finally {
    await r.close();
  }
});

test('webhook: EMAIL carries the subject too; the timestamp comes from the injected clock', async () => {
  const r = await startReceiver();
  try {
    const email: OtpMessage = { ...sms, channel: 'EMAIL', to: 'alice@example.com', identifier: 'EMAIL|alice@example.com', subject: 'Your DOCDEMO code' };
    await sender(r, { now: () => 1_700_000_000_999 }).send(email);
    const req = r.received[0];
    assert.deepEqual(JSON.parse(req.rawBody), { brand: 'DOCDEMO', channel: 'EMAIL', to: 'alice@example.com', text: sms.text, subject: 'Your DOCDEMO code' });
    assert.equal(req.headers['x-auth-engine-timestamp'], '1700000000');
    assert.ok(verifySignature(req));
  } finally {
    await r.close();
  }
});

test('webhook: a 500 is retried; the retry has the same body and delivery id, a fresh valid signature', async () => {
  const r = await startReceiver((n) => (n === 0 ? 500 : 200));
  const log = captureLogger();
  try {
    await sender(r, { logger: log }).send(sms);
    assert.equal(r.received.length, 2, 'two attempts');
    const [a, b] = r.received;
    assert.equal(a.rawBody, b.rawBody);
    assert.equal(a.headers['x-auth-engine-delivery'], b.headers['x-auth-engine-delivery']);
    assert.ok(verifySignature(a) && verifySignature(b));
    assert.equal(log.lines.length, 1, 'the failed attempt is logged');
    assert.deepEqual(
      { ...log.lines[0].obj, deliveryId: undefined },
      { provider: 'webhook', brand: 'DOCDEMO', channel: 'SMS', to: '***93', deliveryId: undefined, attempt: 1, status: 500, reason: 'http_500', willRetry: true },
    );
    assert.ok(!JSON.stringify(log.lines).includes(OTP) && !JSON.stringify(log.lines).includes(sms.to), 'no OTP, no full number in the log');
  } finally {
    await r.close();
  }
});

test('webhook: a 429 is retried too; 5xx every time → rejects after retries + 1 attempts', async () => {
  const r = await startReceiver((n) => (n === 0 ? 429 : 503));
  try {
    const err = await rejectsClean(sender(r, { retries: 2 }).send(sms));
    assert.equal(r.received.length, 3, 'retries: 2 → three attempts, no more');
    assert.equal(err.attempts, 3);
    assert.equal(err.reason, 'http_503');
    assert.equal(new Set(r.received.map((x) => x.headers['x-auth-engine-delivery'])).size, 1, 'one delivery id across the attempts');
  } finally {
    await r.close();
  }
});

test('webhook: a 4xx (other than 429) and a 3xx are permanent: rejected at once, no retry, redirect not followed', async () => {
  for (const status of [400, 401, 404, 302]) {
    const r = await startReceiver(() => status);
    try {
      const err = await rejectsClean(sender(r).send(sms));
      assert.equal(r.received.length, 1, `HTTP ${status}: one attempt`);
      assert.equal(err.reason, `http_${status}`);
    } finally {
      await r.close();
    }
  }
});

test('webhook: a server that never answers → each attempt times out; rejects after retries + 1 attempts', async () => {
  const r = await startReceiver(() => 'hang');
  try {
    const err = await rejectsClean(sender(r, { timeoutMs: 150, retries: 1 }).send(sms));
    assert.equal(err.reason, 'timeout');
    assert.equal(err.attempts, 2);
    assert.equal(r.received.length, 2, 'the attempts are bounded');
  } finally {
    await r.close();
  }
});

test('webhook: connection refused → rejects (retried, then a clean error)', async () => {
  const port = await freePort(); // nothing listens there
  const s = webhookSender({ url: `http://127.0.0.1:${port}/hook`, secret: WEBHOOK_SECRET, timeoutMs: 1000, retries: 1, backoffBaseMs: 5 });
  const err = await rejectsClean(s.send(sms));
  assert.equal(err.reason, 'ECONNREFUSED');
  assert.equal(err.attempts, 2);
});

test('webhook: the bound env.ts checks at startup', () => {
  // retries + 1 timeouts, plus backoffs of at most 200, 400 ms.
  assert.equal(webhookWorstCaseMs(2000, 2), 3 * 2000 + 200 + 400);
  assert.equal(webhookWorstCaseMs(1000, 0), 1000);
});
