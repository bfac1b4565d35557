// The delivery settings of src/config/env.ts: defaults, per-channel choices, and every
// startup refusal (named variable, clear reason, no URL or secret value in the message).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/env.ts';

const base = {
  AUTH_ADMIN_TOKEN: 'admin-token-0123456789-abcdefghijklmnop',
  AUTH_SIGNING_SECRET: 'signing-secret-0123456789-abcdefghijklm',
  AUTH_OTP_SECRET: 'otp-secret-0123456789-abcdefghijklmnopqr',
};
const SECRET = 'hook-secret-0123456789-abcdefghijklmnopq';
const HOOK = { AUTH_WEBHOOK_URL: 'https://hooks.example.com/otp?token=url-token-value', AUTH_WEBHOOK_SECRET: SECRET };
const SMTP = { AUTH_SMTP_URL: 'smtps://mailer:smtp-password-value@mail.example.com:465', AUTH_SMTP_FROM: 'no-reply@example.com' };

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig({ ...base, ...env });
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    for (const secret of [SECRET, 'smtp-password-value', 'url-token-value']) assert.ok(!e.message.includes(secret), `no secret in: ${e.message}`);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
};
const has = (list: string[], prefix: string, re: RegExp) =>
  assert.ok(list.some((p) => p.startsWith(`${prefix}:`) && re.test(p)), `expected a ${prefix} problem matching ${re} in ${JSON.stringify(list)}`);

test('delivery defaults: the outbox for every channel, nothing else configured', () => {
  const d = loadConfig(base).delivery;
  assert.deepEqual(d, { defaultProvider: 'outbox', perChannel: {}, webhook: null, smtp: null });
  assert.ok(Object.isFrozen(d));
});

test('delivery: default + per-channel providers, webhook and smtp settings', () => {
  const d = loadConfig({ ...base, ...HOOK, ...SMTP, AUTH_OTP_PROVIDER: 'webhook', AUTH_OTP_PROVIDER_EMAIL: 'smtp', AUTH_OTP_PROVIDER_ZALO: 'outbox' }).delivery;
  assert.equal(d.defaultProvider, 'webhook');
  assert.deepEqual(d.perChannel, { EMAIL: 'smtp', ZALO: 'outbox' });
  assert.deepEqual(d.webhook, { url: HOOK.AUTH_WEBHOOK_URL, secret: SECRET, timeoutMs: 2000, retries: 2 });
  assert.deepEqual(d.smtp, { url: SMTP.AUTH_SMTP_URL, from: 'no-reply@example.com', timeoutMs: 5000 });
  const tuned = loadConfig({ ...base, ...HOOK, AUTH_WEBHOOK_TIMEOUT_MS: '1000', AUTH_WEBHOOK_RETRIES: '0', AUTH_OTP_PROVIDER_SMS: 'webhook' }).delivery;
  assert.deepEqual(tuned.webhook, { url: HOOK.AUTH_WEBHOOK_URL, secret: SECRET, timeoutMs: 1000, retries: 0 });
  // Configured but named by no channel: a brand may still choose it (channels.providers).
  assert.equal(loadConfig({ ...base, ...HOOK }).delivery.webhook?.url, HOOK.AUTH_WEBHOOK_URL);
});

test('delivery: unknown provider names and bad numbers are refused', () => {
  has(problems({ AUTH_OTP_PROVIDER: 'twilio' }), 'AUTH_OTP_PROVIDER', /outbox, webhook, smtp/);
  has(problems({ AUTH_OTP_PROVIDER_SMS: 'Webhook' }), 'AUTH_OTP_PROVIDER_SMS', /must be one of/);
  has(problems({ ...HOOK, AUTH_WEBHOOK_TIMEOUT_MS: '50' }), 'AUTH_WEBHOOK_TIMEOUT_MS', /between 100 and 60000/);
  has(problems({ ...HOOK, AUTH_WEBHOOK_RETRIES: '9' }), 'AUTH_WEBHOOK_RETRIES', /between 0 and 5/);
  has(problems({ ...SMTP, AUTH_SMTP_TIMEOUT_MS: 'soon' }), 'AUTH_SMTP_TIMEOUT_MS', /integer/);
});

test('delivery: smtp for a channel other than EMAIL is refused, naming the variable', () => {
  has(problems({ ...SMTP, AUTH_OTP_PROVIDER_SMS: 'smtp' }), 'AUTH_OTP_PROVIDER_SMS', /EMAIL only.*SMS/);
  const p = problems({ ...SMTP, AUTH_OTP_PROVIDER: 'smtp' });
  has(p, 'AUTH_OTP_PROVIDER', /EMAIL only.*SMS, WHATSAPP, ZALO.*AUTH_OTP_PROVIDER_EMAIL=smtp/);
  // smtp as the default is fine when every other channel is named.
  const d = loadConfig({ ...base, ...SMTP, AUTH_OTP_PROVIDER: 'smtp', AUTH_OTP_PROVIDER_SMS: 'outbox', AUTH_OTP_PROVIDER_WHATSAPP: 'outbox', AUTH_OTP_PROVIDER_ZALO: 'outbox' }).delivery;
  assert.equal(d.defaultProvider, 'smtp');
});

test('delivery: naming a provider without its settings is refused', () => {
  has(problems({ AUTH_OTP_PROVIDER_SMS: 'webhook' }), 'AUTH_WEBHOOK_URL', /required because AUTH_OTP_PROVIDER_SMS names webhook/);
  has(problems({ AUTH_OTP_PROVIDER_EMAIL: 'smtp' }), 'AUTH_SMTP_URL', /required because AUTH_OTP_PROVIDER_EMAIL names smtp/);
  has(problems({ AUTH_WEBHOOK_URL: HOOK.AUTH_WEBHOOK_URL }), 'AUTH_WEBHOOK_SECRET', /required with AUTH_WEBHOOK_URL/);
  has(problems({ AUTH_WEBHOOK_SECRET: SECRET }), 'AUTH_WEBHOOK_URL', /required with AUTH_WEBHOOK_SECRET/);
  has(problems({ AUTH_SMTP_URL: SMTP.AUTH_SMTP_URL }), 'AUTH_SMTP_FROM', /required with AUTH_SMTP_URL/);
  has(problems({ AUTH_SMTP_FROM: 'a@example.com' }), 'AUTH_SMTP_URL', /required with AUTH_SMTP_FROM/);
});

test('delivery: bad URLs, a short secret and a From with a line break are refused without echoing secrets', () => {
  has(problems({ ...HOOK, AUTH_WEBHOOK_URL: 'ftp://hooks.example.com/url-token-value' }), 'AUTH_WEBHOOK_URL', /http:\/\/ or https:\/\//);
  has(problems({ ...HOOK, AUTH_WEBHOOK_URL: 'not a url-token-value' }), 'AUTH_WEBHOOK_URL', /URL/);
  const short = problems({ ...HOOK, AUTH_WEBHOOK_SECRET: 'short-hook-secret' });
  has(short, 'AUTH_WEBHOOK_SECRET', /at least 32 characters/);
  assert.ok(!short.join('\n').includes('short-hook-secret'));
  has(problems({ ...SMTP, AUTH_SMTP_URL: 'http://mailer:smtp-password-value@mail.example.com' }), 'AUTH_SMTP_URL', /smtp:\/\/ or smtps:\/\//);
  has(problems({ ...SMTP, AUTH_SMTP_FROM: 'a@example.com\r\nBcc: x@evil.example' }), 'AUTH_SMTP_FROM', /address/);
});

test('delivery: the whole webhook send must fit inside the request timeout', () => {
  // 3 × 3000 ms + up to 600 ms of backoff = 9600 ms > 8000 ms (80% of the default 10000).
  has(problems({ ...HOOK, AUTH_WEBHOOK_TIMEOUT_MS: '3000' }), 'AUTH_WEBHOOK_TIMEOUT_MS', /9600 ms, more than 8000 ms.*AUTH_REQUEST_TIMEOUT_MS=10000/);
  // Raising the request timeout makes it fit.
  assert.equal(loadConfig({ ...base, ...HOOK, AUTH_WEBHOOK_TIMEOUT_MS: '3000', AUTH_REQUEST_TIMEOUT_MS: '15000' }).delivery.webhook?.timeoutMs, 3000);
  has(problems({ ...HOOK, AUTH_REQUEST_TIMEOUT_MS: '5000' }), 'AUTH_WEBHOOK_TIMEOUT_MS', /6600 ms, more than 4000 ms/);
  has(problems({ ...SMTP, AUTH_REQUEST_TIMEOUT_MS: '5000' }), 'AUTH_SMTP_TIMEOUT_MS', /at most 4000 ms/);
});
