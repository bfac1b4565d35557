// Short-lived state with an expiry: login sessions and the OTP bound to each. Embedded: a
// second SQLite file; production: Redis. The methods that decide security outcomes are
// atomic and say so; adapters must pass test/contract/session-store.contract.ts.
import type { Identifier, Variant } from '../domain/types.ts';

export interface PendingPassword {
  /** argon2id hash of the password to commit when OTP validation on this session succeeds. */
  hash: string;
  purpose: 'register' | 'reset';
}

export interface Session {
  id: string;
  brand: string;
  variant: Variant;
  identifier: Identifier;
  deviceId: string | null;
  /** USERNAME sign-up: the identifiers to create with the user (mobile and/or email). */
  signup: Identifier[] | null;
  /** Where OTPs go when it is not the identifier itself (USERNAME login or sign-up). */
  destination: Identifier | null;
  pendingPassword: PendingPassword | null;
  /**
   * token/generate found no user for the identifier. With account locking off, OTP validation
   * then creates the user without reading it again (a user created meanwhile surfaces as
   * IdentifierTakenError). Absent on sessions stored before this field existed.
   */
  newUser?: boolean;
  createdAt: number;
  expiresAt: number;
  // Mutable OTP state.
  otpHash: string | null;
  otpExpiresAt: number | null;
  otpSentAt: number | null;
  /** Where the current OTP went when a fallback sent it somewhere else than `destination ?? identifier`. */
  otpTo: Identifier | null;
  otpFailures: number;
  consumed: boolean;
}

export type NewSession = Omit<Session, 'otpHash' | 'otpExpiresAt' | 'otpSentAt' | 'otpTo' | 'otpFailures' | 'consumed'>;

/** A new OTP of a session; `to` only when it went elsewhere than `destination ?? identifier`. */
export interface NewOtp {
  hash: string;
  expiresAt: number;
  sentAt: number;
  to?: Identifier | null;
}

export interface SessionStore {
  create(session: NewSession): Promise<void>;
  /** The session, or null when unknown or past `expiresAt` (by the caller's clock `now`). */
  get(id: string, now: number): Promise<Session | null>;
  /**
   * Replaces the session's OTP (a new OTP supersedes the old one). Does not reset
   * `otpFailures`: the wrong-attempt budget belongs to the session, so resending cannot
   * buy more guesses. @returns false when the session is unknown, expired or consumed.
   */
  setOtp(id: string, otp: NewOtp, now: number): Promise<boolean>;
  /**
   * Claims the right to send an OTP now: atomically records `now` as the last send time,
   * only if the previous send is at least `minGapMs` old (the resend cooldown).
   * @returns the previous send time to restore on a delivery failure, or how long to wait.
   */
  claimSend(id: string, now: number, minGapMs: number): Promise<{ ok: true; previous: number | null } | { ok: false; retryAfterMs: number }>;
  /** Undoes claimSend (delivery failed): restores `previous` if the claim at `claimedAt` is still the last one. */
  releaseSend(id: string, claimedAt: number, previous: number | null): Promise<void>;
  /** Holds a new password on a live session (password/forget). @returns false when not live. */
  setPendingPassword(id: string, pending: PendingPassword, now: number): Promise<boolean>;
  /** Atomically adds one wrong attempt and returns the new count. */
  recordOtpFailure(id: string): Promise<number>;
  /**
   * Atomically marks the session consumed. Exactly one concurrent caller gets true.
   * With `otpHash`, succeeds only while that OTP is still the session's current one, and
   * with `maxFailures` only while fewer wrong attempts than that were recorded.
   */
  consume(id: string, guard: { now: number; otpHash?: string; maxFailures?: number }): Promise<boolean>;
  /** Removes sessions past their expiry; returns how many. */
  sweep(now: number): Promise<number>;
}
