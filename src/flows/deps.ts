// What the flows need, as ports. Built by src/deps.ts from configuration; tests build their own.
import type { Clock } from '../domain/clock.ts';
import type { Brand, Identifier, Variant } from '../domain/types.ts';
import type { PasswordHasher } from '../crypto/password-hasher.ts';
import type { SecretHasher } from '../crypto/otp.ts';
import type { TokenService } from '../crypto/tokens.ts';
import type { AuditStore, CredentialStore, KeyStore, RevocationStore, UserStore } from '../ports/durable-store.ts';
import type { LimitStore } from '../ports/limit-store.ts';
import type { Sealer } from '../crypto/sealer.ts';
import type { SessionStore } from '../ports/session-store.ts';
import type { OtpSender } from '../ports/otp-sender.ts';

export interface FlowDeps {
  clock: Clock;
  users: UserStore;
  keys: KeyStore;
  sessions: SessionStore;
  sender: OtpSender;
  passwords: PasswordHasher;
  secrets: SecretHasher;
  tokens: TokenService;
  limits: LimitStore;
  revocations: RevocationStore;
  audit: AuditStore;
  /** Multi-part credential changes (password change/reset, logout, key reuse), atomically. */
  credentials: CredentialStore;
  sealer: Sealer;
  /** How long a retired key, presented again, returns its successor instead of counting as reuse. */
  keyReuseGraceMs: number;
  /** Brand testOtps take effect (always outside production; in production only when allowed). */
  testOtpsAllowed: boolean;
}

/** The parsed common part of a customer request (spec §1.1), after §1.3's first three checks. */
export interface RequestContext {
  brand: Brand;
  variant: Variant;
  identifier: Identifier;
  /** Mobile requests only; web requests carry null. */
  deviceId: string | null;
  /** Client address as the HTTP layer determined it (audit, per-IP limits). */
  ip: string | null;
}
