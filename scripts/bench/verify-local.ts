// verify_local: what an API gateway does with every request — verify the service's token
// in-process, using the published key material: the JWKS of /.well-known/jwks.json for
// ES256/EdDSA, or the shared HS256 secret (the default deployment publishes no key: a gateway
// holds the secret, like the original's). Signature, issuer and expiry are checked.
//
// The headline is the project's own verifier (`TokenVerifier` of src/crypto/tokens.ts, keys
// from `verifyKeysFrom`: the same code the service runs, node:crypto for HS256). jose is
// measured beside it for comparison — with the key imported once, and with a KeyObject as
// the service used it before — and a bare node:crypto check gives the floor.
//
// Run as its own process (`main.ts` pins it to one core with taskset when it can) so that
// "operations per second on one core" is literal: jose verifies through WebCrypto, whose jobs
// run on the libuv thread pool, and only pinning keeps those threads on the same core.
// Input comes in the environment (BENCH_VERIFY_INPUT, JSON) so the secret is not on a
// command line; output is one JSON line on stdout.
import { createHmac, createPublicKey, createSecretKey, timingSafeEqual, verify as cryptoVerify, webcrypto, type JsonWebKey, type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from 'jose';
import { verifyKeysFrom } from '../../src/crypto/signing-keys.ts';
import { TokenVerifier } from '../../src/crypto/tokens.ts';
import { Samples } from './stats.ts';

export interface VerifyInput {
  token: string;
  issuer: string;
  alg: 'HS256' | 'ES256' | 'EdDSA';
  /** HS256: the shared secret. */
  secret?: string;
  /** ES256/EdDSA: the document served at /.well-known/jwks.json. */
  jwks?: { keys: JWK[] };
  durationMs: number;
  /** Verifications in flight at once (a gateway verifies many requests concurrently). */
  inFlight: number;
  /**
   * service: the project's TokenVerifier (what the service and a gateway built on it run);
   * jose-keyobject: jose with a node KeyObject (what the service did before, for HS256);
   * jose-cryptokey: jose with a WebCrypto key imported once (HS256) / the local JWKS set;
   * node-crypto: no library, node:crypto's synchronous HMAC / signature check plus the same
   * claim checks — the floor of what verification costs in Node.
   */
  verifier: Verifier;
}

export const VERIFIERS = ['service', 'jose-keyobject', 'jose-cryptokey', 'node-crypto'] as const;
export type Verifier = (typeof VERIFIERS)[number];

type Payload = { rol?: unknown; iss?: unknown; exp?: unknown; nbf?: unknown };

const b64json = (s: string): Record<string, unknown> => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;

/**
 * A complete compact-JWS check with node:crypto: the header's alg must be the one expected
 * (no `none`, no confusion), the kid must name a known key, the signature must verify, and
 * iss / exp / nbf must hold (5 s leeway, as the service). Synchronous: no thread-pool hop.
 */
function nodeCryptoVerifier(input: VerifyInput): () => Payload {
  let keyFor: (kid: unknown) => KeyObject | undefined;
  if (input.alg === 'HS256') {
    const k = createSecretKey(Buffer.from(input.secret as string, 'utf8'));
    keyFor = () => k;
  } else {
    const keys = new Map<unknown, KeyObject>();
    for (const jwk of input.jwks?.keys ?? []) keys.set(jwk.kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
    keyFor = (kid) => keys.get(kid);
  }
  return () => {
    const t = input.token;
    const d1 = t.indexOf('.');
    const d2 = t.indexOf('.', d1 + 1);
    if (d1 < 0 || d2 < 0 || t.indexOf('.', d2 + 1) >= 0) throw new Error('not a compact JWS');
    const header = b64json(t.slice(0, d1));
    if (header.alg !== input.alg) throw new Error('alg not allowed');
    const key = keyFor(header.kid);
    if (!key) throw new Error('unknown kid');
    const signed = t.slice(0, d2);
    const sig = Buffer.from(t.slice(d2 + 1), 'base64url');
    let ok: boolean;
    if (input.alg === 'HS256') {
      const mac = createHmac('sha256', key).update(signed).digest();
      ok = mac.length === sig.length && timingSafeEqual(mac, sig);
    } else {
      ok = cryptoVerify(input.alg === 'ES256' ? 'sha256' : null, Buffer.from(signed), input.alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key, sig);
    }
    if (!ok) throw new Error('bad signature');
    const p = b64json(t.slice(d1 + 1, d2)) as Payload;
    const now = Math.floor(Date.now() / 1000);
    if (p.iss !== input.issuer) throw new Error('issuer');
    if (typeof p.exp !== 'number' || now > p.exp + 5) throw new Error('expired');
    if (typeof p.nbf === 'number' && now < p.nbf - 5) throw new Error('not yet valid');
    return p;
  };
}

async function makeVerifier(input: VerifyInput): Promise<() => Promise<Payload> | Payload> {
  const options = { algorithms: [input.alg], issuer: input.issuer, clockTolerance: 5 };
  const t = input.token;
  switch (input.verifier) {
    case 'service': {
      const keys = await verifyKeysFrom(input.alg === 'HS256' ? { secrets: [input.secret as string] } : { jwks: input.jwks as { keys: JWK[] } });
      const verifier = new TokenVerifier(keys, input.issuer);
      return async () => {
        const v = await verifier.verify(t, { now: Date.now() });
        if (!v) throw new Error('refused');
        return v.claims;
      };
    }
    case 'node-crypto':
      return nodeCryptoVerifier(input);
    case 'jose-cryptokey': {
      if (input.alg !== 'HS256') {
        const set = createLocalJWKSet(input.jwks as { keys: JWK[] });
        return async () => (await jwtVerify(t, set, options)).payload;
      }
      const key = await webcrypto.subtle.importKey('raw', Buffer.from(input.secret as string, 'utf8'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
      return async () => (await jwtVerify(t, key, options)).payload;
    }
    case 'jose-keyobject': {
      if (input.alg !== 'HS256') {
        const keys = new Map<unknown, KeyObject>();
        for (const jwk of input.jwks?.keys ?? []) keys.set(jwk.kid, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }));
        // As the service's verifier: the kid picks the KeyObject.
        return async () => (await jwtVerify(t, keys.get(decodeProtectedHeader(t).kid) as KeyObject, options)).payload;
      }
      const key = createSecretKey(Buffer.from(input.secret as string, 'utf8'));
      return async () => (await jwtVerify(t, key, options)).payload;
    }
  }
}

export interface VerifyOutput {
  ops: number;
  wallMs: number;
  cpuMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  errors: number;
}

export async function verifyLoop(input: VerifyInput): Promise<VerifyOutput> {
  const verifyOnce = await makeVerifier(input);
  // Warm-up: JIT and jose's key cache.
  for (let i = 0; i < 2000; i++) await verifyOnce();
  const latency = new Samples();
  let ops = 0;
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + input.durationMs;
  await Promise.all(
    Array.from({ length: input.inFlight }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          const payload = await verifyOnce();
          if (payload.rol !== 'USER') errors++;
          else ops++;
        } catch {
          errors++;
        }
        latency.add(performance.now() - s);
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const [p50Ms, p90Ms, p99Ms] = latency.percentiles([50, 90, 99]) as [number, number, number];
  return { ops, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, p50Ms, p90Ms, p99Ms, errors };
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const input = JSON.parse(process.env.BENCH_VERIFY_INPUT ?? '{}') as VerifyInput;
  verifyLoop(input).then(
    (out) => process.stdout.write(`${JSON.stringify(out)}\n`),
    (err) => {
      process.stderr.write(`verify_local failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
