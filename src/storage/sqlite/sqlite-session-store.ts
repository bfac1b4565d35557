// Embedded adapter for the session port: sessions.db. Its writes are fsynced less often
// (synchronous=NORMAL in WAL mode survives a process crash; only an OS crash may drop the
// last commits) because sessions are short-lived and a lost one only means "start again".
import type { HealthCheck } from '../../ports/durable-store.ts';
import type { NewOtp, NewSession, PendingPassword, Session, SessionStore } from '../../ports/session-store.ts';
import { guard, openDatabase, type Db } from './open.ts';
import { SESSION_MIGRATIONS } from './session-migrations.ts';

type Row = Record<string, unknown>;

export class SqliteSessionStore implements SessionStore, HealthCheck {
  private readonly db: Db;
  private readonly q;

  constructor(file: string) {
    this.db = openDatabase(file, { synchronous: 'NORMAL', migrations: SESSION_MIGRATIONS });
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      insert: p('INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?)'),
      get: p('SELECT data, expires_at, otp_hash, otp_expires_at, otp_sent_at, otp_to, otp_failures, consumed, pending_password FROM sessions WHERE id = ? AND expires_at > ?'),
      claimSend: p('UPDATE sessions SET otp_sent_at = ? WHERE id = ? AND consumed = 0 AND expires_at > ? AND (otp_sent_at IS NULL OR otp_sent_at <= ?)'),
      sentAt: p('SELECT otp_sent_at, consumed, expires_at FROM sessions WHERE id = ?'),
      releaseSend: p('UPDATE sessions SET otp_sent_at = ? WHERE id = ? AND otp_sent_at = ?'),
      setPending: p('UPDATE sessions SET pending_password = ? WHERE id = ? AND consumed = 0 AND expires_at > ?'),
      setOtp: p('UPDATE sessions SET otp_hash = ?, otp_expires_at = ?, otp_sent_at = ?, otp_to = ? WHERE id = ? AND consumed = 0 AND expires_at > ?'),
      fail: p('UPDATE sessions SET otp_failures = otp_failures + 1 WHERE id = ? RETURNING otp_failures'),
      // One guarded UPDATE: SQLite runs it atomically, so of any number of racing callers
      // exactly one sees changes = 1 (Kratos' "used_at IS NULL" pattern).
      consume: p(`UPDATE sessions SET consumed = 1
                  WHERE id = ? AND consumed = 0 AND expires_at > ?
                    AND (? IS NULL OR otp_hash = ?) AND (? IS NULL OR otp_failures < ?)`),
      sweep: p('DELETE FROM sessions WHERE expires_at <= ?'),
      ping: p('SELECT 1 AS ok'),
    };
  }

  create(s: NewSession) {
    return guard(() => void this.q.insert.run(s.id, JSON.stringify(s), s.expiresAt));
  }

  get(id: string, now: number) {
    return guard((): Session | null => {
      const r = this.q.get.get(id, now) as Row | undefined;
      if (!r) return null;
      const base = JSON.parse(String(r.data)) as NewSession;
      return {
        ...base,
        // A password held later (password/forget) replaces the one from token/generate.
        pendingPassword: r.pending_password === null ? base.pendingPassword : (JSON.parse(String(r.pending_password)) as PendingPassword),
        otpHash: (r.otp_hash as string | null) ?? null,
        otpExpiresAt: r.otp_expires_at === null ? null : Number(r.otp_expires_at),
        otpSentAt: r.otp_sent_at === null ? null : Number(r.otp_sent_at),
        otpTo: r.otp_to === null ? null : (JSON.parse(String(r.otp_to)) as Session['otpTo']),
        otpFailures: Number(r.otp_failures),
        consumed: r.consumed === 1,
      };
    });
  }

  setOtp(id: string, otp: NewOtp, now: number) {
    const to = otp.to ? JSON.stringify({ type: otp.to.type, value: otp.to.value }) : null;
    return guard(() => this.q.setOtp.run(otp.hash, otp.expiresAt, otp.sentAt, to, id, now).changes === 1);
  }

  claimSend(id: string, now: number, minGapMs: number) {
    return guard(() =>
      this.db.transaction(() => {
        const before = this.q.sentAt.get(id) as Row | undefined;
        const previous = before?.otp_sent_at === null || before === undefined ? null : Number(before.otp_sent_at);
        if (this.q.claimSend.run(now, id, now, now - minGapMs).changes === 1) return { ok: true as const, previous };
        // Refused: either the cooldown is running or the session is gone (retryAfterMs 0; the caller re-checks).
        const gone = before === undefined || before.consumed === 1 || Number(before.expires_at) <= now;
        return { ok: false as const, retryAfterMs: gone || previous === null ? 0 : Math.max(1, previous + minGapMs - now) };
      })(),
    );
  }

  releaseSend(id: string, claimedAt: number, previous: number | null) {
    return guard(() => void this.q.releaseSend.run(previous, id, claimedAt));
  }

  setPendingPassword(id: string, pending: PendingPassword, now: number) {
    return guard(() => this.q.setPending.run(JSON.stringify(pending), id, now).changes === 1);
  }

  recordOtpFailure(id: string) {
    return guard(() => {
      const r = this.q.fail.get(id) as Row | undefined;
      return r ? Number(r.otp_failures) : Number.MAX_SAFE_INTEGER;
    });
  }

  consume(id: string, g: { now: number; otpHash?: string; maxFailures?: number }) {
    const h = g.otpHash ?? null;
    const m = g.maxFailures ?? null;
    return guard(() => this.q.consume.run(id, g.now, h, h, m, m).changes === 1);
  }

  sweep(now: number) {
    return guard(() => this.q.sweep.run(now).changes);
  }

  ping() {
    return guard(() => void this.q.ping.get());
  }

  async close() {
    this.db.close();
  }
}
