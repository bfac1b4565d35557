// The `smtp` provider (spec §6): EMAIL through an SMTP relay with nodemailer, a pooled
// transport (connections are reused across messages instead of a TLS handshake per OTP).
//
// One attempt, bounded by `timeoutMs` (connection, greeting, socket inactivity and the whole
// send via an AbortSignal): an SMTP relay queues and retries on its own, and the user can
// ask again (the flow leaves the session usable and gives the quota back on 1503).
import type nodemailer from 'nodemailer';
import { lazyPackage } from '../lazy-package.ts';
import type { OtpSender } from '../ports/otp-sender.ts';
import { DeliveryError, errorCode, maskDestination } from './delivery-error.ts';
import type { DeliveryLogger } from './webhook-sender.ts';

export interface SmtpOptions {
  /** smtp:// or smtps://user:pass@host:port; may hold a password, so it is never logged. */
  url: string;
  /** The From header and envelope sender. */
  from: string;
  timeoutMs: number;
  logger?: DeliveryLogger;
}

export interface SmtpSender extends OtpSender {
  /** Closes the pooled connections (shutdown). */
  close(): void;
}

const mailer = lazyPackage<typeof nodemailer>('nodemailer');

export function smtpSender(o: SmtpOptions): SmtpSender {
  const transport = mailer().createTransport({
    url: o.url,
    pool: true,
    connectionTimeout: o.timeoutMs,
    greetingTimeout: o.timeoutMs,
    socketTimeout: o.timeoutMs,
    // A pooled connection the server closed while idle is re-queued once, not five times:
    // the whole send must stay inside the request.
    maxRequeues: 1,
    // nodemailer's own logger would print the message; the app logs failures itself.
    logger: false,
    debug: false,
    // The message is plain text we built; nothing in it may make nodemailer read files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  });

  return {
    canDeliver: (channel) => channel === 'EMAIL',
    async send(msg) {
      if (msg.channel !== 'EMAIL') throw new DeliveryError('smtp', 'channel_not_email', 0);
      try {
        await transport.sendMail({
          from: o.from,
          // An address object and an explicit envelope: the destination is one mailbox,
          // whatever characters it holds (no list parsing, no header folding).
          to: { name: '', address: msg.to },
          envelope: { from: o.from, to: [msg.to] },
          subject: msg.subject ?? `${msg.brand} code`,
          text: msg.text,
          signal: AbortSignal.timeout(o.timeoutMs),
        });
      } catch (err) {
        const rc = (err as { responseCode?: unknown }).responseCode;
        // Our whole-send signal, or one of nodemailer's own connection/greeting/socket timers.
        const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError' || errorCode(err, '') === 'ETIMEDOUT');
        const reason = timedOut ? 'timeout' : typeof rc === 'number' ? `smtp_${rc}` : errorCode(err, 'smtp_error');
        o.logger?.warn({ provider: 'smtp', brand: msg.brand, channel: msg.channel, to: maskDestination(msg.to), attempt: 1, reason }, 'otp email failed');
        // A new error, not nodemailer's: its message can quote the server's reply, which may echo the mail.
        throw new DeliveryError('smtp', reason, 1);
      }
    },
    close: () => transport.close(),
  };
}
