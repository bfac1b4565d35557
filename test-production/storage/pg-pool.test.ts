// The PostgreSQL error boundary and recovery: connection-level failures become
// StoreUnavailableError (→ 503/1599) and nothing else does; while PostgreSQL is unreachable
// calls fail fast; when it is back the same pool serves again without a restart; a connection
// cut mid-transaction writes nothing and is not reused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { IdentifierTakenError } from '../../src/ports/durable-store.ts';
import { createPgPool, isConnectionFailure, pgCall, withTransaction } from '../../src/storage/postgres/pg-pool.ts';
import { PgDurableStore } from '../../src/storage/postgres/pg-durable-store.ts';
import { PgLimitStore } from '../../src/storage/postgres/pg-limit-store.ts';
import { brandConfig } from '../../test/contract/durable-store.contract.ts';
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from '../helpers/pg.ts';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

test('isConnectionFailure: network errors, SQLSTATE 08 / 53 / 57P0x, timeouts and dead clients; not constraints or bugs', () => {
  for (const e of [
    pgError('ECONNREFUSED'),
    pgError('ECONNRESET'),
    pgError('ETIMEDOUT'),
    pgError('08006'),
    pgError('08001'),
    pgError('53300', 'sorry, too many clients already'),
    pgError('53100', 'could not extend file: No space left on device'),
    pgError('57P01', 'terminating connection due to administrator command'),
    pgError('57P03', 'the database system is starting up'),
    pgError('57014', 'canceling statement due to statement timeout'),
    new Error('Connection terminated unexpectedly'),
    new Error('Connection terminated due to connection timeout'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Query read timeout'),
    new Error('Client has encountered a connection error and is not queryable'),
    Object.assign(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')], ''), { code: 'ECONNREFUSED' }),
  ]) {
    assert.equal(isConnectionFailure(e), true, `${(e as { code?: string }).code ?? ''} ${e.message}`);
  }
  for (const e of [pgError('23505', 'duplicate key'), pgError('23503'), pgError('42P01', 'relation does not exist'), pgError('22P02'), pgError('40P01'), new TypeError('boom'), 'text', null]) {
    assert.equal(isConnectionFailure(e), false, String(e));
  }
});

test('pgCall: maps connection failures to StoreUnavailableError (with the cause), passes the rest through', async () => {
  const refused = pgError('ECONNREFUSED');
  await assert.rejects(
    pgCall(async () => {
      throw refused;
    }),
    (err: unknown) => err instanceof StoreUnavailableError && err.cause === refused,
  );
  const taken = new IdentifierTakenError({ type: 'MOBILE', value: '1' });
  await assert.rejects(
    pgCall(async () => {
      throw taken;
    }),
    (err: unknown) => err === taken,
  );
  const unique = pgError('23505');
  await assert.rejects(
    pgCall(async () => {
      throw unique;
    }),
    (err: unknown) => err === unique,
  );
  assert.equal(await pgCall(async () => 7), 7);
});

test('an unreachable server: every kind of call fails fast with StoreUnavailableError', async () => {
  const pool = createPgPool('postgres://postgres@127.0.0.1:1/nowhere');
  try {
    const store = new PgDurableStore(pool);
    const limits = new PgLimitStore(pool);
    const calls: Array<() => Promise<unknown>> = [
      () => store.ping(),
      () => store.getBrand('DOCDEMO'),
      () => store.createUser('DOCDEMO', [{ type: 'MOBILE', value: '919999999993', verified: true }], null, NOW),
      () => store.rotateKey('h', { jti: 'j', brand: 'B', uid: '1', deviceId: 'd', keyHash: 'h2', createdAt: NOW, expiresAt: null }, 's', NOW),
      () => limits.reserve([{ key: 'k', windowMs: 1000, max: 1 }], NOW),
      () => limits.recordFailure('k', NOW, 1000),
    ];
    for (const call of calls) await assert.rejects(call(), StoreUnavailableError);
  } finally {
    await pool.end();
  }
});

/** A TCP proxy in front of PostgreSQL that can be stopped (connections cut, port closed) and restarted on the same port. */
class Proxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}
  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

test('PostgreSQL going away and coming back: 503 while away, the same pool recovers by itself', async () => {
  const target = new URL(PG_ADMIN_URL);
  const proxy = new Proxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
  const via = new URL(db.url);
  via.port = String(proxy.port);
  const pool = createPgPool(via.toString());
  const idleErrors: Error[] = [];
  pool.on('error', (err) => idleErrors.push(err));
  try {
    const store = new PgDurableStore(pool);
    // Warm the pool with several connections, all idle afterwards.
    await Promise.all(Array.from({ length: 5 }, (_, i) => store.putBrand(`B${i}`, brandConfig(), NOW)));
    assert.ok(pool.idleCount >= 2, `idle: ${pool.idleCount}`);

    await proxy.stop();
    // Idle connections were cut under the pool: their errors reach the pool's listener (no crash).
    for (let i = 0; i < 50 && pool.totalCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(pool.totalCount, 0, 'dead clients must leave the pool');
    assert.ok(idleErrors.length > 0);
    await assert.rejects(store.ping(), StoreUnavailableError);
    await assert.rejects(store.createUser('DOCDEMO', [{ type: 'USERNAME', value: 'during', verified: true }], null, NOW), StoreUnavailableError);

    await proxy.start(); // same port
    await store.ping();
    assert.deepEqual(await store.getBrand('B0'), brandConfig());
    const u = await store.createUser('DOCDEMO', [{ type: 'USERNAME', value: 'after', verified: true }], null, NOW);
    assert.equal((await store.findUser('DOCDEMO', { type: 'USERNAME', value: 'after' }))?.uid, u.uid);
    assert.equal(await store.findUser('DOCDEMO', { type: 'USERNAME', value: 'during' }), null);
  } finally {
    await pool.end();
    await proxy.stop();
  }
});

test('a connection cut in the middle of a transaction: StoreUnavailableError, nothing written, the client is not reused', async () => {
  const pool = createPgPool(db.url, { max: 2 });
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    const store = new PgDurableStore(pool);
    const removed: unknown[] = [];
    pool.on('remove', (c) => removed.push(c));
    let victim: unknown = null;
    await assert.rejects(
      pgCall(() =>
        withTransaction(pool, async (c) => {
          victim = c;
          await c.query("INSERT INTO brands (name, config, updated_at) VALUES ('HALF', '{}', 1)");
          const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
          await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          await c.query('SELECT 1');
        }),
      ),
      StoreUnavailableError,
    );
    for (let i = 0; i < 50 && !removed.includes(victim); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(removed.includes(victim), 'the broken client must be removed from the pool');
    assert.equal(await store.getBrand('HALF'), null);
    // The pool serves the next calls on fresh connections.
    await store.putBrand('WHOLE', brandConfig(), NOW);
    assert.deepEqual(await store.getBrand('WHOLE'), brandConfig());
  } finally {
    await admin.end();
    await pool.end();
  }
});

test('an ordinary error inside a transaction rolls back and the client stays usable', async () => {
  const pool = createPgPool(db.url, { max: 1 });
  try {
    await assert.rejects(
      withTransaction(pool, async (c) => {
        await c.query("INSERT INTO brands (name, config, updated_at) VALUES ('ROLLED', '{}', 1)");
        await c.query('SELECT * FROM no_such_table');
      }),
      (err: unknown) => (err as { code?: string }).code === '42P01',
    );
    const store = new PgDurableStore(pool);
    assert.equal(await store.getBrand('ROLLED'), null);
    // With max 1, this ran on the same connection: it was rolled back, not left in a failed transaction.
    await store.putBrand('NEXT', brandConfig(), NOW);
    assert.deepEqual(await store.getBrand('NEXT'), brandConfig());
  } finally {
    await pool.end();
  }
});
