// Durable state: what must survive a restart and be committed before a success is answered
// (brands, users and their identifiers, issued keys, the outbox). Embedded: one SQLite file;
// production: PostgreSQL. Every method either commits all of its effect or none of it.
import type { BrandConfig, Identifier, IdentifierType } from '../domain/types.ts';

export interface StoredIdentifier {
  type: IdentifierType;
  value: string;
  verified: boolean;
}

export interface User {
  uid: string;
  brand: string;
  identifiers: StoredIdentifier[];
  passwordHash: string | null;
  createdAt: number;
}

export interface BrandStore {
  getBrand(name: string): Promise<BrandConfig | null>;
  putBrand(name: string, config: BrandConfig, now: number): Promise<void>;
  /** @returns false when the brand did not exist. */
  deleteBrand(name: string): Promise<boolean>;
  listBrands(): Promise<Array<{ name: string; config: BrandConfig }>>;
}

export class IdentifierTakenError extends Error {
  constructor(readonly identifier: Identifier) {
    super('identifier already belongs to a user');
    this.name = 'IdentifierTakenError';
  }
}

export interface UserStore {
  findUser(brand: string, id: Identifier): Promise<User | null>;
  /**
   * Creates a user with all of its identifiers and its password hash in one atomic step.
   * Throws IdentifierTakenError (and writes nothing) when any identifier already belongs
   * to a user of the brand: this is what makes two racing sign-ups of one username safe.
   */
  createUser(brand: string, identifiers: StoredIdentifier[], passwordHash: string | null, now: number): Promise<User>;
  /** Sets the password hash and marks `verified` identifiers as verified, atomically. */
  updateUser(brand: string, uid: string, change: { passwordHash?: string; verify?: Identifier[] }): Promise<void>;
}

export interface KeyRecord {
  jti: string;
  brand: string;
  uid: string;
  deviceId: string;
  /** Keyed hash of the whole key string; the key itself is never stored. */
  keyHash: string;
  createdAt: number;
  expiresAt: number | null;
}

export interface KeyStore {
  saveKey(key: KeyRecord): Promise<void>;
  findKeyByHash(keyHash: string): Promise<(KeyRecord & { revokedAt: number | null }) | null>;
}

export interface OutboxMessage {
  brand: string;
  /** The session's identifier, `TYPE|value`. */
  identifier: string;
  channel: string;
  to: string;
  text: string;
  otp: string;
  createdAt: number;
}

export interface OutboxStore {
  appendOutbox(msg: OutboxMessage): Promise<void>;
  /** Newest first. `identifier` matches the message's identifier or its destination `to`. */
  listOutbox(filter: { brand?: string; identifier?: string; to?: string; limit: number }): Promise<OutboxMessage[]>;
}

export interface HealthCheck {
  ping(): Promise<void>;
  close(): Promise<void>;
}
