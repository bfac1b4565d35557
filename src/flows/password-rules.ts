// Password checks shared by registration, change and reset (spec §2 passwordPolicy).
import { readFileSync } from 'node:fs';
import { fail } from '../domain/errors.ts';
import type { BrandConfig } from '../domain/types.ts';
import { normalisePassword } from '../crypto/password-hasher.ts';
import { COMMON_PASSWORDS } from '../paths.ts';

/** Compiled policy regexes, by source: brands are few and the regex is anchored once. */
const compiled = new Map<string, RegExp>();
const wholeMatch = (source: string): RegExp => {
  let re = compiled.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`, 'u');
    compiled.set(source, re);
  }
  return re;
};

/** The shipped blocklist (built by scripts/build-common-passwords.mjs; source and licence in its header). */
export const COMMON_PASSWORDS_FILE = COMMON_PASSWORDS;

let common: ReadonlySet<string> | undefined;

/**
 * The common-password list as a Set of NFKC-normalised, lower-cased entries, read once on
 * first use. A missing or unreadable file throws (fails closed: no registration goes through
 * unchecked while rejectCommon is on).
 */
export function commonPasswords(): ReadonlySet<string> {
  if (!common) {
    const set = new Set<string>();
    for (const line of readFileSync(COMMON_PASSWORDS_FILE, 'utf8').split(/\r?\n/)) {
      if (line === '' || line.startsWith('#')) continue;
      set.add(line.normalize('NFKC').toLowerCase());
    }
    if (set.size === 0) throw new Error(`${COMMON_PASSWORDS_FILE.pathname}: no entries`);
    common = set;
  }
  return common;
}

/** Whether the password, NFKC-normalised and lower-cased, is on the common-password list. */
export const isCommonPassword = (password: string): boolean => commonPasswords().has(normalisePassword(password).toLowerCase());

/**
 * 1542 unless the password meets the brand policy. Length counts code points after NFKC; with
 * `rejectCommon` (default on, stricter than the original contract) a listed password is refused.
 */
export function checkPolicy(config: Readonly<BrandConfig>, password: string): void {
  const normalised = normalisePassword(password);
  const length = [...normalised].length;
  const { minLength, maxLength, regex, rejectCommon } = config.passwordPolicy;
  if (length < minLength || length > maxLength) fail(1542);
  if (regex !== null && !wholeMatch(regex).test(normalised)) fail(1542);
  if (rejectCommon && isCommonPassword(normalised)) fail(1542);
}

/** The registration checks of token/generate and password/forget: 1524, 1521, 1542. */
export function checkNewPassword(config: Readonly<BrandConfig>, password: string, confirmPassword: string | undefined): void {
  if (!config.passwordEnabled) fail(1524);
  if (confirmPassword !== password) fail(1521);
  checkPolicy(config, password);
}
