// Token attacks (R28–R34) and gateway verification (§3.10, §4): algorithms pinned per key,
// `alg: none` and algorithm confusion refused, `exp` required with a small leeway, asymmetric
// signing with published JWKS, several keys live at once, and authenticated introspection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createSecretKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { ADMIN_TOKEN, idBody, otpLogin, startHarness, url, type Harness } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';

const BRAND = 'TokSec';
const MOB = '919999999993';
const SECRET = 'test-signing-secret-0123456789abcdefghijklmnop';
const GATEWAY = 'gateway-token-0123456789abcdefghijklmnopq';

async function login(h: Harness, v: 'mobile' | 'web' = 'mobile') {
  const r = await otpLogin(h, v, BRAND, 'MOBILE', MOB);
  expectOk(r.res, 'login');
  return { token: r.res.body.auth.token as string, key: r.res.body.auth.key as string | null };
}

const introspect = (h: Harness, token: string, bearer: string | null = ADMIN_TOKEN) =>
  h.app.inject({ method: 'POST', url: '/auth/v1/token/introspect', payload: { token }, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} }).then((r) => ({ status: r.statusCode, body: JSON.parse(r.body) }));

/** password/change with new == current: a token that passes the token checks stops at 1527. */
const tokenAccepted = async (h: Harness, token: string) =>
  (await h.post(url('mobile', 'password/change'), { ...idBody('mobile', BRAND, 'MOBILE', MOB), token, password: 'x', newPassword: 'x', confirmPassword: 'x' })).body.status.code !== 1529;

function b64(o: object) {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

test('R28: alg none, an unknown kid, a header-supplied key and HS/ES confusion are refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ae-keys-'));
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'signing.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const h = await startHarness({ env: { AUTH_SIGNING_ALG: 'ES256', AUTH_SIGNING_PRIVATE_KEY_FILE: join(dir, 'signing.pem') } });
  try {
    await h.createBrand(BRAND, { passwordEnabled: true });
    const { token } = await login(h);
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    assert.equal(await tokenAccepted(h, token), true, 'the genuine ES256 token');
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    // alg: none with the real kid.
    const none = `${b64({ ...header, alg: 'none' })}.${b64(payload)}.`;
    assert.equal(await tokenAccepted(h, none), false, 'alg none');
    // HS256 "signed" with the public key bytes as the HMAC secret, under the ES256 kid.
    const pubPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const confused = await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'HS256' }).sign(createSecretKey(Buffer.from(pubPem)));
    assert.equal(await tokenAccepted(h, confused), false, 'HS256 with the public key as secret');
    // A key the attacker controls, named in the header (jwk) or under an unknown kid.
    const evil = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const own = await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'ES256', kid: 'attacker' }).sign(evil.privateKey);
    assert.equal(await tokenAccepted(h, own), false, 'unknown kid');
    const embedded = await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'ES256', jwk: evil.publicKey.export({ format: 'jwk' }) as never }).sign(evil.privateKey);
    assert.equal(await tokenAccepted(h, embedded), false, 'header-supplied jwk');
    // The HS256 deployment secret still verifies HS tokens (issued before a switch) under its own kid only.
    const hs = await new SignJWT(payload).setProtectedHeader({ ...header, alg: 'HS256' }).setIssuer('AUTH ENGINE').sign(createSecretKey(Buffer.from(SECRET)));
    assert.equal(await tokenAccepted(h, hs), false, 'HS256 token under the ES256 kid');
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('R30: exp is required and checked with a 5 s leeway; iss is checked', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { passwordEnabled: true, tokenValiditySeconds: { mobile: 60, web: 60 } });
    const { token } = await login(h);
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    const key = createSecretKey(Buffer.from(SECRET));
    const { exp: _exp, ...noExp } = payload;
    const withoutExp = await new SignJWT(noExp).setProtectedHeader(header as never).sign(key);
    assert.equal(await tokenAccepted(h, withoutExp), false, 'a USER token without exp');
    const otherIssuer = await new SignJWT({ ...payload, iss: 'SOMEONE ELSE' }).setProtectedHeader(header as never).sign(key);
    assert.equal(await tokenAccepted(h, otherIssuer), false, 'another issuer');
    h.clock.advance(64_000);
    assert.equal(await tokenAccepted(h, token), true, 'within the 5 s leeway');
    h.clock.advance(2_000);
    assert.equal(await tokenAccepted(h, token), false, 'past exp + leeway');
  } finally {
    await h.close();
  }
});

for (const alg of ['ES256', 'EdDSA'] as const) {
  test(`R34: ${alg} signing publishes JWKS that verifies tokens locally; a rotated-out key keeps verifying its live tokens`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ae-keys-'));
    const pair = () => (alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519'));
    const first = pair();
    writeFileSync(join(dir, 'first.pem'), first.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const env = { AUTH_SIGNING_ALG: alg, AUTH_SIGNING_PRIVATE_KEY_FILE: join(dir, 'first.pem') };
    let h = await startHarness({ env });
    const dataDir = h.dataDir;
    let oldToken: string;
    try {
      await h.createBrand(BRAND, { passwordEnabled: true });
      oldToken = (await login(h)).token;
      const jwks = (await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      assert.equal(jwks.keys.length, 1);
      assert.equal(jwks.keys[0].alg, alg);
      assert.equal(jwks.keys[0].kid, decodeProtectedHeader(oldToken).kid);
      assert.equal(jwks.keys[0].d, undefined, 'no private part published');
      const { payload } = await jwtVerify(oldToken, createLocalJWKSet(jwks), { algorithms: [alg], issuer: 'AUTH ENGINE', currentDate: new Date(h.clock.now()) });
      assert.equal(payload.rol, 'USER');
    } finally {
      await h.close({ keepData: true });
    }
    // Rotate: a new signing key; the old public key stays as a verify-only key.
    const second = pair();
    writeFileSync(join(dir, 'second.pem'), second.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'previous.pem'), first.publicKey.export({ type: 'spki', format: 'pem' }));
    h = await startHarness({ dataDir, env: { ...env, AUTH_SIGNING_PRIVATE_KEY_FILE: join(dir, 'second.pem'), AUTH_SIGNING_PUBLIC_KEYS_FILE: join(dir, 'previous.pem') } });
    try {
      const fresh = (await login(h)).token;
      assert.notEqual(decodeProtectedHeader(fresh).kid, decodeProtectedHeader(oldToken).kid);
      assert.equal(await tokenAccepted(h, oldToken), true, 'a token of the rotated-out key still verifies');
      assert.equal(await tokenAccepted(h, fresh), true, 'the new key verifies');
      const jwks = (await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
      assert.deepEqual(jwks.keys.map((k: { kid: string }) => k.kid).sort(), [decodeProtectedHeader(oldToken).kid, decodeProtectedHeader(fresh).kid].sort());
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

test('R34: HS256 rotation — a previous secret keeps verifying its tokens', async () => {
  let h = await startHarness();
  const dataDir = h.dataDir;
  let old: string;
  try {
    await h.createBrand(BRAND, { passwordEnabled: true });
    old = (await login(h)).token;
  } finally {
    await h.close({ keepData: true });
  }
  const next = 'the-next-signing-secret-0123456789abcdefghij';
  h = await startHarness({ dataDir, env: { AUTH_SIGNING_SECRET: next, AUTH_SIGNING_SECRETS_PREVIOUS: SECRET } });
  try {
    assert.equal(await tokenAccepted(h, old), true, 'old token verifies under the previous secret');
    const fresh = (await login(h)).token;
    assert.notEqual(decodeProtectedHeader(fresh).kid, decodeProtectedHeader(old).kid);
    assert.deepEqual((await h.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json(), { keys: [] }, 'no secret is ever published');
  } finally {
    await h.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  // Without the previous secret the old token is dead.
  h = await startHarness({ env: { AUTH_SIGNING_SECRET: next } });
  try {
    await h.createBrand(BRAND, { passwordEnabled: true });
    assert.equal(await tokenAccepted(h, old), false);
  } finally {
    await h.close();
  }
});

test('§3.10 introspect: authenticated; active for live tokens and keys; inactive when expired, revoked, forged or retired', async () => {
  const h = await startHarness({ env: { AUTH_GATEWAY_TOKEN: GATEWAY } });
  try {
    await h.createBrand(BRAND, { passwordEnabled: true, tokenValiditySeconds: { mobile: 60, web: 60 } });
    const { token, key } = await login(h);
    for (const bearer of [null, 'wrong-token-0123456789abcdefghijklmnopqrstu']) {
      const r = await introspect(h, token, bearer);
      assert.equal(r.status, 401);
      assert.equal(r.body.status.code, 1548);
    }
    for (const bearer of [ADMIN_TOKEN, GATEWAY]) {
      const r = await introspect(h, token, bearer);
      assert.equal(r.status, 200);
      assert.equal(r.body.active, true);
      assert.equal(r.body.claims.rol, 'USER');
      assert.equal(r.body.claims.org, BRAND.toUpperCase());
      assert.deepEqual(r.body.claims.idv, [`MOBILE|${MOB}`]);
    }
    assert.equal((await introspect(h, key as string)).body.active, true, 'a live key');
    assert.equal((await introspect(h, 'garbage')).body.active, false, 'garbage');
    assert.equal((await introspect(h, `${token.slice(0, -3)}abc`)).body.active, false, 'bad signature');
    assert.deepEqual(Object.keys((await introspect(h, 'garbage')).body).sort(), ['active', 'status'], 'no claims when inactive');
    // Logout revokes the token and the device's keys.
    expectOk(await h.post(url('mobile', 'token/expire'), { ...idBody('mobile', BRAND, 'MOBILE', MOB), token }), 'logout');
    assert.equal((await introspect(h, token)).body.active, false, 'revoked token');
    assert.equal((await introspect(h, key as string)).body.active, false, 'revoked key');
    const again = await login(h);
    h.clock.advance(66_000);
    assert.equal((await introspect(h, again.token)).body.active, false, 'expired token');
    assert.equal((await introspect(h, again.key as string)).body.active, true, 'a key without lifetime stays active');
  } finally {
    await h.close();
  }
});

test('introspect: a retired key under rotateKeys is inactive, its successor active', async () => {
  const h = await startHarness();
  try {
    await h.createBrand(BRAND, { rotateKeys: true });
    const { key } = await login(h);
    const r = await h.post(url('mobile', 'token/regenerate'), { ...idBody('mobile', BRAND, 'MOBILE', MOB), key });
    expectOk(r, 'rotate');
    assert.equal((await introspect(h, key as string)).body.active, false);
    assert.equal((await introspect(h, r.body.auth.key)).body.active, true);
    expectError(await h.post(url('mobile', 'password/change'), { ...idBody('mobile', BRAND, 'MOBILE', MOB), token: key, password: 'a', newPassword: 'b', confirmPassword: 'b' }), 1524, 'password off: 1524 first');
  } finally {
    await h.close();
  }
});
