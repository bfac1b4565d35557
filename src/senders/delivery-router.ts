// The one OtpSender the flows see: picks the provider of each message (spec §6, providers are
// deployment settings) and hands the message to it. The choice, most specific first:
//   1. the brand's `channels.providers[channel]` (msg.provider),
//   2. the deployment's per-channel provider (AUTH_OTP_PROVIDER_<CHANNEL>),
//   3. the deployment's default (AUTH_OTP_PROVIDER, `outbox` unless set).
// A provider this deployment has not configured cannot deliver: canDeliver answers false, so
// the flow answers 1603 before anything is counted.
import type { Channel, ProviderName } from '../domain/types.ts';
import type { OtpSender } from '../ports/otp-sender.ts';
import { DeliveryError, maskDestination } from './delivery-error.ts';
import type { DeliveryLogger } from './webhook-sender.ts';

export interface DeliveryRouterOptions {
  /** The providers configured in this deployment (outbox always is). */
  providers: Partial<Record<ProviderName, OtpSender>>;
  defaultProvider: ProviderName;
  perChannel: Partial<Record<Channel, ProviderName>>;
  logger?: DeliveryLogger;
}

export interface DeliveryRouter extends OtpSender {
  /** Which provider a message on `channel` with the brand's choice `provider` goes to. */
  providerFor(channel: Channel, provider: ProviderName | null): ProviderName;
}

export function deliveryRouter(o: DeliveryRouterOptions): DeliveryRouter {
  const providerFor = (channel: Channel, provider: ProviderName | null): ProviderName => provider ?? o.perChannel[channel] ?? o.defaultProvider;
  const senderFor = (channel: Channel, provider: ProviderName | null): OtpSender | undefined => {
    const s = o.providers[providerFor(channel, provider)];
    return s !== undefined && s.canDeliver(channel, provider) ? s : undefined;
  };
  return {
    providerFor,
    canDeliver: (channel, provider) => senderFor(channel, provider) !== undefined,
    async send(msg) {
      const name = providerFor(msg.channel, msg.provider);
      const sender = senderFor(msg.channel, msg.provider);
      if (sender === undefined) {
        // The flow asks canDeliver first; this is only reached if that was skipped.
        o.logger?.warn({ provider: name, brand: msg.brand, channel: msg.channel }, 'otp provider not configured');
        throw new DeliveryError(name, 'not_configured', 0);
      }
      try {
        await sender.send(msg);
      } catch (err) {
        // Other errors (our own storage being down under the outbox) go up unchanged: the flow
        // tells them apart from a provider failure.
        if (err instanceof DeliveryError) {
          o.logger?.warn({ provider: name, brand: msg.brand, channel: msg.channel, to: maskDestination(msg.to), reason: err.reason, attempts: err.attempts }, 'otp delivery failed');
        }
        throw err;
      }
    },
  };
}
