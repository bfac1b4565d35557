// The webhook receiver example of the README's "Deliver OTPs" section, run as it is printed, against the real
// webhook provider: it accepts a signed message, refuses a wrong signature and a stale
// timestamp, and does not deliver a replayed request twice. Keeps the documentation honest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, freePort } from '../helpers/process.ts';
import type { OtpMessage } from '../../src/ports/otp-sender.ts';
import { DeliveryError } from '../../src/senders/delivery-error.ts';
import { signWebhook, webhookSender } from '../../src/senders/webhook-sender.ts';
import { WEBHOOK_SECRET } from './webhook-helpers.ts';

const doc = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const section = doc.slice(doc.indexOf('### Webhook receiver example'));
const example = /```js\n([\s\S]*?)```/.exec(section)?.[1];

const msg: OtpMessage = {
  brand: 'DOCDEMO', identifier: 'MOBILE|919999999993', channel: 'SMS', to: '919999999993', subject: null,
  text: 'Your DOCDEMO code is 551204. It expires in 20 minutes.', otp: '551204', provider: null,
};

test('README: the webhook receiver example verifies signatures, the timestamp window, and de-duplicates', async () => {
  assert.ok(example, 'the docs hold a js receiver example');
  const dir = mkdtempSync(join(tmpdir(), 'ae-receiver-'));
  const file = join(dir, 'webhook-receiver.mjs');
  writeFileSync(file, example);
  const port = await freePort();
  const child = spawn(process.execPath, [file], { env: childEnv({ AUTH_WEBHOOK_SECRET: WEBHOOK_SECRET, PORT: String(port) }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => out.includes('listening') && resolve());
      child.on('exit', (code) => reject(new Error(`receiver exited ${code}: ${out}`)));
    });
    const url = `http://127.0.0.1:${port}/`;
    const base = { url, timeoutMs: 2000, retries: 0 };

    await webhookSender({ ...base, secret: WEBHOOK_SECRET }).send(msg);
    const wrong = webhookSender({ ...base, secret: 'not-the-receivers-secret-0123456789abcdef' }).send(msg);
    await assert.rejects(wrong, (e: unknown) => e instanceof DeliveryError && e.reason === 'http_401');
    const stale = webhookSender({ ...base, secret: WEBHOOK_SECRET, now: () => Date.now() - 10 * 60_000 }).send(msg);
    await assert.rejects(stale, (e: unknown) => e instanceof DeliveryError && e.reason === 'http_401', 'a 10-minute-old timestamp is refused');

    // A replay of an accepted request (same body, fresh valid signature, another delivery id)
    // is answered 2xx but not delivered again.
    const body = JSON.stringify({ brand: msg.brand, channel: msg.channel, to: msg.to, text: msg.text });
    const ts = String(Math.floor(Date.now() / 1000));
    const replay = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-auth-engine-timestamp': ts, 'x-auth-engine-signature': signWebhook(WEBHOOK_SECRET, ts, body), 'x-auth-engine-delivery': 'another-id' },
    });
    assert.equal(replay.status, 200);
    assert.equal(out.match(/accepted /g)?.length, 1, `delivered once: ${out}`);
    assert.ok(!out.includes('551204') && !out.includes(msg.to), 'the example prints neither the code nor the number');
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
