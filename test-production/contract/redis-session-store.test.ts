// Runs the SessionStore contract (test/contract/session-store.contract.ts, unchanged) against
// the Redis adapter, plus what only Redis can show: key layout under the prefix, native TTLs,
// StoreUnavailableError (→ 503/1599) while Redis is unreachable or hung, and recovery without
// a restart. Needs the Redis on this machine (REDIS_URL, default redis://127.0.0.1:6379).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { createRedis, redisCall, redisReady } from '../../src/storage/redis/redis-client.ts';
import { RedisSessionStore } from '../../src/storage/redis/redis-session-store.ts';
import { sessionStoreContract } from '../../test/contract/session-store.contract.ts';
import type { NewSession } from '../../src/ports/session-store.ts';
import { createTestRedis, deleteKeysUnder, keysUnder, type TestRedis } from '../helpers/redis.ts';

let tr: TestRedis;
before(async () => {
  tr = await createTestRedis();
});
after(async () => {
  await tr?.cleanup();
});

// Each contract test gets a fresh, empty store: its own sub-prefix of this run's prefix.
let n = 0;
sessionStoreContract('RedisSessionStore', async () => {
  const prefix = `${tr.prefix}c${++n}:`;
  const store = new RedisSessionStore(tr.redis, prefix);
  return {
    store,
    cleanup: async () => {
      await store.close(); // shared client: close() must leave it open
      await deleteKeysUnder(tr.redis, prefix);
    },
  };
});

const MINUTE = 60_000;
const session = (id: string, now: number, life = 20 * MINUTE): NewSession => ({
  id,
  brand: 'CONTRACT',
  variant: 'web',
  identifier: { type: 'EMAIL', value: 'carol@example.com' },
  deviceId: null,
  signup: null,
  destination: null,
  pendingPassword: null,
  createdAt: now,
  expiresAt: now + life,
});

test('RedisSessionStore: keys live under the prefix, the session hash carries a TTL, sweep empties the index', async () => {
  const prefix = `${tr.prefix}layout:`;
  const store = new RedisSessionStore(tr.redis, prefix);
  try {
    const now = Date.now();
    await store.create(session('P-a', now, 5 * MINUTE));
    await store.setOtp('P-a', { hash: 'h', expiresAt: now + MINUTE, sentAt: now }, now);
    await store.recordOtpFailure('P-a');
    assert.deepEqual(await keysUnder(tr.redis, prefix), [`${prefix}s:P-a`, `${prefix}sessions:expiry`]);
    const ttl = await tr.redis.pttl(`${prefix}s:P-a`);
    // Lifetime (5 min) plus the grace period, counted by Redis from creation.
    assert.ok(ttl > 5 * MINUTE && ttl <= 15 * MINUTE, `pttl ${ttl}`);

    // Writes on a missing session never create a key (a key without TTL would live forever).
    assert.equal(await store.recordOtpFailure('P-missing'), Number.MAX_SAFE_INTEGER);
    assert.equal(await store.setOtp('P-missing', { hash: 'h', expiresAt: now + MINUTE, sentAt: now }, now), false);
    assert.equal(await store.consume('P-missing', { now }), false);
    await store.releaseSend('P-missing', now, now - MINUTE);
    assert.deepEqual(await keysUnder(tr.redis, prefix), [`${prefix}s:P-a`, `${prefix}sessions:expiry`]);

    assert.equal(await store.sweep(now + 5 * MINUTE), 1);
    assert.deepEqual(await keysUnder(tr.redis, prefix), []);
  } finally {
    await deleteKeysUnder(tr.redis, prefix);
  }
});

test('RedisSessionStore: a duplicate id is refused and the first session is kept', async () => {
  const prefix = `${tr.prefix}dup:`;
  const store = new RedisSessionStore(tr.redis, prefix);
  try {
    const now = Date.now();
    await store.create(session('P-dup', now));
    await store.setOtp('P-dup', { hash: 'first', expiresAt: now + MINUTE, sentAt: now }, now);
    await assert.rejects(store.create({ ...session('P-dup', now), brand: 'OTHER' }), /already exists/);
    const got = await store.get('P-dup', now);
    assert.equal(got?.brand, 'CONTRACT');
    assert.equal(got?.otpHash, 'first');
  } finally {
    await deleteKeysUnder(tr.redis, prefix);
  }
});

/** A port nothing listens on (refused connections). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A TCP proxy in front of the test Redis that the test can freeze (connections stay open but
 * nothing is forwarded: a hung Redis), stop (listener closed, connections cut: Redis down)
 * and start again on the same port.
 */
async function redisProxy(target: URL) {
  const sockets = new Set<Socket>();
  let frozen = false;
  // While frozen, bytes are held (not dropped) and delivered in order on thaw, as a Redis
  // that was busy would eventually answer: the replies stay aligned with the commands.
  const held: Array<() => void> = [];
  const forward = (to: Socket) => (d: Buffer) => {
    if (frozen) held.push(() => to.write(d));
    else to.write(d);
  };
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => void (frozen = true),
    thaw: () => {
      frozen = false;
      for (const write of held.splice(0)) write();
    },
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    start: () => listen(port),
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const isUnavailable = (err: unknown) => err instanceof StoreUnavailableError;

test('RedisSessionStore: every method fails fast with StoreUnavailableError while Redis is unreachable', async () => {
  const port = await closedPort();
  const redis = createRedis(`redis://127.0.0.1:${port}`);
  const store = new RedisSessionStore(redis, `${tr.prefix}down:`, { ownsClient: true });
  try {
    const now = Date.now();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['create', () => store.create(session('P-x', now))],
      ['get', () => store.get('P-x', now)],
      ['setOtp', () => store.setOtp('P-x', { hash: 'h', expiresAt: now, sentAt: now }, now)],
      ['claimSend', () => store.claimSend('P-x', now, 1000)],
      ['releaseSend', () => store.releaseSend('P-x', now, null)],
      ['setPendingPassword', () => store.setPendingPassword('P-x', { hash: 'p', purpose: 'reset' }, now)],
      ['recordOtpFailure', () => store.recordOtpFailure('P-x')],
      ['consume', () => store.consume('P-x', { now })],
      ['sweep', () => store.sweep(now)],
      ['ping', () => store.ping()],
    ];
    for (const [name, call] of calls) await assert.rejects(call(), isUnavailable, name);
  } finally {
    await store.close();
  }
});

test('RedisSessionStore: a Redis that stops answering times out into StoreUnavailableError, then answers again', async () => {
  const proxy = await redisProxy(new URL(tr.url));
  const redis = createRedis(proxy.url);
  const prefix = `${tr.prefix}hung:`;
  const store = new RedisSessionStore(redis, prefix, { ownsClient: true });
  try {
    await redisReady(redis, 5_000);
    const now = Date.now();
    await store.create(session('P-h', now));
    proxy.freeze();
    // The connection is up but no reply comes: commandTimeout turns the wait into a 503.
    await assert.rejects(store.get('P-h', now), isUnavailable);
    proxy.thaw();
    assert.equal((await store.get('P-h', now))?.id, 'P-h');
  } finally {
    await store.close();
    await proxy.close();
    await deleteKeysUnder(tr.redis, prefix);
  }
});

test('RedisSessionStore: after an outage the client reconnects by itself and the sessions are still there', async () => {
  const proxy = await redisProxy(new URL(tr.url));
  const redis = createRedis(proxy.url);
  const prefix = `${tr.prefix}outage:`;
  const store = new RedisSessionStore(redis, prefix, { ownsClient: true });
  try {
    await redisReady(redis, 5_000);
    const now = Date.now();
    await store.create(session('P-o', now));
    await store.setOtp('P-o', { hash: 'h', expiresAt: now + MINUTE, sentAt: now }, now);

    await proxy.stop();
    await assert.rejects(store.get('P-o', now), isUnavailable);
    await assert.rejects(store.recordOtpFailure('P-o'), isUnavailable);
    await assert.rejects(store.consume('P-o', { now, otpHash: 'h', maxFailures: 5 }), isUnavailable);
    await assert.rejects(store.ping(), isUnavailable);

    await proxy.start();
    await redisReady(redis, 15_000); // no reconnect() call: the retry strategy never gives up
    await store.ping();
    const got = await store.get('P-o', now);
    // The refused calls wrote nothing: no failure counted, not consumed.
    assert.equal(got?.otpFailures, 0);
    assert.equal(got?.consumed, false);
    assert.equal(await store.consume('P-o', { now, otpHash: 'h', maxFailures: 5 }), true);
  } finally {
    await store.close();
    await proxy.close();
    await deleteKeysUnder(tr.redis, prefix);
  }
});

test('RedisSessionStore: close() quits an owned client, leaves a shared one open', async () => {
  const owned = createRedis(tr.url);
  await redisReady(owned, 5_000);
  const mine = new RedisSessionStore(owned, `${tr.prefix}own:`, { ownsClient: true });
  await mine.ping();
  await mine.close();
  assert.equal(owned.status, 'end');

  const shared = new RedisSessionStore(tr.redis, `${tr.prefix}own:`);
  await shared.close();
  await shared.ping();
  assert.equal(tr.redis.status, 'ready');
});

test('redisCall: connection failures become StoreUnavailableError (cause kept); command errors pass through', async () => {
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });
  const coded = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });
  const unavailable = [
    new Error('Connection is closed.'),
    new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    new Error('Command timed out'),
    named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.'),
    named('AbortError', 'Command aborted due to connection close'),
    coded('ECONNREFUSED'),
    coded('ECONNRESET'),
    new Error('LOADING Redis is loading the dataset in memory'),
    new Error('READONLY You can\'t write against a read only replica.'),
  ];
  for (const err of unavailable) {
    await assert.rejects(
      redisCall(() => Promise.reject(err)),
      (e: unknown) => e instanceof StoreUnavailableError && e.cause === err,
      err.message,
    );
  }

  // A real command error from Redis (a bug, not an outage) is not turned into a 503.
  const key = `${tr.prefix}wrongtype`;
  try {
    await tr.redis.set(key, 'x');
    await assert.rejects(redisCall(() => tr.redis.hget(key, 'f')), (e: unknown) => !(e instanceof StoreUnavailableError) && /WRONGTYPE/.test(String((e as Error).message)));
  } finally {
    await tr.redis.del(key);
  }
  const bug = new TypeError('x is not a function');
  await assert.rejects(redisCall(() => Promise.reject(bug)), (e: unknown) => e === bug);
});
