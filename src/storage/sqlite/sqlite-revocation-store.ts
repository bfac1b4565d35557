// Embedded adapter for token revocation and the audit log, in auth.db (revocations must
// survive restarts: Keycloak #31296 is the counter-example).
import type { AuditEvent, AuditStore, RevocationStore, UserMark } from '../../ports/durable-store.ts';
import { guard, write, writeBatched, type Db } from './open.ts';

type Row = Record<string, unknown>;

export class SqliteRevocationStore implements RevocationStore, AuditStore {
  private readonly q;

  constructor(private readonly db: Db) {
    const p = (sql: string) => db.prepare(sql);
    this.q = {
      revoke: p('INSERT INTO revoked_tokens (jti, brand, expires_at) VALUES (?, ?, ?) ON CONFLICT(jti) DO NOTHING'),
      isRevoked: p('SELECT 1 AS r FROM revoked_tokens WHERE jti = ?'),
      addMark: p('INSERT INTO user_marks (brand, uid, not_before, except_device, except_jti, only_device) VALUES (?, ?, ?, ?, ?, ?)'),
      // Drops marks the new one makes redundant (see the port): same scope and earlier, or
      // any earlier one when the new mark spares nothing and covers every device.
      pruneMarks: p(`DELETE FROM user_marks WHERE brand = ? AND uid = ? AND not_before <= ? AND id <> ?
                     AND ((? IS NULL AND ? IS NULL AND ? IS NULL)
                          OR (except_device IS ? AND except_jti IS ? AND only_device IS ?))`),
      getMarks: p('SELECT not_before, except_device, except_jti, only_device FROM user_marks WHERE brand = ? AND uid = ? ORDER BY id'),
      audit: p('INSERT INTO audit (brand, type, identifier, device_id, ip, at, detail) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      auditByBrand: p('SELECT brand, type, identifier, device_id, ip, at, detail FROM audit WHERE brand = ? ORDER BY id DESC LIMIT ?'),
      auditAll: p('SELECT brand, type, identifier, device_id, ip, at, detail FROM audit ORDER BY id DESC LIMIT ?'),
    };
  }

  revokeJti(jti: string, brand: string, expiresAt: number) {
    return write(this.db, () => this.revokeJtiSync(jti, brand, expiresAt));
  }

  /** Synchronous forms, for SqliteCredentialStore's single transaction. */
  revokeJtiSync(jti: string, brand: string, expiresAt: number): void {
    this.q.revoke.run(jti, brand, expiresAt);
  }

  isJtiRevoked(jti: string) {
    return guard(() => this.q.isRevoked.get(jti) !== undefined);
  }

  addUserMark(brand: string, uid: string, m: UserMark) {
    return write(this.db, () => this.db.transaction(() => this.addUserMarkSync(brand, uid, m))());
  }

  addUserMarkSync(brand: string, uid: string, m: UserMark): void {
    const id = this.q.addMark.run(brand, Number(uid), m.notBefore, m.exceptDevice, m.exceptJti, m.onlyDevice).lastInsertRowid;
    const scope = [m.exceptDevice, m.exceptJti, m.onlyDevice];
    this.q.pruneMarks.run(brand, Number(uid), m.notBefore, id, ...scope, ...scope);
  }

  async revocationState(jti: string, brand: string, uid: string | null) {
    // Local reads: two statements cost no round trip here.
    const jtiRevoked = await this.isJtiRevoked(jti);
    return { jtiRevoked, marks: uid === null ? [] : await this.getUserMarks(brand, uid) };
  }

  getUserMarks(brand: string, uid: string) {
    return guard(() =>
      (this.q.getMarks.all(brand, Number(uid)) as Row[]).map(
        (r): UserMark => ({
          notBefore: Number(r.not_before),
          exceptDevice: (r.except_device as string | null) ?? null,
          exceptJti: (r.except_jti as string | null) ?? null,
          onlyDevice: (r.only_device as string | null) ?? null,
        }),
      ),
    );
  }

  appendAudit(e: AuditEvent) {
    // Committed with the other appends of this event-loop turn (open.ts writeBatched).
    return writeBatched(this.db, () => this.appendAuditSync(e));
  }



  appendAuditSync(e: AuditEvent): void {
    this.q.audit.run(e.brand, e.type, e.identifier, e.deviceId, e.ip, e.at, JSON.stringify(e.detail));
  }

  listAudit(filter: { brand?: string; limit: number }) {
    return guard(() => {
      const rows = (filter.brand !== undefined ? this.q.auditByBrand.all(filter.brand, filter.limit) : this.q.auditAll.all(filter.limit)) as Row[];
      return rows.map(
        (r): AuditEvent => ({
          type: String(r.type),
          brand: String(r.brand),
          identifier: (r.identifier as string | null) ?? null,
          deviceId: (r.device_id as string | null) ?? null,
          ip: (r.ip as string | null) ?? null,
          at: Number(r.at),
          detail: JSON.parse(String(r.detail)) as Record<string, unknown>,
        }),
      );
    });
  }
}
