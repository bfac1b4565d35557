// Process configuration from environment variables. Every variable is validated once and all
// problems are reported together in one ConfigError (one line per bad value). Secret values
// never appear in a message. Nothing is printed here: main.ts prints the generated admin
// token once when `generatedSecrets` includes AUTH_ADMIN_TOKEN.
//
// An empty string counts as "not set" for every variable (so `PORT=` in a compose file means
// the default, and `AUTH_ADMIN_TOKEN=` in production is reported as missing).

import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, MIN_SECRET_LENGTH, loadOrCreateDevSecrets } from './secrets.ts';
import { CHANNELS, PROVIDERS, type Channel, type ProviderName } from '../domain/types.ts';
import { webhookWorstCaseMs } from '../senders/webhook-sender.ts';
import { ARGON2_LIMITS, DEFAULT_ARGON2, meetsOwaspFloor, OWASP_ARGON2_FLOOR, type Argon2Params } from '../crypto/password-hasher.ts';

export { ConfigError } from './secrets.ts';

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export const SECRET_VARIABLES = ['AUTH_ADMIN_TOKEN', 'AUTH_SIGNING_SECRET', 'AUTH_OTP_SECRET'] as const;
export type SecretVariable = (typeof SECRET_VARIABLES)[number];

export interface AppConfig {
  nodeEnv: NodeEnv;
  /** PORT, default 8080; 0 = ephemeral (tests). */
  port: number;
  /** HOST, default '0.0.0.0' in production, '127.0.0.1' otherwise. */
  host: string;
  /** DATA_DIR, default './data', absolute. */
  dataDir: string;
  /** AUTH_ISSUER, default 'AUTH ENGINE'. */
  issuer: string;
  /** LOG_LEVEL, default 'info'. */
  logLevel: LogLevel;
  /** AUTH_ADMIN_TOKEN. */
  adminToken: string;
  /** AUTH_SIGNING_SECRET (HS256 key material). */
  signingSecret: string;
  /** AUTH_OTP_SECRET: HMAC key for stored OTP hashes and key hashes. */
  otpSecret: string;
  /** AUTH_KEY_REUSE_GRACE_SECONDS, default 10: a retired key presented again within this many seconds returns its successor. */
  keyReuseGraceSeconds: number;
  /** DATABASE_URL (postgres://…) and REDIS_URL (redis://…): both set = production storage; neither = embedded. */
  databaseUrl: string | null;
  redisUrl: string | null;
  /** REDIS_KEY_PREFIX, default 'ae:': lets several deployments share one Redis. */
  redisKeyPrefix: string;
  /** AUTH_TRUST_PROXY: whether X-Forwarded-For is believed (fastify trustProxy). Default false. */
  trustProxy: boolean | number | string[];
  /** AUTH_ALLOW_TEST_OTPS: in production, brand testOtps work only when this is true. */
  allowTestOtps: boolean;
  /** AUTH_GATEWAY_TOKEN: optional bearer credential for token/introspect (besides the admin token). */
  gatewayToken: string | null;
  /** AUTH_SQLITE_SYNC: how auth.db commits reach the disk (embedded mode). */
  sqliteSync: 'FULL' | 'NORMAL';
  /** AUTH_ARGON2_MEMORY_KIB / AUTH_ARGON2_TIME_COST: argon2id cost of new password hashes (p = 1). */
  argon2: Argon2Params;
  /** AUTH_SIGNING_ALG: HS256 (default, AUTH_SIGNING_SECRET) or ES256 / EdDSA (AUTH_SIGNING_PRIVATE_KEY_FILE). */
  signingAlg: 'HS256' | 'ES256' | 'EdDSA';
  /** PEM of the current asymmetric signing key (ES256/EdDSA). */
  signingPrivateKeyPem: string | null;
  /** Verify-only keys of earlier signers: previous HS256 secrets and/or public key PEMs. */
  previousSecrets: string[];
  previousPublicKeyPems: string[];
  /** AUTH_REQUEST_TIMEOUT_MS: a request that takes longer is cut off. Default 10000. */
  requestTimeoutMs: number;
  /** AUTH_DEMO: serve the demo login page at GET /demo. Default true, false in production. */
  demo: boolean;
  /** OTP delivery providers (spec §6; README, "Deliver OTPs"). */
  delivery: DeliveryConfig;
  /** Names of secret variables generated (not read) during this start. */
  generatedSecrets: string[];
}

export interface DeliveryConfig {
  /** AUTH_OTP_PROVIDER, default 'outbox': the provider of every channel not named below. */
  defaultProvider: ProviderName;
  /** AUTH_OTP_PROVIDER_SMS / _EMAIL / _WHATSAPP / _ZALO. A brand's `channels.providers` wins over both. */
  perChannel: Partial<Record<Channel, ProviderName>>;
  /** AUTH_WEBHOOK_URL + AUTH_WEBHOOK_SECRET (both or neither), AUTH_WEBHOOK_TIMEOUT_MS (per attempt), AUTH_WEBHOOK_RETRIES. */
  webhook: { url: string; secret: string; timeoutMs: number; retries: number } | null;
  /** AUTH_SMTP_URL + AUTH_SMTP_FROM (both or neither), AUTH_SMTP_TIMEOUT_MS. */
  smtp: { url: string; from: string; timeoutMs: number } | null;
}

export const DEFAULTS: Readonly<{
  port: number;
  hostProduction: string;
  hostOther: string;
  dataDir: string;
  issuer: string;
  logLevel: LogLevel;
  keyReuseGraceSeconds: number;
}> = Object.freeze({
  port: 8080,
  hostProduction: '0.0.0.0',
  hostOther: '127.0.0.1',
  dataDir: './data',
  issuer: 'AUTH ENGINE',
  logLevel: 'info',
  keyReuseGraceSeconds: 10,
});

const MAX_ISSUER_LENGTH = 200;

/** Quotes a (non-secret) value for a problem line: escaped, and shortened when long. */
const shown = (v: string): string => JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);

/** Empty string and undefined both mean "not set". */
const read = (env: Record<string, string | undefined>, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
};

export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const problems: string[] = [];

  const rawEnv = read(env, 'NODE_ENV');
  const nodeEnv: NodeEnv = rawEnv === 'production' || rawEnv === 'test' ? rawEnv : 'development';
  const production = nodeEnv === 'production';

  // PORT
  let port = DEFAULTS.port;
  const rawPort = read(env, 'PORT');
  if (rawPort !== undefined) {
    const n = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : NaN;
    if (Number.isInteger(n) && n >= 0 && n <= 65535) port = n;
    else problems.push(`PORT: must be an integer between 0 and 65535 (got ${shown(rawPort)})`);
  }

  // HOST
  let host = production ? DEFAULTS.hostProduction : DEFAULTS.hostOther;
  const rawHost = read(env, 'HOST');
  if (rawHost !== undefined) {
    if (/\s/.test(rawHost)) problems.push(`HOST: must be a non-empty host name or address without spaces (got ${shown(rawHost)})`);
    else host = rawHost;
  }

  // DATA_DIR
  let dataDir = path.resolve(DEFAULTS.dataDir);
  const rawDataDir = read(env, 'DATA_DIR');
  if (rawDataDir !== undefined) {
    if (rawDataDir.includes('\0')) problems.push(`DATA_DIR: must be a valid path (got ${shown(rawDataDir)})`);
    else dataDir = path.resolve(rawDataDir);
  }

  // AUTH_ISSUER
  let issuer = DEFAULTS.issuer;
  const rawIssuer = read(env, 'AUTH_ISSUER');
  if (rawIssuer !== undefined) {
    if (rawIssuer.length > MAX_ISSUER_LENGTH) {
      problems.push(`AUTH_ISSUER: must be 1 to ${MAX_ISSUER_LENGTH} characters (got ${rawIssuer.length} characters)`);
    } else issuer = rawIssuer;
  }

  // LOG_LEVEL
  let logLevel = DEFAULTS.logLevel;
  const rawLevel = read(env, 'LOG_LEVEL');
  if (rawLevel !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(rawLevel)) logLevel = rawLevel as LogLevel;
    else problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')} (got ${shown(rawLevel)})`);
  }

  // AUTH_KEY_REUSE_GRACE_SECONDS
  let keyReuseGraceSeconds = DEFAULTS.keyReuseGraceSeconds;
  const rawGrace = read(env, 'AUTH_KEY_REUSE_GRACE_SECONDS');
  if (rawGrace !== undefined) {
    const n = /^\d{1,3}$/.test(rawGrace) ? Number(rawGrace) : NaN;
    if (n >= 0 && n <= 300) keyReuseGraceSeconds = n;
    else problems.push(`AUTH_KEY_REUSE_GRACE_SECONDS: must be an integer between 0 and 300 (got ${shown(rawGrace)})`);
  }

  // DATABASE_URL / REDIS_URL: both or neither (half a production setup would silently keep
  // durable state in a local file on one instance).
  const databaseUrl = read(env, 'DATABASE_URL') ?? null;
  const redisUrl = read(env, 'REDIS_URL') ?? null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) problems.push('DATABASE_URL: must be a postgres:// or postgresql:// URL');
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) problems.push('REDIS_URL: must be a redis:// or rediss:// URL');
  if ((databaseUrl === null) !== (redisUrl === null)) problems.push(`${databaseUrl === null ? 'DATABASE_URL' : 'REDIS_URL'}: must be set too (production storage needs both PostgreSQL and Redis; set neither for the embedded default)`);
  const redisKeyPrefix = read(env, 'REDIS_KEY_PREFIX') ?? 'ae:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(redisKeyPrefix)) problems.push(`REDIS_KEY_PREFIX: must be 1-64 of letters, digits, ':', '_', '.', '-' (got ${shown(redisKeyPrefix)})`);

  // AUTH_TRUST_PROXY: unset/false = the socket address is the client; true = believe every
  // proxy; a number = that many hops; else a comma list of proxy addresses/CIDRs.
  let trustProxy: boolean | number | string[] = false;
  const rawTrust = read(env, 'AUTH_TRUST_PROXY');
  if (rawTrust !== undefined && rawTrust !== 'false') {
    if (rawTrust === 'true') trustProxy = true;
    else if (/^\d{1,2}$/.test(rawTrust)) trustProxy = Number(rawTrust);
    else {
      const list = rawTrust.split(',').map((x) => x.trim()).filter(Boolean);
      const bad = list.filter((x) => { const [ip, bits] = x.split('/'); return isIP(ip) === 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits)); });
      if (list.length === 0 || bad.length > 0) problems.push(`AUTH_TRUST_PROXY: must be true, false, a hop count or a comma list of IP addresses / CIDRs (got ${shown(rawTrust)})`);
      else trustProxy = list;
    }
  }

  const flag = (name: string): boolean => {
    const v = read(env, name);
    if (v === undefined || v === 'false') return false;
    if (v === 'true') return true;
    problems.push(`${name}: must be true or false (got ${shown(v)})`);
    return false;
  };
  const allowTestOtps = flag('AUTH_ALLOW_TEST_OTPS');
  // The demo page is a development aid: a production deployment serves it only when asked to.
  const demo = read(env, 'AUTH_DEMO') === undefined ? !production : flag('AUTH_DEMO');

  const gatewayToken = read(env, 'AUTH_GATEWAY_TOKEN') ?? null;
  if (gatewayToken !== null && gatewayToken.length < MIN_SECRET_LENGTH) problems.push(`AUTH_GATEWAY_TOKEN: must be at least ${MIN_SECRET_LENGTH} characters`);

  const rawSync = read(env, 'AUTH_SQLITE_SYNC') ?? 'FULL';
  const sqliteSync: AppConfig['sqliteSync'] = rawSync === 'NORMAL' ? 'NORMAL' : 'FULL';
  if (rawSync !== 'FULL' && rawSync !== 'NORMAL') problems.push(`AUTH_SQLITE_SYNC: must be FULL or NORMAL (got ${shown(rawSync)})`);
  const argon2 = loadArgon2(env, problems);
  const rawAlg = read(env, 'AUTH_SIGNING_ALG') ?? 'HS256';
  let signingAlg: AppConfig['signingAlg'] = 'HS256';
  if (rawAlg === 'HS256' || rawAlg === 'ES256' || rawAlg === 'EdDSA') signingAlg = rawAlg;
  else problems.push(`AUTH_SIGNING_ALG: must be HS256, ES256 or EdDSA (got ${shown(rawAlg)})`);
  const readPemFile = (name: string): string | null => {
    const file = read(env, name);
    if (file === undefined) return null;
    try {
      return readFileSync(file, 'utf8');
    } catch {
      problems.push(`${name}: cannot read the file ${shown(file)}`);
      return null;
    }
  };
  const signingPrivateKeyPem = readPemFile('AUTH_SIGNING_PRIVATE_KEY_FILE');
  if (signingAlg !== 'HS256' && signingPrivateKeyPem === null) problems.push(`AUTH_SIGNING_PRIVATE_KEY_FILE: is required with AUTH_SIGNING_ALG=${signingAlg}`);
  const publicPems = readPemFile('AUTH_SIGNING_PUBLIC_KEYS_FILE');
  const previousPublicKeyPems = publicPems === null ? [] : (publicPems.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? []);
  if (publicPems !== null && previousPublicKeyPems.length === 0) problems.push('AUTH_SIGNING_PUBLIC_KEYS_FILE: holds no "BEGIN PUBLIC KEY" PEM');
  const previousSecrets = (read(env, 'AUTH_SIGNING_SECRETS_PREVIOUS') ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  if (previousSecrets.some((x) => x.length < MIN_SECRET_LENGTH)) problems.push(`AUTH_SIGNING_SECRETS_PREVIOUS: every secret must be at least ${MIN_SECRET_LENGTH} characters`);

  let requestTimeoutMs = 10_000;
  const rawTimeout = read(env, 'AUTH_REQUEST_TIMEOUT_MS');
  if (rawTimeout !== undefined) {
    const n = /^\d{1,6}$/.test(rawTimeout) ? Number(rawTimeout) : NaN;
    if (n >= 100 && n <= 600_000) requestTimeoutMs = n;
    else problems.push(`AUTH_REQUEST_TIMEOUT_MS: must be an integer between 100 and 600000 (got ${shown(rawTimeout)})`);
  }

  const delivery = loadDelivery(env, problems, requestTimeoutMs);

  // Secrets: messages say only what is wrong, never the value (nor its length).
  const secrets: Partial<Record<SecretVariable, string>> = {};
  const missing: SecretVariable[] = [];
  for (const name of SECRET_VARIABLES) {
    const v = read(env, name);
    if (v === undefined) {
      if (production) {
        problems.push(`${name}: is required in production (set a random value of at least ${MIN_SECRET_LENGTH} characters)`);
      } else missing.push(name);
    } else if (v.length < MIN_SECRET_LENGTH) {
      problems.push(`${name}: must be at least ${MIN_SECRET_LENGTH} characters`);
    } else secrets[name] = v;
  }

  // Only touch the disk for a configuration that is otherwise valid (a refused start creates nothing).
  if (problems.length > 0) throw new ConfigError(problems);

  let generatedSecrets: string[] = [];
  if (missing.length > 0) {
    const dev = loadOrCreateDevSecrets(dataDir, missing); // throws ConfigError on a bad file
    for (const name of missing) secrets[name] = dev.values[name];
    generatedSecrets = dev.generated;
  }

  const config: AppConfig = {
    nodeEnv,
    port,
    host,
    dataDir,
    issuer,
    logLevel,
    keyReuseGraceSeconds,
    databaseUrl,
    redisUrl,
    redisKeyPrefix,
    trustProxy,
    allowTestOtps,
    gatewayToken,
    sqliteSync,
    argon2,
    signingAlg,
    signingPrivateKeyPem,
    previousSecrets,
    previousPublicKeyPems,
    requestTimeoutMs,
    demo,
    delivery,
    adminToken: secrets.AUTH_ADMIN_TOKEN as string,
    signingSecret: secrets.AUTH_SIGNING_SECRET as string,
    otpSecret: secrets.AUTH_OTP_SECRET as string,
    generatedSecrets: Object.freeze([...generatedSecrets]) as string[],
  };
  return Object.freeze(config);
}

/** Reads a whole-number setting in [min, max] (default when unset); anything else is a problem. */
function intReader(env: Record<string, string | undefined>, problems: string[]) {
  return (name: string, min: number, max: number, dflt: number): number => {
    const v = read(env, name);
    if (v === undefined) return dflt;
    const n = /^\d{1,7}$/.test(v) ? Number(v) : NaN;
    if (n >= min && n <= max) return n;
    problems.push(`${name}: must be an integer between ${min} and ${max} (got ${shown(v)})`);
    return dflt;
  };
}

/**
 * The argon2id cost of new hashes. Stored hashes keep their own parameters and are rehashed at
 * the next successful login when these change (R24). Anything below OWASP's table is refused.
 */
function loadArgon2(env: Record<string, string | undefined>, problems: string[]): Argon2Params {
  const int = intReader(env, problems);
  const memoryCost = int('AUTH_ARGON2_MEMORY_KIB', 1, ARGON2_LIMITS.maxMemoryKiB, DEFAULT_ARGON2.memoryCost);
  const timeCost = int('AUTH_ARGON2_TIME_COST', 1, ARGON2_LIMITS.maxTimeCost, DEFAULT_ARGON2.timeCost);
  const params = { memoryCost, timeCost, parallelism: 1 };
  if (!meetsOwaspFloor(params)) {
    const rows = OWASP_ARGON2_FLOOR.map((r) => `m=${r.memoryCost} t=${r.timeCost}`).join(', ');
    problems.push(`AUTH_ARGON2_MEMORY_KIB / AUTH_ARGON2_TIME_COST: m=${memoryCost} t=${timeCost} is weaker than every OWASP configuration (${rows}): raise one of them`);
  }
  return params;
}

/** Defaults chosen so three webhook attempts and their backoff fit the default request timeout. */
export const DELIVERY_DEFAULTS = Object.freeze({ webhookTimeoutMs: 2000, webhookRetries: 2, smtpTimeoutMs: 5000 });
/** A send may use this share of AUTH_REQUEST_TIMEOUT_MS; the rest is for the request's own work. */
const DELIVERY_SHARE = 0.8;

/**
 * The delivery settings. A URL may carry credentials (smtps://user:pass@…, a token in a
 * webhook query string), so no URL or secret value is ever quoted in a problem line.
 */
function loadDelivery(env: Record<string, string | undefined>, problems: string[], requestTimeoutMs: number): DeliveryConfig {
  const provider = (name: string): ProviderName | undefined => {
    const v = read(env, name);
    if (v === undefined) return undefined;
    if ((PROVIDERS as readonly string[]).includes(v)) return v as ProviderName;
    problems.push(`${name}: must be one of ${PROVIDERS.join(', ')} (got ${shown(v)})`);
    return undefined;
  };
  const int = intReader(env, problems);
  const budgetMs = Math.floor(requestTimeoutMs * DELIVERY_SHARE);

  const defaultProvider = provider('AUTH_OTP_PROVIDER') ?? 'outbox';
  const perChannel: Partial<Record<Channel, ProviderName>> = {};
  for (const c of CHANNELS) {
    const p = provider(`AUTH_OTP_PROVIDER_${c}`);
    if (p !== undefined) perChannel[c] = p;
  }
  // Which variable made each channel use which provider, for the problem lines.
  const source = (c: Channel) => (perChannel[c] !== undefined ? `AUTH_OTP_PROVIDER_${c}` : 'AUTH_OTP_PROVIDER');
  const uses = (p: ProviderName) => CHANNELS.filter((c) => (perChannel[c] ?? defaultProvider) === p);
  const notEmail = uses('smtp').filter((c) => c !== 'EMAIL');
  if (notEmail.length > 0) {
    const vars = [...new Set(notEmail.map(source))];
    problems.push(`${vars.join(', ')}: smtp delivers EMAIL only, but it would be the provider of ${notEmail.join(', ')} (set AUTH_OTP_PROVIDER_EMAIL=smtp instead)`);
  }

  // Webhook
  const webhookUrl = read(env, 'AUTH_WEBHOOK_URL');
  const webhookSecret = read(env, 'AUTH_WEBHOOK_SECRET');
  const webhookTimeoutMs = int('AUTH_WEBHOOK_TIMEOUT_MS', 100, 60_000, DELIVERY_DEFAULTS.webhookTimeoutMs);
  const webhookRetries = int('AUTH_WEBHOOK_RETRIES', 0, 5, DELIVERY_DEFAULTS.webhookRetries);
  let webhook: DeliveryConfig['webhook'] = null;
  if (webhookUrl !== undefined && !hasProtocol(webhookUrl, ['http:', 'https:'])) problems.push('AUTH_WEBHOOK_URL: must be an http:// or https:// URL');
  if (webhookSecret !== undefined && webhookSecret.length < MIN_SECRET_LENGTH) problems.push(`AUTH_WEBHOOK_SECRET: must be at least ${MIN_SECRET_LENGTH} characters`);
  if (webhookUrl !== undefined && webhookSecret === undefined) problems.push('AUTH_WEBHOOK_SECRET: is required with AUTH_WEBHOOK_URL (every request is signed)');
  if (webhookUrl === undefined && webhookSecret !== undefined) problems.push('AUTH_WEBHOOK_URL: is required with AUTH_WEBHOOK_SECRET');
  if (webhookUrl === undefined && uses('webhook').length > 0) {
    problems.push(`AUTH_WEBHOOK_URL: is required because ${[...new Set(uses('webhook').map(source))].join(', ')} names webhook (with AUTH_WEBHOOK_SECRET)`);
  }
  const worst = webhookWorstCaseMs(webhookTimeoutMs, webhookRetries);
  if (webhookUrl !== undefined && worst > budgetMs) {
    problems.push(
      `AUTH_WEBHOOK_TIMEOUT_MS: ${webhookRetries + 1} attempts of ${webhookTimeoutMs} ms plus backoff take up to ${worst} ms, more than ${budgetMs} ms ` +
        `(${DELIVERY_SHARE * 100}% of AUTH_REQUEST_TIMEOUT_MS=${requestTimeoutMs}); lower AUTH_WEBHOOK_TIMEOUT_MS or AUTH_WEBHOOK_RETRIES, or raise AUTH_REQUEST_TIMEOUT_MS`,
    );
  }
  if (webhookUrl !== undefined && webhookSecret !== undefined) webhook = { url: webhookUrl, secret: webhookSecret, timeoutMs: webhookTimeoutMs, retries: webhookRetries };

  // SMTP
  const smtpUrl = read(env, 'AUTH_SMTP_URL');
  const smtpFrom = read(env, 'AUTH_SMTP_FROM');
  const smtpTimeoutMs = int('AUTH_SMTP_TIMEOUT_MS', 100, 60_000, DELIVERY_DEFAULTS.smtpTimeoutMs);
  let smtp: DeliveryConfig['smtp'] = null;
  if (smtpUrl !== undefined && !hasProtocol(smtpUrl, ['smtp:', 'smtps:'])) problems.push('AUTH_SMTP_URL: must be an smtp:// or smtps:// URL (smtps://user:pass@host:465)');
  // A From with a line break would let the value write extra mail headers.
  if (smtpFrom !== undefined && (/[\r\n]/.test(smtpFrom) || !/@/.test(smtpFrom) || smtpFrom.length > 320)) {
    problems.push(`AUTH_SMTP_FROM: must be an address such as "Example <no-reply@example.com>" (got ${shown(smtpFrom)})`);
  }
  if (smtpUrl !== undefined && smtpFrom === undefined) problems.push('AUTH_SMTP_FROM: is required with AUTH_SMTP_URL');
  if (smtpUrl === undefined && smtpFrom !== undefined) problems.push('AUTH_SMTP_URL: is required with AUTH_SMTP_FROM');
  if (smtpUrl === undefined && uses('smtp').length > 0) problems.push(`AUTH_SMTP_URL: is required because ${source('EMAIL')} names smtp (with AUTH_SMTP_FROM)`);
  if (smtpUrl !== undefined && smtpTimeoutMs > budgetMs) {
    problems.push(`AUTH_SMTP_TIMEOUT_MS: must be at most ${budgetMs} ms (${DELIVERY_SHARE * 100}% of AUTH_REQUEST_TIMEOUT_MS=${requestTimeoutMs}) (got ${smtpTimeoutMs})`);
  }
  if (smtpUrl !== undefined && smtpFrom !== undefined) smtp = { url: smtpUrl, from: smtpFrom, timeoutMs: smtpTimeoutMs };

  return Object.freeze({
    defaultProvider,
    perChannel: Object.freeze(perChannel),
    webhook: webhook && Object.freeze(webhook),
    smtp: smtp && Object.freeze(smtp),
  });
}

/** Whether `value` parses as a URL with a host and one of `protocols`. */
function hasProtocol(value: string, protocols: string[]): boolean {
  try {
    const u = new URL(value);
    return protocols.includes(u.protocol) && u.hostname !== '';
  } catch {
    return false;
  }
}
