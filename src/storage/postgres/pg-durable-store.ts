// PostgreSQL adapter for the durable ports: brands, users and their identifiers, keys and the
// outbox. Every method is one statement (atomic by itself) or one transaction; every query is
// parameterised, and the hot ones are named (prepared once per connection).
import type pg from 'pg';
import type { BrandConfig, Identifier, IdentifierType } from '../../domain/types.ts';
import {
  IdentifierTakenError,
  type BrandStore,
  type HealthCheck,
  type KeyRecord,
  type KeyStore,
  type OutboxMessage,
  type OutboxStore,
  type RotateOutcome,
  type StoredIdentifier,
  type StoredKey,
  type User,
  type UserStore,
} from '../../ports/durable-store.ts';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { groupCommit } from '../group-commit.ts';
import { pgCall, withTransaction } from './pg-pool.ts';

type Row = Record<string, unknown>;

/** uids are BIGSERIAL: anything that is not a decimal string cannot name a user. */
export const isUid = (uid: string) => /^[0-9]{1,18}$/.test(uid);

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

const KEY_COLUMNS = 'jti, brand, uid, device_id, key_hash, created_at, expires_at, revoked_at, retired_at, successor_sealed';

const Q = {
  getBrand: 'SELECT config FROM brands WHERE name = $1',
  putBrand:
    'INSERT INTO brands (name, config, updated_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at',
  deleteBrand: 'DELETE FROM brands WHERE name = $1',
  listBrands: 'SELECT name, config FROM brands ORDER BY name',
  // One round trip: the user row and its identifiers, found through any one identifier.
  findUser: `SELECT u.uid, u.brand, u.password_hash, u.created_at,
                    json_agg(json_build_object('type', i.type, 'value', i.value, 'verified', i.verified) ORDER BY i.ord) AS identifiers
               FROM identifiers f
               JOIN users u ON u.uid = f.uid
               JOIN identifiers i ON i.uid = u.uid
              WHERE f.brand = $1 AND f.type = $2 AND f.value = $3
              GROUP BY u.uid`,
  // One statement, hence atomic and one round trip: the user row and its identifiers. A taken
  // identifier raises a unique violation (23505) that undoes the user row too. Identifiers
  // are inserted in (type, value) order so two sign-ups sharing several identifiers lock them
  // in the same order (no deadlock); the insert waits for a concurrent uncommitted owner.
  insertUser: `WITH u AS (INSERT INTO users (brand, password_hash, created_at) VALUES ($1, $2, $3) RETURNING uid)
               INSERT INTO identifiers (brand, type, value, uid, verified, ord)
               SELECT $1::text, t.type, t.value, u.uid, t.verified, t.ord
                 FROM u, unnest($4::text[], $5::text[], $6::boolean[]) WITH ORDINALITY AS t(type, value, verified, ord)
                ORDER BY t.type, t.value
               RETURNING uid`,
  // After a unique violation: which of the given identifiers belong to someone.
  takenIdentifiers: `SELECT type, value FROM identifiers
                      WHERE brand = $1 AND (type, value) IN (SELECT * FROM unnest($2::text[], $3::text[]))`,
  // One statement, hence atomic: the password (when given) and the verified flags.
  updateUser: `WITH pw AS (
                 UPDATE users SET password_hash = $3 WHERE $3::text IS NOT NULL AND uid = $1 AND brand = $2 RETURNING uid
               )
               UPDATE identifiers SET verified = TRUE
                WHERE uid = $1 AND brand = $2 AND (type, value) IN (SELECT * FROM unnest($4::text[], $5::text[]))`,
  deleteUser: 'DELETE FROM users WHERE uid = $1 AND brand = $2',
  // Several keys per statement when logins overlap (group commit, like audit and outbox).
  saveKeys: `INSERT INTO keys (jti, brand, uid, device_id, key_hash, created_at, expires_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])`,
  findKey: `SELECT ${KEY_COLUMNS} FROM keys WHERE key_hash = $1`,
  // The guarded UPDATE decides the race (a concurrent rotation waits on the row lock, then
  // re-checks the guard and matches nothing); the successor is inserted only by the winner,
  // in the same statement, so both effects commit together or not at all.
  rotateKey: `WITH retired AS (
                UPDATE keys SET retired_at = $2::bigint, successor_sealed = $3::text
                 WHERE key_hash = $1 AND retired_at IS NULL AND revoked_at IS NULL
                RETURNING jti
              )
              INSERT INTO keys (jti, brand, uid, device_id, key_hash, created_at, expires_at)
              SELECT $4::text, $5::text, $6::bigint, $7::text, $8::text, $9::bigint, $10::bigint FROM retired
              RETURNING jti`,
  revokeDevice: 'UPDATE keys SET revoked_at = $1 WHERE brand = $2 AND uid = $3 AND device_id = $4 AND revoked_at IS NULL',
  revokeOthers: 'UPDATE keys SET revoked_at = $1 WHERE brand = $2 AND uid = $3 AND device_id <> $4 AND revoked_at IS NULL',
  revokeAll: 'UPDATE keys SET revoked_at = $1 WHERE brand = $2 AND uid = $3 AND revoked_at IS NULL',
  // Several messages in one statement (group commit): one array per column.
  appendOutbox: `INSERT INTO outbox (brand, identifier, channel, dest, text, otp, created_at)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[])`,
  ping: 'SELECT 1 AS ok',
} as const;

type QueryName = keyof typeof Q;

/** A named (prepared) query config. */
export const durableQuery = (name: QueryName, values: unknown[]): pg.QueryConfig => ({ name: `ae_durable_${name}`, text: Q[name], values });

const toUser = (r: Row): User => ({
  uid: String(r.uid),
  brand: String(r.brand),
  identifiers: (r.identifiers as Array<{ type: string; value: string; verified: boolean }>).map((i) => ({
    type: i.type as IdentifierType,
    value: i.value,
    verified: i.verified === true,
  })),
  passwordHash: (r.password_hash as string | null) ?? null,
  createdAt: Number(r.created_at),
});

const keyParams = (k: KeyRecord) => [k.jti, k.brand, k.uid, k.deviceId, k.keyHash, k.createdAt, k.expiresAt];

export interface PgStoreOptions {
  /** End the pool on close(). Default false: the composition root owns and closes the pool. */
  ownsPool?: boolean;
}

export class PgDurableStore implements BrandStore, UserStore, KeyStore, OutboxStore, HealthCheck {
  constructor(
    readonly pool: pg.Pool,
    private readonly opts: PgStoreOptions = {},
  ) {}

  private async query(name: QueryName, values: unknown[] = []): Promise<pg.QueryResult<Row>> {
    return this.pool.query<Row>(durableQuery(name, values));
  }

  getBrand(name: string) {
    return pgCall(async () => {
      const r = await this.query('getBrand', [name]);
      return r.rows.length ? (JSON.parse(String(r.rows[0].config)) as BrandConfig) : null;
    });
  }

  putBrand(name: string, config: BrandConfig, now: number) {
    return pgCall(async () => void (await this.query('putBrand', [name, JSON.stringify(config), now])));
  }

  deleteBrand(name: string) {
    return pgCall(async () => ((await this.query('deleteBrand', [name])).rowCount ?? 0) > 0);
  }

  listBrands() {
    return pgCall(async () => (await this.query('listBrands')).rows.map((r) => ({ name: String(r.name), config: JSON.parse(String(r.config)) as BrandConfig })));
  }

  findUser(brand: string, id: Identifier) {
    return pgCall(async () => {
      const r = await this.query('findUser', [brand, id.type, id.value]);
      return r.rows.length ? toUser(r.rows[0]) : null;
    });
  }

  createUser(brand: string, identifiers: StoredIdentifier[], passwordHash: string | null, now: number) {
    return pgCall(async (): Promise<User> => {
      const keys = identifiers.map((i) => `${i.type}|${i.value}`);
      const dup = identifiers.find((_, n) => keys.indexOf(keys[n]) !== n);
      if (dup) throw new IdentifierTakenError({ type: dup.type, value: dup.value });
      const types = identifiers.map((i) => i.type);
      const values = identifiers.map((i) => i.value);
      let uid: string;
      try {
        const r = await this.query('insertUser', [brand, passwordHash, now, types, values, identifiers.map((i) => i.verified)]);
        uid = String(r.rows[0].uid);
      } catch (err) {
        if ((err as { code?: unknown }).code !== '23505') throw err;
        // Name the first given identifier that is taken (the statement wrote nothing).
        const taken = new Set((await this.query('takenIdentifiers', [brand, types, values])).rows.map((r) => `${String(r.type)}|${String(r.value)}`));
        const first = identifiers.find((_, n) => taken.has(keys[n])) ?? identifiers[0];
        throw new IdentifierTakenError({ type: first.type, value: first.value });
      }
      return {
        uid,
        brand,
        identifiers: identifiers.map((i) => ({ type: i.type, value: i.value, verified: i.verified })),
        passwordHash,
        createdAt: now,
      };
    });
  }

  updateUser(brand: string, uid: string, change: { passwordHash?: string; verify?: Identifier[] }) {
    return pgCall(async () => {
      if (!isUid(uid)) return;
      const verify = change.verify ?? [];
      await this.query('updateUser', [uid, brand, change.passwordHash ?? null, verify.map((i) => i.type), verify.map((i) => i.value)]);
    });
  }

  deleteUser(brand: string, uid: string) {
    // Identifiers and keys go with the user (ON DELETE CASCADE), in the same statement.
    return pgCall(async () => isUid(uid) && ((await this.query('deleteUser', [uid, brand])).rowCount ?? 0) > 0);
  }

  saveKey(k: KeyRecord) {
    // Settles when this key's row is committed (a batch's bad row fails alone: group-commit.ts).
    return this.keyBatch(k);
  }

  private readonly keyBatch = this.appendBatch<KeyRecord>('saveKeys', ['jti', 'brand', 'uid', 'deviceId', 'keyHash', 'createdAt', 'expiresAt']);

  /**
   * Group commit of one kind of row (group-commit.ts): the rows of a batch go in one INSERT …
   * SELECT FROM unnest(…) statement, one array parameter per column, in this order.
   */
  private appendBatch<T>(name: QueryName, columns: Array<keyof T>) {
    return groupCommit<T>(
      (rows) => pgCall(async () => void (await this.query(name, columns.map((c) => rows.map((r) => r[c]))))),
      { isFatal: (err) => err instanceof StoreUnavailableError },
    );
  }

  findKeyByHash(keyHash: string) {
    return pgCall(async (): Promise<StoredKey | null> => {
      const r = (await this.query('findKey', [keyHash])).rows[0];
      if (!r) return null;
      return {
        jti: String(r.jti),
        brand: String(r.brand),
        uid: String(r.uid),
        deviceId: String(r.device_id),
        keyHash: String(r.key_hash),
        createdAt: Number(r.created_at),
        expiresAt: num(r.expires_at),
        revokedAt: num(r.revoked_at),
        retiredAt: num(r.retired_at),
        successorSealed: (r.successor_sealed as string | null) ?? null,
      };
    });
  }

  rotateKey(oldHash: string, next: KeyRecord, successorSealed: string, now: number) {
    return pgCall(async (): Promise<RotateOutcome> => {
      const r = await this.query('rotateKey', [oldHash, now, successorSealed, ...keyParams(next)]);
      return r.rows.length === 1 ? 'rotated' : 'lost';
    });
  }

  revokeKeys(brand: string, uid: string, scope: { deviceId?: string; exceptDeviceId?: string }, now: number) {
    return pgCall(async () => {
      if (!isUid(uid)) return 0;
      const r =
        scope.deviceId !== undefined
          ? await this.query('revokeDevice', [now, brand, uid, scope.deviceId])
          : scope.exceptDeviceId !== undefined
            ? await this.query('revokeOthers', [now, brand, uid, scope.exceptDeviceId])
            : await this.query('revokeAll', [now, brand, uid]);
      return r.rowCount ?? 0;
    });
  }

  appendOutbox(m: OutboxMessage) {
    return this.outboxBatch(m);
  }

  private readonly outboxBatch = this.appendBatch<OutboxMessage>('appendOutbox', ['brand', 'identifier', 'channel', 'to', 'text', 'otp', 'createdAt']);

  listOutbox(filter: { brand?: string; identifier?: string; to?: string; limit: number }) {
    return pgCall(async () => {
      const where: string[] = [];
      const values: unknown[] = [];
      const arg = (v: unknown) => {
        values.push(v);
        return `$${values.length}`;
      };
      if (filter.brand !== undefined) where.push(`brand = ${arg(filter.brand)}`);
      if (filter.identifier !== undefined) {
        where.push(filter.to !== undefined ? `(identifier = ${arg(filter.identifier)} OR dest = ${arg(filter.to)})` : `identifier = ${arg(filter.identifier)}`);
      } else if (filter.to !== undefined) {
        where.push(`dest = ${arg(filter.to)}`);
      }
      const text = `SELECT brand, identifier, channel, dest, text, otp, created_at FROM outbox ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ${arg(filter.limit)}`;
      // One prepared statement per filter shape (at most eight).
      const shape = `${filter.brand !== undefined ? 'b' : ''}${filter.identifier !== undefined ? 'i' : ''}${filter.to !== undefined ? 't' : ''}`;
      const r = await this.pool.query<Row>({ name: `ae_durable_listOutbox_${shape || 'all'}`, text, values });
      return r.rows.map((row) => ({
        brand: String(row.brand),
        identifier: String(row.identifier),
        channel: String(row.channel),
        to: String(row.dest),
        text: String(row.text),
        otp: String(row.otp),
        createdAt: Number(row.created_at),
      }));
    });
  }

  ping() {
    return pgCall(async () => void (await this.query('ping')));
  }

  /** Ends the pool only when this store owns it (PgStoreOptions.ownsPool); otherwise a no-op. */
  async close() {
    if (this.opts.ownsPool) await this.pool.end();
  }
}
