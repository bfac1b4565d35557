// The one way this service opens Redis, and the one place Redis failures become
// StoreUnavailableError (→ 503 / 1599).
//
// Fail fast, recover by itself: while Redis is unreachable a command is refused at once
// instead of waiting in an offline queue (a queued write could otherwise run minutes later,
// after the caller was already told 503 — e.g. a wrong-OTP count the user never caused),
// and the client keeps reconnecting forever with a capped backoff, so the service comes back
// without a restart when Redis does.
import type { Redis } from 'ioredis';
import { lazyPackage } from '../../lazy-package.ts';
import { StoreUnavailableError } from '../../domain/errors.ts';

const CONNECT_TIMEOUT_MS = 2_000;
const COMMAND_TIMEOUT_MS = 2_000;
const MAX_BACKOFF_MS = 2_000;
const SOCKET_TIMEOUT_MS = 5_000;

/** Reconnect delay: 50 ms, 100 ms, … capped at 2 s, forever (never gives up). */
export const reconnectDelay = (attempt: number): number => Math.min(MAX_BACKOFF_MS, 50 * 2 ** Math.min(attempt - 1, 10));

const ioredis = lazyPackage<typeof import('ioredis')>('ioredis');

export function createRedis(url: string): Redis {
  const redis = new (ioredis().Redis)(url, {
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Not ready → rejected immediately ("Stream isn't writeable"), never run later.
    enableOfflineQueue: false,
    // Commands in flight when the connection drops are failed at once, not re-sent after the
    // reconnect (they may or may not have run; the caller already got an error).
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: reconnectDelay,
    // A connection that stays silent this long while replies are owed (a hung Redis, a
    // half-open TCP link after a network cut) is dropped and re-made, instead of every
    // command timing out on it until TCP keepalive notices, minutes later.
    socketTimeout: SOCKET_TIMEOUT_MS,
    // Commands issued in the same event-loop turn (by concurrent requests) go out in one
    // write: fewer syscalls and context switches under load, no added latency when idle.
    enableAutoPipelining: true,
  });
  // Without a listener, an 'error' event (ECONNREFUSED on every reconnect attempt) would
  // crash the process. The failures surface per command through redisCall instead.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * Resolves once the client can take commands (status "ready"); rejects after `timeoutMs`.
 * With the offline queue off, commands sent before this are refused, so a process should
 * wait for it before it starts serving (or let /ready answer 503 until then).
 */
export function redisReady(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new StoreUnavailableError(new Error(`redis not ready after ${timeoutMs} ms (status ${redis.status})`)));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
]);

/** Server replies meaning "this Redis cannot serve right now", not "your command is wrong". */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|OOM|NOREPLICAS|NOAUTH|WRONGPASS)\b/;

const CLIENT_MESSAGES = [
  /^Connection is closed/,
  /^Stream isn't writeable/,
  /^Command timed out/,
  /^Command aborted due to connection close/,
  /^Reached the max retries per request limit/,
  /^connect ETIMEDOUT/,
  /^Socket timeout/,
];

/** True for a failure of the connection to Redis (or of Redis itself), as opposed to a bug. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'AbortError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return true;
  const msg = err.message ?? '';
  return CLIENT_MESSAGES.some((re) => re.test(msg)) || UNAVAILABLE_REPLY.test(msg);
}

/**
 * Runs a Redis step, turning connection failures, timeouts and "Redis cannot serve"
 * replies into StoreUnavailableError. Anything else (a script bug, WRONGTYPE) passes through.
 */
export async function redisCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw isRedisUnavailable(err) ? new StoreUnavailableError(err) : err;
  }
}
