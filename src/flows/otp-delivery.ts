// Spec §6: which channel an OTP goes by, to which destination, and with which words.
//
// Without `?fallbackChannel=` the OTP goes where the session proves ownership
// (`destination ?? identifier`): EMAIL to an email, else the brand's `mobileSubChannel`
// (WHATSAPP/ZALO) or SMS. With it, the channel must be one of the brand's `fallbackChannels`
// (else 1603) and needs a destination of its kind (1601 mobile, 1602 email).
//
// A fallback destination is only ever one the customer is already bound to: the session's own
// identifier or sign-up destinations, or an identifier of the existing user. A `mobile`/`email`
// in the body only picks among those (another value → 1541): sending a login code to an address
// the caller names would hand the account to whoever controls that address.
import { fail } from '../domain/errors.ts';
import { normaliseIdentifier } from '../domain/identifier.ts';
import { LOCALE_RE } from '../domain/brand-config.ts';
import { CHANNELS, type BrandConfig, type Channel, type ChannelTemplates, type Identifier } from '../domain/types.ts';
import type { User } from '../ports/durable-store.ts';
import type { Session } from '../ports/session-store.ts';

export interface DeliveryRequest {
  /** `?fallbackChannel=` as sent; undefined or '' = none. */
  fallbackChannel?: string;
  /** The body's `mobile` / `email`, raw. */
  mobile?: string;
  email?: string;
}

export interface Delivery {
  channel: Channel;
  to: Identifier;
  /** Set when the OTP goes elsewhere than the session's own destination (recorded on the OTP). */
  elsewhere: boolean;
}

const kindOf = (channel: Channel): 'MOBILE' | 'EMAIL' => (channel === 'EMAIL' ? 'EMAIL' : 'MOBILE');
const same = (a: Identifier, b: Identifier) => a.type === b.type && a.value === b.value;

/** `loadUser` is called only for a fallback (the common path reads nothing). */
export async function chooseDelivery(config: Readonly<BrandConfig>, session: Session, loadUser: () => Promise<User | null>, req: DeliveryRequest): Promise<Delivery> {
  const proved = session.destination ?? session.identifier;
  if (req.fallbackChannel === undefined || req.fallbackChannel === '') {
    return { channel: proved.type === 'EMAIL' ? 'EMAIL' : (config.channels.mobileSubChannel ?? 'SMS'), to: proved, elsewhere: false };
  }
  const channel = CHANNELS.find((c) => c === req.fallbackChannel!.toUpperCase());
  if (channel === undefined || !config.channels.fallbackChannels.includes(channel)) return fail(1603);

  const kind = kindOf(channel);
  const user = await loadUser();
  const candidates: Identifier[] = [];
  const add = (id: Identifier) => {
    if (id.type === kind && !candidates.some((c) => same(c, id))) candidates.push({ type: id.type, value: id.value });
  };
  add(proved);
  add(session.identifier);
  for (const id of session.signup ?? []) add(id);
  // An existing user's verified identifiers first: they are the ones proven to be theirs.
  for (const id of user?.identifiers.filter((i) => i.verified) ?? []) add(id);
  for (const id of user?.identifiers ?? []) add(id);
  if (candidates.length === 0) return fail(kind === 'MOBILE' ? 1601 : 1602);

  const named = kind === 'MOBILE' ? req.mobile : req.email;
  let to = candidates[0];
  if (named !== undefined && named !== '') {
    const value = normaliseIdentifier(kind, named);
    const match = candidates.find((c) => c.value === value);
    if (!match) return fail(1541);
    to = match;
  }
  return { channel, to, elsewhere: !same(to, proved) };
}

/** Validates the request's `locale` (1519 when malformed); undefined/'' = the brand's default. */
export function parseLocale(locale: unknown): string | null {
  if (locale === undefined || locale === null || locale === '') return null;
  if (typeof locale !== 'string' || locale.length > 35 || !LOCALE_RE.test(locale)) return fail(1519);
  return locale.toLowerCase();
}

/** The templates for a locale: exact tag, then its language (`pt-br` → `pt`), then the default. */
export function templatesFor(config: Readonly<BrandConfig>, locale: string | null): ChannelTemplates {
  const { locales, templates } = config.channels;
  if (locale === null) return templates;
  return locales[locale] ?? locales[locale.split('-')[0]] ?? templates;
}

export interface ComposeInput {
  brand: string;
  channel: Channel;
  code: string;
  minutes: number;
  locale: string | null;
}

/** The message text (and subject for EMAIL) with the placeholders filled and the SMS formats applied. */
export function composeMessage(config: Readonly<BrandConfig>, m: ComposeInput): { text: string; subject: string | null } {
  const fill = (t: string) => t.replaceAll('{otp}', m.code).replaceAll('{brand}', m.brand).replaceAll('{minutes}', String(m.minutes));
  const template = templatesFor(config, m.locale)[m.channel];
  if (typeof template !== 'string') return { text: fill(template.text), subject: fill(template.subject) };
  let text = fill(template);
  if (m.channel === 'SMS') {
    const { appHash, webOtpDomain } = config.channels.smsFormat;
    // Android SMS Retriever: the message must contain the app's 11-character hash; older
    // Play services wanted it at the end, which the WebOTP line below then takes, so it goes
    // on its own line just before that.
    if (appHash !== null) text = `${text}\n${appHash}`;
    // WebOTP (origin-bound one-time codes): the last line is `@host #code`.
    if (webOtpDomain !== null) text = `${text}\n\n@${webOtpDomain} #${m.code}`;
  }
  return { text, subject: null };
}
