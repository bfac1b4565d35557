// Brand configuration (spec §2, §6, §7): the defaults, the validation of an admin PUT body and
// the view the admin API shows. Config is validated once, when saved, so flows can trust every
// field; a bad value is refused with 1519 (or 1535) and the stored config stays as it was.

import { createPrivateKey } from 'node:crypto';
import { AuthError } from './errors.ts';
import { parseIdentifierKey } from './identifier.ts';
import { CHANNELS, IDENTIFIER_TYPES, PROVIDERS } from './types.ts';
import type { BrandConfig, Channel, ChannelTemplates, IdentifierType, ProviderName } from './types.ts';

type Obj = Record<string, unknown>;

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const DEFAULT_TEXT = 'Your {brand} code is {otp}. It expires in {minutes} minutes.';

export const DEFAULT_BRAND_CONFIG: BrandConfig = deepFreeze<BrandConfig>({
  otpEnabled: true,
  passwordEnabled: false,
  passwordRequiredAtSignup: false,
  identifierTypes: ['MOBILE', 'EMAIL', 'USERNAME'],
  otpLength: 6,
  sessionValiditySeconds: 1200,
  otpValiditySeconds: 1200,
  otpMaxCount: null,
  otpTimeOut: null,
  otpDailyLimit: null,
  otpResendCooldownSeconds: 0,
  maxOtpRetries: 5,
  maxPasswordRetries: 5,
  passwordRetryWindowMinutes: 30,
  accountLocking: { enabled: false, maxFailures: 10, lockMinutes: 30 },
  tokenValiditySeconds: { mobile: 900, web: 900 },
  issueKey: true,
  keyValidityMinutes: null,
  rotateKeys: false,
  webRegenerateGraceSeconds: 86400,
  passwordPolicy: { minLength: 8, maxLength: 128, regex: null, rejectCommon: true },
  ipRateLimit: null,
  otpAbuse: { perIpPerHour: null, perPrefixPerHour: null, prefixLength: 7, allowedCountryCodes: [], brandDailyBudget: null },
  loginAbuse: { perIpPerMinute: null, perIdentifierPerMinute: null },
  encryption: { enabled: false, privateKeyPem: null, validSeconds: 120, endpoints: ['OTP'] },
  channels: {
    mobileSubChannel: null,
    fallbackChannels: [],
    templates: {
      SMS: DEFAULT_TEXT,
      EMAIL: { subject: 'Your {brand} code', text: DEFAULT_TEXT },
      WHATSAPP: DEFAULT_TEXT,
      ZALO: DEFAULT_TEXT,
    },
    locales: {},
    providers: {},
    smsFormat: { appHash: null, webOtpDomain: null },
  },
  testOtps: {},
});

// Upper bounds the spec leaves open. They keep every "now + duration" inside what a JS Date
// and an int32 column can hold, far above any sensible setting.
const MAX_SECONDS = 10 * 365 * 24 * 3600; // ten years
const MAX_MINUTES = MAX_SECONDS / 60;
const MAX_COUNT = 1_000_000_000;
const MAX_LOCK_MINUTES = 43200; // spec §2: 30 days
const MAX_TEST_OTPS = 1000;
const MAX_TEMPLATE = 1000;
const MAX_SUBJECT = 200;
const MAX_REGEX = 1000;
const MAX_PEM = 16384; // a 4096-bit PKCS#1 PEM is ~3.3 KB
const MIN_RSA_BITS = 2048; // below this RSA-OAEP gives no real protection
const ENCRYPTION_ENDPOINTS = ['OTP'] as const;
const SUB_CHANNELS = ['WHATSAPP', 'ZALO'] as const;
const MAX_LOCALES = 100;
/** A BCP 47 language tag, simplified: language, then subtags (`vi`, `pt-BR`, `zh-Hant-TW`). */
export const LOCALE_RE = /^[a-z]{2,3}(-[a-z0-9]{1,8})*$/i;
/** Android SMS Retriever: the app hash is 11 base64 characters. */
const APP_HASH_RE = /^[A-Za-z0-9+/]{11}$/;
/** WebOTP: a host name (no scheme, port or path). */
const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

// The detail names the field and the rule, never the value: a value may be a secret (a PEM).
const invalid = (path: string, what: string): never => {
  throw new AuthError(1519, { detail: `${path}: ${what}` });
};

// JSON.parse only makes plain objects; anything else (a class instance, an array) is a caller bug.
const isPlainObject = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/** An object with only the listed keys: an unknown key is almost always a typo that would otherwise be silently ignored. */
function fields<K extends string>(v: unknown, path: string, keys: readonly K[]): Partial<Record<K, unknown>> {
  if (!isPlainObject(v)) return invalid(path, 'must be an object');
  for (const k of Object.keys(v)) {
    if (!(keys as readonly string[]).includes(k)) invalid(path ? `${path}.${k.slice(0, 64)}` : k.slice(0, 64), 'unknown field');
  }
  return v as Partial<Record<K, unknown>>;
}

type Parse<T> = (v: unknown, path: string) => T;

/** Absent (or undefined) takes the default; a present value, null included, must pass `parse`. */
const opt = <T>(v: unknown, path: string, parse: Parse<T>, dflt: T): T => (v === undefined ? dflt : parse(v, path));

const orNull = <T>(parse: Parse<T>): Parse<T | null> => (v, path) => (v === null ? null : parse(v, path));

const bool: Parse<boolean> = (v, path) => (typeof v === 'boolean' ? v : invalid(path, 'must be true or false'));

const int = (min: number, max: number): Parse<number> => (v, path) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : invalid(path, `must be an integer from ${min} to ${max}`);

const seconds = int(1, MAX_SECONDS);
const minutes = int(1, MAX_MINUTES);
const count = int(1, MAX_COUNT);

const text = (max: number, needsOtp: boolean): Parse<string> => (v, path) => {
  if (typeof v !== 'string' || v.trim() === '') return invalid(path, 'must be a non-empty string');
  if (v.length > max) return invalid(path, `must be at most ${max} characters`);
  if (needsOtp && !v.includes('{otp}')) return invalid(path, 'must contain {otp}');
  return v;
};

/** Distinct members of `allowed`, matched case-insensitively and stored as written in `allowed`. */
const distinctList = <T extends string>(allowed: readonly T[], nonEmpty: boolean): Parse<T[]> => (v, path) => {
  if (!Array.isArray(v)) return invalid(path, 'must be an array');
  if (nonEmpty && v.length === 0) return invalid(path, 'must not be empty');
  const out: T[] = [];
  v.forEach((item, i) => {
    const up = typeof item === 'string' ? item.toUpperCase() : undefined;
    const hit = allowed.find((a) => a === up);
    if (hit === undefined) return invalid(`${path}[${i}]`, `must be one of ${allowed.join(', ')}`);
    if (out.includes(hit)) return invalid(`${path}[${i}]`, 'duplicate entry');
    out.push(hit);
  });
  return out;
};

/** One of `allowed`, matched case-insensitively and stored as written in `allowed`. */
const oneOf = <T extends string>(allowed: readonly T[]): Parse<T> => (v, path) => {
  const up = typeof v === 'string' ? v.toUpperCase() : undefined;
  return allowed.find((a) => a.toUpperCase() === up) ?? invalid(path, `must be one of ${allowed.join(', ')}`);
};

const regex: Parse<string> = (v, path) => {
  if (typeof v !== 'string' || v === '') return invalid(path, 'must be null or a non-empty string');
  if (v.length > MAX_REGEX) return invalid(path, `must be at most ${MAX_REGEX} characters`);
  try {
    new RegExp(v, 'u');
  } catch {
    return invalid(path, 'is not a valid ECMAScript regular expression');
  }
  return v;
};

// Checked here so a brand cannot be saved with a key that would make every otp/generate fail (§7).
const privateKeyPem: Parse<string> = (v, path) => {
  if (typeof v !== 'string') return invalid(path, 'must be null or a PEM string');
  if (v.length > MAX_PEM) return invalid(path, `must be at most ${MAX_PEM} characters`);
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(v)) return invalid(path, 'must be a PKCS#8 or PKCS#1 PEM RSA private key');
  let key;
  try {
    key = createPrivateKey({ key: v, format: 'pem' });
  } catch {
    // The parser's error is dropped, not attached as cause: it could quote the key material.
    return invalid(path, 'is not a readable PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa') return invalid(path, 'must be an RSA key');
  if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return invalid(path, `RSA key must be at least ${MIN_RSA_BITS} bits`);
  return v;
};

/** Country calling codes: distinct strings of 1-4 digits (E.164 codes are at most 3; 4 allows a region). */
const countryCodes: Parse<string[]> = (v, path) => {
  if (!Array.isArray(v)) return invalid(path, 'must be an array');
  if (v.length > 300) return invalid(path, 'must have at most 300 entries');
  const out: string[] = [];
  v.forEach((c, i) => {
    if (typeof c !== 'string' || !/^[0-9]{1,4}$/.test(c)) return invalid(`${path}[${i}]`, 'must be a string of 1 to 4 digits');
    if (out.includes(c)) return invalid(`${path}[${i}]`, 'duplicate entry');
    out.push(c);
  });
  return out;
};

const testOtps: Parse<Record<string, string>> = (v, path) => {
  if (!isPlainObject(v)) return invalid(path, 'must be an object');
  const entries = Object.entries(v);
  if (entries.length > MAX_TEST_OTPS) return invalid(path, `must have at most ${MAX_TEST_OTPS} entries`);
  const out: Record<string, string> = {};
  for (const [rawKey, code] of entries) {
    const at = `${path}[${JSON.stringify(rawKey.slice(0, 80))}]`;
    let key: string;
    try {
      const id = parseIdentifierKey(rawKey);
      key = `${id.type}|${id.value}`;
    } catch {
      return invalid(at, 'key must be TYPE|value with a valid identifier');
    }
    // A string only: as a JSON number, "000123" would arrive as 123.
    if (typeof code !== 'string' || !/^[0-9]{4,10}$/.test(code)) return invalid(at, 'must be a string of 4 to 10 digits');
    // Two spellings of one identifier would make the fixed code depend on key order.
    if (Object.hasOwn(out, key)) return invalid(at, 'duplicate identifier after normalisation');
    out[key] = code;
  }
  return out;
};

/**
 * Validates an admin PUT body and completes it from the defaults. PUT replaces the config, so a
 * missing top-level field takes its default, not the previous value.
 *
 * One exception, `previous`: GET never returns the private key (it shows `privateKeyPem: null`),
 * so when the body has `encryption.privateKeyPem` absent or null and the previous config had a
 * key, the previous key is kept; otherwise a GET → edit → PUT round trip would silently drop it.
 * The price: a key cannot be removed by PUT (disable encryption, or delete the brand).
 */
export function parseBrandConfig(input: unknown, previous?: BrandConfig): BrandConfig {
  if (!isPlainObject(input)) return invalid('config', 'must be a JSON object');
  const D = DEFAULT_BRAND_CONFIG;
  const o = fields(input, '', Object.keys(D) as (keyof BrandConfig)[]);

  const otpMaxCount = opt(o.otpMaxCount, 'otpMaxCount', (v, p) => {
    if (v === 0) throw new AuthError(1535);
    return orNull(count)(v, p);
  }, D.otpMaxCount);
  const otpTimeOut = opt(o.otpTimeOut, 'otpTimeOut', orNull(minutes), D.otpTimeOut);
  if ((otpMaxCount === null) !== (otpTimeOut === null)) invalid('otpMaxCount', 'otpMaxCount and otpTimeOut must both be set or both be null');

  const al = opt(o.accountLocking, 'accountLocking', (v, p) => fields(v, p, ['enabled', 'maxFailures', 'lockMinutes'] as const), {});
  const tv = opt(o.tokenValiditySeconds, 'tokenValiditySeconds', (v, p) => fields(v, p, ['mobile', 'web'] as const), {});

  const pp = opt(o.passwordPolicy, 'passwordPolicy', (v, p) => fields(v, p, ['minLength', 'maxLength', 'regex', 'rejectCommon'] as const), {});
  const oa = opt(o.otpAbuse, 'otpAbuse', (v, p) => fields(v, p, ['perIpPerHour', 'perPrefixPerHour', 'prefixLength', 'allowedCountryCodes', 'brandDailyBudget'] as const), {});
  const la = opt(o.loginAbuse, 'loginAbuse', (v, p) => fields(v, p, ['perIpPerMinute', 'perIdentifierPerMinute'] as const), {});
  const minLength = opt(pp.minLength, 'passwordPolicy.minLength', int(1, 4096), D.passwordPolicy.minLength);
  const maxLength = opt(pp.maxLength, 'passwordPolicy.maxLength', int(1, 4096), D.passwordPolicy.maxLength);
  if (maxLength < minLength) invalid('passwordPolicy.maxLength', 'must be at least minLength');

  // `hasPrivateKey` is what GET shows in place of the key; accepted and ignored, so a GET body
  // can be PUT back as it is.
  const en = opt(o.encryption, 'encryption', (v, p) => fields(v, p, ['enabled', 'privateKeyPem', 'validSeconds', 'endpoints', 'hasPrivateKey'] as const), {});
  if (en.hasPrivateKey !== undefined && typeof en.hasPrivateKey !== 'boolean') invalid('encryption.hasPrivateKey', 'must be a boolean');
  const givenKey = opt(en.privateKeyPem, 'encryption.privateKeyPem', orNull(privateKeyPem), null);
  const encryption: BrandConfig['encryption'] = {
    enabled: opt(en.enabled, 'encryption.enabled', bool, D.encryption.enabled),
    privateKeyPem: givenKey ?? previous?.encryption.privateKeyPem ?? null,
    validSeconds: opt(en.validSeconds, 'encryption.validSeconds', seconds, D.encryption.validSeconds),
    endpoints: opt(en.endpoints, 'encryption.endpoints', distinctList(ENCRYPTION_ENDPOINTS, false), [...D.encryption.endpoints]),
  };
  if (encryption.enabled && encryption.privateKeyPem === null) invalid('encryption.privateKeyPem', 'required when encryption is enabled');

  const channels = parseChannels(o.channels);

  const config: BrandConfig = {
    otpEnabled: opt(o.otpEnabled, 'otpEnabled', bool, D.otpEnabled),
    passwordEnabled: opt(o.passwordEnabled, 'passwordEnabled', bool, D.passwordEnabled),
    passwordRequiredAtSignup: opt(o.passwordRequiredAtSignup, 'passwordRequiredAtSignup', bool, D.passwordRequiredAtSignup),
    identifierTypes: opt(o.identifierTypes, 'identifierTypes', distinctList<IdentifierType>(IDENTIFIER_TYPES, true), [...D.identifierTypes]),
    otpLength: opt(o.otpLength, 'otpLength', int(4, 10), D.otpLength),
    sessionValiditySeconds: opt(o.sessionValiditySeconds, 'sessionValiditySeconds', seconds, D.sessionValiditySeconds),
    otpValiditySeconds: opt(o.otpValiditySeconds, 'otpValiditySeconds', seconds, D.otpValiditySeconds),
    otpMaxCount,
    otpTimeOut,
    otpDailyLimit: opt(o.otpDailyLimit, 'otpDailyLimit', orNull(count), D.otpDailyLimit),
    otpResendCooldownSeconds: opt(o.otpResendCooldownSeconds, 'otpResendCooldownSeconds', int(0, MAX_SECONDS), D.otpResendCooldownSeconds),
    maxOtpRetries: opt(o.maxOtpRetries, 'maxOtpRetries', count, D.maxOtpRetries),
    maxPasswordRetries: opt(o.maxPasswordRetries, 'maxPasswordRetries', count, D.maxPasswordRetries),
    passwordRetryWindowMinutes: opt(o.passwordRetryWindowMinutes, 'passwordRetryWindowMinutes', minutes, D.passwordRetryWindowMinutes),
    accountLocking: {
      enabled: opt(al.enabled, 'accountLocking.enabled', bool, D.accountLocking.enabled),
      maxFailures: opt(al.maxFailures, 'accountLocking.maxFailures', count, D.accountLocking.maxFailures),
      lockMinutes: opt(al.lockMinutes, 'accountLocking.lockMinutes', int(1, MAX_LOCK_MINUTES), D.accountLocking.lockMinutes),
    },
    tokenValiditySeconds: {
      mobile: opt(tv.mobile, 'tokenValiditySeconds.mobile', seconds, D.tokenValiditySeconds.mobile),
      web: opt(tv.web, 'tokenValiditySeconds.web', seconds, D.tokenValiditySeconds.web),
    },
    issueKey: opt(o.issueKey, 'issueKey', bool, D.issueKey),
    keyValidityMinutes: opt(o.keyValidityMinutes, 'keyValidityMinutes', orNull(minutes), D.keyValidityMinutes),
    rotateKeys: opt(o.rotateKeys, 'rotateKeys', bool, D.rotateKeys),
    webRegenerateGraceSeconds: opt(o.webRegenerateGraceSeconds, 'webRegenerateGraceSeconds', seconds, D.webRegenerateGraceSeconds),
    passwordPolicy: {
      minLength,
      maxLength,
      regex: opt(pp.regex, 'passwordPolicy.regex', orNull(regex), D.passwordPolicy.regex),
      rejectCommon: opt(pp.rejectCommon, 'passwordPolicy.rejectCommon', bool, D.passwordPolicy.rejectCommon),
    },
    otpAbuse: {
      perIpPerHour: opt(oa.perIpPerHour, 'otpAbuse.perIpPerHour', orNull(count), D.otpAbuse.perIpPerHour),
      perPrefixPerHour: opt(oa.perPrefixPerHour, 'otpAbuse.perPrefixPerHour', orNull(count), D.otpAbuse.perPrefixPerHour),
      prefixLength: opt(oa.prefixLength, 'otpAbuse.prefixLength', int(1, 15), D.otpAbuse.prefixLength),
      allowedCountryCodes: opt(oa.allowedCountryCodes, 'otpAbuse.allowedCountryCodes', countryCodes, []),
      brandDailyBudget: opt(oa.brandDailyBudget, 'otpAbuse.brandDailyBudget', orNull(count), D.otpAbuse.brandDailyBudget),
    },
    loginAbuse: {
      perIpPerMinute: opt(la.perIpPerMinute, 'loginAbuse.perIpPerMinute', orNull(count), D.loginAbuse.perIpPerMinute),
      perIdentifierPerMinute: opt(la.perIdentifierPerMinute, 'loginAbuse.perIdentifierPerMinute', orNull(count), D.loginAbuse.perIdentifierPerMinute),
    },
    ipRateLimit: opt(o.ipRateLimit, 'ipRateLimit', orNull((v, p) => {
      const r = fields(v, p, ['requestsPerMinute'] as const);
      if (r.requestsPerMinute === undefined) return invalid(`${p}.requestsPerMinute`, 'is required');
      return { requestsPerMinute: count(r.requestsPerMinute, `${p}.requestsPerMinute`) };
    }), D.ipRateLimit),
    encryption,
    channels,
    testOtps: opt(o.testOtps, 'testOtps', testOtps, {}),
  };
  return deepFreeze(config);
}

/** `channels` (spec §6 and the [ext] locale, provider and SMS-format settings). */
function parseChannels(input: unknown): BrandConfig['channels'] {
  const D = DEFAULT_BRAND_CONFIG.channels;
  const ch = opt(input, 'channels', (v, p) => fields(v, p, ['mobileSubChannel', 'fallbackChannels', 'templates', 'locales', 'providers', 'smsFormat'] as const), {});
  const templates = parseTemplates(ch.templates, 'channels.templates', D.templates);
  const locales = opt(ch.locales, 'channels.locales', (v, p) => {
    if (!isPlainObject(v)) return invalid(p, 'must be an object');
    const entries = Object.entries(v);
    if (entries.length > MAX_LOCALES) return invalid(p, `must have at most ${MAX_LOCALES} locales`);
    const out: Record<string, ChannelTemplates> = {};
    for (const [tag, t] of entries) {
      const at = `${p}[${JSON.stringify(tag.slice(0, 40))}]`;
      if (tag.length > 35 || !LOCALE_RE.test(tag)) return invalid(at, 'must be a language tag such as "vi" or "pt-BR"');
      const key = tag.toLowerCase();
      if (Object.hasOwn(out, key)) return invalid(at, 'duplicate locale');
      // A locale given in part takes the rest from the brand's own templates.
      out[key] = parseTemplates(t, at, templates);
    }
    return out;
  }, {});
  const providers = opt(ch.providers, 'channels.providers', (v, p) => {
    const given = fields(v, p, CHANNELS);
    const out: Partial<Record<Channel, ProviderName>> = {};
    for (const c of CHANNELS) {
      if (given[c] === undefined || given[c] === null) continue;
      const name = oneOf(PROVIDERS)(given[c], `${p}.${c}`);
      // nodemailer sends email; an SMS through it would go nowhere.
      if (name === 'smtp' && c !== 'EMAIL') return invalid(`${p}.${c}`, 'smtp delivers EMAIL only');
      out[c] = name;
    }
    return out;
  }, {});
  const sf = opt(ch.smsFormat, 'channels.smsFormat', (v, p) => fields(v, p, ['appHash', 'webOtpDomain'] as const), {});
  const pattern = (re: RegExp, what: string): Parse<string> => (v, p) => (typeof v === 'string' && re.test(v) ? v : invalid(p, what));
  return {
    mobileSubChannel: opt(ch.mobileSubChannel, 'channels.mobileSubChannel', orNull(oneOf(SUB_CHANNELS)), D.mobileSubChannel),
    fallbackChannels: opt(ch.fallbackChannels, 'channels.fallbackChannels', distinctList<Channel>(CHANNELS, false), []),
    templates,
    locales,
    providers,
    smsFormat: {
      appHash: opt(sf.appHash, 'channels.smsFormat.appHash', orNull(pattern(APP_HASH_RE, 'must be the 11-character app hash')), null),
      webOtpDomain: opt(sf.webOtpDomain, 'channels.smsFormat.webOtpDomain', orNull((v, p) => pattern(HOST_RE, 'must be a host name such as "example.com"')(v, p).toLowerCase()), null),
    },
  };
}

/** A template set; a missing template takes its value from `base`. Every template needs `{otp}`. */
function parseTemplates(input: unknown, path: string, base: ChannelTemplates): ChannelTemplates {
  const tp = opt(input, path, (v, p) => fields(v, p, ['SMS', 'EMAIL', 'WHATSAPP', 'ZALO'] as const), {});
  const em = opt(tp.EMAIL, `${path}.EMAIL`, (v, p) => fields(v, p, ['subject', 'text'] as const), {});
  const template = text(MAX_TEMPLATE, true);
  return {
    SMS: opt(tp.SMS, `${path}.SMS`, template, base.SMS),
    EMAIL: {
      subject: opt(em.subject, `${path}.EMAIL.subject`, text(MAX_SUBJECT, false), base.EMAIL.subject),
      text: opt(em.text, `${path}.EMAIL.text`, template, base.EMAIL.text),
    },
    WHATSAPP: opt(tp.WHATSAPP, `${path}.WHATSAPP`, template, base.WHATSAPP),
    ZALO: opt(tp.ZALO, `${path}.ZALO`, template, base.ZALO),
  };
}

export type PublicBrandConfig = Omit<BrandConfig, 'encryption'> & {
  encryption: Omit<BrandConfig['encryption'], 'privateKeyPem'> & { privateKeyPem: null; hasPrivateKey: boolean };
};

/** The config as the admin API shows it (§8): the private key is never sent back, only whether one is set. */
export function publicBrandConfig(config: BrandConfig): PublicBrandConfig {
  const e = config.encryption;
  return {
    ...config,
    encryption: { enabled: e.enabled, privateKeyPem: null, hasPrivateKey: e.privateKeyPem !== null, validSeconds: e.validSeconds, endpoints: e.endpoints },
  };
}
