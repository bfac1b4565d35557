// A brand config file for `brands create` / `brands update`, and the private-key guard.
//
// The admin API never returns a brand's encryption private key: GET shows
// `encryption: { privateKeyPem: null, hasPrivateKey: true, … }`. So a file made with
// `brands show` carries no key. On the SAME brand that is harmless (a PUT without a key keeps
// the stored one, docs/decisions.md), but used to create a brand, or to update a brand that has
// no key, the key would be silently missing. The guard refuses that unless the file carries a
// PEM or the admin says --drop-private-key.
import { UsageError } from './command.ts';

export interface BrandFile {
  /** The config to PUT: `hasPrivateKey` (read-only, refused by PUT) removed. */
  config: Record<string, unknown>;
  /** The file comes from a brand that had a key (`encryption.hasPrivateKey: true`). */
  claimsKey: boolean;
  /** The file itself carries a PEM in `encryption.privateKeyPem`. */
  carriesKey: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Accepts the bare config, or what `brands show` prints (`{ "brand", "config" }`, a `status`
 * too if saved from curl). A config has no `config` field of its own, so the two cannot be confused.
 */
export function parseBrandFile(text: string, path: string): BrandFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the input, which may be a private key: not repeated here.
    throw new UsageError(`${path} is not valid JSON`);
  }
  if (!isObject(json)) throw new UsageError(`${path} must hold a JSON object (a brand config)`);
  const wrapped = isObject(json.config) && Object.keys(json).every((k) => k === 'config' || k === 'brand' || k === 'status');
  const config = { ...(wrapped ? (json.config as Record<string, unknown>) : json) };
  let claimsKey = false;
  let carriesKey = false;
  if (isObject(config.encryption)) {
    const { hasPrivateKey, ...encryption } = config.encryption;
    claimsKey = hasPrivateKey === true;
    carriesKey = typeof encryption.privateKeyPem === 'string' && encryption.privateKeyPem !== '';
    config.encryption = encryption;
  }
  return { config, claimsKey, carriesKey };
}

/**
 * Refuses (exit 2: the file or the flags must change) a write that would leave the brand without the key the file says it had.
 * `targetHasKey`: the brand being written already holds a key (the server keeps it).
 */
export function checkPrivateKey(file: BrandFile, brand: string, targetHasKey: boolean, dropAllowed: boolean): void {
  if (!file.claimsKey || file.carriesKey || targetHasKey || dropAllowed) return;
  throw new UsageError(
    `the file comes from a brand with an encryption private key (encryption.hasPrivateKey: true) but carries none ` +
      `(the admin API never returns it), and ${brand} has no key of its own to keep. ` +
      `Put the PEM in encryption.privateKeyPem, or pass --drop-private-key to write ${brand} without a key.`,
  );
}
