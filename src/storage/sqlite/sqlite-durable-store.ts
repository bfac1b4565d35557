// Embedded adapter for the durable ports: brands, users, keys and the outbox in auth.db.
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
import { DURABLE_MIGRATIONS } from './durable-migrations.ts';
import { closeDatabase, guard, isConstraint, openDatabase, syncFailure, write, writeBatched, type Db } from './open.ts';
import type { FsyncFn } from './wal-sync.ts';

type Row = Record<string, unknown>;

/**
 * auth.db in WAL mode. FULL (default): an acknowledged sign-up, password or key survives power
 * loss, not only a crash: every write settles after its commit is on disk (wal-sync.ts).
 * NORMAL (AUTH_SQLITE_SYNC) survives a process crash but may lose the last commits on an OS
 * crash or power loss.
 */
export const openAuthDb = (file: string, synchronous: 'FULL' | 'NORMAL' = 'FULL', fsync?: FsyncFn): Db =>
  openDatabase(file, { synchronous, migrations: DURABLE_MIGRATIONS, fsync });

const KEY_COLUMNS = 'jti, brand, uid, device_id, key_hash, created_at, expires_at, revoked_at, retired_at, successor_sealed';

export class SqliteDurableStore implements BrandStore, UserStore, KeyStore, OutboxStore, HealthCheck {
  readonly db: Db;
  private readonly q;
  private readonly outboxQueries = new Map<string, ReturnType<typeof this.db.prepare<unknown[]>>>();

  constructor(fileOrDb: string | Db) {
    this.db = typeof fileOrDb === 'string' ? openAuthDb(fileOrDb) : fileOrDb;
    const p = (sql: string) => this.db.prepare(sql);
    this.q = {
      getBrand: p('SELECT config FROM brands WHERE name = ?'),
      putBrand: p('INSERT INTO brands (name, config, updated_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at'),
      deleteBrand: p('DELETE FROM brands WHERE name = ?'),
      listBrands: p('SELECT name, config FROM brands ORDER BY name'),
      // The user of an identifier with all its identifiers, one row each, in one statement
      // (each statement is a native call on the event loop).
      findUser: p(`SELECT u.uid, u.brand, u.password_hash, u.created_at, i.type, i.value, i.verified
                     FROM identifiers f JOIN users u ON u.uid = f.uid JOIN identifiers i ON i.uid = u.uid
                    WHERE f.brand = ? AND f.type = ? AND f.value = ? ORDER BY i.rowid`),
      insertUser: p('INSERT INTO users (brand, password_hash, created_at) VALUES (?, ?, ?)'),
      insertIdentifier: p('INSERT INTO identifiers (brand, type, value, uid, verified) VALUES (?, ?, ?, ?, ?)'),
      setPassword: p('UPDATE users SET password_hash = ? WHERE uid = ? AND brand = ?'),
      verifyIdentifier: p('UPDATE identifiers SET verified = 1 WHERE brand = ? AND type = ? AND value = ? AND uid = ?'),
      saveKey: p('INSERT INTO keys (jti, brand, uid, device_id, key_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      findKey: p(`SELECT ${KEY_COLUMNS} FROM keys WHERE key_hash = ?`),
      retireKey: p('UPDATE keys SET retired_at = ?, successor_sealed = ? WHERE key_hash = ? AND retired_at IS NULL AND revoked_at IS NULL'),
      revokeDevice: p('UPDATE keys SET revoked_at = ? WHERE brand = ? AND uid = ? AND device_id = ? AND revoked_at IS NULL'),
      revokeOthers: p('UPDATE keys SET revoked_at = ? WHERE brand = ? AND uid = ? AND device_id <> ? AND revoked_at IS NULL'),
      revokeAll: p('UPDATE keys SET revoked_at = ? WHERE brand = ? AND uid = ? AND revoked_at IS NULL'),
      deleteUser: p('DELETE FROM users WHERE uid = ? AND brand = ?'),
      appendOutbox: p('INSERT INTO outbox (brand, identifier, channel, dest, text, otp, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      ping: p('SELECT 1 AS ok'),
    };
  }

  getBrand(name: string) {
    return guard(() => {
      const row = this.q.getBrand.get(name) as Row | undefined;
      return row ? (JSON.parse(String(row.config)) as BrandConfig) : null;
    });
  }

  putBrand(name: string, config: BrandConfig, now: number) {
    return write(this.db, () => void this.q.putBrand.run(name, JSON.stringify(config), now));
  }

  deleteBrand(name: string) {
    return write(this.db, () => this.q.deleteBrand.run(name).changes > 0);
  }

  listBrands() {
    return guard(() => (this.q.listBrands.all() as Row[]).map((r) => ({ name: String(r.name), config: JSON.parse(String(r.config)) as BrandConfig })));
  }

  findUser(brand: string, id: Identifier) {
    return guard((): User | null => {
      const rows = this.q.findUser.all(brand, id.type, id.value) as Row[];
      const u = rows[0];
      if (u === undefined) return null;
      return {
        uid: String(u.uid),
        brand: String(u.brand),
        identifiers: rows.map((r) => ({ type: r.type as IdentifierType, value: String(r.value), verified: r.verified === 1 })),
        passwordHash: (u.password_hash as string | null) ?? null,
        createdAt: Number(u.created_at),
      };
    });
  }

  createUser(brand: string, identifiers: StoredIdentifier[], passwordHash: string | null, now: number) {
    return write(this.db, () => {
      const tx = this.db.transaction(() => {
        const uid = Number(this.q.insertUser.run(brand, passwordHash, now).lastInsertRowid);
        for (const id of identifiers) {
          try {
            this.q.insertIdentifier.run(brand, id.type, id.value, uid, id.verified ? 1 : 0);
          } catch (err) {
            // The transaction rolls back: no user is left without its identifiers.
            if (isConstraint(err)) throw new IdentifierTakenError({ type: id.type, value: id.value });
            throw err;
          }
        }
        // Exactly what was inserted, in insertion order (as findUser reads it back).
        const user: User = {
          uid: String(uid),
          brand,
          identifiers: identifiers.map((i) => ({ type: i.type, value: i.value, verified: i.verified })),
          passwordHash,
          createdAt: now,
        };
        return user;
      });
      return tx();
    });
  }

  updateUser(brand: string, uid: string, change: { passwordHash?: string; verify?: Identifier[] }) {
    return write(this.db, () =>
      this.db.transaction(() => {
        if (change.passwordHash !== undefined) this.q.setPassword.run(change.passwordHash, Number(uid), brand);
        for (const id of change.verify ?? []) this.q.verifyIdentifier.run(brand, id.type, id.value, Number(uid));
      })(),
    );
  }

  deleteUser(brand: string, uid: string) {
    // Identifiers and keys go with the user (ON DELETE CASCADE), in the same statement.
    return write(this.db, () => this.q.deleteUser.run(Number(uid), brand).changes > 0);
  }

  saveKey(k: KeyRecord) {
    // Committed (with the other appends of this event-loop turn) before the key is returned.
    return writeBatched(this.db, () => void this.q.saveKey.run(k.jti, k.brand, Number(k.uid), k.deviceId, k.keyHash, k.createdAt, k.expiresAt));
  }

  findKeyByHash(keyHash: string) {
    return guard((): StoredKey | null => {
      const r = this.q.findKey.get(keyHash) as Row | undefined;
      if (!r) return null;
      const num = (v: unknown) => (v === null ? null : Number(v));
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
    return write(this.db, () =>
      this.db.transaction((): RotateOutcome => {
        // The guarded UPDATE decides the race; the successor is written only by the winner.
        if (this.q.retireKey.run(now, successorSealed, oldHash).changes !== 1) return 'lost';
        this.q.saveKey.run(next.jti, next.brand, Number(next.uid), next.deviceId, next.keyHash, next.createdAt, next.expiresAt);
        return 'rotated';
      })(),
    );
  }

  revokeKeys(brand: string, uid: string, scope: { deviceId?: string; exceptDeviceId?: string }, now: number) {
    return write(this.db, () => this.revokeKeysSync(brand, uid, scope, now));
  }

  /** Synchronous forms, for SqliteCredentialStore's single transaction. */
  revokeKeysSync(brand: string, uid: string, scope: { deviceId?: string; exceptDeviceId?: string }, now: number): number {
    const u = Number(uid);
    if (scope.deviceId !== undefined) return this.q.revokeDevice.run(now, brand, u, scope.deviceId).changes;
    if (scope.exceptDeviceId !== undefined) return this.q.revokeOthers.run(now, brand, u, scope.exceptDeviceId).changes;
    return this.q.revokeAll.run(now, brand, u).changes;
  }

  setPasswordSync(brand: string, uid: string, passwordHash: string): void {
    this.q.setPassword.run(passwordHash, Number(uid), brand);
  }

  appendOutbox(m: OutboxMessage) {
    // Committed with the other appends of this event-loop turn (open.ts writeBatched).
    return writeBatched(this.db, () => void this.q.appendOutbox.run(m.brand, m.identifier, m.channel, m.to, m.text, m.otp, m.createdAt));
  }



  listOutbox(filter: { brand?: string; identifier?: string; to?: string; limit: number }) {
    return guard(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.brand !== undefined) {
        where.push('brand = ?');
        args.push(filter.brand);
      }
      if (filter.identifier !== undefined) {
        where.push(filter.to !== undefined ? '(identifier = ? OR dest = ?)' : 'identifier = ?');
        args.push(filter.identifier);
        if (filter.to !== undefined) args.push(filter.to);
      } else if (filter.to !== undefined) {
        // `to` alone filters by destination (it was silently ignored, listing every message).
        where.push('dest = ?');
        args.push(filter.to);
      }
      const sql = `SELECT brand, identifier, channel, dest, text, otp, created_at FROM outbox ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
      args.push(filter.limit);
      // A handful of shapes (which filters are given): each is prepared once.
      let stmt = this.outboxQueries.get(sql);
      if (stmt === undefined) this.outboxQueries.set(sql, (stmt = this.db.prepare(sql)));
      return (stmt.all(...args) as Row[]).map((r) => ({
        brand: String(r.brand),
        identifier: String(r.identifier),
        channel: String(r.channel),
        to: String(r.dest),
        text: String(r.text),
        otp: String(r.otp),
        createdAt: Number(r.created_at),
      }));
    });
  }

  ping() {
    // A failed fsync makes the instance unready: it refuses writes until restarted.
    const failed = syncFailure(this.db);
    return failed !== null ? Promise.reject(failed) : guard(() => void this.q.ping.get());
  }

  async close() {
    closeDatabase(this.db);
  }
}
