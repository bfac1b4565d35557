// Spec §3.2 otp/generate: create, store (keyed hash only) and deliver an OTP for a session.
import { fail } from '../domain/errors.ts';
import { identifierKey, type Channel, type Identifier } from '../domain/types.ts';
import type { BrandConfig } from '../domain/types.ts';
import { generateOtp } from '../crypto/otp.ts';
import type { FlowDeps, RequestContext } from './deps.ts';
import { loadSession } from './session-checks.ts';

export async function sendOtp(deps: FlowDeps, ctx: RequestContext, sessionId: string): Promise<void> {
  const session = await loadSession(deps, ctx, sessionId, 1541);
  const { config, name } = ctx.brand;
  if (!config.otpEnabled) fail(1503);

  const to: Identifier = session.destination ?? session.identifier;
  const fixed = config.testOtps[identifierKey(session.identifier)] ?? config.testOtps[identifierKey(to)];
  const code = fixed ?? generateOtp(config.otpLength);
  const now = deps.clock.now();
  // An OTP never outlives its session.
  const expiresAt = Math.min(now + config.otpValiditySeconds * 1000, session.expiresAt);

  if (fixed === undefined) {
    // Deliver before storing: if the provider fails, the code the user may already hold
    // stays valid and nothing changed (1503 lets them retry).
    const channel = channelFor(config, to);
    const minutes = String(Math.ceil((expiresAt - now) / 60000));
    const fill = (t: string) => t.replaceAll('{otp}', code).replaceAll('{brand}', name).replaceAll('{minutes}', minutes);
    const template = config.channels.templates[channel];
    const text = typeof template === 'string' ? fill(template) : fill(template.text);
    const subject = typeof template === 'string' ? null : fill(template.subject);
    try {
      await deps.sender.send({ brand: name, identifier: identifierKey(session.identifier), channel, to: to.value, subject, text, otp: code });
    } catch {
      return fail(1503);
    }
  }
  const stored = await deps.sessions.setOtp(session.id, { hash: deps.secrets.otpHash(session.id, code), expiresAt, sentAt: now }, now);
  // The session was consumed or expired while we were delivering.
  if (!stored) fail(1505);
}

function channelFor(config: Readonly<BrandConfig>, to: Identifier): Channel {
  if (to.type === 'EMAIL') return 'EMAIL';
  return config.channels.mobileSubChannel ?? 'SMS';
}
