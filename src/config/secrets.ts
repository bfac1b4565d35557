// Development/test secret persistence. In production every secret must come from the
// environment (env.ts refuses to start otherwise); outside production a secret that is not
// set is generated once and kept in <dataDir>/secrets.json so that sessions, tokens and
// stored OTP/key hashes survive a restart.
//
// Rules:
// - the file is read first; a name already in it is reused, never regenerated;
// - only names passed in are looked at or generated (the caller leaves out names set in the
//   environment, so an environment value is never written to the file);
// - an unreadable or corrupt file is an error, never silently overwritten (that would log
//   everyone out and orphan every stored hash);
// - the file is written atomically (temp file + rename) with mode 0600, in a directory
//   created with mode 0700 when missing;
// - no secret value ever appears in an error message.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SECRETS_FILE_NAME = 'secrets.json';
export const MIN_SECRET_LENGTH = 32;

/** Invalid configuration. `problems` holds one human-readable line per bad value. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[], opts?: { cause?: unknown }) {
    const list = problems.length > 0 ? problems : ['unknown configuration problem'];
    super(
      `Invalid configuration (${list.length} problem${list.length === 1 ? '' : 's'}):\n` +
        list.map((p) => `  - ${p}`).join('\n'),
      opts?.cause === undefined ? undefined : { cause: opts.cause },
    );
    this.name = 'ConfigError';
    this.problems = Object.freeze([...list]) as string[];
  }
}

const errnoCode = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string'
    ? (e as { code: string }).code
    : undefined;

const RESET_HINT =
  'fix or remove it (removing it generates new secrets, which invalidates existing sessions, tokens and stored OTP/key hashes)';

/** Reads the file. Missing → empty object. Anything else that goes wrong → ConfigError. */
function readSecretsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return {};
    throw new ConfigError([`${file}: cannot be read (${errnoCode(e) ?? 'unknown error'}); ${RESET_HINT}`], { cause: e });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The SyntaxError text can quote part of the file (i.e. a secret), so it is not passed on.
    throw new ConfigError([`${file}: is not valid JSON; ${RESET_HINT}`]);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError([`${file}: must contain a JSON object of secret names to values; ${RESET_HINT}`]);
  }
  return parsed as Record<string, unknown>;
}

/** Writes `content` to `file` atomically with mode 0600 (temp file in the same directory, then rename). */
function writeSecretsFile(file: string, content: Record<string, unknown>): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = fs.openSync(tmp, 'wx', 0o600);
    try {
      fs.fchmodSync(fd, 0o600); // the mode given to open is reduced by the umask; make it exact
      fs.writeFileSync(fd, JSON.stringify(content, null, 2) + '\n', 'utf8');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* best effort */
    }
    throw new ConfigError([`${file}: cannot be written (${errnoCode(e) ?? 'unknown error'})`], { cause: e });
  }
}

/**
 * Returns a value for every name in `names`: the one stored in <dataDir>/secrets.json, or a
 * freshly generated one (32 random bytes, base64url) which is then persisted. `generated`
 * lists the names created by this call. With no names, the disk is not touched.
 */
export function loadOrCreateDevSecrets(
  dataDir: string,
  names: string[],
): { values: Record<string, string>; generated: string[] } {
  if (names.length === 0) return { values: {}, generated: [] };
  const file = path.join(path.resolve(dataDir), SECRETS_FILE_NAME);
  const stored = readSecretsFile(file);

  const values: Record<string, string> = {};
  const generated: string[] = [];
  const problems: string[] = [];
  for (const name of new Set(names)) {
    if (Object.hasOwn(stored, name)) {
      const v = stored[name];
      if (typeof v !== 'string' || v.length < MIN_SECRET_LENGTH) {
        problems.push(`${file}: entry ${name} must be a string of at least ${MIN_SECRET_LENGTH} characters; ${RESET_HINT}`);
        continue;
      }
      values[name] = v;
    } else {
      values[name] = randomBytes(32).toString('base64url');
      generated.push(name);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  if (generated.length > 0) {
    // Keep every existing entry (including ones not asked for this time) and add the new ones.
    const next: Record<string, unknown> = { ...stored };
    for (const name of generated) next[name] = values[name];
    writeSecretsFile(file, next);
  }
  return { values, generated };
}
