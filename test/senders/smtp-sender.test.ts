// The smtp provider against a real local SMTP server (smtp-server on 127.0.0.1:0, no TLS):
// the envelope recipient, the From, subject and body of the mail it receives, credentials
// from the URL, and that a refused recipient or a stalled server rejects without the OTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { OtpMessage } from '../../src/ports/otp-sender.ts';
import { DeliveryError } from '../../src/senders/delivery-error.ts';
import { smtpSender } from '../../src/senders/smtp-sender.ts';

const OTP = '739104';
const email: OtpMessage = {
  brand: 'DOCDEMO',
  identifier: 'EMAIL|alice@example.com',
  channel: 'EMAIL',
  to: 'alice@example.com',
  subject: 'Your DOCDEMO code',
  text: `Your DOCDEMO code is ${OTP}. It expires in 20 minutes.`,
  otp: OTP,
  provider: null,
};
const FROM = 'Auth Engine <no-reply@auth.example>';

interface Mail { from: string | null; rcpt: string[]; data: string; user: string | null }

/** A local SMTP server that records every mail; `over` replaces its handlers. */
async function startSmtp(over: Partial<SMTPServerOptions> = {}) {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    closeTimeout: 100,
    logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          rcpt: session.envelope.rcptTo.map((a) => a.address),
          data: Buffer.concat(chunks).toString('utf8'),
          user: (session.user as string | undefined) ?? null,
        });
        cb();
      });
    },
    ...over,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function rejectsClean(p: Promise<unknown>): Promise<DeliveryError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected a DeliveryError, got ${String(err)}`);
    for (const s of [err.message, String(err.stack), JSON.stringify(err)]) assert.ok(!s.includes(OTP), `the error must not carry the OTP: ${s}`);
    return err;
  }
  assert.fail('expected the send to reject');
}

test('smtp: the server receives one mail to the recipient, from AUTH_SMTP_FROM, with the subject and the text', async () => {
  const srv = await startSmtp();
  const s = smtpSender({ url: `smtp://127.0.0.1:${srv.port}`, from: FROM, timeoutMs: 3000 });
  try {
    await s.send(email);
    assert.equal(srv.mails.length, 1);
    const m = srv.mails[0];
    assert.deepEqual(m.rcpt, ['alice@example.com'], 'RCPT TO');
    assert.equal(m.from, 'no-reply@auth.example', 'MAIL FROM');
    assert.match(m.data, /^Subject: Your DOCDEMO code\r?$/m);
    assert.match(m.data, /^To: alice@example\.com\r?$/m);
    assert.match(m.data, /^From: Auth Engine <no-reply@auth\.example>\r?$/m);
    assert.match(m.data, /^Content-Type: text\/plain/m);
    assert.ok(m.data.includes(email.text), 'the body holds the text with the code');
    // The pool reuses its connection for the next message.
    await s.send({ ...email, to: 'bob@example.com' });
    assert.deepEqual(srv.mails[1].rcpt, ['bob@example.com']);
  } finally {
    s.close();
    await srv.close();
  }
});

test('smtp: credentials in the URL are used to log in', async () => {
  const srv = await startSmtp({
    authOptional: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'mailer' && auth.password === 'p@ss word') cb(null, { user: 'mailer' });
      else cb(new Error('bad credentials'));
    },
  });
  const s = smtpSender({ url: `smtp://mailer:${encodeURIComponent('p@ss word')}@127.0.0.1:${srv.port}`, from: FROM, timeoutMs: 3000 });
  try {
    await s.send(email);
    assert.equal(srv.mails.length, 1);
    assert.equal(srv.mails[0].user, 'mailer');
  } finally {
    s.close();
    await srv.close();
  }
});

test('smtp: a refused recipient → rejects with the SMTP code, without the OTP; nothing is delivered', async () => {
  const srv = await startSmtp({
    onRcptTo(_address, _session, cb) {
      cb(Object.assign(new Error(`mailbox unavailable (${OTP} echoed by a careless server)`), { responseCode: 550 }));
    },
  });
  const log: Array<Record<string, unknown>> = [];
  const s = smtpSender({ url: `smtp://127.0.0.1:${srv.port}`, from: FROM, timeoutMs: 3000, logger: { warn: (o) => void log.push(o as Record<string, unknown>) } });
  try {
    const err = await rejectsClean(s.send(email));
    assert.equal(err.provider, 'smtp');
    assert.equal(err.reason, 'smtp_550');
    assert.equal(srv.mails.length, 0);
    assert.equal(log.length, 1);
    assert.equal(log[0].to, 'a***@example.com', 'the log has a masked address only');
    assert.ok(!JSON.stringify(log).includes(OTP));
  } finally {
    s.close();
    await srv.close();
  }
});

test('smtp: a server that stalls after DATA → rejects once the timeout passes', async () => {
  const srv = await startSmtp({
    onData(stream) {
      stream.resume(); // reads the mail, never answers it
    },
  });
  const s = smtpSender({ url: `smtp://127.0.0.1:${srv.port}`, from: FROM, timeoutMs: 300 });
  try {
    const err = await rejectsClean(s.send(email));
    assert.equal(err.reason, 'timeout');
  } finally {
    s.close();
    await srv.close();
  }
});

test('smtp: only EMAIL can be delivered', () => {
  const s = smtpSender({ url: 'smtp://127.0.0.1:1', from: FROM, timeoutMs: 300 });
  try {
    assert.equal(s.canDeliver('EMAIL', null), true);
    for (const c of ['SMS', 'WHATSAPP', 'ZALO'] as const) assert.equal(s.canDeliver(c, null), false);
  } finally {
    s.close();
  }
});
