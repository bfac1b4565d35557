// Password hashing: argon2id with OWASP parameters (m=19456 KiB, t=2, p=1). The PHC string
// stores the parameters with each hash (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so they can be
// raised later without breaking existing hashes: needsRehash tells when a stored hash was made
// with other parameters, and a successful login then stores a fresh hash (R24). Input is
// NFKC-normalised so that visually identical passwords typed on different keyboards hash the
// same; it is never truncated (argon2 takes any length; the brand's maxLength bounds it first).
//
// At most one argon2 job per core runs at a time (ConcurrencyLimit): each job is CPU- and
// memory-bound, so more than the cores only makes every job slower (and holds another 19 MiB
// each), while the pool threads it occupies are also the ones WebCrypto, fs and DNS need.
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { ConcurrencyLimit } from './concurrency-limit.ts';

// Algorithm.Argon2id of @node-rs/argon2 is an ambient const enum, which verbatimModuleSyntax
// cannot import; 2 is its value.
const ARGON2ID = 2;
const ARGON2_VERSION = 19;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a stored hash that is corrupt or out of bounds (never throws). */
  verify(stored: string, password: string): Promise<boolean>;
  /** True when the stored hash's algorithm, version or m/t/p differ from this hasher's current ones. */
  needsRehash(stored: string): boolean;
}

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_ARGON2: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * OWASP's argon2id configurations (Password Storage Cheat Sheet), which it calls an equal level
 * of defence: less memory is paid for with more passes. A configuration is accepted when it
 * reaches one of these rows: at least that memory and at least that many passes.
 */
export const OWASP_ARGON2_FLOOR: ReadonlyArray<{ memoryCost: number; timeCost: number }> = [
  { memoryCost: 47104, timeCost: 1 },
  { memoryCost: 19456, timeCost: 2 },
  { memoryCost: 12288, timeCost: 3 },
  { memoryCost: 9216, timeCost: 4 },
  { memoryCost: 7168, timeCost: 5 },
];

/**
 * The service's default: OWASP's first choice with p = 1 (AUTH_ARGON2_MEMORY_KIB /
 * AUTH_ARGON2_TIME_COST override it). The lower-memory rows of the table run faster and scale
 * better across cores (BENCHMARKS.md), but an attacker's cost grows with memory × time spent in
 * that memory, so the default keeps the most memory of the rows that cost ~2 passes.
 */
export const DEFAULT_ARGON2: Argon2Params = OWASP_ARGON2;

export const meetsOwaspFloor = (p: Pick<Argon2Params, 'memoryCost' | 'timeCost'>): boolean =>
  OWASP_ARGON2_FLOOR.some((row) => p.memoryCost >= row.memoryCost && p.timeCost >= row.timeCost);

/**
 * The largest parameters a stored hash may carry. Anything beyond is refused without running
 * argon2: a hash with m = 4 TiB, planted by a bad import or a tampered row, must not take the
 * process down (R24, F15; Kratos TestCompareRejectsExtremeHashParameters).
 */
export const ARGON2_LIMITS = { maxMemoryKiB: 1024 * 1024, maxTimeCost: 20, maxParallelism: 16, maxSaltB64: 128, maxHashB64: 256 } as const;

export const normalisePassword = (password: string): string => password.normalize('NFKC');

export interface PhcArgon2 {
  algorithm: 'argon2id' | 'argon2i' | 'argon2d';
  version: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

const PHC = /^\$(argon2id|argon2i|argon2d)\$v=(16|19)\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/** The parameters of a stored argon2 PHC string, or null when it is malformed or out of bounds. */
export function parseArgon2(stored: string): PhcArgon2 | null {
  const m = typeof stored === 'string' ? PHC.exec(stored) : null;
  if (!m) return null;
  const [, algorithm, v, mem, t, p, salt, digest] = m;
  const parsed: PhcArgon2 = { algorithm: algorithm as PhcArgon2['algorithm'], version: Number(v), memoryCost: Number(mem), timeCost: Number(t), parallelism: Number(p) };
  const L = ARGON2_LIMITS;
  if (parsed.timeCost < 1 || parsed.timeCost > L.maxTimeCost) return null;
  if (parsed.parallelism < 1 || parsed.parallelism > L.maxParallelism) return null;
  if (parsed.memoryCost < 8 * parsed.parallelism || parsed.memoryCost > L.maxMemoryKiB) return null;
  if (salt.length < 11 || salt.length > L.maxSaltB64 || digest.length < 6 || digest.length > L.maxHashB64) return null;
  return parsed;
}

let processLimit: ConcurrencyLimit | undefined;
/** The default limit, one per process at the core count: the cores are shared by every hasher in it. */
export const processArgon2Limit = (): ConcurrencyLimit => (processLimit ??= new ConcurrencyLimit(availableParallelism()));

export interface Argon2HasherOptions {
  /** Where argon2 jobs queue; by default one limit per process at os.availableParallelism(). */
  limit?: ConcurrencyLimit;
}

export function argon2Hasher(params: Argon2Params = DEFAULT_ARGON2, opts: Argon2HasherOptions = {}): PasswordHasher {
  const L = ARGON2_LIMITS;
  // The hasher must never write a hash its own verify would refuse.
  if (params.memoryCost > L.maxMemoryKiB || params.timeCost > L.maxTimeCost || params.parallelism > L.maxParallelism) {
    throw new Error(`argon2 parameters beyond ARGON2_LIMITS: ${JSON.stringify(params)}`);
  }
  const options = { algorithm: ARGON2ID, ...params, outputLen: 32 };
  const limit = opts.limit ?? processArgon2Limit();
  return {
    hash(password) {
      const input = normalisePassword(password);
      return limit.run(() => hash(input, options));
    },
    async verify(stored, password) {
      // Corrupt or absurd stored hashes fail closed, before argon2 runs (no 5xx, no OOM) and
      // without taking a slot.
      if (parseArgon2(stored) === null) return false;
      try {
        const input = normalisePassword(password);
        return await limit.run(() => verify(stored, input));
      } catch {
        return false;
      }
    },
    needsRehash(stored) {
      const p = parseArgon2(stored);
      return (
        p === null ||
        p.algorithm !== 'argon2id' ||
        p.version !== ARGON2_VERSION ||
        p.memoryCost !== params.memoryCost ||
        p.timeCost !== params.timeCost ||
        p.parallelism !== params.parallelism
      );
    },
  };
}
