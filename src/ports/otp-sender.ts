// Delivery of an OTP message. The sender is given the text with the code already in it;
// it must not log the text.
import type { Channel, ProviderName } from '../domain/types.ts';

export interface OtpMessage {
  brand: string;
  /** The session identifier, `TYPE|value`. */
  identifier: string;
  channel: Channel;
  to: string;
  subject: string | null;
  text: string;
  otp: string;
  /** The brand's provider for this channel (`channels.providers`); null = the deployment's choice. */
  provider: ProviderName | null;
}

export interface OtpSender {
  /**
   * Whether this deployment can deliver on `channel` with the brand's `provider` choice
   * (null = the deployment's own). Asked before anything is counted, so a channel nobody can
   * deliver on answers 1603 instead of spending the customer's quota.
   */
  canDeliver(channel: Channel, provider: ProviderName | null): boolean;
  /** Resolves when the provider accepted the message; rejects on a delivery failure. */
  send(msg: OtpMessage): Promise<void>;
}
