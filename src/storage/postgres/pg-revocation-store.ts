// PostgreSQL adapter for token revocation and the audit log. Revocations are durable state:
// a revoked token must stay revoked across restarts and on every instance.
import type pg from 'pg';
import type { AuditEvent, AuditStore, RevocationStore, UserMark } from '../../ports/durable-store.ts';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { groupCommit } from '../group-commit.ts';
import { pgCall } from './pg-pool.ts';
import { isUid, type PgStoreOptions } from './pg-durable-store.ts';

type Row = Record<string, unknown>;

const AUDIT_COLUMNS = 'brand, type, identifier, device_id, ip, at, detail';

const Q = {
  revoke: 'INSERT INTO revoked_tokens (jti, brand, expires_at) VALUES ($1, $2, $3) ON CONFLICT (jti) DO NOTHING',
  isRevoked: 'SELECT 1 AS r FROM revoked_tokens WHERE jti = $1',
  // Inserts the mark and, in the same statement, drops the marks it makes redundant (same
  // scope and earlier, or every earlier one when the new mark spares nothing on no device).
  addMark: `WITH added AS (
      INSERT INTO user_marks (brand, uid, not_before, except_device, except_jti, only_device)
      VALUES ($1, $2, $3, $4, $5, $6) RETURNING id)
    DELETE FROM user_marks m USING added
    WHERE m.brand = $1 AND m.uid = $2 AND m.not_before <= $3 AND m.id <> added.id
      AND (($4::text IS NULL AND $5::text IS NULL AND $6::text IS NULL)
           OR (m.except_device IS NOT DISTINCT FROM $4::text AND m.except_jti IS NOT DISTINCT FROM $5::text AND m.only_device IS NOT DISTINCT FROM $6::text))`,
  getMarks: 'SELECT not_before, except_device, except_jti, only_device FROM user_marks WHERE brand = $1 AND uid = $2 ORDER BY id',
  // isRevoked and getMarks in one statement ($3 NULL: a token without a user).
  state: `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1) AS revoked,
                 (SELECT json_agg(json_build_object('notBefore', not_before, 'exceptDevice', except_device,
                                                    'exceptJti', except_jti, 'onlyDevice', only_device) ORDER BY id)
                    FROM user_marks WHERE $3::bigint IS NOT NULL AND brand = $2 AND uid = $3::bigint) AS marks`,
  // Several events in one statement (group commit): one array per column.
  audit: `INSERT INTO audit (${AUDIT_COLUMNS})
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::jsonb[])`,
  auditByBrand: `SELECT ${AUDIT_COLUMNS} FROM audit WHERE brand = $1 ORDER BY id DESC LIMIT $2`,
  auditAll: `SELECT ${AUDIT_COLUMNS} FROM audit ORDER BY id DESC LIMIT $1`,
} as const;

type QueryName = keyof typeof Q;
export const revocationQuery = (name: QueryName, values: unknown[]): pg.QueryConfig => ({ name: `ae_revocation_${name}`, text: Q[name], values });

export class PgRevocationStore implements RevocationStore, AuditStore {
  constructor(
    readonly pool: pg.Pool,
    private readonly opts: PgStoreOptions = {},
  ) {}

  // Every flow writes audit events: under load they share statements (group-commit.ts).
  private readonly auditBatch = groupCommit<AuditEvent>(
    (events) =>
      pgCall(async () => {
        const col = <K extends keyof AuditEvent>(k: K) => events.map((e) => e[k]);
        await this.query('audit', [col('brand'), col('type'), col('identifier'), col('deviceId'), col('ip'), col('at'), events.map((e) => JSON.stringify(e.detail))]);
      }),
    { isFatal: (err) => err instanceof StoreUnavailableError },
  );

  private query(name: QueryName, values: unknown[]) {
    return this.pool.query<Row>(revocationQuery(name, values));
  }

  revokeJti(jti: string, brand: string, expiresAt: number) {
    return pgCall(async () => void (await this.query('revoke', [jti, brand, expiresAt])));
  }

  isJtiRevoked(jti: string) {
    return pgCall(async () => (await this.query('isRevoked', [jti])).rows.length > 0);
  }

  addUserMark(brand: string, uid: string, m: UserMark) {
    return pgCall(async () => {
      if (!isUid(uid)) throw new TypeError(`not a uid: ${JSON.stringify(uid)}`);
      await this.query('addMark', [brand, uid, m.notBefore, m.exceptDevice, m.exceptJti, m.onlyDevice]);
    });
  }

  revocationState(jti: string, brand: string, uid: string | null) {
    return pgCall(async () => {
      const r = (await this.query('state', [jti, brand, uid !== null && isUid(uid) ? uid : null])).rows[0];
      const marks = ((r.marks as UserMark[] | null) ?? []).map((m) => ({ ...m, notBefore: Number(m.notBefore) }));
      return { jtiRevoked: r.revoked === true, marks };
    });
  }

  getUserMarks(brand: string, uid: string) {
    return pgCall(async (): Promise<UserMark[]> => {
      if (!isUid(uid)) return [];
      return (await this.query('getMarks', [brand, uid])).rows.map((r) => ({
        notBefore: Number(r.not_before),
        exceptDevice: (r.except_device as string | null) ?? null,
        exceptJti: (r.except_jti as string | null) ?? null,
        onlyDevice: (r.only_device as string | null) ?? null,
      }));
    });
  }

  appendAudit(e: AuditEvent) {
    return this.auditBatch(e);
  }

  listAudit(filter: { brand?: string; limit: number }) {
    return pgCall(async () => {
      const r = filter.brand !== undefined ? await this.query('auditByBrand', [filter.brand, filter.limit]) : await this.query('auditAll', [filter.limit]);
      return r.rows.map(
        (row): AuditEvent => ({
          type: String(row.type),
          brand: String(row.brand),
          identifier: (row.identifier as string | null) ?? null,
          deviceId: (row.device_id as string | null) ?? null,
          ip: (row.ip as string | null) ?? null,
          at: Number(row.at),
          detail: row.detail as Record<string, unknown>,
        }),
      );
    });
  }

  /** Ends the pool only when this store owns it; otherwise a no-op. */
  async close() {
    if (this.opts.ownsPool) await this.pool.end();
  }
}
