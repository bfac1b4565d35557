// The SDK's parts that need no service: reading tokens, storages, and how every kind of answer
// (or no answer) becomes an AuthError or an AuthNetworkError. A stub fetch plays the service.
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AUTH_ERRORS, AuthError, AuthNetworkError, createAuthClient, isAuthErrorCode, memoryStorage, webStorage, type FetchLike } from '../../packages/client/src/index.ts';
import { jwtPayload, tokenTiming } from '../../packages/client/src/jwt.ts';
import { freePort } from '../helpers/process.ts';
import { SPEC_ERRORS } from '../helpers/spec.ts';
import { fakeLocalStorage } from './helpers.ts';

const ID = { type: 'MOBILE', value: '919999999993' } as const;
const b64url = (o: object) => Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');
const jwt = (claims: object) => `${b64url({ alg: 'HS256' })}.${b64url(claims)}.c2ln`;

/** A fetch that answers every request with this status, body and headers, and records the requests. */
function stub(status: number, body: string | object, headers: Record<string, string> = {}) {
  const seen: { url: string; body: Record<string, unknown> }[] = [];
  const fetch: FetchLike = async (input, init) => {
    seen.push({ url: input, body: JSON.parse(String(init.body)) });
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
  };
  return { fetch, seen };
}
const client = (fetch: FetchLike, extra: object = {}) => createAuthClient({ baseUrl: 'http://auth.example/', brand: 'B', variant: 'web', fetch, ...extra });
const ok = (extra: object = {}) => ({ status: { success: true, code: 200, message: 'SUCCESS' }, ...extra });

test('the SDK error table is the spec §9 table', () => {
  assert.deepEqual(
    Object.fromEntries(Object.entries(AUTH_ERRORS).map(([code, e]) => [code, [e.http, e.message]])),
    Object.fromEntries(Object.entries(SPEC_ERRORS).map(([code, e]) => [code, [...e]])),
  );
  assert.equal(isAuthErrorCode(1506), true);
  assert.equal(isAuthErrorCode(404), false);
  assert.equal(isAuthErrorCode('1506'), false);
});

test('jwtPayload reads base64url UTF-8 claims; anything else is null', () => {
  const claims = { iss: 'Ünïcødé ✓ issuer', exp: 2000, iat: 1000, uid: '42', pad: '??>>' };
  assert.deepEqual(jwtPayload(jwt(claims)), claims);
  for (const bad of ['', 'abc', 'a.!!!.c', `a.${Buffer.from('[1,2]').toString('base64url')}.c`, `a.${Buffer.from('{not json').toString('base64url')}.c`, 'a.%.c']) {
    assert.equal(jwtPayload(bad), null, bad);
  }
});

test('tokenTiming counts the lifetime from arrival, so a skewed device clock still renews on time', () => {
  // The device clock is far from the server's (iat/exp are in the server's seconds).
  assert.deepEqual(tokenTiming(jwt({ iat: 1_000, exp: 1_900 }), 5_000_000_000), { expiresAt: 5_000_900_000, lifetimeMs: 900_000 });
  assert.deepEqual(tokenTiming(jwt({ exp: 1_900 }), 5), { expiresAt: 1_900_000, lifetimeMs: null });
  assert.deepEqual(tokenTiming(jwt({ iat: 1_000 }), 5), { expiresAt: null, lifetimeMs: null });
  assert.deepEqual(tokenTiming('garbage', 5), { expiresAt: null, lifetimeMs: null });
});

test('memoryStorage and webStorage store, read and remove', async () => {
  const local = fakeLocalStorage();
  for (const s of [memoryStorage(), webStorage(local)]) {
    assert.equal(await s.get('k'), null);
    await s.set('k', 'v');
    assert.equal(await s.get('k'), 'v');
    await s.remove('k');
    assert.equal(await s.get('k'), null);
  }
});

test('a §9 failure is an AuthError with the code, message, HTTP status and Retry-After', async () => {
  const s = stub(429, { status: { success: false, code: 1547, message: 'Too many requests. Try again later.' } }, { 'retry-after': '7' });
  const err = await client(s.fetch).startSession(ID).catch((e: unknown) => e);
  assert.ok(err instanceof AuthError);
  assert.deepEqual([err.code, err.message, err.httpStatus, err.retryAfterSeconds, err.loginRequired], [1547, 'Too many requests. Try again later.', 429, 7, false]);
  // The path: baseUrl's trailing slash is not doubled.
  assert.equal(s.seen[0].url, 'http://auth.example/auth/v1/web/token/generate');
});

test('what is not a contract answer is AuthNetworkError "bad-response"', async () => {
  const cases: [number, string | object][] = [
    [502, '<html>Bad Gateway</html>'],
    [404, { status: { success: false, code: 404, message: 'Resource not found.' } }],
    [500, { status: { success: false, code: 500, message: 'Internal server error.' } }],
    [200, { auth: { token: 't', key: null } }], // no status
    [200, ok({ user: { sessionId: 'P-1' } })], // token/generate without auth
  ];
  for (const [status, body] of cases) {
    const err = await client(stub(status, body).fetch).startSession(ID).catch((e: unknown) => e);
    assert.ok(err instanceof AuthNetworkError, `${status} ${JSON.stringify(body)}: ${String(err)}`);
    assert.equal(err.reason, 'bad-response');
    assert.equal(err.httpStatus, status);
  }
});

test('a server that cannot be reached is AuthNetworkError "network"', async () => {
  const port = await freePort();
  const c = createAuthClient({ baseUrl: `http://127.0.0.1:${port}`, brand: 'B', variant: 'web' });
  const err = await c.startSession(ID).catch((e: unknown) => e);
  assert.ok(err instanceof AuthNetworkError, String(err));
  assert.equal(err.reason, 'network');
});

test('a server that never answers is AuthNetworkError "timeout" (timeoutMs)', async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((sock) => void sockets.add(sock)); // accepts, never answers
  await new Promise<void>((res) => silent.listen(0, '127.0.0.1', res));
  try {
    const addr = silent.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const c = createAuthClient({ baseUrl: `http://127.0.0.1:${port}`, brand: 'B', variant: 'web', timeoutMs: 200 });
    const err = await c.startSession(ID).catch((e: unknown) => e);
    assert.ok(err instanceof AuthNetworkError, String(err));
    assert.equal(err.reason, 'timeout');
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((res) => silent.close(res));
  }
});

test('sendOtp puts fallbackChannel in the query and leaves unset options out of the body', async () => {
  const s = stub(200, ok());
  await createAuthClient({ baseUrl: 'http://auth.example', brand: 'B', variant: 'mobile', deviceId: 'd-1', fetch: s.fetch }).sendOtp(ID, 'P-1', { fallbackChannel: 'SMS' });
  assert.equal(s.seen[0].url, 'http://auth.example/auth/v1/otp/generate?fallbackChannel=SMS');
  assert.deepEqual(s.seen[0].body, { brand: 'B', identifierType: 'MOBILE', identifierValue: '919999999993', deviceId: 'd-1', sessionId: 'P-1' });
  await client(s.fetch).sendOtp(ID, 'P-2', { hash: 'aGFzaA==', timeStamp: 1700000000000, email: 'a@example.com' });
  assert.equal(s.seen[1].url, 'http://auth.example/auth/v1/web/otp/generate');
  assert.deepEqual(s.seen[1].body, { brand: 'B', identifierType: 'MOBILE', identifierValue: '919999999993', sessionId: 'P-2', hash: 'aGFzaA==', timeStamp: 1700000000000, email: 'a@example.com' });
  await client(s.fetch).sendOtp(ID, 'P-3', { locale: 'pt-BR' });
  assert.equal(s.seen[2].body.locale, 'pt-BR');
});

test('authorizedFetch adds the bearer token; without a session it is AuthError 1529', async () => {
  const token = jwt({ iat: 1000, exp: 1900, rol: 'USER' });
  const s = stub(200, ok({ auth: { token, key: null }, user: { appRegistered: false, sessionId: null, role: 'USER', userRegisteredForPassword: false } }));
  const seen: Headers[] = [];
  const fetch: FetchLike = (input, init) => {
    if (input.startsWith('https://api.example')) {
      seen.push(new Headers(init.headers));
      return Promise.resolve(new Response('{}'));
    }
    return s.fetch(input, init);
  };
  const c = client(fetch);
  await assert.rejects(c.authorizedFetch('https://api.example/orders'), (e: unknown) => e instanceof AuthError && e.code === 1529);
  await c.verifyOtp(ID, 'P-1', '123456');
  await c.authorizedFetch('https://api.example/orders', { headers: { 'x-app': '1' } });
  assert.equal(seen[0].get('authorization'), `Bearer ${token}`);
  assert.equal(seen[0].get('x-app'), '1');
});

test('bad options and identifiers are programming errors (TypeError), not requests', () => {
  const { fetch } = stub(200, ok());
  assert.throws(() => createAuthClient({ baseUrl: 'http://x', brand: 'B', variant: 'desktop' as 'web', fetch }), TypeError);
  assert.throws(() => createAuthClient({ baseUrl: '', brand: 'B', variant: 'web', fetch }), TypeError);
  assert.throws(() => createAuthClient({ baseUrl: 'http://x', brand: '', variant: 'web', fetch }), TypeError);
  return assert.rejects(client(fetch).startSession({ type: 'PHONE' as 'MOBILE', value: '1' }), TypeError);
});
