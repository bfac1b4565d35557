// The deployment's signing keys (spec §4, R28/R29/R34). One current key signs; every key in
// the set verifies, each bound to exactly one algorithm, so a token cannot choose how it is
// checked: `alg: none`, HS/RS/ES confusion and keys named in the token are all refused.
// Several keys live at once, so rotating the signer never invalidates live tokens.
//
// Keys are prepared once, here, in the form their algorithm's code uses on every call: an
// HS256 secret as a node:crypto KeyObject (hs256.ts), an ES256/EdDSA key as a WebCrypto
// CryptoKey for jose — never re-exported or re-imported per token.
import { createHash, createPrivateKey, createPublicKey, createSecretKey, webcrypto, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

export type SigningAlg = 'HS256' | 'ES256' | 'EdDSA';
export type AsymmetricAlg = Exclude<SigningAlg, 'HS256'>;
type CryptoKey = webcrypto.CryptoKey;

/** A key and the one algorithm it is for: the HS256 secret, or a public / private CryptoKey. */
export type VerifyKey = { kid: string; alg: 'HS256'; key: KeyObject } | { kid: string; alg: AsymmetricAlg; key: CryptoKey };
export type SignKey = VerifyKey;

export interface SigningKeySet {
  current: SignKey;
  /** kid → key; the current key included. */
  verifiers: Map<string, VerifyKey>;
  /** Public keys for GET /.well-known/jwks.json (asymmetric keys only; never a secret). */
  jwks: JWK[];
}

export interface SigningKeyConfig {
  alg: SigningAlg;
  /** HS256 secret: signs when alg is HS256, and always verifies (tokens from before a switch). */
  secret: string;
  previousSecrets: string[];
  privateKeyPem: string | null;
  previousPublicKeyPems: string[];
}

/** A kid that names an HMAC secret without revealing it. */
const secretKid = (secret: string) => createHash('sha256').update('kid:').update(secret).digest('base64url').slice(0, 16);

const secretEntry = (secret: string): VerifyKey => ({ kid: secretKid(secret), alg: 'HS256', key: createSecretKey(Buffer.from(secret, 'utf8')) });

function algOf(key: KeyObject): AsymmetricAlg {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error('signing keys must be P-256 (ES256) or Ed25519 (EdDSA)');
}

/** The WebCrypto algorithm jose checks a CryptoKey against for each JWS alg. */
const SUBTLE: Record<AsymmetricAlg, webcrypto.EcKeyImportParams | webcrypto.Algorithm> = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
};

/** A node KeyObject as a non-extractable CryptoKey, once (jose would convert it on first use). */
function toCryptoKey(key: KeyObject, alg: AsymmetricAlg): Promise<CryptoKey> {
  if (key.type === 'private') return webcrypto.subtle.importKey('pkcs8', key.export({ format: 'der', type: 'pkcs8' }), SUBTLE[alg], false, ['sign']);
  return webcrypto.subtle.importKey('spki', key.export({ format: 'der', type: 'spki' }), SUBTLE[alg], false, ['verify']);
}

async function publicEntry(pub: KeyObject, kidOverride?: string): Promise<{ verify: VerifyKey; jwk: JWK }> {
  const alg = algOf(pub);
  const jwk = await exportJWK(pub);
  const kid = kidOverride ?? (await calculateJwkThumbprint(jwk));
  return { verify: { kid, alg, key: await toCryptoKey(pub, alg) }, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

export async function loadSigningKeys(c: SigningKeyConfig): Promise<SigningKeySet> {
  const verifiers = new Map<string, VerifyKey>();
  const jwks: JWK[] = [];
  for (const secret of [c.secret, ...c.previousSecrets]) {
    const entry = secretEntry(secret);
    verifiers.set(entry.kid, entry);
  }
  for (const pem of c.previousPublicKeyPems) {
    const { verify, jwk } = await publicEntry(createPublicKey(pem));
    verifiers.set(verify.kid, verify);
    jwks.push(jwk);
  }
  if (c.alg === 'HS256') return { current: verifiers.get(secretKid(c.secret)) as VerifyKey, verifiers, jwks };
  if (c.privateKeyPem === null) throw new Error(`a private key is required for ${c.alg}`);
  const priv = createPrivateKey(c.privateKeyPem);
  const { verify, jwk } = await publicEntry(createPublicKey(priv));
  if (verify.alg !== c.alg) throw new Error(`AUTH_SIGNING_ALG is ${c.alg} but the private key is for ${verify.alg}`);
  verifiers.set(verify.kid, verify);
  jwks.unshift(jwk);
  return { current: { kid: verify.kid, alg: verify.alg, key: await toCryptoKey(priv, verify.alg) }, verifiers, jwks };
}

/**
 * Verification keys from what a gateway is given (spec §4): the shared HS256 secret(s) of an
 * HS256 deployment, or the document of GET /.well-known/jwks.json, whose kids are the ones the
 * service signs with. For `TokenVerifier` (tokens.ts) outside the service.
 */
export async function verifyKeysFrom(material: { secrets?: string[]; jwks?: { keys: JWK[] } }): Promise<Map<string, VerifyKey>> {
  const keys = new Map<string, VerifyKey>();
  for (const secret of material.secrets ?? []) {
    const entry = secretEntry(secret);
    keys.set(entry.kid, entry);
  }
  for (const jwk of material.jwks?.keys ?? []) {
    if (typeof jwk.kid !== 'string' || jwk.d !== undefined) throw new Error('a JWKS entry needs a kid and must be a public key');
    const { verify } = await publicEntry(createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }), jwk.kid);
    if (jwk.alg !== undefined && jwk.alg !== verify.alg) throw new Error(`JWKS key ${jwk.kid} says alg ${jwk.alg} but is a ${verify.alg} key`);
    keys.set(verify.kid, verify);
  }
  return keys;
}
