// Password hashing: argon2id with OWASP parameters (m=19456 KiB, t=2, p=1). The PHC string
// stores the parameters with each hash, so they can be raised later without breaking
// existing hashes. Input is NFKC-normalised so that visually identical passwords typed on
// different keyboards hash the same.
import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id of @node-rs/argon2 is an ambient const enum, which verbatimModuleSyntax
// cannot import; 2 is its value.
const ARGON2ID = 2;

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(stored: string, password: string): Promise<boolean>;
}

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_ARGON2: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const normalisePassword = (password: string): string => password.normalize('NFKC');

export function argon2Hasher(params: Argon2Params = OWASP_ARGON2): PasswordHasher {
  const options = { algorithm: ARGON2ID, ...params, outputLen: 32 };
  return {
    hash: (password) => hash(normalisePassword(password), options),
    async verify(stored, password) {
      try {
        return await verify(stored, normalisePassword(password));
      } catch {
        // A corrupt stored hash fails closed rather than throwing a 5xx.
        return false;
      }
    },
  };
}
