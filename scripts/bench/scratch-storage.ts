// Scratch PostgreSQL database and Redis key prefix for one benchmark run, so a run never
// touches a real deployment's data: a database ae_bench_<hex> created next to DATABASE_URL
// (the servers migrate it at start) and dropped at the end, and a prefix ae:bench:<hex>:
// whose keys are deleted at the end (SCAN + DEL, never FLUSHDB: the Redis may be shared).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

export interface ScratchStorage {
  databaseUrl: string;
  databaseName: string;
  redisUrl: string;
  redisKeyPrefix: string;
  /** PIDs of this database's PostgreSQL backends right now (to read their CPU time). */
  backendPids(): Promise<number[]>;
  /** Redis's own CPU seconds (INFO cpu: used_cpu_user + used_cpu_sys), in ms. */
  redisCpuMs(): Promise<number | null>;
  cleanup(): Promise<void>;
}

const SCRATCH_DB = /^ae_bench_[0-9a-f]{16}$/;
const SCRATCH_PREFIX = /^ae:bench:[0-9a-f]{16}:$/;

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function onAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function createScratchStorage(baseDatabaseUrl: string, redisUrl: string): Promise<ScratchStorage> {
  const hex = randomBytes(8).toString('hex');
  const databaseName = `ae_bench_${hex}`;
  const redisKeyPrefix = `ae:bench:${hex}:`;
  await onAdmin(baseDatabaseUrl, (c) => c.query(`CREATE DATABASE ${databaseName}`));
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await redis.connect();
  // One long-lived admin connection for the backend-pid queries (not counted: it is idle
  // during the timed window).
  const admin = new pg.Client({ connectionString: baseDatabaseUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  return {
    databaseUrl: withDatabase(baseDatabaseUrl, databaseName),
    databaseName,
    redisUrl,
    redisKeyPrefix,
    async backendPids() {
      const r = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [databaseName]);
      return r.rows.map((x) => x.pid);
    },
    async redisCpuMs() {
      const info = await redis.info('cpu');
      const user = /used_cpu_user:([\d.]+)/.exec(info);
      const sys = /used_cpu_sys:([\d.]+)/.exec(info);
      return user && sys ? (Number(user[1]) + Number(sys[1])) * 1000 : null;
    },
    async cleanup() {
      const errors: unknown[] = [];
      try {
        if (!SCRATCH_PREFIX.test(redisKeyPrefix)) throw new Error(`refusing to delete keys under ${redisKeyPrefix}`);
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisKeyPrefix}*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== '0');
      } catch (err) {
        errors.push(err);
      }
      redis.disconnect();
      try {
        if (!SCRATCH_DB.test(databaseName)) throw new Error(`refusing to drop ${databaseName}`);
        await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
      } catch (err) {
        errors.push(err);
      }
      await admin.end().catch(() => undefined);
      if (errors.length > 0) throw new AggregateError(errors, 'benchmark storage clean-up failed');
    },
  };
}
