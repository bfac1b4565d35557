// The deployment's signing keys (spec §4, R28/R29/R34). One current key signs; every key in
// the set verifies, each bound to exactly one algorithm, so a token cannot choose how it is
// checked: `alg: none`, HS/RS/ES confusion and keys named in the token are all refused.
// Several keys live at once, so rotating the signer never invalidates live tokens.
import { createHash, createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, type JWK } from 'jose';

export type SigningAlg = 'HS256' | 'ES256' | 'EdDSA';

export interface VerifyKey {
  kid: string;
  alg: SigningAlg;
  key: KeyObject;
}

export interface SigningKeySet {
  current: VerifyKey & { signKey: KeyObject };
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

function algOf(key: KeyObject): SigningAlg {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new Error('signing keys must be P-256 (ES256) or Ed25519 (EdDSA)');
}

async function publicEntry(pub: KeyObject): Promise<{ verify: VerifyKey; jwk: JWK }> {
  const alg = algOf(pub);
  const jwk = await exportJWK(pub);
  const kid = await calculateJwkThumbprint(jwk);
  return { verify: { kid, alg, key: pub }, jwk: { ...jwk, kid, alg, use: 'sig' } };
}

export async function loadSigningKeys(c: SigningKeyConfig): Promise<SigningKeySet> {
  const verifiers = new Map<string, VerifyKey>();
  const jwks: JWK[] = [];
  for (const secret of [c.secret, ...c.previousSecrets]) {
    const kid = secretKid(secret);
    verifiers.set(kid, { kid, alg: 'HS256', key: createSecretKey(Buffer.from(secret, 'utf8')) });
  }
  for (const pem of c.previousPublicKeyPems) {
    const { verify, jwk } = await publicEntry(createPublicKey(pem));
    verifiers.set(verify.kid, verify);
    jwks.push(jwk);
  }
  if (c.alg === 'HS256') {
    const cur = verifiers.get(secretKid(c.secret)) as VerifyKey;
    return { current: { ...cur, signKey: cur.key }, verifiers, jwks };
  }
  if (c.privateKeyPem === null) throw new Error(`a private key is required for ${c.alg}`);
  const priv = createPrivateKey(c.privateKeyPem);
  const { verify, jwk } = await publicEntry(createPublicKey(priv));
  if (verify.alg !== c.alg) throw new Error(`AUTH_SIGNING_ALG is ${c.alg} but the private key is for ${verify.alg}`);
  verifiers.set(verify.kid, verify);
  jwks.unshift(jwk);
  return { current: { ...verify, signKey: priv }, verifiers, jwks };
}
