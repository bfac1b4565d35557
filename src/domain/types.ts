// Domain types shared by flows, ports and adapters. No framework or driver imports here.

export const IDENTIFIER_TYPES = ['MOBILE', 'EMAIL', 'USERNAME'] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

export const CHANNELS = ['SMS', 'EMAIL', 'WHATSAPP', 'ZALO'] as const;
export type Channel = (typeof CHANNELS)[number];

/** OTP delivery providers (spec §6); which ones exist is a deployment setting. */
export const PROVIDERS = ['outbox', 'webhook', 'smtp'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface ChannelTemplates {
  SMS: string;
  EMAIL: { subject: string; text: string };
  WHATSAPP: string;
  ZALO: string;
}

/** Which request family a session or token belongs to (spec §1.1). */
export type Variant = 'mobile' | 'web';

export interface Identifier {
  type: IdentifierType;
  /** Normalised value (spec §1.1). */
  value: string;
}

/** `TYPE|value`, the form used in token `idv`, testOtps keys and the outbox. */
export const identifierKey = (id: Identifier): string => `${id.type}|${id.value}`;

export interface BrandConfig {
  otpEnabled: boolean;
  passwordEnabled: boolean;
  passwordRequiredAtSignup: boolean;
  identifierTypes: IdentifierType[];
  otpLength: number;
  sessionValiditySeconds: number;
  otpValiditySeconds: number;
  otpMaxCount: number | null;
  otpTimeOut: number | null;
  otpDailyLimit: number | null;
  otpResendCooldownSeconds: number;
  maxOtpRetries: number;
  maxPasswordRetries: number;
  passwordRetryWindowMinutes: number;
  accountLocking: { enabled: boolean; maxFailures: number; lockMinutes: number };
  tokenValiditySeconds: { mobile: number; web: number };
  issueKey: boolean;
  keyValidityMinutes: number | null;
  rotateKeys: boolean;
  webRegenerateGraceSeconds: number;
  passwordPolicy: { minLength: number; maxLength: number; regex: string | null; rejectCommon: boolean };
  ipRateLimit: { requestsPerMinute: number } | null;
  /** [ext] OTP-send abuse controls (SMS pumping); every limit null = off. */
  otpAbuse: {
    perIpPerHour: number | null;
    perPrefixPerHour: number | null;
    /** Leading digits of a normalised MOBILE number that make up its "prefix" (range). */
    prefixLength: number;
    /** MOBILE numbers must start with one of these calling codes (digits); empty = any. */
    allowedCountryCodes: string[];
    brandDailyBudget: number | null;
  };
  /** [ext] Guessing controls on password/validate and token/regenerate; null = off. */
  loginAbuse: { perIpPerMinute: number | null; perIdentifierPerMinute: number | null };
  encryption: { enabled: boolean; privateKeyPem: string | null; validSeconds: number; endpoints: string[] };
  channels: {
    mobileSubChannel: 'WHATSAPP' | 'ZALO' | null;
    fallbackChannels: Channel[];
    templates: ChannelTemplates;
    /** [ext] Per-locale templates (lower-case BCP 47 tag → templates), completed from `templates`. */
    locales: Record<string, ChannelTemplates>;
    /** [ext] The brand's provider per channel; absent = the deployment's choice. */
    providers: Partial<Record<Channel, ProviderName>>;
    /** [ext] SMS formats read by phones: Android SMS Retriever app hash, WebOTP origin line. */
    smsFormat: { appHash: string | null; webOtpDomain: string | null };
  };
  /** `TYPE|normalisedValue` → fixed code. */
  testOtps: Record<string, string>;
}

/** A brand as flows see it: upper-cased name plus its frozen, validated config. */
export interface Brand {
  name: string;
  config: Readonly<BrandConfig>;
}
