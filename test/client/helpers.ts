// Plumbing for the SDK tests: the real app (test/helpers/harness.ts, with its movable clock)
// listening on a loopback port, so the SDK talks to it over real HTTP through the real fetch;
// a fetch that records what the SDK sends; a localStorage stand-in.
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, startHarness, type Harness } from '../helpers/harness.ts';
import { AuthError, createAuthClient, type AuthClient, type AuthClientOptions, type FetchLike, type Identifier, type LoginResult, type WebStorageLike } from '../../packages/client/src/index.ts';
import { SPEC_ERRORS, type SpecCode } from '../helpers/spec.ts';

export interface Server {
  h: Harness;
  baseUrl: string;
  createBrand(name: string, config?: object): Promise<void>;
  /** The newest OTP sent for the identifier (type + normalised value). */
  lastOtp(brand: string, id: Identifier): Promise<string>;
  /** Asks the service (token/introspect) whether a token is live: signature, expiry, revocation. */
  isActive(token: string): Promise<boolean>;
  close(): Promise<void>;
}

export async function startServer(): Promise<Server> {
  const h = await startHarness();
  const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
  return {
    h,
    baseUrl: address,
    createBrand: (name, config = {}) => h.createBrand(name, config),
    lastOtp: (brand, id) => h.lastOtp(brand, `${id.type}|${id.value}`),
    async isActive(token) {
      const r = await h.post('/auth/v1/token/introspect', { token }, { authorization: `Bearer ${ADMIN_TOKEN}` });
      assert.equal(r.status, 200, r.raw);
      return r.body.active === true;
    },
    close: () => h.close(),
  };
}

export interface Recorded {
  path: string;
  query: string;
  body: Record<string, unknown>;
}

/** The global fetch, recording every request (path, query, JSON body) on the way. */
export function recordingFetch(): { fetch: FetchLike; requests: Recorded[]; count(step: string): number } {
  const requests: Recorded[] = [];
  return {
    requests,
    fetch: (input, init) => {
      const u = new URL(input);
      requests.push({ path: u.pathname, query: u.search, body: JSON.parse(String(init.body)) });
      return fetch(input, init);
    },
    count: (step) => requests.filter((r) => r.path.endsWith(`/${step}`)).length,
  };
}

/** A localStorage stand-in (Web Storage API subset), inspectable by the test. */
export function fakeLocalStorage(): WebStorageLike & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

/** A client against the server whose clock is the harness's (tokens expire when the test moves it). */
export function clientFor(srv: Server, opts: Partial<AuthClientOptions> & Pick<AuthClientOptions, 'brand' | 'variant'>): AuthClient {
  return createAuthClient({
    baseUrl: srv.baseUrl,
    now: () => srv.h.clock.now(),
    ...(opts.variant === 'mobile' ? { deviceId: 'device-sdk-1' } : {}),
    ...opts,
  });
}

/** startSession → sendOtp → (outbox) → verifyOtp, all through the SDK. */
export async function otpLogin(srv: Server, client: AuthClient, id: Identifier, signup: { password?: string } = {}): Promise<LoginResult> {
  const extra = signup.password === undefined ? {} : { password: signup.password, confirmPassword: signup.password };
  const { sessionId } = await client.startSession(id, extra);
  await client.sendOtp(id, sessionId);
  return client.verifyOtp(id, sessionId, await srv.lastOtp(client.brand, id));
}

/** The promise rejects with an AuthError of exactly this code, the spec's message and HTTP status. */
export async function rejectsWith(p: Promise<unknown>, code: SpecCode, what = ''): Promise<AuthError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AuthError, `${what}: expected AuthError ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`);
  assert.equal(caught.code, code, `${what}: code`);
  assert.equal(caught.message, SPEC_ERRORS[code][1], `${what}: message`);
  assert.equal(caught.httpStatus, SPEC_ERRORS[code][0], `${what}: HTTP status`);
  assert.equal(caught.name, 'AuthError');
  return caught;
}

/** The `exp` claim of a JWT (test side: Node's Buffer is fine here). */
export const expOf = (token: string): number => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).exp;
