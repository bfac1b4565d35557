// The public shapes of requests and results (spec §3).
import type { AuthError, LoginRequiredCode } from './errors.js';
import type { AuthStorage } from './storage.js';
import type { FetchLike } from './transport.js';

export type Variant = 'mobile' | 'web';
export type IdentifierType = 'MOBILE' | 'EMAIL' | 'USERNAME';

/** Who is logging in: `{ type: 'MOBILE', value: '+91 99999-99993' }`. */
export interface Identifier {
  type: IdentifierType;
  value: string;
}

export interface AuthClientOptions {
  /** Where the service is, e.g. `https://auth.example.com` (no trailing path). */
  baseUrl: string;
  /** The brand (case-insensitive). */
  brand: string;
  /** `mobile` uses /auth/v1/… with a deviceId and a key; `web` uses /auth/v1/web/…. */
  variant: Variant;
  /** Mobile: the device's id. When absent, a random one is generated once and kept in `storage`. */
  deviceId?: string;
  /** Where the session is kept (default: memory only). */
  storage?: AuthStorage;
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Abort a request after this many ms (default 15000). */
  timeoutMs?: number;
  /** Renew this long before the token expires (default 60; at most half the token's lifetime). */
  renewBeforeSeconds?: number;
  /** Called when the stored session has ended (1525, 1529, 1597) and was cleared. */
  onLoginRequired?: (code: LoginRequiredCode, error: AuthError) => void | Promise<void>;
  /** Current time in ms (default Date.now); for tests. */
  now?: () => number;
}

export interface UserInfo {
  appRegistered: boolean;
  sessionId: string | null;
  role: string;
  userRegisteredForPassword: boolean;
}

export interface StartSessionOptions {
  /** Register a password with this sign-up (brand must be password-enabled). */
  password?: string;
  confirmPassword?: string;
  /** USERNAME sign-up: where OTPs go. */
  mobile?: string;
  email?: string;
}

export interface SessionStarted {
  sessionId: string;
  /** The VIEW token (not stored: it only identifies the session). */
  token: string;
  user: UserInfo;
}

export interface SendOtpOptions {
  /** `?fallbackChannel=` (e.g. `SMS`). */
  fallbackChannel?: string;
  mobile?: string;
  email?: string;
  /** Language tag choosing the brand's message template (e.g. `vi`, `pt-BR`). */
  locale?: string;
  /** Payload hash (spec §7) when the brand requires it. */
  hash?: string;
  timeStamp?: number | string;
}

export interface LoginResult {
  token: string;
  /** Mobile: the key that renews the token (null on web, or when the brand issues none). */
  key: string | null;
  user: UserInfo;
}

export interface PasswordLoginResult extends LoginResult {
  identifiers: Identifier[];
}

export interface NewPassword {
  password: string;
  confirmPassword: string;
}

export interface ChangePasswordInput {
  /** The current password. */
  password: string;
  newPassword: string;
  confirmPassword: string;
}

/** What is stored about the logged-in user, without its secrets. */
export interface SessionInfo {
  identifier: Identifier;
  deviceId: string | null;
  /** Local-clock ms when the token expires (null if the token carries no `exp`). */
  expiresAt: number | null;
  hasKey: boolean;
}
