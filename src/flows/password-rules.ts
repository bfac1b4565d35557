// Password checks shared by registration, change and reset (spec §2 passwordPolicy).
import { fail } from '../domain/errors.ts';
import type { BrandConfig } from '../domain/types.ts';
import { normalisePassword } from '../crypto/password-hasher.ts';

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

/** 1542 unless the password meets the brand policy. Length counts code points after NFKC. */
export function checkPolicy(config: Readonly<BrandConfig>, password: string): void {
  const normalised = normalisePassword(password);
  const length = [...normalised].length;
  const { minLength, maxLength, regex } = config.passwordPolicy;
  if (length < minLength || length > maxLength) fail(1542);
  if (regex !== null && !wholeMatch(regex).test(normalised)) fail(1542);
}

/** The registration checks of token/generate and password/forget: 1524, 1521, 1542. */
export function checkNewPassword(config: Readonly<BrandConfig>, password: string, confirmPassword: string | undefined): void {
  if (!config.passwordEnabled) fail(1524);
  if (confirmPassword !== password) fail(1521);
  checkPolicy(config, password);
}
