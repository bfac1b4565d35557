// Redis for the production-mode suites: the Redis on this machine (REDIS_URL, default
// redis://127.0.0.1:6379), a key prefix unique to this test run, and a cleanup that deletes
// exactly the keys under that prefix (never FLUSHDB: the Redis may be shared).
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis, redisReady } from '../../src/storage/redis/redis-client.ts';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  url: string;
  /** A client made by the production createRedis (fail-fast options), already connected. */
  redis: Redis;
  /** `ae:test:<random>:` — every key a test writes must start with it. */
  prefix: string;
  /** Deletes every key under `prefix` and closes the client. */
  cleanup(): Promise<void>;
}

/** Escapes the glob characters SCAN MATCH understands, so the prefix matches literally. */
const globLiteral = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** Deletes every key starting with `prefix` (SCAN MATCH + DEL); returns how many. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  if (!prefix.startsWith('ae:test:')) throw new Error(`refusing to delete keys outside ae:test: (${prefix})`);
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${globLiteral(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Keys currently under `prefix` (for tests that check what an adapter left behind). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${globLiteral(prefix)}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

export async function createTestRedis(): Promise<TestRedis> {
  const url = TEST_REDIS_URL;
  const prefix = `ae:test:${randomBytes(8).toString('hex')}:`;
  const redis = createRedis(url);
  try {
    await redisReady(redis, 5_000);
  } catch (err) {
    redis.disconnect();
    throw new Error(`Redis at ${url} is not reachable (see DEVELOPERS.md for how to start it)`, { cause: err });
  }
  return {
    url,
    redis,
    prefix,
    cleanup: async () => {
      try {
        await deleteKeysUnder(redis, prefix);
      } finally {
        await redis.quit().catch(() => redis.disconnect());
      }
    },
  };
}
