// createAuthClient: the customer endpoints of spec §3 for one brand and variant, and the token
// lifecycle around them — store the session, renew it before it expires (mobile: with the key;
// web: with the possibly expired token), share one renewal among concurrent callers, and hand
// control back to the app (onLoginRequired) when the session cannot be renewed.
import { AuthError, AuthNetworkError, type LoginRequiredCode } from './errors.js';
import { tokenTiming } from './jwt.js';
import { memoryStorage } from './storage.js';
import { createTransport, type FetchLike } from './transport.js';
import type {
  AuthClientOptions,
  ChangePasswordInput,
  Identifier,
  IdentifierType,
  LoginResult,
  NewPassword,
  PasswordLoginResult,
  SendOtpOptions,
  SessionInfo,
  SessionStarted,
  StartSessionOptions,
  UserInfo,
  Variant,
} from './types.js';

export interface AuthClient {
  readonly brand: string;
  readonly variant: Variant;
  /** token/generate: opens a login session (OTP or password); nothing is stored. */
  startSession(identifier: Identifier, opts?: StartSessionOptions): Promise<SessionStarted>;
  /** otp/generate: sends an OTP for the session. */
  sendOtp(identifier: Identifier, sessionId: string, opts?: SendOtpOptions): Promise<void>;
  /** otp/validate: logs in; the token (and key) are stored. */
  verifyOtp(identifier: Identifier, sessionId: string, otp: string | number): Promise<LoginResult>;
  /** password/validate: logs in; the token (and key) are stored. */
  loginWithPassword(identifier: Identifier, sessionId: string, password: string): Promise<PasswordLoginResult>;
  /** password/forget: holds a new password on the session; it takes effect after sendOtp + verifyOtp on it. */
  forgotPassword(identifier: Identifier, sessionId: string, input: NewPassword): Promise<void>;
  /** token/regenerate now, whatever the expiry; resolves to the new token. */
  regenerate(): Promise<string>;
  /** password/change for the logged-in user. */
  changePassword(input: ChangePasswordInput): Promise<void>;
  /** token/expire, then forget the session locally (always). */
  logout(): Promise<void>;
  /** A token valid for a while yet (renewed when needed), or null when nobody is logged in. */
  getToken(): Promise<string | null>;
  /** Who is logged in, without the secrets; null when nobody is. */
  getSession(): Promise<SessionInfo | null>;
  /** `fetch` with `Authorization: Bearer <token>` for the app's own backend. */
  authorizedFetch(input: string, init?: RequestInit): Promise<Response>;
}

/** What is kept in storage (JSON) under `auth-engine:<BRAND>:<variant>:session`. */
interface StoredSession {
  v: 1;
  identifier: Identifier;
  deviceId: string | null;
  token: string;
  key: string | null;
  expiresAt: number | null;
  lifetimeMs: number | null;
}

/** A running token lookup: `force` renews whatever the expiry; `renewing` once it has asked the server. */
interface Lookup {
  force: boolean;
  renewing: boolean;
  promise: Promise<string | null>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_RENEW_BEFORE_SECONDS = 60;
const IDENTIFIER_TYPES: readonly IdentifierType[] = ['MOBILE', 'EMAIL', 'USERNAME'];

export function createAuthClient(options: AuthClientOptions): AuthClient {
  const { variant, brand } = options;
  if (variant !== 'mobile' && variant !== 'web') throw new TypeError(`variant must be 'mobile' or 'web'`);
  if (typeof options.baseUrl !== 'string' || options.baseUrl === '') throw new TypeError('baseUrl is required');
  if (typeof brand !== 'string' || brand === '') throw new TypeError('brand is required');

  const now = options.now ?? (() => Date.now());
  const storage = options.storage ?? memoryStorage();
  const renewBeforeMs = (options.renewBeforeSeconds ?? DEFAULT_RENEW_BEFORE_SECONDS) * 1000;
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const transport = createTransport({ baseUrl: options.baseUrl, fetch: doFetch, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  const prefix = variant === 'web' ? '/auth/v1/web/' : '/auth/v1/';
  // Brands are case-insensitive on the wire; one namespace per brand whatever the app's spelling.
  const ns = `auth-engine:${brand.toUpperCase()}`;
  const SESSION_KEY = `${ns}:${variant}:session`;
  const DEVICE_KEY = `${ns}:device-id`;

  const call = (step: string, body: Record<string, unknown>, query?: Record<string, string | undefined>) => transport.post(prefix + step, body, query);

  // ---- device id (mobile) ----

  let device: Promise<string | null> | undefined;
  const deviceId = (): Promise<string | null> => {
    if (variant === 'web') return Promise.resolve(null);
    if (options.deviceId !== undefined) return Promise.resolve(String(options.deviceId));
    // Memoised so two first calls cannot each generate (and store) a different id.
    device ??= (async () => {
      const kept = await storage.get(DEVICE_KEY);
      if (kept) return kept;
      const id = randomId();
      await storage.set(DEVICE_KEY, id);
      return id;
    })();
    return device;
  };

  const idBody = (id: Identifier, dev: string | null): Record<string, unknown> => {
    if (!id || typeof id.value !== 'string' || !IDENTIFIER_TYPES.includes(id.type)) {
      throw new TypeError(`identifier must be { type: 'MOBILE' | 'EMAIL' | 'USERNAME', value: string }`);
    }
    return dev === null
      ? { brand, identifierType: id.type, identifierValue: id.value }
      : { brand, identifierType: id.type, identifierValue: id.value, deviceId: dev };
  };

  // ---- stored session ----

  /**
   * The token lookup running now. Concurrent getToken() calls share it, so a due renewal is
   * made once; it is set synchronously, so logout() always sees a lookup that has begun.
   */
  let current: Lookup | null = null;

  async function load(): Promise<StoredSession | null> {
    const raw = await storage.get(SESSION_KEY);
    if (!raw) return null;
    try {
      const s = JSON.parse(raw) as StoredSession;
      return s && s.v === 1 && typeof s.token === 'string' && typeof s.identifier?.value === 'string' ? s : null;
    } catch {
      return null; // unreadable (another version, a corrupted value): nobody is logged in
    }
  }

  const sessionOf = (identifier: Identifier, dev: string | null, token: string, key: string | null): StoredSession => ({
    v: 1,
    identifier: { type: identifier.type, value: identifier.value },
    deviceId: dev,
    token,
    key,
    ...tokenTiming(token, now()),
  });

  const same = (a: StoredSession, b: StoredSession) => a.token === b.token && a.key === b.key;

  /** Renew when within renewBeforeSeconds of expiry, but never earlier than half-way through the token's life. */
  const needsRenewal = (s: StoredSession) => {
    if (s.expiresAt === null) return false;
    const margin = s.lifetimeMs === null ? renewBeforeMs : Math.min(renewBeforeMs, s.lifetimeMs / 2);
    return now() >= s.expiresAt - margin;
  };
  const isExpired = (s: StoredSession) => s.expiresAt !== null && now() >= s.expiresAt;

  async function storeLogin(identifier: Identifier, dev: string | null, token: string, key: string | null): Promise<void> {
    // A lookup of an earlier session still running must not hand its token to later callers.
    current = null;
    await storage.set(SESSION_KEY, JSON.stringify(sessionOf(identifier, dev, token, key)));
  }

  /**
   * The server says session `s` is over: forget it (unless it was replaced meanwhile, e.g. by a
   * new login in another tab over the same storage) and tell the app.
   */
  async function endSession(s: StoredSession, err: AuthError): Promise<void> {
    const stored = await load();
    if (stored === null || !same(stored, s)) return;
    await storage.remove(SESSION_KEY);
    const hook = options.onLoginRequired;
    if (!hook) return;
    // The app's hook must not replace the AuthError the caller is about to receive.
    try {
      void Promise.resolve(hook(err.code as LoginRequiredCode, err)).catch(() => undefined);
    } catch {
      /* ignored, see above */
    }
  }

  // ---- renewal ----

  function startLookup(force: boolean): Lookup {
    const op: Lookup = { force, renewing: false, promise: Promise.resolve(null) };
    op.promise = lookup(op).finally(() => {
      if (current === op) current = null;
    });
    current = op;
    return op;
  }

  /** The stored token, renewed first when due (or always, when forced); null when nobody is logged in. */
  async function lookup(op: Lookup): Promise<string | null> {
    const s = await load();
    if (s === null) return null;
    const force = op.force;
    if (!force && !needsRenewal(s)) return s.token;
    if (variant === 'mobile' && s.key === null) {
      // The brand issues no keys (issueKey: false): the token lives until it expires.
      const err = new AuthError(1597);
      if (isExpired(s)) {
        await endSession(s, err);
        throw err;
      }
      if (force) throw err;
      return s.token;
    }
    const body =
      variant === 'mobile'
        ? { ...idBody(s.identifier, s.deviceId), key: s.key }
        : { ...idBody(s.identifier, null), expiredToken: s.token };
    let res: Record<string, unknown>;
    op.renewing = true;
    try {
      res = await call('token/regenerate', body);
    } catch (err) {
      if (err instanceof AuthError && err.loginRequired) {
        await endSession(s, err);
        throw err;
      }
      // Transient (network, 1547, 1599) while the token is still valid: keep using it, the next call retries.
      if (!force && !isExpired(s)) return s.token;
      throw err;
    }
    const auth = readAuth(res, 'token/regenerate');
    // With rotateKeys the server sends a new key and retires the old one: keep the new one.
    const next = sessionOf(s.identifier, s.deviceId, auth.token, auth.key ?? s.key);
    // Stored only over the session it renewed (not over a logout or a newer login meanwhile).
    const stored = await load();
    if (stored !== null && same(stored, s)) await storage.set(SESSION_KEY, JSON.stringify(next));
    return next.token;
  }

  const getToken = (): Promise<string | null> => (current ?? startLookup(false)).promise;

  /** Runs an authenticated step with the stored session (renewed first if due). */
  async function authenticated<T>(step: (s: StoredSession) => Promise<T>): Promise<T> {
    loggedIn(await getToken());
    const s = await load();
    if (s === null) throw new AuthError(1529); // logged out meanwhile
    try {
      return await step(s);
    } catch (err) {
      if (err instanceof AuthError && err.loginRequired) await endSession(s, err);
      throw err;
    }
  }

  return {
    brand,
    variant,

    async startSession(identifier, opts = {}) {
      const res = await call('token/generate', {
        ...idBody(identifier, await deviceId()),
        password: opts.password,
        confirmPassword: opts.confirmPassword,
        mobile: opts.mobile,
        email: opts.email,
      });
      const user = readUser(res, 'token/generate');
      const auth = readAuth(res, 'token/generate');
      if (typeof user.sessionId !== 'string') throw badResponse('token/generate');
      return { sessionId: user.sessionId, token: auth.token, user };
    },

    async sendOtp(identifier, sessionId, opts: SendOtpOptions = {}) {
      await call(
        'otp/generate',
        { ...idBody(identifier, await deviceId()), sessionId, mobile: opts.mobile, email: opts.email, locale: opts.locale, hash: opts.hash, timeStamp: opts.timeStamp },
        { fallbackChannel: opts.fallbackChannel },
      );
    },

    async verifyOtp(identifier, sessionId, otp) {
      const dev = await deviceId();
      const res = await call('otp/validate', { ...idBody(identifier, dev), sessionId, otp });
      const result = { ...readAuth(res, 'otp/validate'), user: readUser(res, 'otp/validate') };
      await storeLogin(identifier, dev, result.token, result.key);
      return result;
    },

    async loginWithPassword(identifier, sessionId, password) {
      const dev = await deviceId();
      const res = await call('password/validate', { ...idBody(identifier, dev), sessionId, password });
      const list = (res.identifiers as { identifierList?: unknown } | undefined)?.identifierList;
      if (!Array.isArray(list)) throw badResponse('password/validate');
      const result: PasswordLoginResult = {
        ...readAuth(res, 'password/validate'),
        user: readUser(res, 'password/validate'),
        identifiers: list.map((i: { type: IdentifierType; value: string }) => ({ type: i.type, value: i.value })),
      };
      await storeLogin(identifier, dev, result.token, result.key);
      return result;
    },

    async forgotPassword(identifier, sessionId, input) {
      await call('password/forget', { ...idBody(identifier, await deviceId()), sessionId, password: input.password, confirmPassword: input.confirmPassword });
    },

    async regenerate() {
      const pending = current;
      if (pending && !pending.force) {
        // A getToken() lookup is running: if it is renewing, that renewal is the one asked for.
        await pending.promise.catch(() => undefined);
        if (pending.renewing) return loggedIn(await pending.promise);
      }
      return loggedIn(await (current?.force ? current : startLookup(true)).promise);
    },

    async changePassword(input) {
      await authenticated((s) =>
        call('password/change', {
          ...idBody(s.identifier, s.deviceId),
          token: s.token,
          password: input.password,
          newPassword: input.newPassword,
          confirmPassword: input.confirmPassword,
        }),
      );
    },

    async logout() {
      // Let a running lookup (maybe a renewal) finish first, so the token revoked is the newest one.
      if (current) await current.promise.catch(() => null);
      const s = await load();
      if (s === null) return;
      let failure: unknown;
      try {
        // The key is not sent: on mobile the service revokes every key of the device anyway, and
        // a key it no longer knows (1597) would stop it from revoking the token.
        await call('token/expire', { ...idBody(s.identifier, s.deviceId), token: s.token });
      } catch (err) {
        // 1529: the token is already dead (malformed, forged), which is what logging out wants.
        if (!(err instanceof AuthError && err.loginRequired)) failure = err;
      }
      // Forgotten locally whatever the server said: the user asked to be logged out.
      current = null;
      await storage.remove(SESSION_KEY);
      if (failure !== undefined) throw failure;
    },

    getToken,

    async getSession() {
      const s = await load();
      return s === null ? null : { identifier: { ...s.identifier }, deviceId: s.deviceId, expiresAt: s.expiresAt, hasKey: s.key !== null };
    },

    async authorizedFetch(input, init = {}) {
      const token = loggedIn(await getToken());
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return doFetch(input, { ...init, headers });
    },
  };
}

/** A token, or AuthError 1529 (what the server answers a missing token with) when nobody is logged in. */
function loggedIn(token: string | null): string {
  if (token === null) throw new AuthError(1529);
  return token;
}

// ---- response reading ----

const badResponse = (step: string) => new AuthNetworkError('bad-response', `unexpected answer from ${step}`, { httpStatus: 200 });

function readAuth(res: Record<string, unknown>, step: string): { token: string; key: string | null } {
  const auth = res.auth as { token?: unknown; key?: unknown } | undefined;
  if (typeof auth?.token !== 'string' || (auth.key !== null && typeof auth.key !== 'string')) throw badResponse(step);
  return { token: auth.token, key: auth.key };
}

function readUser(res: Record<string, unknown>, step: string): UserInfo {
  const u = res.user as Partial<UserInfo> | undefined;
  if (typeof u !== 'object' || u === null) throw badResponse(step);
  return {
    appRegistered: u.appRegistered === true,
    sessionId: typeof u.sessionId === 'string' ? u.sessionId : null,
    role: String(u.role),
    userRegisteredForPassword: u.userRegisteredForPassword === true,
  };
}

/** A random UUID v4 for a device that was given no id. */
function randomId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  // randomUUID exists only in secure contexts (https) in browsers; getRandomValues everywhere.
  if (typeof c?.randomUUID === 'function') return c.randomUUID();
  if (typeof c?.getRandomValues !== 'function') throw new Error('no crypto.getRandomValues in this runtime: pass options.deviceId');
  const b = c.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
