// Delivery of an OTP message. The sender is given the text with the code already in it;
// it must not log the text.
import type { Channel } from '../domain/types.ts';

export interface OtpMessage {
  brand: string;
  /** The session identifier, `TYPE|value`. */
  identifier: string;
  channel: Channel;
  to: string;
  subject: string | null;
  text: string;
  otp: string;
}

export interface OtpSender {
  /** Resolves when the provider accepted the message; rejects on a delivery failure. */
  send(msg: OtpMessage): Promise<void>;
}
