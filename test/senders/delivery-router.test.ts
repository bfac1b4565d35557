// The router that stands behind the one sender port: which provider a message goes to
// (brand's choice > deployment's per-channel choice > deployment default), canDeliver for a
// provider this deployment did not configure, and how failures pass through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, ProviderName } from '../../src/domain/types.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import type { OtpMessage, OtpSender } from '../../src/ports/otp-sender.ts';
import { DeliveryError } from '../../src/senders/delivery-error.ts';
import { deliveryRouter } from '../../src/senders/delivery-router.ts';

/** A provider that records what it was given (and can be told to fail). */
function fake(name: ProviderName, opts: { channels?: Channel[]; fail?: unknown } = {}) {
  const sent: OtpMessage[] = [];
  const s: OtpSender & { sent: OtpMessage[] } = {
    sent,
    canDeliver: (c) => opts.channels === undefined || opts.channels.includes(c),
    async send(m) {
      if (opts.fail !== undefined) throw opts.fail;
      sent.push(m);
    },
  };
  return s;
}

const msg = (channel: Channel, provider: ProviderName | null = null): OtpMessage => ({
  brand: 'B', identifier: 'MOBILE|919999999993', channel, to: channel === 'EMAIL' ? 'a@example.com' : '919999999993',
  subject: channel === 'EMAIL' ? 's' : null, text: 'code 123456', otp: '123456', provider,
});

test('router: deployment default, per-channel choice, and the brand override winning over both', async () => {
  const outbox = fake('outbox');
  const webhook = fake('webhook');
  const smtp = fake('smtp', { channels: ['EMAIL'] });
  const r = deliveryRouter({ providers: { outbox, webhook, smtp }, defaultProvider: 'webhook', perChannel: { EMAIL: 'smtp', ZALO: 'outbox' } });

  await r.send(msg('SMS')); // default
  await r.send(msg('EMAIL')); // per channel
  await r.send(msg('ZALO')); // per channel
  await r.send(msg('EMAIL', 'webhook')); // brand override beats per channel
  await r.send(msg('SMS', 'outbox')); // brand override beats default
  assert.deepEqual(webhook.sent.map((m) => `${m.channel}/${m.provider}`), ['SMS/null', 'EMAIL/webhook']);
  assert.deepEqual(smtp.sent.map((m) => m.channel), ['EMAIL']);
  assert.deepEqual(outbox.sent.map((m) => `${m.channel}/${m.provider}`), ['ZALO/null', 'SMS/outbox']);
  assert.equal(r.providerFor('WHATSAPP', null), 'webhook');
  assert.equal(r.providerFor('EMAIL', null), 'smtp');
  assert.equal(r.providerFor('EMAIL', 'outbox'), 'outbox');
});

test('router: canDeliver is false for a provider this deployment did not configure, and send refuses it', async () => {
  const outbox = fake('outbox');
  const r = deliveryRouter({ providers: { outbox }, defaultProvider: 'outbox', perChannel: {} });
  for (const c of ['SMS', 'EMAIL', 'WHATSAPP', 'ZALO'] as const) {
    assert.equal(r.canDeliver(c, null), true, `${c} by the outbox`);
    assert.equal(r.canDeliver(c, 'outbox'), true);
    assert.equal(r.canDeliver(c, 'webhook'), false, `${c}: webhook not configured`);
  }
  assert.equal(r.canDeliver('EMAIL', 'smtp'), false, 'smtp not configured');
  await assert.rejects(r.send(msg('EMAIL', 'smtp')), (e: unknown) => e instanceof DeliveryError && e.reason === 'not_configured' && e.provider === 'smtp');
  assert.equal(outbox.sent.length, 0, 'not sent by another provider instead');
});

test('router: a provider that cannot carry the channel (smtp for SMS) cannot deliver', () => {
  const smtp = fake('smtp', { channels: ['EMAIL'] });
  const r = deliveryRouter({ providers: { outbox: fake('outbox'), smtp }, defaultProvider: 'outbox', perChannel: {} });
  assert.equal(r.canDeliver('EMAIL', 'smtp'), true);
  assert.equal(r.canDeliver('SMS', 'smtp'), false);
});

test('router: a DeliveryError is logged (masked destination, no text) and passed on; other errors pass on unchanged', async () => {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  const logger = { warn: (obj: object, m: string) => void lines.push({ obj: obj as Record<string, unknown>, msg: m }) };
  const failing = fake('webhook', { fail: new DeliveryError('webhook', 'http_500', 3) });
  const storeDown = new StoreUnavailableError('durable');
  const r = deliveryRouter({ providers: { outbox: fake('outbox', { fail: storeDown }), webhook: failing }, defaultProvider: 'webhook', perChannel: { ZALO: 'outbox' }, logger });

  await assert.rejects(r.send(msg('SMS')), (e: unknown) => e instanceof DeliveryError && e.reason === 'http_500');
  assert.equal(lines.length, 1);
  assert.deepEqual(lines[0].obj, { provider: 'webhook', brand: 'B', channel: 'SMS', to: '***93', reason: 'http_500', attempts: 3 });
  assert.ok(!JSON.stringify(lines).includes('123456'));

  await assert.rejects(r.send(msg('ZALO')), (e: unknown) => e === storeDown, 'the flow must still see StoreUnavailableError (1599, not 1503)');
});
