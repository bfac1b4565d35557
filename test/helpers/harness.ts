// Test harness: a real app driven in-process through fastify.inject, with a movable clock, a
// fast argon2 hasher and every log line captured.
//
// Storage: by default the embedded one (real SQLite files in a temp dir). With
// AE_TEST_STORAGE=production every harness gets PostgreSQL + Redis instead
// (test-production/helpers): a migrated ae_test_<hex> database of its own, empty, and a Redis
// key prefix ae:test:<hex>: of its own. close() deletes exactly that prefix's keys and empties
// the database for the next harness of the same test file; every database the file created is
// dropped when the file ends. Tests that look at what is stored use the storage-neutral
// helpers (selectRows, countRows, rawStorageDump), so they check the same property in both modes.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after } from 'node:test';
import type { FastifyInstance } from 'fastify';
import Database from 'libsql';
import pg from 'pg';
import { buildApp } from '../../src/app.ts';
import type { AppDeps } from '../../src/app-deps.ts';
import { loadConfig, type AppConfig } from '../../src/config/env.ts';
import { buildDeps } from '../../src/deps.ts';
import { ManualClock } from '../../src/domain/clock.ts';
import { argon2Hasher } from '../../src/crypto/password-hasher.ts';
import { createTestDatabase, type TestDatabase } from '../../test-production/helpers/pg.ts';
import { createTestRedis, keysUnder, type TestRedis } from '../../test-production/helpers/redis.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdefghijklmnop';

/** Real argon2id with tiny parameters: tests exercise the real code path, quickly. */
export const fastHasher = argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

export type StorageMode = 'embedded' | 'production';

/** Which storage every harness of this process uses (AE_TEST_STORAGE=production: PostgreSQL + Redis). */
export const STORAGE: StorageMode = process.env.AE_TEST_STORAGE === 'production' ? 'production' : 'embedded';

/** Which part of the storage rawStorageDump reads: the session store, the durable store, or both. */
export type StoragePart = 'sessions' | 'durable' | 'all';

export interface Harness {
  app: FastifyInstance;
  deps: AppDeps;
  clock: ManualClock;
  config: AppConfig;
  /** The app's DATA_DIR (holds the SQLite files in embedded mode; unused in production mode). */
  dataDir: string;
  storage: StorageMode;
  /** Every log line written so far, raw. */
  logs: string[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Res>;
  admin(method: 'GET' | 'PUT' | 'DELETE' | 'POST', path: string, body?: unknown): Promise<Res>;
  createBrand(name: string, config?: object): Promise<void>;
  /** The newest OTP sent to `TYPE|value` (or to that destination), read from the admin outbox. */
  lastOtp(brand: string, identifier: string): Promise<string>;
  /**
   * A read-only SELECT on the durable store (auth.db, or the PostgreSQL database): the table
   * and column names are the same in both schemas. Placeholders are `?`. Values come back
   * alike in both modes: integers (BIGINT too) as numbers, booleans as 1/0, JSON as its text.
   */
  selectRows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** COUNT(*) of a durable-store table, optionally `WHERE whereSql` (placeholders `?`). */
  countRows(table: string, whereSql?: string, params?: unknown[]): Promise<number>;
  /**
   * Everything the storage holds, as text, for "is X stored anywhere?" checks. Embedded: the
   * bytes (latin1) of sessions.db / auth.db and their WAL files. Production: every key and
   * value under this harness's Redis prefix (sessions) and every row of every table of its
   * database (durable), each value as PostgreSQL's text form.
   */
  rawStorageDump(part?: StoragePart): Promise<string>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: any;
  raw: string;
}

// ---- production storage: one database + one Redis prefix per data dir ----

/** A harness's PostgreSQL database and Redis prefix. */
interface ProductionStorage {
  db: TestDatabase;
  redis: TestRedis;
  /** Harnesses open on it right now. */
  live: number;
  /** Deletes the prefix's keys, and drops the database (`drop`) or empties it for reuse (once). */
  release(o?: { drop?: boolean }): Promise<void>;
}

/**
 * Storage not released yet, by the data dir it stands for: `startHarness({ dataDir })` with
 * the dir of an earlier harness gets that harness's database and prefix again (a restart).
 * Whatever is left when the test file ends is released by the `after` hook below.
 */
const productionByDir = new Map<string, ProductionStorage>();

/**
 * Databases of closed harnesses, emptied back to the freshly migrated state (every table
 * empty, every sequence restarted), for the next harness of this process. CREATE DATABASE
 * costs a few hundred ms (it writes the whole catalog), emptying a database a few ms; a
 * harness still never shares its database with another open harness. All of them are
 * dropped when the test file ends.
 */
const freeDatabases: TestDatabase[] = [];
/** The first database, created while the rest of the test file loads. */
let firstDatabase: Promise<TestDatabase> | undefined;
let resetSql: Promise<string> | undefined;

/** One multi-statement query that empties every table except schema_migrations and restarts every sequence. */
async function resetStatement(pool: pg.Pool): Promise<string> {
  const tables = await pool.query<{ t: string }>(
    `SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'schema_migrations' ORDER BY tablename`,
  );
  const sequences = await pool.query<{ s: string }>(`SELECT quote_ident(sequencename) AS s FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename`);
  return [...tables.rows.map((r) => `DELETE FROM ${r.t};`), ...sequences.rows.map((r) => `ALTER SEQUENCE ${r.s} RESTART;`)].join(' ');
}

/** Empties a closed harness's database and offers it to the next harness; drops it if that fails. */
async function recycle(db: TestDatabase): Promise<void> {
  try {
    resetSql ??= resetStatement(db.pool);
    await db.pool.query(await resetSql);
  } catch {
    resetSql = undefined;
    await db.drop();
    return;
  }
  freeDatabases.push(db);
}

/** A database of its own for a new harness: an emptied one if there is one, else a new one. */
function takeDatabase(): Promise<TestDatabase> {
  const free = freeDatabases.pop();
  if (free) return Promise.resolve(free);
  const first = firstDatabase;
  firstDatabase = undefined;
  return first ?? createTestDatabase();
}

if (STORAGE === 'production') {
  firstDatabase = createTestDatabase();
  firstDatabase.catch(() => undefined); // reported by the harness that takes it
  // A root-level hook: runs once after every test of the file, and a failure fails the run.
  after(async () => {
    const errors: unknown[] = [];
    for (const s of [...productionByDir.values()]) await s.release({ drop: true }).catch((err) => errors.push(err));
    for (const db of freeDatabases.splice(0)) await db.drop().catch((err) => errors.push(err));
    if (firstDatabase) {
      const db = await firstDatabase.catch(() => undefined);
      firstDatabase = undefined;
      if (db) await db.drop().catch((err) => errors.push(err));
    }
    if (errors.length) throw new AggregateError(errors, 'releasing the test databases / Redis prefixes failed');
  });
}

async function newProductionStorage(dataDir: string): Promise<ProductionStorage> {
  const db = await takeDatabase();
  let redis: TestRedis;
  try {
    redis = await createTestRedis();
  } catch (err) {
    await db.drop();
    throw err;
  }
  let released: Promise<void> | undefined;
  const storage: ProductionStorage = {
    db,
    redis,
    live: 0,
    release(o = {}) {
      released ??= (async () => {
        if (productionByDir.get(dataDir) === storage) productionByDir.delete(dataDir);
        const [dropped, cleaned] = await Promise.allSettled([o.drop ? db.drop() : recycle(db), redis.cleanup()]);
        if (dropped.status === 'rejected') throw dropped.reason;
        if (cleaned.status === 'rejected') throw cleaned.reason;
      })();
      return released;
    },
  };
  productionByDir.set(dataDir, storage);
  return storage;
}

/** pg type OIDs read differently from pg's defaults, to come back as SQLite gives them. */
const PG_INT8 = 20;
const PG_BOOL = 16;
const PG_JSON = 114;
const PG_JSONB = 3802;
const neutralTypes = {
  getTypeParser(oid: number, format?: string) {
    if (oid === PG_INT8) return (v: string) => Number(v);
    if (oid === PG_BOOL) return (v: string) => (v === 't' ? 1 : 0);
    if (oid === PG_JSON || oid === PG_JSONB) return (v: string) => v;
    return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  },
};
/** Every value as PostgreSQL's own text form. */
const rawTextTypes = { getTypeParser: () => (v: string) => v };

const SQLITE_FILES: Record<StoragePart, string[]> = { sessions: ['sessions.db'], durable: ['auth.db'], all: ['sessions.db', 'auth.db'] };

/** Raw bytes of SQLite database files and their WALs, as one latin1 string. */
function sqliteBytes(dataDir: string, files: string[]): string {
  let s = '';
  for (const file of files) {
    for (const f of [file, `${file}-wal`]) {
      const p = join(dataDir, f);
      if (existsSync(p)) s += readFileSync(p).toString('latin1');
    }
  }
  return s;
}

/** Every row of every table of the database, one line per row, values as PostgreSQL's text. */
async function pgDump(pool: pg.Pool): Promise<string> {
  const tables = await pool.query<{ t: string }>(`SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`);
  const out: string[] = [];
  for (const { t } of tables.rows) {
    const r = await pool.query({ text: `SELECT * FROM ${t}`, types: rawTextTypes } as pg.QueryConfig);
    for (const row of r.rows) out.push(`${t}: ${Object.entries(row).map(([k, v]) => `${k}=${v === null ? 'NULL' : String(v)}`).join(' ')}`);
  }
  return out.join('\n');
}

/** Every key under the prefix with its whole value, whatever its type. */
async function redisDump(t: TestRedis): Promise<string> {
  const out: string[] = [];
  for (const key of await keysUnder(t.redis, t.prefix)) {
    const type = await t.redis.type(key);
    let value: string;
    if (type === 'string') value = String(await t.redis.get(key));
    else if (type === 'hash') value = Object.entries(await t.redis.hgetall(key)).map(([f, v]) => `${f}=${v}`).join(' ');
    else if (type === 'set') value = (await t.redis.smembers(key)).join(' ');
    else if (type === 'zset') value = (await t.redis.zrange(key, '0', '-1', 'WITHSCORES')).join(' ');
    else if (type === 'list') value = (await t.redis.lrange(key, 0, -1)).join(' ');
    else if (type === 'none') continue; // expired meanwhile
    else throw new Error(`rawStorageDump: unexpected Redis type ${type} at ${key}`);
    out.push(`${key} (${type}): ${value}`);
  }
  return out.join('\n');
}

const TABLE_NAME = /^[a-z_][a-z0-9_]*$/;

export async function startHarness(opts: { dataDir?: string; clock?: ManualClock; env?: Record<string, string> } = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ae-test-'));
  const clock = opts.clock ?? new ManualClock(Date.UTC(2026, 10, 22, 12, 0, 0));
  let production: ProductionStorage | undefined;
  if (STORAGE === 'production') {
    production = (opts.dataDir !== undefined ? productionByDir.get(opts.dataDir) : undefined) ?? (await newProductionStorage(dataDir));
    production.live++;
  }
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'trace',
    AUTH_ADMIN_TOKEN: ADMIN_TOKEN,
    AUTH_SIGNING_SECRET: 'test-signing-secret-0123456789abcdefghijklmnop',
    AUTH_OTP_SECRET: 'test-otp-secret-0123456789abcdefghijklmnopqrstu',
    ...(production ? { DATABASE_URL: production.db.url, REDIS_URL: production.redis.url, REDIS_KEY_PREFIX: production.redis.prefix } : {}),
    ...opts.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const deps = await buildDeps(config, { clock, passwords: fastHasher, logDestination: sink });
  const app = buildApp(deps);
  await app.ready();

  const toRes = (r: { statusCode: number; headers: Res['headers']; body: string }): Res => {
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch {
      body = undefined;
    }
    return { status: r.statusCode, headers: r.headers, body, raw: r.body };
  };

  const h: Harness = {
    app,
    deps,
    clock,
    config,
    dataDir,
    storage: STORAGE,
    logs,
    async post(path, body, headers = {}) {
      const payload = typeof body === 'string' ? body : JSON.stringify(body);
      return toRes(await app.inject({ method: 'POST', url: path, payload, headers: { 'content-type': 'application/json', ...headers } }));
    },
    async admin(method, path, body) {
      const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      return toRes(await app.inject({ method, url: path, headers, payload: body === undefined ? undefined : JSON.stringify(body) }));
    },
    async createBrand(name, cfg = {}) {
      const r = await h.admin('PUT', `/admin/v1/brands/${name}`, cfg);
      if (r.status !== 200) throw new Error(`createBrand failed: ${r.raw}`);
    },
    async lastOtp(brand, identifier) {
      const r = await h.admin('GET', `/admin/v1/outbox?brand=${encodeURIComponent(brand)}&identifier=${encodeURIComponent(identifier)}&limit=1`);
      const msg = r.body?.messages?.[0];
      if (!msg) throw new Error(`no OTP in the outbox for ${identifier}`);
      return msg.otp as string;
    },
    async selectRows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
      if (!production) {
        const db = new Database(join(dataDir, 'auth.db'), { readonly: true });
        try {
          return db.prepare(sql).all(...params) as T[];
        } finally {
          db.close();
        }
      }
      let n = 0;
      const text = sql.replace(/\?/g, () => `$${++n}`);
      const client = await production.db.pool.connect();
      try {
        await client.query('BEGIN READ ONLY');
        const r = await client.query({ text, values: params, types: neutralTypes } as pg.QueryConfig);
        await client.query('COMMIT');
        return r.rows as T[];
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async countRows(table, whereSql, params = []) {
      if (!TABLE_NAME.test(table)) throw new Error(`countRows: bad table name ${JSON.stringify(table)}`);
      const rows = await h.selectRows<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}${whereSql ? ` WHERE ${whereSql}` : ''}`, params);
      return Number(rows[0].n);
    },
    async rawStorageDump(part = 'all') {
      if (!production) return sqliteBytes(dataDir, SQLITE_FILES[part]);
      const parts: string[] = [];
      if (part !== 'durable') parts.push(await redisDump(production.redis));
      if (part !== 'sessions') parts.push(await pgDump(production.db.pool));
      return parts.join('\n');
    },
    async close(o = {}) {
      await app.close();
      for (const c of deps.health) await c.close();
      if (!o.keepData && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (production) {
        production.live--;
        // Like the data dir: kept when the caller owns the dir or asked to keep the data (a
        // later startHarness({ dataDir }) reuses it); the file's `after` hook releases the rest.
        if (!o.keepData && !opts.dataDir && production.live === 0) await production.release();
      }
    },
  };
  return h;
}

/** Paths of the mobile and web variant of a customer endpoint. */
export const paths = (step: string) => ({ mobile: `/auth/v1/${step}`, web: `/auth/v1/web/${step}` });
export const VARIANTS = ['mobile', 'web'] as const;
export type V = (typeof VARIANTS)[number];
export const url = (v: V, step: string) => (v === 'mobile' ? `/auth/v1/${step}` : `/auth/v1/web/${step}`);

/** Common ID fields for a variant (mobile adds a deviceId). */
export const idBody = (v: V, brand: string, type: string, value: string, deviceId = 'device-1') =>
  v === 'mobile' ? { brand, identifierType: type, identifierValue: value, deviceId } : { brand, identifierType: type, identifierValue: value };

/** token/generate → otp/generate → read outbox → otp/validate; returns the validate response. */
export async function otpLogin(h: Harness, v: V, brand: string, type: string, value: string, extra: object = {}, deviceId = 'device-1') {
  const id = idBody(v, brand, type, value, deviceId);
  const gen = await h.post(url(v, 'token/generate'), { ...id, ...extra });
  if (gen.status !== 200) throw new Error(`token/generate: ${gen.raw}`);
  const sessionId = gen.body.user.sessionId as string;
  const send = await h.post(url(v, 'otp/generate'), { ...id, sessionId });
  if (send.status !== 200) throw new Error(`otp/generate: ${send.raw}`);
  const outboxKey = `${type.toUpperCase()}|${value}`;
  const otp = await h.lastOtp(brand, outboxKey);
  const res = await h.post(url(v, 'otp/validate'), { ...id, sessionId, otp });
  return { gen, sessionId, otp, res };
}
