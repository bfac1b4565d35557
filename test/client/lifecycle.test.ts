// The token lifecycle the SDK runs for the app, against the real service: renewal shortly
// before expiry (mobile with the key, web with the token) and after it (web, within the grace),
// one shared renewal for concurrent callers, onLoginRequired on 1597 / 1525 / 1529, key
// rotation, storage persistence, and logout in its edge cases. The service's clock is the
// harness's ManualClock and the SDK's `now` reads the same clock: time moves when a test says so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthNetworkError, memoryStorage, webStorage, type AuthStorage, type FetchLike, type Identifier, type LoginRequiredCode, type Variant } from '../../packages/client/src/index.ts';
import { clientFor, expOf, fakeLocalStorage, otpLogin, recordingFetch, rejectsWith, startServer, type Server } from './helpers.ts';

const LIFE = 'SdkLife'; // 30 s tokens, 60 s web grace, passwords on
const KEY_LIFE = 'SdkKeyLife'; // keys expire after a minute
const ROTATE = 'SdkRotate'; // rotateKeys
const NO_KEY = 'SdkNoKey'; // issueKey: false
const TOKEN_SECONDS = 30;
const PASSWORD = 'Life-Passw0rd-long';
/** Past the 60 s web grace of LIFE, and past the few seconds of leeway the service allows any expiry. */
const BEYOND_GRACE = TOKEN_SECONDS + 60 + 15;
const S = 1000;

let srv: Server;
before(async () => {
  srv = await startServer();
  const tokens = { tokenValiditySeconds: { mobile: TOKEN_SECONDS, web: TOKEN_SECONDS } };
  await srv.createBrand(LIFE, { ...tokens, webRegenerateGraceSeconds: 60, passwordEnabled: true });
  await srv.createBrand(KEY_LIFE, { ...tokens, keyValidityMinutes: 1 });
  await srv.createBrand(ROTATE, { ...tokens, rotateKeys: true });
  await srv.createBrand(NO_KEY, { ...tokens, issueKey: false });
});
after(() => srv.close());

let seq = 0;
const fresh = (v: Variant): Identifier =>
  v === 'mobile' ? { type: 'MOBILE', value: `9192000${String(++seq).padStart(5, '0')}` } : { type: 'EMAIL', value: `sdk-life-${++seq}@example.com` };
const advance = (seconds: number) => srv.h.clock.advance(seconds * S);
const hookLog = () => {
  const codes: LoginRequiredCode[] = [];
  return { codes, onLoginRequired: (code: LoginRequiredCode) => void codes.push(code) };
};

// Default renewBeforeSeconds is 60, capped at half of a 30 s token: renewal is due from 15 s before expiry.
for (const v of ['mobile', 'web'] as const) {
  describe(`${v}: renewal`, () => {
    test('a fresh token is handed out as is, without a request', async () => {
      const rec = recordingFetch();
      const client = clientFor(srv, { brand: LIFE, variant: v, fetch: rec.fetch });
      const login = await otpLogin(srv, client, fresh(v));
      advance(10); // 20 s left
      for (let i = 0; i < 3; i++) assert.equal(await client.getToken(), login.token);
      assert.equal(rec.count('token/regenerate'), 0);
    });

    test('renews shortly before expiry, while the old token is still live', async () => {
      const rec = recordingFetch();
      const client = clientFor(srv, { brand: LIFE, variant: v, fetch: rec.fetch });
      const login = await otpLogin(srv, client, fresh(v));
      advance(16); // 14 s left
      assert.ok(await srv.isActive(login.token), 'the old token is still live');
      const token = await client.getToken();
      assert.ok(token && token !== login.token);
      assert.ok(expOf(token) > expOf(login.token));
      assert.ok(await srv.isActive(token));
      assert.equal(rec.count('token/regenerate'), 1);
      const body = rec.requests.find((r) => r.path.endsWith('/token/regenerate'))?.body;
      if (v === 'mobile') assert.equal(body?.key, login.key, 'mobile renews with the key');
      else assert.equal(body?.expiredToken, login.token, 'web renews with the token');
      // Stored: the next call uses the new token without asking again.
      assert.equal(await client.getToken(), token);
      assert.equal(rec.count('token/regenerate'), 1);
    });

    test('renews after expiry (web: the expired token within the grace; mobile: the key)', async () => {
      const rec = recordingFetch();
      const client = clientFor(srv, { brand: LIFE, variant: v, fetch: rec.fetch });
      const login = await otpLogin(srv, client, fresh(v));
      advance(TOKEN_SECONDS + 5);
      assert.equal(await srv.isActive(login.token), false, 'the old token has expired');
      const token = await client.getToken();
      assert.ok(token && token !== login.token);
      assert.ok(await srv.isActive(token));
      assert.equal(rec.count('token/regenerate'), 1);
    });

    test('concurrent callers share one renewal: exactly one token/regenerate request', async () => {
      const rec = recordingFetch();
      const client = clientFor(srv, { brand: LIFE, variant: v, fetch: rec.fetch });
      const login = await otpLogin(srv, client, fresh(v));
      advance(20);
      const tokens = await Promise.all([...Array.from({ length: 10 }, () => client.getToken()), client.regenerate()]);
      assert.equal(rec.count('token/regenerate'), 1);
      assert.equal(new Set(tokens).size, 1);
      assert.notEqual(tokens[0], login.token);
      assert.ok(await srv.isActive(tokens[0] as string));
    });

    test('… with an async storage too', async () => {
      const rec = recordingFetch();
      const client = clientFor(srv, { brand: LIFE, variant: v, fetch: rec.fetch, storage: slowStorage() });
      await otpLogin(srv, client, fresh(v));
      advance(20);
      const tokens = await Promise.all(Array.from({ length: 10 }, () => client.getToken()));
      assert.equal(rec.count('token/regenerate'), 1);
      assert.equal(new Set(tokens).size, 1);
    });

    test('a session stored by one client is picked up by a new client over the same storage', async () => {
      const local = fakeLocalStorage();
      const first = clientFor(srv, { brand: LIFE, variant: v, storage: webStorage(local) });
      const id = fresh(v);
      const login = await otpLogin(srv, first, id);
      assert.deepEqual([...local.items.keys()].filter((k) => k.endsWith(':session')), [`auth-engine:SDKLIFE:${v}:session`]);

      // The brand is case-insensitive: another spelling reads the same namespace.
      const rec = recordingFetch();
      const second = clientFor(srv, { brand: 'sdklife', variant: v, storage: webStorage(local), fetch: rec.fetch });
      assert.deepEqual((await second.getSession())?.identifier, id);
      assert.equal(await second.getToken(), login.token);
      assert.equal(rec.requests.length, 0);
      advance(20);
      const renewed = await second.getToken();
      assert.ok(renewed && renewed !== login.token);
      assert.equal(await first.getToken(), renewed, 'the first client sees the renewal through the storage');
      await second.logout();
      assert.equal(await first.getToken(), null);
    });
  });
}

describe('mobile device id', () => {
  test('generated once, kept in the storage, and reused by a new client (the key stays bound to it)', async () => {
    const storage = memoryStorage();
    const rec = recordingFetch();
    const first = clientFor(srv, { brand: LIFE, variant: 'mobile', storage, fetch: rec.fetch, deviceId: undefined });
    await otpLogin(srv, first, fresh('mobile'));
    const deviceId = await storage.get('auth-engine:SDKLIFE:device-id');
    assert.match(String(deviceId), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(rec.requests.every((r) => r.body.deviceId === deviceId));
    assert.equal((await first.getSession())?.deviceId, deviceId);

    const second = clientFor(srv, { brand: LIFE, variant: 'mobile', storage, fetch: rec.fetch, deviceId: undefined });
    advance(20);
    const token = await second.getToken();
    assert.ok(token && (await srv.isActive(token)), 'the key renewed on the same device');
    assert.equal(rec.requests.at(-1)?.body.deviceId, deviceId);
  });
});

describe('onLoginRequired', () => {
  test('mobile, key expired (keyValidityMinutes): 1597, storage cleared, hook called once for all callers', async () => {
    const rec = recordingFetch();
    const hook = hookLog();
    const client = clientFor(srv, { brand: KEY_LIFE, variant: 'mobile', fetch: rec.fetch, ...hook });
    await otpLogin(srv, client, fresh('mobile'));
    advance(61);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => client.getToken()));
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      await rejectsWith(Promise.reject((r as PromiseRejectedResult).reason), 1597);
    }
    assert.equal(rec.count('token/regenerate'), 1);
    assert.deepEqual(hook.codes, [1597]);
    assert.equal(await client.getSession(), null);
    assert.equal(await client.getToken(), null, 'after the hook: nobody is logged in');
  });

  test('web, expired beyond webRegenerateGraceSeconds: 1525', async () => {
    const hook = hookLog();
    const client = clientFor(srv, { brand: LIFE, variant: 'web', ...hook });
    await otpLogin(srv, client, fresh('web'));
    advance(BEYOND_GRACE);
    const err = await rejectsWith(client.getToken(), 1525);
    assert.equal(err.loginRequired, true);
    assert.deepEqual(hook.codes, [1525]);
    assert.equal(await client.getSession(), null);
  });

  test('mobile, key revoked by a logout elsewhere: 1597 on the next renewal', async () => {
    const shared = fakeLocalStorage();
    const a = clientFor(srv, { brand: LIFE, variant: 'mobile', storage: webStorage(shared) });
    await otpLogin(srv, a, fresh('mobile'));
    // The same device's session as it was before the logout (e.g. a backup, or a second process).
    const copy = fakeLocalStorage();
    for (const [k, val] of shared.items) copy.items.set(k, val);
    await a.logout();
    const hook = hookLog();
    const b = clientFor(srv, { brand: LIFE, variant: 'mobile', storage: webStorage(copy), ...hook });
    await rejectsWith(b.regenerate(), 1597);
    assert.deepEqual(hook.codes, [1597]);
    assert.equal(await b.getSession(), null);
  });

  test('an authenticated call refused with 1529 (token revoked server-side) ends the session', async () => {
    for (const v of ['mobile', 'web'] as const) {
      const hook = hookLog();
      const client = clientFor(srv, { brand: LIFE, variant: v, ...hook });
      const id = fresh(v);
      const login = await otpLogin(srv, client, id, { password: PASSWORD });
      const body = { brand: LIFE, identifierType: id.type, identifierValue: id.value, token: login.token, ...(v === 'mobile' ? { deviceId: 'device-sdk-1' } : {}) };
      const r = await srv.h.post(v === 'mobile' ? '/auth/v1/token/expire' : '/auth/v1/web/token/expire', body);
      assert.equal(r.status, 200, r.raw);
      await rejectsWith(client.changePassword({ password: PASSWORD, newPassword: `${PASSWORD}-2`, confirmPassword: `${PASSWORD}-2` }), 1529, v);
      assert.deepEqual(hook.codes, [1529], v);
      assert.equal(await client.getSession(), null, v);
    }
  });

  test('a hook that throws does not replace the AuthError', async () => {
    const client = clientFor(srv, {
      brand: LIFE,
      variant: 'web',
      onLoginRequired: () => {
        throw new Error('app bug');
      },
    });
    await otpLogin(srv, client, fresh('web'));
    advance(BEYOND_GRACE);
    await rejectsWith(client.getToken(), 1525);
    const asyncHook = clientFor(srv, { brand: LIFE, variant: 'web', onLoginRequired: () => Promise.reject(new Error('async app bug')) });
    await otpLogin(srv, asyncHook, fresh('web'));
    advance(BEYOND_GRACE);
    await rejectsWith(asyncHook.getToken(), 1525);
  });
});

describe('keys', () => {
  test('rotateKeys: the new key is stored and used next time (the retired one would be reuse → 1597)', async () => {
    const rec = recordingFetch();
    const hook = hookLog();
    const client = clientFor(srv, { brand: ROTATE, variant: 'mobile', fetch: rec.fetch, ...hook });
    const login = await otpLogin(srv, client, fresh('mobile'));
    advance(20);
    await client.getToken();
    advance(25); // past the server's retry grace for a retired key, and due for renewal again
    const token = await client.getToken();
    assert.ok(token && (await srv.isActive(token)));
    const keys = rec.requests.filter((r) => r.path.endsWith('/token/regenerate')).map((r) => r.body.key);
    assert.equal(keys.length, 2);
    assert.equal(keys[0], login.key);
    assert.notEqual(keys[1], login.key, 'the second renewal used the rotated key');
    assert.deepEqual(hook.codes, []);
  });

  test('issueKey off: the token is used until it expires, then login is required (1597)', async () => {
    const rec = recordingFetch();
    const hook = hookLog();
    const client = clientFor(srv, { brand: NO_KEY, variant: 'mobile', fetch: rec.fetch, ...hook });
    const login = await otpLogin(srv, client, fresh('mobile'));
    assert.equal(login.key, null);
    advance(20);
    assert.equal(await client.getToken(), login.token, 'nothing to renew with: the live token');
    await rejectsWith(client.regenerate(), 1597, 'forced renewal without a key');
    assert.deepEqual(hook.codes, [], 'a forced renewal without a key does not end a live session');
    advance(15);
    await rejectsWith(client.getToken(), 1597);
    assert.deepEqual(hook.codes, [1597]);
    assert.equal(await client.getSession(), null);
    assert.equal(rec.count('token/regenerate'), 0);
  });
});

describe('transient failures', () => {
  test('a failed early renewal keeps the live token; once expired the error surfaces; the session is kept', async () => {
    let down = false;
    const failing: FetchLike = (input, init) => (down && input.includes('token/regenerate') ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init));
    const hook = hookLog();
    const client = clientFor(srv, { brand: LIFE, variant: 'web', fetch: failing, ...hook });
    const login = await otpLogin(srv, client, fresh('web'));
    down = true;
    advance(20);
    assert.equal(await client.getToken(), login.token);
    advance(15);
    await assert.rejects(client.getToken(), (err: unknown) => err instanceof AuthNetworkError && err.reason === 'network');
    assert.notEqual(await client.getSession(), null);
    assert.deepEqual(hook.codes, []);
    down = false;
    const token = await client.getToken();
    assert.ok(token && token !== login.token && (await srv.isActive(token)));
  });
});

describe('logout', () => {
  test('clears the storage even when the service cannot be reached, and says so', async () => {
    let down = false;
    const failing: FetchLike = (input, init) => (down ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init));
    for (const v of ['mobile', 'web'] as const) {
      down = false;
      const client = clientFor(srv, { brand: LIFE, variant: v, fetch: failing });
      await otpLogin(srv, client, fresh(v));
      down = true;
      await assert.rejects(client.logout(), AuthNetworkError);
      assert.equal(await client.getSession(), null, v);
    }
  });

  test('an already expired token (web) is logged out quietly', async () => {
    const client = clientFor(srv, { brand: LIFE, variant: 'web' });
    await otpLogin(srv, client, fresh('web'));
    advance(TOKEN_SECONDS + 200);
    await client.logout();
    assert.equal(await client.getSession(), null);
  });

  test('a token the service refuses (1529) is still logged out locally, without an error', async () => {
    for (const v of ['mobile', 'web'] as const) {
      const local = fakeLocalStorage();
      const hook = hookLog();
      const client = clientFor(srv, { brand: LIFE, variant: v, storage: webStorage(local), ...hook });
      await otpLogin(srv, client, fresh(v));
      const key = `auth-engine:SDKLIFE:${v}:session`;
      const stored = JSON.parse(local.items.get(key) as string);
      local.items.set(key, JSON.stringify({ ...stored, token: `${stored.token.slice(0, -4)}AAAA` }));
      await client.logout();
      assert.equal(await client.getSession(), null, v);
      assert.deepEqual(hook.codes, [], 'logging out is not a "login required" event');
    }
  });

  test('mobile: a stored key the service does not know does not stop the token being revoked', async () => {
    const local = fakeLocalStorage();
    const client = clientFor(srv, { brand: LIFE, variant: 'mobile', storage: webStorage(local) });
    const login = await otpLogin(srv, client, fresh('mobile'));
    const key = 'auth-engine:SDKLIFE:mobile:session';
    local.items.set(key, JSON.stringify({ ...JSON.parse(local.items.get(key) as string), key: 'not-a-key' }));
    await client.logout();
    assert.equal(await srv.isActive(login.token), false);
    assert.equal(await client.getSession(), null);
  });

  test('waits for a running renewal and revokes the renewed token', async () => {
    const client = clientFor(srv, { brand: LIFE, variant: 'web' });
    await otpLogin(srv, client, fresh('web'));
    advance(20);
    const renewing = client.getToken();
    await client.logout();
    const renewed = await renewing;
    assert.ok(renewed);
    assert.equal(await srv.isActive(renewed), false);
    assert.equal(await client.getSession(), null);
  });
});

/** An async storage whose every operation takes a few ms (like AsyncStorage or a keychain). */
function slowStorage(): AuthStorage {
  const inner = memoryStorage();
  const later = <T>(f: () => T) => new Promise<T>((res) => setTimeout(() => res(f()), 3));
  return {
    get: (k) => later(() => inner.get(k) as string | null),
    set: (k, val) => later(() => void inner.set(k, val)),
    remove: (k) => later(() => void inner.remove(k)),
  };
}
