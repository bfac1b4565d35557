// OTP delivery through the HTTP API with real providers (spec §6): the app built by the
// harness with delivery settings in its env, a real local webhook receiver and a real local
// SMTP server. The code the customer types is the one the provider received; a provider
// failure answers 1503, gives the quota back and leaves the session usable; a provider the
// deployment did not configure answers 1603 before anything is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { idBody, startHarness, type Harness } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';
import { WEBHOOK_SECRET, startReceiver, verifySignature, type Receiver } from './webhook-helpers.ts';

const MOB = '919999999971';
const MOB2 = '919999999972';
const MAIL = 'carol@example.com';

const hookEnv = (r: Receiver, extra: Record<string, string> = {}) => ({
  AUTH_WEBHOOK_URL: r.url,
  AUTH_WEBHOOK_SECRET: WEBHOOK_SECRET,
  AUTH_WEBHOOK_TIMEOUT_MS: '1000',
  AUTH_WEBHOOK_RETRIES: '1',
  ...extra,
});

async function session(h: Harness, brand: string, type: string, value: string): Promise<string> {
  const r = await h.post('/auth/v1/token/generate', idBody('mobile', brand, type, value));
  expectOk(r, 'token/generate');
  return r.body.user.sessionId as string;
}
const generate = (h: Harness, brand: string, type: string, value: string, sessionId: string) =>
  h.post('/auth/v1/otp/generate', { ...idBody('mobile', brand, type, value), sessionId });
const validate = (h: Harness, brand: string, type: string, value: string, sessionId: string, otp: string) =>
  h.post('/auth/v1/otp/validate', { ...idBody('mobile', brand, type, value), sessionId, otp });

/** The code inside a delivered text (the default template: "…code is 123456. It expires…"). */
const codeIn = (text: string): string => {
  const m = /code is (\d{4,10})\./.exec(text);
  assert.ok(m, `no code in ${JSON.stringify(text)}`);
  return m[1];
};

const outboxCount = async (h: Harness, brand: string) => (await h.admin('GET', `/admin/v1/outbox?brand=${brand}&limit=100`)).body.messages.length as number;

test('e2e: AUTH_OTP_PROVIDER_SMS=webhook — the signed webhook carries the code, and that code logs in', async () => {
  const r = await startReceiver();
  const h = await startHarness({ env: hookEnv(r, { AUTH_OTP_PROVIDER_SMS: 'webhook' }) });
  try {
    await h.createBrand('HookDemo');
    const sid = await session(h, 'HookDemo', 'MOBILE', MOB);
    expectOk(await generate(h, 'HookDemo', 'MOBILE', MOB, sid), 'otp/generate');
    assert.equal(r.received.length, 1);
    const req = r.received[0];
    assert.ok(verifySignature(req), 'signed with AUTH_WEBHOOK_SECRET');
    const body = JSON.parse(req.rawBody);
    assert.deepEqual(Object.keys(body).sort(), ['brand', 'channel', 'text', 'to']);
    assert.equal(body.brand, 'HOOKDEMO');
    assert.equal(body.channel, 'SMS');
    assert.equal(body.to, MOB);
    const otp = codeIn(body.text);
    assert.equal(await outboxCount(h, 'HOOKDEMO'), 0, 'not in the outbox: the webhook delivered it');
    const v = await validate(h, 'HookDemo', 'MOBILE', MOB, sid, otp);
    expectOk(v, 'otp/validate with the code the webhook received');
    assert.ok(!h.logs.join('').includes(otp), 'the code is in no log line');
    // EMAIL is still the outbox's (only SMS was routed to the webhook).
    const sid2 = await session(h, 'HookDemo', 'EMAIL', MAIL);
    expectOk(await generate(h, 'HookDemo', 'EMAIL', MAIL, sid2), 'otp/generate EMAIL');
    assert.equal(r.received.length, 1);
    assert.equal(await outboxCount(h, 'HOOKDEMO'), 1);
  } finally {
    await h.close();
    await r.close();
  }
});

test('e2e: a brand override (channels.providers) sends by the webhook while other brands keep the outbox', async () => {
  const r = await startReceiver();
  const h = await startHarness({ env: hookEnv(r) }); // webhook configured, default outbox
  try {
    await h.createBrand('Hooked', { channels: { providers: { SMS: 'webhook' } } });
    await h.createBrand('Plain');
    expectOk(await generate(h, 'Hooked', 'MOBILE', MOB, await session(h, 'Hooked', 'MOBILE', MOB)), 'hooked');
    expectOk(await generate(h, 'Plain', 'MOBILE', MOB, await session(h, 'Plain', 'MOBILE', MOB)), 'plain');
    assert.deepEqual(r.received.map((x) => JSON.parse(x.rawBody).brand), ['HOOKED']);
    assert.equal(await outboxCount(h, 'HOOKED'), 0);
    assert.equal(await outboxCount(h, 'PLAIN'), 1);
  } finally {
    await h.close();
    await r.close();
  }
});

test('e2e: a brand choosing a provider this deployment lacks → 1603, nothing counted or sent', async () => {
  const h = await startHarness(); // outbox only
  try {
    await h.createBrand('NeedsSmtp', { channels: { providers: { EMAIL: 'smtp', SMS: 'webhook' } }, otpMaxCount: 1, otpTimeOut: 10 });
    const sid = await session(h, 'NeedsSmtp', 'EMAIL', MAIL);
    expectError(await generate(h, 'NeedsSmtp', 'EMAIL', MAIL, sid), 1603, 'EMAIL by smtp, not configured');
    expectError(await generate(h, 'NeedsSmtp', 'EMAIL', MAIL, sid), 1603, 'again: still 1603, not a quota refusal');
    const sidM = await session(h, 'NeedsSmtp', 'MOBILE', MOB);
    expectError(await generate(h, 'NeedsSmtp', 'MOBILE', MOB, sidM), 1603, 'SMS by webhook, not configured');
    assert.equal(await outboxCount(h, 'NEEDSSMTP'), 0);
    // Once the brand drops the override, the same session sends (nothing was counted).
    await h.createBrand('NeedsSmtp', { otpMaxCount: 1, otpTimeOut: 10 });
    expectOk(await generate(h, 'NeedsSmtp', 'EMAIL', MAIL, sid), 'outbox after the override is removed');
  } finally {
    await h.close();
  }
});

test('e2e: the webhook failing every attempt → 1503, audited and counted; quota and session intact for the retry', async () => {
  const r = await startReceiver(() => 500);
  const h = await startHarness({ env: hookEnv(r, { AUTH_OTP_PROVIDER_SMS: 'webhook' }) });
  try {
    await h.createBrand('Flaky', { otpMaxCount: 1, otpTimeOut: 10 });
    const sid = await session(h, 'Flaky', 'MOBILE', MOB2);
    expectError(await generate(h, 'Flaky', 'MOBILE', MOB2, sid), 1503, 'provider down');
    assert.equal(r.received.length, 2, 'AUTH_WEBHOOK_RETRIES=1 → two attempts');

    const audit = await h.admin('GET', '/admin/v1/audit?brand=FLAKY&limit=20');
    const failed = audit.body.events.filter((e: { type: string }) => e.type === 'otp_send_failed');
    assert.equal(failed.length, 1, JSON.stringify(audit.body.events));
    assert.equal(failed[0].detail.channel, 'SMS');
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /^auth_otp_send_failures_total\{channel="SMS"\} 1$/m);
    assert.ok(h.logs.some((l) => l.includes('otp delivery failed') && l.includes('"provider":"webhook"')), 'the failure is logged');

    // The provider recovers: with otpMaxCount 1 the failed send must not have used the quota.
    r.script = () => 200;
    expectOk(await generate(h, 'Flaky', 'MOBILE', MOB2, sid), 'retry after the failure');
    const otp = codeIn(JSON.parse(r.received[2].rawBody).text);
    // The quota is real: the next send in the window is refused.
    expectError(await generate(h, 'Flaky', 'MOBILE', MOB2, sid), 1534, 'otpMaxCount 1 reached by the successful send');
    expectOk(await validate(h, 'Flaky', 'MOBILE', MOB2, sid, otp), 'the session survived the failure');

    const logText = h.logs.join('');
    for (const x of r.received) assert.ok(!logText.includes(codeIn(JSON.parse(x.rawBody).text)), 'no code in the log');
    assert.ok(!logText.includes(WEBHOOK_SECRET), 'no webhook secret in the log');
    assert.ok(!logText.includes(MOB2), 'no full phone number in the log');
  } finally {
    await h.close();
    await r.close();
  }
});

test('e2e: AUTH_OTP_PROVIDER_EMAIL=smtp — the mail reaches a real SMTP server and its code logs in', async () => {
  const mails: Array<{ rcpt: string[]; data: string }> = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    closeTimeout: 100,
    logger: false,
    onData(stream, s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ rcpt: s.envelope.rcptTo.map((a) => a.address), data: Buffer.concat(chunks).toString('utf8') });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const h = await startHarness({
    env: { AUTH_OTP_PROVIDER_EMAIL: 'smtp', AUTH_SMTP_URL: `smtp://127.0.0.1:${port}`, AUTH_SMTP_FROM: 'no-reply@auth.example' },
  });
  try {
    await h.createBrand('MailDemo', { channels: { templates: { EMAIL: { subject: 'Sign in to {brand}', text: 'Your {brand} code is {otp}. It expires in {minutes} minutes.' } } } });
    const sid = await session(h, 'MailDemo', 'EMAIL', MAIL);
    expectOk(await generate(h, 'MailDemo', 'EMAIL', MAIL, sid), 'otp/generate');
    assert.equal(mails.length, 1);
    assert.deepEqual(mails[0].rcpt, [MAIL]);
    assert.match(mails[0].data, /^Subject: Sign in to MAILDEMO\r?$/m);
    const otp = codeIn(mails[0].data);
    assert.equal(await outboxCount(h, 'MAILDEMO'), 0);
    expectOk(await validate(h, 'MailDemo', 'EMAIL', MAIL, sid, otp), 'otp/validate with the mailed code');
  } finally {
    await h.close(); // closes the SMTP pool too (deps.health)
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
