// Composition root: builds the ports from configuration. The only place that picks adapters:
// embedded SQLite files by default, PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set.
import { join } from 'node:path';
import { cachedBrandStore } from './storage/brand-cache.ts';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { AppConfig } from './config/env.ts';
import type { AppDeps } from './app-deps.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { argon2Hasher, type PasswordHasher } from './crypto/password-hasher.ts';
import { hmacHasher } from './crypto/otp.ts';
import { TokenService } from './crypto/tokens.ts';
import { loadSigningKeys } from './crypto/signing-keys.ts';
import { aesSealer } from './crypto/sealer.ts';
import type { AuditStore, BrandStore, CredentialStore, HealthCheck, KeyStore, OutboxStore, RevocationStore, UserStore } from './ports/durable-store.ts';
import type { LimitStore } from './ports/limit-store.ts';
import type { SessionStore } from './ports/session-store.ts';
import { openAuthDb, SqliteDurableStore } from './storage/sqlite/sqlite-durable-store.ts';
import { SqliteSessionStore } from './storage/sqlite/sqlite-session-store.ts';
import { SqliteLimitStore } from './storage/sqlite/sqlite-limit-store.ts';
import { SqliteRevocationStore } from './storage/sqlite/sqlite-revocation-store.ts';
import { SqliteCredentialStore } from './storage/sqlite/sqlite-credential-store.ts';
import { createPgPool } from './storage/postgres/pg-pool.ts';
import { migrate } from './storage/postgres/migrate.ts';
import { PgDurableStore } from './storage/postgres/pg-durable-store.ts';
import { PgLimitStore } from './storage/postgres/pg-limit-store.ts';
import { PgRevocationStore } from './storage/postgres/pg-revocation-store.ts';
import { PgCredentialStore } from './storage/postgres/pg-credential-store.ts';
import { createRedis, redisReady } from './storage/redis/redis-client.ts';
import { RedisSessionStore } from './storage/redis/redis-session-store.ts';
import type { OtpSender } from './ports/otp-sender.ts';
import type { ProviderName } from './domain/types.ts';
import { outboxSender } from './senders/outbox-sender.ts';
import { webhookSender } from './senders/webhook-sender.ts';
import { smtpSender } from './senders/smtp-sender.ts';
import { deliveryRouter } from './senders/delivery-router.ts';

/** Paths that must never reach a log line, whatever a future log call passes in. */
// Fields that hold a secret wherever they appear (request bodies, stored rows, messages): a
// safety net under the rule that no code logs them in the first place (test/http/log-leak).
const SECRET_FIELDS = ['password', 'confirmPassword', 'newPassword', 'otp', 'key', 'token', 'expiredToken', 'hash', 'privateKeyPem', 'text', 'passwordHash', 'secret'];
export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  'req.headers.authorization', 'headers.authorization',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}

export interface BuildOptions {
  clock?: Clock;
  passwords?: PasswordHasher;
  logDestination?: DestinationStream;
}

/** The storage side of the dependencies, from one of the two deployment modes. */
interface Stores {
  brands: BrandStore;
  users: UserStore;
  keys: KeyStore;
  outbox: OutboxStore;
  sessions: SessionStore;
  limits: LimitStore;
  revocations: RevocationStore;
  audit: AuditStore;
  credentials: CredentialStore;
  health: HealthCheck[];
}

function embeddedStores(dataDir: string, sync: AppConfig['sqliteSync']): Stores {
  const authDb = openAuthDb(join(dataDir, 'auth.db'), sync);
  const durable = new SqliteDurableStore(authDb);
  const revocations = new SqliteRevocationStore(authDb);
  const sessions = new SqliteSessionStore(join(dataDir, 'sessions.db'));
  const limits = new SqliteLimitStore(authDb);
  return {
    brands: durable, users: durable, keys: durable, outbox: durable, sessions,
    limits, revocations, audit: revocations,
    credentials: new SqliteCredentialStore(authDb, durable, revocations, limits),
    health: [durable, sessions],
  };
}

/** How long a starting instance waits for PostgreSQL (migrations) and Redis before giving up. */
const START_WAIT_MS = 30_000;

async function productionStores(config: AppConfig, logger: Logger): Promise<Stores> {
  const pool = createPgPool(config.databaseUrl as string, { onIdleError: (err) => logger.warn({ err: err.message }, 'postgres connection lost') });
  const deadline = Date.now() + START_WAIT_MS;
  // Migrations run under an advisory lock, so instances starting together apply them once.
  for (;;) {
    try {
      const applied = await migrate(pool);
      if (applied > 0) logger.info({ applied }, 'postgres migrations applied');
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await pool.end().catch(() => undefined);
        throw new Error(`PostgreSQL not usable at start: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  const redis = createRedis(config.redisUrl as string);
  await redisReady(redis, START_WAIT_MS).catch(() => logger.warn('redis not reachable yet: answering 503 until it is'));
  const durable = new PgDurableStore(pool);
  const revocations = new PgRevocationStore(pool);
  const sessions = new RedisSessionStore(redis, config.redisKeyPrefix);
  return {
    brands: durable, users: durable, keys: durable, outbox: durable, sessions,
    limits: new PgLimitStore(pool), revocations, audit: revocations,
    credentials: new PgCredentialStore(pool),
    health: [
      { ping: () => durable.ping(), close: () => pool.end() },
      { ping: () => sessions.ping(), close: async () => void (await redis.quit().catch(() => redis.disconnect())) },
    ],
  };
}

/**
 * The OTP sender: a router over the providers this deployment configured (spec §6). The
 * outbox is always there (a brand may choose it, and the admin outbox API reads it).
 */
function buildSender(config: AppConfig, outbox: OutboxStore, clock: Clock, logger: Logger): { sender: OtpSender; health: HealthCheck[] } {
  const d = config.delivery;
  const log = logger.child({ component: 'otp-delivery' });
  const providers: Partial<Record<ProviderName, OtpSender>> = { outbox: outboxSender(outbox, clock) };
  const health: HealthCheck[] = [];
  if (d.webhook !== null) providers.webhook = webhookSender({ ...d.webhook, logger: log });
  if (d.smtp !== null) {
    const smtp = smtpSender({ ...d.smtp, logger: log });
    providers.smtp = smtp;
    // Not a readiness check (a slow mail relay must not take the instance out of rotation):
    // listed only so that shutdown closes the pooled SMTP connections.
    health.push({ ping: async () => undefined, close: async () => smtp.close() });
  }
  return { sender: deliveryRouter({ providers, defaultProvider: d.defaultProvider, perChannel: d.perChannel, logger: log }), health };
}

export async function buildDeps(config: AppConfig, opts: BuildOptions = {}): Promise<AppDeps> {
  const clock = opts.clock ?? systemClock;
  const logger = createLogger(config.logLevel, opts.logDestination);
  const stores = config.databaseUrl !== null ? await productionStores(config, logger) : embeddedStores(config.dataDir, config.sqliteSync);
  const delivery = buildSender(config, stores.outbox, clock, logger);
  return {
    ...stores,
    brands: cachedBrandStore(stores.brands),
    health: [...stores.health, ...delivery.health],
    clock,
    sender: delivery.sender,
    passwords: opts.passwords ?? argon2Hasher(config.argon2),
    secrets: hmacHasher(config.otpSecret),
    tokens: new TokenService(
      await loadSigningKeys({
        alg: config.signingAlg,
        secret: config.signingSecret,
        previousSecrets: config.previousSecrets,
        privateKeyPem: config.signingPrivateKeyPem,
        previousPublicKeyPems: config.previousPublicKeyPems,
      }),
      config.issuer,
    ),
    sealer: aesSealer(config.otpSecret),
    keyReuseGraceMs: config.keyReuseGraceSeconds * 1000,
    testOtpsAllowed: config.nodeEnv !== 'production' || config.allowTestOtps,
    adminToken: config.adminToken,
    gatewayToken: config.gatewayToken,
    logger,
    http: { trustProxy: config.trustProxy, requestTimeoutMs: config.requestTimeoutMs, demo: { enabled: config.demo, development: config.nodeEnv !== 'production' } },
  };
}
