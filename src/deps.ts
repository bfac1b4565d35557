// Composition root: builds the ports from configuration. The only place that picks adapters.
import { join } from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { AppConfig } from './config/env.ts';
import type { AppDeps } from './app-deps.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { argon2Hasher, type PasswordHasher } from './crypto/password-hasher.ts';
import { hmacHasher } from './crypto/otp.ts';
import { TokenService } from './crypto/tokens.ts';
import { aesSealer } from './crypto/sealer.ts';
import { openAuthDb, SqliteDurableStore } from './storage/sqlite/sqlite-durable-store.ts';
import { SqliteLimitStore } from './storage/sqlite/sqlite-limit-store.ts';
import { SqliteRevocationStore } from './storage/sqlite/sqlite-revocation-store.ts';
import { SqliteSessionStore } from './storage/sqlite/sqlite-session-store.ts';
import { outboxSender } from './senders/outbox-sender.ts';

/** Paths that must never reach a log line, whatever a future log call passes in. */
export const REDACT_PATHS = [
  'password', 'confirmPassword', 'newPassword', 'otp', 'key', 'token', 'expiredToken', 'hash',
  '*.password', '*.confirmPassword', '*.newPassword', '*.otp', '*.key', '*.token', '*.expiredToken', '*.hash',
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

export function buildDeps(config: AppConfig, opts: BuildOptions = {}): AppDeps {
  const clock = opts.clock ?? systemClock;
  const authDb = openAuthDb(join(config.dataDir, 'auth.db'));
  const durable = new SqliteDurableStore(authDb);
  const revocations = new SqliteRevocationStore(authDb);
  const sessions = new SqliteSessionStore(join(config.dataDir, 'sessions.db'));
  return {
    clock,
    brands: durable,
    users: durable,
    keys: durable,
    outbox: durable,
    sessions,
    sender: outboxSender(durable, clock),
    passwords: opts.passwords ?? argon2Hasher(),
    secrets: hmacHasher(config.otpSecret),
    tokens: new TokenService(config.signingSecret, config.issuer),
    limits: new SqliteLimitStore(authDb),
    revocations,
    audit: revocations,
    sealer: aesSealer(config.otpSecret),
    keyReuseGraceMs: config.keyReuseGraceSeconds * 1000,
    health: [durable, sessions],
    adminToken: config.adminToken,
    logger: createLogger(config.logLevel, opts.logDestination),
  };
}
