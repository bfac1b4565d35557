// Production adapter for the session port: one Redis hash per session.
//
//   ${prefix}s:<id>            hash  d                 JSON of the immutable NewSession
//                                    expires_at        ms epoch (the session's expiresAt)
//                                    otp_hash, otp_expires_at, otp_sent_at   (absent = null)
//                                    otp_failures      integer
//                                    consumed          0 | 1
//                                    pending_password  JSON (absent = the one in d)
//   ${prefix}sessions:expiry   zset  id → expiresAt, the index sweep() walks
//
// Expiry is judged by the caller's clock (`now`), like the SQLite adapter; the key's own TTL
// only makes Redis drop it by itself afterwards, so a missed sweep never leaves garbage. The
// TTL is relative (PEXPIRE lifetime + grace, counted by Redis from creation) rather than
// PEXPIREAT expiresAt, so a gap between the instances' clocks and Redis's clock can never
// make Redis drop a session the service still considers live.
//
// Every read-modify-write is one Lua script (ioredis defineCommand → EVALSHA, EVAL on
// NOSCRIPT) that touches exactly ONE key, the session's hash: Redis runs a script atomically,
// and a single-key script is valid on Redis Cluster as is. The expiry index is a separate key
// written by separate commands; nothing security-relevant depends on it (it only serves sweep).
import type { Redis } from 'ioredis';
import type { HealthCheck } from '../../ports/durable-store.ts';
import type { NewOtp, NewSession, PendingPassword, Session, SessionStore } from '../../ports/session-store.ts';
import { redisCall } from './redis-client.ts';

/** Redis keeps a session this long past its lifetime before dropping it by itself. */
const TTL_GRACE_MS = 10 * 60_000;
const SWEEP_BATCH = 500;

/** "Live" = exists, not consumed, and the caller's clock is before expires_at. */
const LIVE = `
local function live(key, now)
  local v = redis.call('HMGET', key, 'expires_at', 'consumed')
  return v[1] and v[2] == '0' and tonumber(v[1]) > tonumber(now)
end
`;

const SCRIPTS = {
  // KEYS[1] session; ARGV data, expires_at, ttl_ms → 1 created, 0 the id exists already.
  aeSessionCreate: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'expires_at', ARGV[2], 'otp_failures', '0', 'consumed', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`,

  // KEYS[1] session; ARGV now, hash, otp_expires_at, sent_at, to ('' = none) → 1 stored, 0 not live.
  aeSessionSetOtp: `${LIVE}
if not live(KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'otp_hash', ARGV[2], 'otp_expires_at', ARGV[3], 'otp_sent_at', ARGV[4])
if ARGV[5] == '' then redis.call('HDEL', KEYS[1], 'otp_to') else redis.call('HSET', KEYS[1], 'otp_to', ARGV[5]) end
return 1`,

  // KEYS[1] session → the new count, or -1 when the session is gone (never creates the key).
  aeSessionFail: `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'otp_failures', 1)`,

  // KEYS[1] session; ARGV now, has_hash, hash, has_max, max → 1 consumed by this call, else 0.
  aeSessionConsume: `
local v = redis.call('HMGET', KEYS[1], 'expires_at', 'consumed', 'otp_hash', 'otp_failures')
if not v[1] or v[2] ~= '0' or tonumber(v[1]) <= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '1' and v[3] ~= ARGV[3] then return 0 end
if ARGV[4] == '1' and tonumber(v[4]) >= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'consumed', '1')
return 1`,

  // KEYS[1] session; ARGV now, min_gap_ms →
  //   {1, previous otp_sent_at or ''}  claimed (otp_sent_at := now)
  //   {0, previous}                    cooling down (nothing written)
  //   {-1, ''}                         unknown, consumed or expired (nothing written)
  aeSessionClaimSend: `
local v = redis.call('HMGET', KEYS[1], 'expires_at', 'consumed', 'otp_sent_at')
local now = tonumber(ARGV[1])
if not v[1] or v[2] ~= '0' or tonumber(v[1]) <= now then return {-1, ''} end
local prev = v[3] or ''
if v[3] and tonumber(v[3]) > now - tonumber(ARGV[2]) then return {0, prev} end
redis.call('HSET', KEYS[1], 'otp_sent_at', ARGV[1])
return {1, prev}`,

  // KEYS[1] session; ARGV claimed_at, previous ('' = none) → restores only if the claim is still the last.
  aeSessionReleaseSend: `
local cur = redis.call('HGET', KEYS[1], 'otp_sent_at')
if not cur or tonumber(cur) ~= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '' then redis.call('HDEL', KEYS[1], 'otp_sent_at') else redis.call('HSET', KEYS[1], 'otp_sent_at', ARGV[2]) end
return 1`,

  // KEYS[1] session; ARGV now, pending JSON → 1 stored, 0 not live.
  aeSessionSetPending: `${LIVE}
if not live(KEYS[1], ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'pending_password', ARGV[2])
return 1`,

  // KEYS[1] session; ARGV now → 1 deleted (it was past expiry), 0 otherwise.
  aeSessionSweepOne: `
local e = redis.call('HGET', KEYS[1], 'expires_at')
if e and tonumber(e) <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 1 end
return 0`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type Arg = string | number;
type Scripted = Redis & { [K in ScriptName]: (key: string, ...args: Arg[]) => Promise<unknown> };

const defined = new WeakSet<Redis>();

function withScripts(redis: Redis): Scripted {
  if (!defined.has(redis)) {
    for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua });
    defined.add(redis);
  }
  return redis as Scripted;
}

const num = (v: string | undefined): number | null => (v === undefined || v === '' ? null : Number(v));

export class RedisSessionStore implements SessionStore, HealthCheck {
  private readonly redis: Scripted;
  private readonly prefix: string;
  private readonly ownsClient: boolean;

  /**
   * @param prefix every key this store writes starts with it (several deployments can share one Redis).
   * @param opts.ownsClient close() quits the client only when true (default false: the caller shares it).
   */
  constructor(redis: Redis, prefix: string, opts: { ownsClient?: boolean } = {}) {
    this.redis = withScripts(redis);
    this.prefix = prefix;
    this.ownsClient = opts.ownsClient ?? false;
  }

  private key(id: string) {
    return `${this.prefix}s:${id}`;
  }

  private get indexKey() {
    return `${this.prefix}sessions:expiry`;
  }

  async create(s: NewSession): Promise<void> {
    const ttl = Math.max(1_000, s.expiresAt - s.createdAt) + TTL_GRACE_MS;
    // Both commands leave in one write and one round trip (auto-pipelining): the index entry
    // only serves sweep(), and an entry whose session was never created is skipped by it.
    const [created] = await Promise.all([
      redisCall(() => this.redis.aeSessionCreate(this.key(s.id), JSON.stringify(s), String(s.expiresAt), String(ttl))),
      redisCall(() => this.redis.zadd(this.indexKey, s.expiresAt, s.id)),
    ]);
    if (Number(created) !== 1) throw new Error(`session ${s.id} already exists`);
  }

  async get(id: string, now: number): Promise<Session | null> {
    const h = await redisCall(() => this.redis.hgetall(this.key(id)));
    if (h.d === undefined || h.expires_at === undefined || Number(h.expires_at) <= now) return null;
    const base = JSON.parse(h.d) as NewSession;
    return {
      ...base,
      // A password held later (password/forget) replaces the one from token/generate.
      pendingPassword: h.pending_password === undefined ? base.pendingPassword : (JSON.parse(h.pending_password) as PendingPassword),
      otpHash: h.otp_hash ?? null,
      otpExpiresAt: num(h.otp_expires_at),
      otpSentAt: num(h.otp_sent_at),
      otpTo: h.otp_to === undefined ? null : (JSON.parse(h.otp_to) as Session['otpTo']),
      otpFailures: Number(h.otp_failures ?? 0),
      consumed: h.consumed === '1',
    };
  }

  async setOtp(id: string, otp: NewOtp, now: number): Promise<boolean> {
    const to = otp.to ? JSON.stringify({ type: otp.to.type, value: otp.to.value }) : '';
    const r = await redisCall(() => this.redis.aeSessionSetOtp(this.key(id), String(now), otp.hash, String(otp.expiresAt), String(otp.sentAt), to));
    return Number(r) === 1;
  }

  async claimSend(id: string, now: number, minGapMs: number): Promise<{ ok: true; previous: number | null } | { ok: false; retryAfterMs: number }> {
    const r = (await redisCall(() => this.redis.aeSessionClaimSend(this.key(id), String(now), String(minGapMs)))) as [number, string];
    const status = Number(r[0]);
    const previous = num(r[1]);
    if (status === 1) return { ok: true, previous };
    // The session is over (unknown, consumed, expired): not a cooldown, so nothing to wait for.
    if (status < 0 || previous === null) return { ok: false, retryAfterMs: 0 };
    return { ok: false, retryAfterMs: Math.max(1, previous + minGapMs - now) };
  }

  async releaseSend(id: string, claimedAt: number, previous: number | null): Promise<void> {
    await redisCall(() => this.redis.aeSessionReleaseSend(this.key(id), String(claimedAt), previous === null ? '' : String(previous)));
  }

  async setPendingPassword(id: string, pending: PendingPassword, now: number): Promise<boolean> {
    const r = await redisCall(() => this.redis.aeSessionSetPending(this.key(id), String(now), JSON.stringify(pending)));
    return Number(r) === 1;
  }

  async recordOtpFailure(id: string): Promise<number> {
    const r = Number(await redisCall(() => this.redis.aeSessionFail(this.key(id))));
    // A vanished session counts as "over any budget", as in the SQLite adapter.
    return r < 0 ? Number.MAX_SAFE_INTEGER : r;
  }

  async consume(id: string, g: { now: number; otpHash?: string; maxFailures?: number }): Promise<boolean> {
    const r = await redisCall(() =>
      this.redis.aeSessionConsume(
        this.key(id),
        String(g.now),
        g.otpHash === undefined ? '0' : '1',
        g.otpHash ?? '',
        g.maxFailures === undefined ? '0' : '1',
        String(g.maxFailures ?? 0),
      ),
    );
    return Number(r) === 1;
  }

  /**
   * Deletes the sessions whose expiresAt ≤ now, found through the expiry index (each delete
   * re-checks expires_at in a one-key script). Sessions Redis already dropped by TTL are not
   * counted. Safe to run from several instances at once.
   */
  async sweep(now: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await redisCall(() => this.redis.zrangebyscore(this.indexKey, '-inf', now, 'LIMIT', 0, SWEEP_BATCH));
      if (ids.length === 0) return removed;
      const done = await redisCall(() => Promise.all(ids.map((id) => this.redis.aeSessionSweepOne(this.key(id), String(now)))));
      removed += done.reduce<number>((n, r) => n + Number(r), 0);
      await redisCall(() => this.redis.zrem(this.indexKey, ...ids));
      if (ids.length < SWEEP_BATCH) return removed;
    }
  }

  async ping(): Promise<void> {
    await redisCall(() => this.redis.ping());
  }

  async close(): Promise<void> {
    if (!this.ownsClient || this.redis.status === 'end') return;
    if (this.redis.status === 'reconnecting' || this.redis.status === 'wait') {
      this.redis.disconnect(); // no socket: just cancel the pending reconnect
      return;
    }
    const ended = new Promise<void>((resolve) => this.redis.once('end', () => resolve()));
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect(); // not connected right now: stop reconnecting instead
    }
    // Wait for the socket to be gone, but never hang shutdown on it.
    let timer: NodeJS.Timeout | undefined;
    const capped = new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000)));
    // (status changed under quit(); TypeScript still holds the narrowing from above)
    if ((this.redis.status as string) !== 'end') await Promise.race([ended, capped]);
    clearTimeout(timer);
  }
}
