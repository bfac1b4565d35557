// The `outbox` provider (spec §6): messages are stored and listed by GET /admin/v1/outbox,
// for development and tests. The text holds the OTP, so it is never written to the log.
import type { Clock } from '../domain/clock.ts';
import type { OutboxStore } from '../ports/durable-store.ts';
import type { OtpSender } from '../ports/otp-sender.ts';

export function outboxSender(outbox: OutboxStore, clock: Clock): OtpSender {
  return {
    canDeliver: () => true,
    send: (m) => outbox.appendOutbox({ brand: m.brand, identifier: m.identifier, channel: m.channel, to: m.to, text: m.text, otp: m.otp, createdAt: clock.now() }),
  };
}
