// The node:crypto HS256 path of tokens.ts against jose, the library it replaced for HS256:
// the same bytes out, each side verifies the other's tokens, and every malformed, forged or
// out-of-date token is refused exactly when the former jose-based verifier (kept below as
// `joseVerify`, line for line) refused it. A few spellings jose tolerated are now refused on
// purpose (padding, whitespace, a re-spelled signature, `crit`); they are listed apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createSecretKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, errors as joseErrors, type JWK } from 'jose';
import { TokenService, TokenVerifier, type TokenClaims, type TokenHeader, type Verified, type VerifyOptions } from '../../src/crypto/tokens.ts';
import { loadSigningKeys, verifyKeysFrom, type SigningAlg, type VerifyKey } from '../../src/crypto/signing-keys.ts';

const SECRET = 'unit-signing-secret-0123456789abcdefghijklmno';
const PREVIOUS = 'unit-previous-secret-0123456789abcdefghijklmn';
const ISSUER = 'AUTH ENGINE';
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const NOW_S = NOW / 1000;
const SEC = 1000;

const hsKeys = (secret = SECRET, previous: string[] = [PREVIOUS]) =>
  loadSigningKeys({ alg: 'HS256', secret, previousSecrets: previous, privateKeyPem: null, previousPublicKeyPems: [] });

/** The verifier tokens.ts had before the node:crypto path (jose for every algorithm). */
async function joseVerify(keys: ReadonlyMap<string, VerifyKey>, token: string, opts: VerifyOptions): Promise<Verified | null> {
  if (typeof token !== 'string' || token.length > 8192) return null;
  try {
    let kid: unknown;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return null;
    }
    const key = typeof kid === 'string' ? keys.get(kid) : undefined;
    if (!key) return null;
    const { payload, protectedHeader } = await jwtVerify(token, key.key, {
      algorithms: [key.alg],
      issuer: ISSUER,
      currentDate: new Date(opts.now),
      clockTolerance: 5 + (opts.allowExpiredSeconds ?? 0),
    });
    const h = protectedHeader as unknown as TokenHeader;
    const c = payload as TokenClaims;
    if (!Array.isArray(h.idv) || typeof h.org !== 'string' || (h.dev !== null && typeof h.dev !== 'string')) return null;
    if (c.rol !== 'VIEW' && c.rol !== 'USER' && c.rol !== 'AUTH') return null;
    if (typeof c.jti !== 'string' || typeof c.iat !== 'number') return null;
    if (c.rol !== 'AUTH' && typeof c.exp !== 'number') return null;
    return { header: h, claims: c };
  } catch (err) {
    if (err instanceof joseErrors.JOSEError) return null;
    throw err;
  }
}

/** The signer tokens.ts had: jose's SignJWT over the same header and claims. */
async function joseResign(token: string, key: Parameters<SignJWT['sign']>[0]): Promise<string> {
  const { iss, iat, exp, ...rest } = decodeJwt(token);
  assert.equal(iss, ISSUER);
  let jwt = new SignJWT(rest).setProtectedHeader(decodeProtectedHeader(token) as never).setIssuer(ISSUER).setIssuedAt(iat as number);
  if (exp !== undefined) jwt = jwt.setExpirationTime(exp);
  return jwt.sign(key);
}

const seg = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const mac = (input: string, secret: string | Buffer, alg = 'sha256') => createHmac(alg, secret).update(input).digest('base64url');
/** A token with an honest HMAC over whatever segments it is given. */
const signedRaw = (h: string, p: string, secret: string | Buffer = SECRET, alg = 'sha256') => `${h}.${p}.${mac(`${h}.${p}`, secret, alg)}`;
const signed = (header: unknown, payload: unknown, secret: string | Buffer = SECRET, alg = 'sha256') => signedRaw(seg(header), seg(payload), secret, alg);

async function issueAll(svc: TokenService) {
  const base = { brand: 'DOCDEMO', idv: ['MOBILE|919999999993', 'EMAIL|a@example.com'], now: NOW };
  return {
    view: (await svc.issue({ ...base, role: 'VIEW', deviceId: null, ttlSeconds: 900 })).token,
    user: (await svc.issue({ ...base, role: 'USER', deviceId: 'device-1', uid: 'u-123', ttlSeconds: 900 })).token,
    key: (await svc.issue({ ...base, role: 'AUTH', deviceId: 'device-1', uid: 'u-123', ttlSeconds: 3600 })).token,
    foreverKey: (await svc.issue({ ...base, role: 'AUTH', deviceId: 'device-1', uid: 'u-123', ttlSeconds: null })).token,
  };
}

test('HS256 tokens keep the bytes jose wrote: same header fields and claims in the same order, same signature', async () => {
  const keys = await hsKeys();
  const svc = new TokenService(keys, ISSUER);
  const secretKey = createSecretKey(Buffer.from(SECRET));
  const tokens = await issueAll(svc);
  for (const [what, t] of Object.entries(tokens)) {
    assert.equal(await joseResign(t, secretKey), t, `${what}: identical to jose's SignJWT output`);
  }
  assert.deepEqual(Object.keys(decodeProtectedHeader(tokens.user)), ['alg', 'kid', 'idv', 'dev', 'org']);
  assert.deepEqual(decodeProtectedHeader(tokens.user), { alg: 'HS256', kid: svc.kid, idv: ['MOBILE|919999999993', 'EMAIL|a@example.com'], dev: 'device-1', org: 'DOCDEMO' });
  assert.deepEqual(Object.keys(decodeJwt(tokens.user)), ['rol', 'jti', 'uid', 'iss', 'iat', 'exp']);
  assert.deepEqual(Object.keys(decodeJwt(tokens.view)), ['rol', 'jti', 'iss', 'iat', 'exp']);
  assert.deepEqual(Object.keys(decodeJwt(tokens.key)), ['rol', 'jti', 'uid', 'mfa', 'iss', 'iat', 'exp']);
  assert.deepEqual(Object.keys(decodeJwt(tokens.foreverKey)), ['rol', 'jti', 'uid', 'mfa', 'iss', 'iat']);
  const user = decodeJwt(tokens.user);
  assert.equal(user.iat, NOW_S);
  assert.equal(user.exp, NOW_S + 900);
  assert.equal(decodeJwt(tokens.key).mfa, false);
  const issued = await svc.issue({ role: 'USER', brand: 'B', idv: [], deviceId: null, uid: 'u', ttlSeconds: 60, now: NOW + 999 });
  assert.equal(issued.expiresAt, (NOW_S + 60) * 1000, 'expiresAt from whole-second iat');
  assert.equal(decodeJwt(issued.token).jti, issued.jti);
  assert.equal((await svc.issue({ role: 'AUTH', brand: 'B', idv: [], deviceId: null, uid: 'u', ttlSeconds: null, now: NOW })).expiresAt, null);
});

test('jose verifies the new tokens, and the new verifier verifies tokens jose signed (issued before the change)', async () => {
  const keys = await hsKeys();
  const svc = new TokenService(keys, ISSUER);
  const secretKey = createSecretKey(Buffer.from(SECRET));
  const tokens = await issueAll(svc);
  for (const [what, t] of Object.entries(tokens)) {
    const { payload, protectedHeader } = await jwtVerify(t, secretKey, { algorithms: ['HS256'], issuer: ISSUER, currentDate: new Date(NOW) });
    const mine = await svc.verify(t, { now: NOW });
    assert.ok(mine, `${what}: verifies`);
    assert.deepEqual(mine, { header: protectedHeader, claims: payload }, `${what}: same header and claims as jose returns`);
    const joseSigned = await joseResign(t, secretKey);
    assert.deepEqual(await svc.verify(joseSigned, { now: NOW }), mine, `${what}: jose-signed verifies`);
  }
  // A token jose signed with a Uint8Array secret (as the tests' own fixtures do) verifies too.
  const { iss: _i, iat: _a, exp: _e, ...rest } = decodeJwt(tokens.user);
  const fromJose = await new SignJWT(rest).setProtectedHeader(decodeProtectedHeader(tokens.user) as never).setIssuer(ISSUER).setIssuedAt(NOW_S).setExpirationTime(NOW_S + 60).sign(new TextEncoder().encode(SECRET));
  assert.equal((await svc.verify(fromJose, { now: NOW }))?.claims.exp, NOW_S + 60);
});

/** Every case: [what, token, expected accepted?, verify options]. */
async function hsCases(svc: TokenService, previousSvc: TokenService): Promise<[string, unknown, boolean, VerifyOptions?][]> {
  const { view, user, key, foreverKey } = await issueAll(svc);
  const old = (await issueAll(previousSvc)).user;
  const header = decodeProtectedHeader(user) as Record<string, unknown>;
  const payload = decodeJwt(user) as Record<string, unknown>;
  const [h, p, s] = user.split('.') as [string, string, string];
  const { kid: _kid, ...noKid } = header;
  const { exp: _exp, ...noExp } = payload;
  const { iss: _iss, ...noIss } = payload;
  const { iat: _iat, ...noIat } = payload;
  const flip = (c: string) => (c === 'A' ? 'B' : 'A');
  const late = { now: NOW + 2 * 3600 * SEC };
  return [
    ['genuine USER token', user, true],
    ['genuine VIEW token', view, true],
    ['genuine AUTH key', key, true],
    ['AUTH key without exp', foreverKey, true],
    ['token of the previous secret (rotation)', old, true],
    ['re-signed unchanged', signed(header, payload), true],
    ['an extra header field (typ)', signed({ ...header, typ: 'JWT' }, payload), true],
    ['an extra claim', signed(header, { ...payload, x: 1 }), true],
    ['payload with a UTF-8 BOM (both decoders drop it)', signedRaw(h, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(payload))]).toString('base64url')), true],
    // Tampering.
    ['payload changed, signature kept', `${h}.${seg({ ...payload, uid: 'someone-else' })}.${s}`, false],
    ['header changed, signature kept', `${seg({ ...header, org: 'OTHER' })}.${p}.${s}`, false],
    ['first signature character changed', `${h}.${p}.${flip(s[0] as string)}${s.slice(1)}`, false],
    ['signature truncated', `${h}.${p}.${s.slice(0, -1)}`, false],
    ['signature of another secret', signed(header, payload, 'not-the-deployment-secret-0123456789abcdef'), false],
    ['signature reversed', `${h}.${p}.${[...s].reverse().join('')}`, false],
    // Algorithms.
    ['alg none, empty signature', `${seg({ ...header, alg: 'none' })}.${p}.`, false],
    ['alg none, the real signature', `${seg({ ...header, alg: 'none' })}.${p}.${s}`, false],
    ['alg none, no kid', `${seg({ alg: 'none' })}.${p}.`, false],
    ['alg HS512, signed with the real secret', signed({ ...header, alg: 'HS512' }, payload, SECRET, 'sha512'), false],
    ['alg HS512 header, HS256 signature', signed({ ...header, alg: 'HS512' }, payload), false],
    ['alg RS256, HMAC with the secret as "public key"', signed({ ...header, alg: 'RS256' }, payload), false],
    ['alg hs256 (case)', signed({ ...header, alg: 'hs256' }, payload), false],
    ['alg missing', signed({ ...header, alg: undefined }, payload), false],
    ['alg an array', signed({ ...header, alg: ['HS256'] }, payload), false],
    // Keys.
    ['no kid', signed(noKid, payload), false],
    ['unknown kid', signed({ ...header, kid: 'unknown' }, payload), false],
    ['kid a number', signed({ ...header, kid: 0 }, payload), false],
    ['kid an object', signed({ ...header, kid: { $ne: null } }, payload), false],
    ['kid __proto__', signed({ ...header, kid: '__proto__' }, payload), false],
    ['kid constructor', signed({ ...header, kid: 'constructor' }, payload), false],
    ['the previous kid, signed with the current secret', signed({ ...header, kid: decodeProtectedHeader(old).kid }, payload), false],
    ['header-supplied jwk', signed({ ...header, jwk: { kty: 'oct', k: seg('attacker') } }, payload, 'attacker'), false],
    // Time.
    ['expired 10 s ago', signed(header, { ...payload, exp: NOW_S - 10 }), false],
    ['expired exactly the leeway ago (5 s)', signed(header, { ...payload, exp: NOW_S - 5 }), false],
    ['expired 4 s ago (within the leeway)', signed(header, { ...payload, exp: NOW_S - 4 }), true],
    ['the genuine token two hours later', user, false, late],
    ['the genuine token two hours later, 2 h allowed', user, true, { now: late.now, allowExpiredSeconds: 7200 }],
    ['the genuine token two hours later, 1 h allowed', user, false, { now: late.now, allowExpiredSeconds: 3600 }],
    ['nbf 6 s ahead', signed(header, { ...payload, nbf: NOW_S + 6 }), false],
    ['nbf 5 s ahead (within the leeway)', signed(header, { ...payload, nbf: NOW_S + 5 }), true],
    ['nbf a minute ahead, a day allowed (the leeway widens both ways, as in jose)', signed(header, { ...payload, nbf: NOW_S + 60 }), true, { now: NOW, allowExpiredSeconds: 86400 }],
    ['nbf a string', signed(header, { ...payload, nbf: 'now' }), false],
    ['iat in the future (not checked, as in jose)', signed(header, { ...payload, iat: NOW_S + 3600 }), true],
    ['exp a string', signed(header, { ...payload, exp: 'never' }), false],
    ['exp null', signed(header, { ...payload, exp: null }), false],
    ['exp 1e308', signed(header, { ...payload, exp: 1e308 }), true],
    ['USER token without exp', signed(header, noExp), false],
    ['iat missing', signed(header, noIat), false],
    ['iat a string', signed(header, { ...payload, iat: String(NOW_S) }), false],
    // Issuer.
    ['another issuer', signed(header, { ...payload, iss: 'SOMEONE ELSE' }), false],
    ['no issuer', signed(header, noIss), false],
    ['issuer null', signed(header, { ...payload, iss: null }), false],
    ['issuer in an array', signed(header, { ...payload, iss: [ISSUER] }), false],
    // Shapes the service needs.
    ['rol ADMIN', signed(header, { ...payload, rol: 'ADMIN' }), false],
    ['jti a number', signed(header, { ...payload, jti: 1 }), false],
    ['idv an object', signed({ ...header, idv: { 0: 'MOBILE|919999999993' } }, payload), false],
    ['org a number', signed({ ...header, org: 42 }, payload), false],
    ['dev a number', signed({ ...header, dev: 1 }, payload), false],
    ['dev missing', signed({ ...header, dev: undefined }, payload), false],
    // Not a JWT.
    ['payload an array', signed(header, [payload]), false],
    ['payload a number', signed(header, '42'), false],
    ['payload a string', signed(header, '"x"'), false],
    ['payload null', signed(header, 'null'), false],
    ['payload not JSON', signed(header, '{"rol":'), false],
    ['payload invalid UTF-8', signedRaw(h, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64url')), false],
    ['header an array', signed([header], payload), false],
    ['header null', signed('null', payload), false],
    ['header not JSON', signedRaw(seg('{"alg":'), p), false],
    ['header invalid UTF-8', signedRaw(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]).toString('base64url'), p), false],
    ['two segments', `${h}.${p}`, false],
    ['four segments', `${user}.x`, false],
    ['a trailing dot', `${user}.`, false],
    ['five segments (JWE shape)', `${h}.${p}.${p}.${p}.${s}`, false],
    ['empty payload segment', `${h}..${s}`, false],
    ['empty header segment', signedRaw('', p), false],
    ['"+" in the signature', `${h}.${p}.${s.slice(0, 5)}+${s.slice(6)}`, false],
    ['"/" in the payload', `${h}.${p.slice(0, 5)}/${p.slice(6)}.${s}`, false],
    ['"*" in the header', `${h.slice(0, 5)}*${h.slice(6)}.${p}.${s}`, false],
    ['unicode in the header', `${h}é.${p}.${s}`, false],
    ['a huge token (payload > 8 KiB)', signed(header, { ...payload, pad: 'x'.repeat(9000) }), false],
    ['the empty string', '', false],
    ['garbage', 'garbage', false],
    ['dots only', '..', false],
    ['not a string', 42, false],
    ['null', null, false],
  ];
}

test('HS256: every case is accepted or refused exactly as the jose-based verifier did', async () => {
  const keys = await hsKeys();
  const svc = new TokenService(keys, ISSUER);
  const previousSvc = new TokenService(await hsKeys(PREVIOUS, []), ISSUER);
  const cases = await hsCases(svc, previousSvc);
  assert.ok(cases.filter((c) => c[2]).length >= 10 && cases.filter((c) => !c[2]).length >= 60);
  for (const [what, token, accepted, opts = { now: NOW }] of cases) {
    const mine = await svc.verify(token as string, opts);
    assert.equal(mine !== null, accepted, `${what}: expected ${accepted ? 'accepted' : 'refused'}`);
    assert.deepEqual(mine, await joseVerify(keys.verifiers, token as string, opts), `${what}: same outcome as jose`);
  }
});

test('HS256: spellings jose tolerated are refused (padding, whitespace, a re-spelled signature, crit)', async () => {
  const keys = await hsKeys();
  const svc = new TokenService(keys, ISSUER);
  const { user } = await issueAll(svc);
  const [h, p, s] = user.split('.') as [string, string, string];
  assert.equal(s.length, 43, 'an HMAC-SHA-256 is 43 base64url characters');
  // The last of 43 characters carries 2 bits of the MAC and 4 zero bits; another character
  // with the same 2 bits decodes to the same MAC.
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = A.indexOf(s[42] as string);
  const respelled = `${h}.${p}.${s.slice(0, 42)}${A[last + 1]}`;
  assert.deepEqual(Buffer.from(respelled.split('.')[2] as string, 'base64url'), Buffer.from(s, 'base64url'), 'control: the same MAC bytes');
  const header = decodeProtectedHeader(user);
  const refused: [string, string][] = [
    ['signature with "=" padding', `${user}=`],
    ['signature with a space', `${h}.${p}.${s.slice(0, 10)} ${s.slice(10)}`],
    ['signature with a newline', `${user}\n`],
    ['signature re-spelled in its last character', respelled],
    ['padded header, signed over', signedRaw(`${h}${'='.repeat((4 - (h.length % 4)) % 4 || 4)}`, p)],
    ['crit b64 (true), signed', signed({ ...header, crit: ['b64'], b64: true }, decodeJwt(user))],
    ['crit b64 (false), signed', signed({ ...header, crit: ['b64'], b64: false }, decodeJwt(user))],
    ['crit with an unknown extension, signed', signed({ ...header, crit: ['exp'], exp: 1 }, decodeJwt(user))],
  ];
  for (const [what, t] of refused) assert.equal(await svc.verify(t, { now: NOW }), null, what);
  assert.ok(await svc.verify(user, { now: NOW }), 'control: the genuine token');
});

test('HS256: one-character mutations anywhere in a token never get past the new verifier when jose refused them', async () => {
  const keys = await hsKeys();
  const svc = new TokenService(keys, ISSUER);
  const { user } = await issueAll(svc);
  let refusedByBoth = 0;
  for (let i = 0; i < user.length; i++) {
    for (const c of ['A', 'z', '0', '-', '_', '.', '=', '+', ' ']) {
      if (user[i] === c) continue;
      const t = user.slice(0, i) + c + user.slice(i + 1);
      const mine = await svc.verify(t, { now: NOW });
      assert.equal(mine, null, `position ${i} → ${JSON.stringify(c)} accepted`);
      if ((await joseVerify(keys.verifiers, t, { now: NOW })) === null) refusedByBoth++;
    }
  }
  assert.ok(refusedByBoth > user.length * 7, 'jose refused nearly all of them too');
});

test('a gateway verifier from the shared secret is the same code: accepts and refuses as the service', async () => {
  const keys = await hsKeys();
  const svc = new TokenService(keys, ISSUER);
  const gateway = new TokenVerifier(await verifyKeysFrom({ secrets: [SECRET, PREVIOUS] }), ISSUER);
  const previousSvc = new TokenService(await hsKeys(PREVIOUS, []), ISSUER);
  for (const [what, token, accepted, opts = { now: NOW }] of await hsCases(svc, previousSvc)) {
    assert.equal((await gateway.verify(token as string, opts)) !== null, accepted, what);
  }
  const onlyCurrent = new TokenVerifier(await verifyKeysFrom({ secrets: [SECRET] }), ISSUER);
  assert.equal(await onlyCurrent.verify((await issueAll(previousSvc)).user, { now: NOW }), null, 'without the previous secret its tokens are dead');
  const otherIssuer = new TokenVerifier(await verifyKeysFrom({ secrets: [SECRET] }), 'OTHER');
  assert.equal(await otherIssuer.verify((await issueAll(svc)).user, { now: NOW }), null, 'the issuer is pinned');
});

for (const alg of ['ES256', 'EdDSA'] as const satisfies readonly SigningAlg[]) {
  test(`${alg}: signed with jose and a key imported once; JWKS verification, confusion and tampering as before`, async () => {
    const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    const older = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    const keys = await loadSigningKeys({
      alg,
      secret: SECRET,
      previousSecrets: [],
      privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      previousPublicKeyPems: [older.publicKey.export({ type: 'spki', format: 'pem' }) as string],
    });
    assert.equal(keys.current.alg, alg);
    assert.equal(keys.current.key.constructor.name, 'CryptoKey', 'the private key is a CryptoKey, imported once');
    for (const k of keys.verifiers.values()) if (k.alg !== 'HS256') assert.equal(k.key.constructor.name, 'CryptoKey');
    const svc = new TokenService(keys, ISSUER);
    const { user, foreverKey } = await issueAll(svc);
    const header = decodeProtectedHeader(user);
    assert.deepEqual(Object.keys(header), ['alg', 'kid', 'idv', 'dev', 'org']);
    assert.equal(header.alg, alg);
    // jose with the published JWKS, and the gateway verifier built from it.
    const jwks = svc.jwks as { keys: JWK[] };
    assert.equal(jwks.keys.length, 2);
    assert.ok(jwks.keys.every((k) => k.d === undefined), 'no private part published');
    const { payload } = await jwtVerify(user, createLocalJWKSet(jwks), { algorithms: [alg], issuer: ISSUER, currentDate: new Date(NOW) });
    assert.equal(payload.uid, 'u-123');
    const gateway = new TokenVerifier(await verifyKeysFrom({ jwks }), ISSUER);
    const [h, p, s] = user.split('.') as [string, string, string];
    const pubPem = pair.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const cases: [string, string, boolean][] = [
      ['genuine', user, true],
      ['key without exp', foreverKey, true],
      ['payload changed', `${h}.${seg({ ...payload, uid: 'x' })}.${s}`, false],
      ['signature zeroed', `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`, false],
      ['empty signature', `${h}.${p}.`, false],
      ['HS256 keyed with the public key PEM, under the real kid', signed({ ...header, alg: 'HS256' }, payload, pubPem), false],
      ['HS256 keyed with the deployment secret, under the real kid', signed({ ...header, alg: 'HS256' }, payload, SECRET), false],
      ['alg none', `${seg({ ...header, alg: 'none' })}.${p}.`, false],
      ['another issuer', signed(header, { ...payload, iss: 'X' }, SECRET), false],
    ];
    for (const [what, t, accepted] of cases) {
      const mine = await svc.verify(t, { now: NOW });
      assert.equal(mine !== null, accepted, `${what}`);
      assert.deepEqual(mine, await joseVerify(keys.verifiers, t, { now: NOW }), `${what}: same as jose with the same keys`);
      assert.deepEqual(await gateway.verify(t, { now: NOW }), mine, `${what}: the JWKS gateway agrees`);
    }
    assert.equal(await svc.verify(user, { now: NOW + 901 * SEC + 5 * SEC }), null, 'expired past the leeway');
    assert.equal(await svc.verify(`${user}=`, { now: NOW }), null, 'a padded signature');
    // A token of the rotated-out key verifies through its kept public key.
    const olderSvc = new TokenService(
      await loadSigningKeys({ alg, secret: SECRET, previousSecrets: [], privateKeyPem: older.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, previousPublicKeyPems: [] }),
      ISSUER,
    );
    const oldToken = (await issueAll(olderSvc)).user;
    assert.ok(await svc.verify(oldToken, { now: NOW }), 'rotated-out key still verifies');
    assert.ok(await gateway.verify(oldToken, { now: NOW }), 'and through the JWKS');
    // The HS256 secret still verifies HS256 tokens of its own kid (from before a switch).
    const hsSvc = new TokenService(await hsKeys(SECRET, []), ISSUER);
    assert.ok(await svc.verify((await issueAll(hsSvc)).user, { now: NOW }), 'an HS256 token from before the switch');
  });
}

test('verifyKeysFrom refuses a private JWK and a JWKS entry whose alg does not fit its key', async () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const priv = { ...(pair.privateKey.export({ format: 'jwk' }) as JWK), kid: 'k1' };
  await assert.rejects(verifyKeysFrom({ jwks: { keys: [priv] } }), /public key/);
  const pub = { ...(pair.publicKey.export({ format: 'jwk' }) as JWK), kid: 'k1', alg: 'EdDSA' };
  await assert.rejects(verifyKeysFrom({ jwks: { keys: [pub] } }), /alg/);
  const noKid = pair.publicKey.export({ format: 'jwk' }) as JWK;
  await assert.rejects(verifyKeysFrom({ jwks: { keys: [noKid] } }), /kid/);
});
