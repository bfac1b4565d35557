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
  /** Erases the user with its identifiers and keys, atomically. @returns false when unknown. */
  deleteUser(brand: string, uid: string): Promise<boolean>;
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

export interface StoredKey extends KeyRecord {
  revokedAt: number | null;
  /** Set when rotation replaced this key (rotateKeys). */
  retiredAt: number | null;
  /** The successor key, sealed (AES-GCM) so a retried regenerate can return it again. */
  successorSealed: string | null;
}

export type RotateOutcome = 'rotated' | 'lost';

export interface KeyStore {
  saveKey(key: KeyRecord): Promise<void>;
  findKeyByHash(keyHash: string): Promise<StoredKey | null>;
  /**
   * Retires the key `oldHash` and saves its successor in one atomic step, only while the old
   * key is neither retired nor revoked. Of concurrent callers exactly one gets 'rotated';
   * the others get 'lost' and nothing of theirs is written.
   */
  rotateKey(oldHash: string, successor: KeyRecord, successorSealed: string, now: number): Promise<RotateOutcome>;
  /**
   * Revokes the user's live keys: those of one device (`deviceId`), or all but one device
   * (`exceptDeviceId`), or all (neither). @returns how many were revoked.
   */
  revokeKeys(brand: string, uid: string, scope: { deviceId?: string; exceptDeviceId?: string }, now: number): Promise<number>;
}

/**
 * Revocation of stateless tokens (R33): a single token by its `jti` (logout), or every token
 * of a user issued before a mark (password change or reset, key reuse, mobile logout), with
 * one exception (the device or the token that made the change) or limited to one device.
 * Tokens carry their issue time in the `jti`. A token is revoked when ANY mark revokes it: a
 * later mark never brings back what an earlier one revoked.
 */
export interface UserMark {
  /** Issue time (microseconds, from the token service's monotonic clock) before which tokens are revoked. */
  notBefore: number;
  /** Tokens of this device are spared (the device that changed the password). */
  exceptDevice: string | null;
  /** This one token is spared (a web password change: web tokens have no device). */
  exceptJti: string | null;
  /** Only tokens of this device are revoked (key reuse detected, mobile logout). */
  onlyDevice: string | null;
}

export interface RevocationStore {
  revokeJti(jti: string, brand: string, expiresAt: number): Promise<void>;
  isJtiRevoked(jti: string): Promise<boolean>;
  /**
   * Adds a mark. The store may drop earlier marks the new one makes redundant: those with the
   * same scope (exceptDevice, exceptJti, onlyDevice) and an earlier notBefore, and every
   * earlier mark when the new one has no exception and no device limit.
   */
  addUserMark(brand: string, uid: string, mark: UserMark): Promise<void>;
  getUserMarks(brand: string, uid: string): Promise<UserMark[]>;
  /** Both of the above for one token in one read (one round trip): every token check needs both. */
  revocationState(jti: string, brand: string, uid: string | null): Promise<{ jtiRevoked: boolean; marks: UserMark[] }>;
}

export interface AuditEvent {
  type: string;
  brand: string;
  /** `TYPE|value`, or null when the event has none. */
  identifier: string | null;
  deviceId: string | null;
  ip: string | null;
  at: number;
  /** Secret-free details (codes, reasons, uid). */
  detail: Record<string, unknown>;
}

export interface AuditStore {
  appendAudit(event: AuditEvent): Promise<void>;
  /** Newest first. */
  listAudit(filter: { brand?: string; limit: number }): Promise<AuditEvent[]>;
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

/**
 * A security-relevant change of a user's credentials, applied as ONE transaction: a password
 * change never half-applies (new password but other devices still signed in), a logout never
 * revokes the key but not the token. Every part is optional.
 */
export interface CredentialChange {
  brand: string;
  uid: string;
  now: number;
  passwordHash?: string;
  revokeKeys?: { deviceId?: string; exceptDeviceId?: string };
  mark?: UserMark;
  revokeJti?: { jti: string; expiresAt: number };
  /** Limit-store failure keys to clear (retry budget, lock). */
  clearFailures?: string[];
  audit?: AuditEvent;
}

export interface CredentialStore {
  /** Applies every part of the change, or none of it. */
  applyCredentialChange(change: CredentialChange): Promise<void>;
}
