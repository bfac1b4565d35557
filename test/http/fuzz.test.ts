// Fuzz test (issue 5 acceptance): more than 10,000 generated malformed or hostile requests
// across every endpoint — every customer endpoint in its mobile and web variant, token
// introspection, and every admin route with a valid admin token (and some without).
//
// Every response must be: below 500 (503 included: storage is up), JSON in the §1.2 envelope
// with the exact §9 code/message/HTTP status, an `x-request-id` header, never a stack trace or
// an echoed unsafe request id. Phase 1 sends only requests that must be refused (or that only
// read: introspection, admin GETs) and compares a snapshot of the whole storage before and
// after: no refused request may change anything. Phase 2 sends hostile-but-acceptable requests
// that may legitimately start sessions or hold a pending password (the session store only) and
// checks the durable store did not change. Afterwards Object.prototype is clean and a valid
// login still works.
//
// Generators are driven by a seeded PRNG, one stream per request: the seed is printed, and
// `FUZZ_SEED=<seed> FUZZ_ONLY=<i,j,…>` replays exactly those requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash, randomInt } from 'node:crypto';
import Database from 'libsql';
import { SignJWT, base64url } from 'jose';
import { ADMIN_TOKEN, startHarness, url, idBody, otpLogin, VARIANTS, type Harness, type V } from '../helpers/harness.ts';
import { SPEC_ERRORS, SUCCESS, expectOk, type SpecCode } from '../helpers/spec.ts';

// ---------------------------------------------------------------- configuration

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) >>> 0 : randomInt(2 ** 31);
const ONLY = process.env.FUZZ_ONLY ? new Set(process.env.FUZZ_ONLY.split(',').map(Number)) : null;
const PHASE1_REQUESTS = 10_400;
const PHASE2_REQUESTS = 1_000;
const CONCURRENCY = 8;
const BODY_LIMIT = 16 * 1024;

const BRAND = 'fuzz'; // password enabled, every identifier type
const BRAND_NOPW = 'fuzznopw'; // password disabled
const BRAND_REQ = 'fuzzreq'; // password required at sign-up
const EXISTING_BRANDS = ['FUZZ', 'FUZZNOPW', 'FUZZREQ'];
/** Every abuse control off: they count refused requests too (legitimately), which is not what this test is about. */
const NO_LIMITS = {
  ipRateLimit: null,
  loginAbuse: { perIpPerMinute: null, perIdentifierPerMinute: null },
  otpAbuse: { perIpPerHour: null, perPrefixPerHour: null, allowedCountryCodes: [], brandDailyBudget: null },
};
const MOBILE = '919999999993'; // the one real user
const DEVICE = 'device-1';
const PASSWORD = 'Fuzz-Correct-Horse-7';
const OTHER_MOBILE = '919888888881'; // nobody
const NEW_MOBILE = '919777777772'; // nobody (sign-up attempts that must be refused)
const ADMIN_USER_MOBILE = '919000000001'; // nobody (admin user routes)
const GHOST_USERNAME = 'ghost_user'; // nobody
const BOGUS_SESSION = 'P-00000000-0000-4000-8000-000000000000';
const MISMATCH_CONFIRM = 'Mismatch-Confirm-1!';
const AUTH = `Bearer ${ADMIN_TOKEN}`;

/** Names of the fields some endpoint reads: noise keys never use them. */
const KNOWN_FIELDS = new Set([
  'identifierType', 'identifierValue', 'mobile', 'email', 'brand', 'deviceId', 'sessionId', 'otp', 'password',
  'confirmPassword', 'newPassword', 'token', 'key', 'expiredToken', 'hash', 'timeStamp',
]);

// ---------------------------------------------------------------- PRNG (sfc32, seeded per request)

class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number, stream: number) {
    this.a = seed >>> 0;
    this.b = (stream * 0x9e3779b9) >>> 0;
    this.c = 0x243f6a88 ^ stream;
    this.d = 1;
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  float(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  /** Picks by weight: [[weight, value], …]. */
  weighted<T>(xs: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of xs) total += w;
    let r = this.float() * total;
    for (const [w, v] of xs) {
      r -= w;
      if (r < 0) return v;
    }
    return xs[xs.length - 1]![1];
  }
}

// ---------------------------------------------------------------- JSON text with what JSON.stringify cannot write

/** A JSON fragment written verbatim (odd number literals, deep nesting, broken fragments). */
class Raw {
  constructor(readonly text: string) {}
}
/** An object as ordered entries: duplicate keys and `__proto__` as a plain key are possible. */
class Pairs {
  constructor(readonly entries: [string, unknown][]) {}
  static of(o: Record<string, unknown>): Pairs {
    return new Pairs(Object.entries(o));
  }
  get(k: string): unknown {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]![0] === k) return this.entries[i]![1];
    return undefined;
  }
  keys(): string[] {
    return [...new Set(this.entries.map(([k]) => k))];
  }
  set(k: string, v: unknown): void {
    let done = false;
    for (const e of this.entries) if (e[0] === k) {
      e[1] = v;
      done = true;
    }
    if (!done) this.entries.push([k, v]);
  }
  delete(k: string): void {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]![0] === k) this.entries.splice(i, 1);
  }
}

/** Plain objects (nested too) as Pairs, so mutations and setPath see every level. */
function deepPairs(o: Record<string, unknown>): Pairs {
  return new Pairs(Object.entries(o).map(([k, v]) => [k, v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw) && !(v instanceof Pairs) ? deepPairs(v as Record<string, unknown>) : v]));
}

function ser(v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Pairs) return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${ser(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(ser).join(',')}]`;
  if (v !== null && typeof v === 'object') return ser(Pairs.of(v as Record<string, unknown>));
  if (v === undefined) throw new Error('fuzz generator bug: undefined value');
  return JSON.stringify(v);
}

// ---------------------------------------------------------------- hostile values

const UNICODE = [
  '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uDFFF\uD800', '\u0000', '\u0001', '\u001b[31m', '\u007f', '\u0085', '\u00a0',
  '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u202a', '\u202e', '\u2066', '\u2069', '\u2028', '\u2029', '\ufeff',
  '\ufffd', '\ufffe', '\uffff', '👍', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇮🇳', '\u{10FFFF}', '\u{E0001}', 'e\u0301', `Z${'\u0335\u0336\u0337\u0338\u0489'.repeat(12)}`,
  '\u0130', 'ı', 'ſ', 'ß', 'ﬁ', '\u212b', '\u2126', '９１９９', '٩١٩٩٩٩٩٩', '९१९९९९९९', '𝟗𝟏𝟗𝟗', '\u00c0\u00af', '\u00c1\u00bf',
  '\u00e0\u0080\u00af', '\u00ed\u00a0\u0080', '%c0%af', '%00', '%2e%2e%2f', '%', '../../etc/passwd', '..\\..\\', "' OR '1'='1",
  '"; DROP TABLE users; --', '${jndi:ldap://x/a}', '{{7*7}}', '<script>alert(1)</script>', '\\u0000', '\\', '"', '\r\n', '\t',
  ' ', '', 'null', 'undefined', 'NaN', 'Infinity', '-Infinity', '-0', '0x1F', '1e308', '1e-400', '9007199254740993', 'true',
  '[]', '{}', '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf', 'mobıle', 'ᴍᴏʙɪʟᴇ',
  'MOBILE\u0000', 'ＭＯＢＩＬＥ', 'm\u200bobile', 'eyJhbGciOiJub25lIn0', 'P-', '*', '?', '#', '&', '=', '|', 'MOBILE|', '|||',
];

const NUMBER_LITERALS = [
  '1e308', '-1e308', '1.7976931348623157e308', '1e309', '-1e309', '1e-400', '-0', '0.0', '-0.0', '9007199254740993',
  '-9007199254740993', '9007199254740992', '18446744073709551616', '123456789012345678901234567890', '1E+400',
  '0.1e-99999', '5e-324', '4.9e-325', '2147483648', '-2147483649', '4294967296', '1.5', '0.000001', '1e21', '1e-7', '0', '-1',
];
/** Not JSON at all: a body containing one is broken JSON. */
const BAD_NUMBER_LITERALS = ['NaN', 'Infinity', '-Infinity', '01', '+1', '.5', '1.', '0x10', '1e', '--1', '1_000', '0b11'];

/** Printable ASCII and a little more, for bulk. */
const BULK_ALPHABETS = ['a', 'A9', '0123456789', 'é', '€', '😀', '\u0000', '\uD800', 'ab\u200dcd', '%', '"\\', ' '];

/** encodeURIComponent, except that a lone surrogate is written as its WTF-8 bytes (invalid UTF-8 on the wire). */
function enc(s: string): string {
  let out = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0xd800 && cp <= 0xdfff) out += `%${(0xe0 | (cp >> 12)).toString(16)}%${(0x80 | ((cp >> 6) & 0x3f)).toString(16)}%${(0x80 | (cp & 0x3f)).toString(16)}`.toUpperCase();
    else out += encodeURIComponent(ch);
  }
  return out;
}

function utf8Len(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A string of about `bytes` UTF-8 bytes. */
function bulk(rng: Rng, bytes: number): string {
  const unit = rng.pick(BULK_ALPHABETS);
  const per = Math.max(1, utf8Len(JSON.stringify(unit)) - 2);
  return unit.repeat(Math.max(1, Math.floor(bytes / per)));
}

function hostileString(rng: Rng, plausible?: string): string {
  const parts: string[] = [];
  const n = rng.range(1, 5);
  for (let i = 0; i < n; i++) {
    const p = rng.pick(UNICODE);
    parts.push(rng.chance(0.15) ? p.repeat(rng.range(2, 60)) : p);
  }
  const core = parts.join('');
  if (plausible !== undefined && rng.chance(0.4)) {
    return rng.weighted<string>([
      [1, plausible + core],
      [1, core + plausible],
      [1, plausible.slice(0, rng.int(plausible.length + 1)) + core + plausible.slice(rng.int(plausible.length + 1))],
      [1, plausible.split('').join(rng.pick(['\u200b', '\u0000', ' ', '\u0301', '-']))],
      [1, plausible.toLowerCase() === plausible ? plausible.toUpperCase() : plausible.toLowerCase()],
    ]);
  }
  return core;
}

/** A deep nesting of arrays and/or objects, as raw JSON. */
function deep(rng: Rng, depth: number): Raw {
  const kind = rng.int(4);
  if (kind === 0) return new Raw('['.repeat(depth) + ']'.repeat(depth));
  if (kind === 1) return new Raw('{"a":'.repeat(depth) + 'null' + '}'.repeat(depth));
  if (kind === 2) return new Raw('[{"a":'.repeat(depth) + '1' + '}]'.repeat(depth));
  const key = rng.pick(['__proto__', 'constructor', 'prototype', 'x']);
  return new Raw(`{${JSON.stringify(key)}:`.repeat(depth) + '{}' + '}'.repeat(depth));
}

const POLLUTION_MARKERS = ['fuzzPolluted', 'isAdmin', 'polluted', 'role', 'passwordEnabled', 'toString', 'length', 'status'];

/** An object trying to pollute a prototype, nested or not. */
function pollution(rng: Rng): Pairs {
  const marker = rng.pick(POLLUTION_MARKERS);
  const payload = new Pairs([[marker, rng.pick<unknown>(['yes', true, 1, null, { nested: true }])]]);
  const shapes: (() => Pairs)[] = [
    () => new Pairs([['__proto__', payload]]),
    () => new Pairs([['constructor', new Pairs([['prototype', payload]])]]),
    () => new Pairs([['prototype', payload]]),
    () => new Pairs([['a', new Pairs([['__proto__', payload]])]]),
    () => new Pairs([['a', [new Pairs([['constructor', new Pairs([['prototype', payload]])]])]]]),
    () => new Pairs([['__proto__', new Pairs([['__proto__', payload]])]]),
    () => new Pairs([['constructor', payload]]),
    () => new Pairs([['__proto__', null]]),
    () => new Pairs([['__proto__', []]]),
  ];
  return rng.pick(shapes)();
}

/** Any hostile JSON value (never undefined). */
function hostileValue(rng: Rng, plausible?: string): unknown {
  return rng.weighted<() => unknown>([
    [30, () => hostileString(rng, plausible)],
    [8, () => bulk(rng, rng.pick([200, 1000, 5000, 9000, 14000]))],
    [10, () => new Raw(rng.pick(NUMBER_LITERALS))],
    [12, () => rng.pick<unknown>([null, true, false, 0, 1, -1, 1.5, [], {}, [''], ['a', 1], { a: 1 }, [[]], [null], [plausible ?? 'x']])],
    [6, () => deep(rng, rng.range(1000, 2500))],
    [6, () => pollution(rng)],
    [5, () => Array.from({ length: rng.range(1, 4) }, () => hostileString(rng))],
    [5, () => new Pairs(Array.from({ length: rng.range(1, 3) }, () => [hostileString(rng), hostileString(rng)] as [string, unknown]))],
    [6, () => (plausible !== undefined && /^[0-9]+$/.test(plausible) ? new Raw(plausible) : new Raw(rng.pick(NUMBER_LITERALS)))],
  ])();
}

/** A noise key: never a field any endpoint reads. */
function noiseKey(rng: Rng): string {
  for (;;) {
    const k = rng.weighted<() => string>([
      [3, () => hostileString(rng)],
      [2, () => rng.pick(['__proto__', 'constructor', 'prototype', 'Brand', 'BRAND', 'session_id', 'otp ', ' otp', 'role', 'isAdmin', 'uid', 'admin'])],
      [1, () => bulk(rng, 300)],
    ])();
    if (!KNOWN_FIELDS.has(k)) return k;
  }
}

// ---------------------------------------------------------------- tokens that are not what they claim

const b64 = (o: unknown) => base64url.encode(typeof o === 'string' ? o : JSON.stringify(o));

interface Creds {
  kid: string;
  sessions: Record<V, string>;
  viewTokens: Record<V, string>;
  userTokens: Record<V, string>;
  key: string;
  forged: string[];
}

async function forgedTokens(real: string, kid: string): Promise<string[]> {
  const [h, p, s] = real.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  const wrongKey = new TextEncoder().encode('not-the-deployment-secret-0123456789abcdefghij');
  const signed = async (hdr: Record<string, unknown>, pl: Record<string, unknown> = payload) =>
    new SignJWT(pl).setProtectedHeader(hdr as { alg: string }).sign(wrongKey);
  return [
    await signed(header),
    await signed({ ...header, kid: '__proto__' }),
    await signed({ ...header, kid: 'constructor' }),
    await signed({ ...header, idv: { '0': 'MOBILE|919999999993' }, org: 42 }),
    `${b64({ ...header, alg: 'none' })}.${p}.`,
    `${b64({ alg: 'none' })}.${p}.`,
    `${b64({ ...header, alg: 'HS512' })}.${p}.${s}`,
    `${h}.${b64({ ...payload, uid: 'someone-else', rol: 'USER' })}.${s}`,
    `${h}.${b64({ ...payload, exp: 1e308 })}.${s}`,
    // (Never the real token plus something: a generated deletion could restore the real one.)
    `${h}.${p}.${[...s].reverse().join('')}`,
    `${h}.${p}`,
    `${h}..${s}`,
    real.slice(0, -3),
    `${b64({ alg: 'HS256', kid: { a: 1 } })}.${p}.${s}`,
    `${b64({ alg: 'HS256', kid, crit: ['b64'], b64: false })}.${p}.${s}`,
    `${b64('null')}.${p}.${s}`,
    `${b64('[]')}.${p}.${s}`,
    `${b64('not json')}.${p}.${s}`,
    `${b64({ alg: 'HS256', kid, idv: ['MOBILE|919999999993'], org: 'FUZZ', dev: null, __proto__: { x: 1 } })}.${p}.${s}`,
    'a.b.c',
    '...',
    '.',
    'eyJ',
    `${b64({ alg: 'HS256', kid })}.${b64('x'.repeat(9000))}.${s}`,
  ];
}

// ---------------------------------------------------------------- the requests

interface Req {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
  /** A success would be a bug (the request is malformed, or only a refusal can change nothing). */
  mustRefuse: boolean;
  /** Customer endpoint: failures are exactly `{ status }`. */
  customer: boolean;
  /** A JSON body over the limit on a customer route: 413 / 1519 and nothing else. */
  expect413?: boolean;
  label: string;
}

type Body = Pairs;

/** A body to start from, and what the mutations may not touch. */
interface Base {
  name: string;
  body: Body;
  /** Never replaced, deleted or overridden: a hostile value there could turn the refusal into a success. */
  locked?: string[];
  /** Never deleted (a deletion could turn the refusal into a success). */
  noDelete?: string[];
}

const CONTENT_TYPES_ACCEPTED = ['application/json', 'application/json; charset=utf-8', 'application/JSON', 'Application/Json ;charset=UTF-8'];
const CONTENT_TYPES_OTHER = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----fuzz', 'application/xml', 'text/json',
  'application/json-seq', 'application/jsonx', 'application/json; charset=utf-16le', 'application/json; charset=latin1',
  '*/*', 'application/*', 'application/json, text/plain', 'application/vnd.api+json', 'application/octet-stream', 'json',
  'application/json;;;', 'application/json; charset="utf-8"; boundary=x', 'text/html; charset=utf-8',
];

function customerBases(ep: string, v: V, c: Creds, rng: Rng): Base[] {
  const id = (brand = BRAND, value = MOBILE, device = DEVICE) => idBody(v, brand, 'MOBILE', value, device) as Record<string, unknown>;
  /**
   * The real user's session/token, but the request names someone (or something) else; the
   * field that differs is locked, so no mutation can make the request match the credential.
   */
  const kinds: [string, () => Record<string, unknown>][] = [['identifierValue', () => id(BRAND, OTHER_MOBILE)], ['brand', () => id(BRAND_NOPW)]];
  if (v === 'mobile') kinds.push(['deviceId', () => id(BRAND, MOBILE, 'device-2')]);
  const [mismatchField, mismatchId] = rng.pick(kinds);
  const mismatched = mismatchId;
  const forged = () => rng.pick(c.forged);
  const b = (name: string, o: Record<string, unknown>, extra: Omit<Base, 'name' | 'body'> = {}): Base => {
    const locked = [...(extra.locked ?? []), ...(name.endsWith('-mismatch') ? [mismatchField] : [])];
    return { name, body: deepPairs(o), ...extra, locked };
  };
  const legacy = v === 'mobile' ? { brand: BRAND, mobile: MOBILE, deviceId: DEVICE } : { brand: BRAND, mobile: MOBILE };
  switch (ep) {
    case 'token/generate': {
      const ghost = idBody(v, BRAND, 'USERNAME', GHOST_USERNAME) as Record<string, unknown>;
      return [
        // An unknown USERNAME cannot log in (1540) whatever else is wrong.
        b('ghost-username', ghost),
        // Sign-up of a USERNAME with destinations but without the password the brand needs (1520).
        b('ghost-signup', { ...ghost, mobile: '919777777773', email: 'ghost@example.com' }, { noDelete: ['identifierValue'] }),
        // A new identifier on a password-required brand, confirmation never matching (1520/1521).
        // (The brand is locked: on a brand not requiring a password, an empty one would be a sign-up.)
        b('signup-confirm-mismatch', { ...idBody(v, BRAND_REQ, 'MOBILE', NEW_MOBILE), password: hostileValue(rng), confirmPassword: MISMATCH_CONFIRM }, { locked: ['confirmPassword', 'brand'], noDelete: ['password'] }),
      ];
    }
    case 'otp/generate':
      return [
        b('bogus-session', { ...id(), sessionId: BOGUS_SESSION, hash: 'AAAA', timeStamp: 1 }),
        b('bogus-session-legacy', { ...legacy, sessionId: BOGUS_SESSION }),
        b('real-session-mismatch', { ...mismatched(), sessionId: c.sessions[v] }),
      ];
    case 'otp/validate':
      return [
        b('bogus-session', { ...id(), sessionId: BOGUS_SESSION, otp: '123456' }),
        b('real-session-mismatch', { ...mismatched(), sessionId: c.sessions[v], otp: '123456' }),
        // The real session never had an OTP sent: any otp is 1537 (or a shape error).
        b('real-session-no-otp', { ...id(), sessionId: c.sessions[v], otp: rng.chance(0.5) ? hostileString(rng, '123456').slice(0, 32) || '0' : hostileValue(rng, '123456') }, { noDelete: ['otp'] }),
      ];
    case 'password/validate':
      return [
        b('bogus-session', { ...id(), sessionId: BOGUS_SESSION, password: PASSWORD }),
        b('bogus-session-legacy', { ...legacy, sessionId: BOGUS_SESSION, password: PASSWORD }),
        b('real-session-mismatch', { ...mismatched(), sessionId: c.sessions[v], password: 'Not-The-Password-1' }),
      ];
    case 'token/regenerate':
      return v === 'mobile'
        ? [
            b('forged-key', { ...id(), key: forged() }),
            b('hostile-key', { ...id(), key: hostileValue(rng) }),
            b('user-token-as-key', { ...id(), key: c.userTokens.mobile }),
            b('real-key-mismatch', { ...mismatched(), key: c.key }),
          ]
        : [
            b('forged-token', { ...id(), expiredToken: forged() }),
            b('hostile-token', { ...id(), expiredToken: hostileValue(rng) }),
            b('mobile-token-on-web', { ...id(), expiredToken: c.userTokens.mobile }),
            b('view-token', { ...id(), expiredToken: c.viewTokens.web }),
            b('real-token-mismatch', { ...mismatched(), expiredToken: c.userTokens.web }),
          ];
    case 'password/change': {
      const pw = { password: 'Old-Pass-1!', newPassword: 'New-Pass-1!', confirmPassword: 'New-Pass-1!' };
      return [
        b('forged-token', { ...id(), token: forged(), ...pw }),
        b('view-token', { ...id(), token: c.viewTokens[v], ...pw }),
        b('key-as-token', { ...id(), token: c.key, ...pw }),
        b('real-token-mismatch', { ...mismatched(), token: c.userTokens[v], ...pw }),
        // The real token, but the confirmation never matches: 1521 before any password is checked.
        b('real-token-hostile-new', { ...id(), token: c.userTokens[v], password: 'Old-Pass-1!', newPassword: hostileValue(rng), confirmPassword: MISMATCH_CONFIRM }, { locked: ['confirmPassword'], noDelete: ['newPassword'] }),
        b('real-token-hostile-current', { ...id(), token: c.userTokens[v], password: hostileValue(rng), newPassword: 'New-Pass-1!', confirmPassword: MISMATCH_CONFIRM }, { locked: ['confirmPassword', 'newPassword'] }),
      ];
    }
    case 'password/forget':
      return [
        b('bogus-session', { ...id(), sessionId: BOGUS_SESSION, password: 'New-Pass-1!', confirmPassword: 'New-Pass-1!' }),
        b('real-session-mismatch', { ...mismatched(), sessionId: c.sessions[v], password: 'New-Pass-1!', confirmPassword: 'New-Pass-1!' }),
        b('real-session-confirm-mismatch', { ...id(), sessionId: c.sessions[v], password: hostileValue(rng), confirmPassword: MISMATCH_CONFIRM }, { locked: ['confirmPassword'], noDelete: ['password'] }),
      ];
    case 'token/expire': {
      const bases = [
        b('forged-token', { ...id(), token: forged(), ...(v === 'mobile' && rng.chance(0.5) ? { key: forged() } : {}) }),
        b('hostile-token', { ...id(), token: hostileValue(rng) }),
        b('view-token', { ...id(), token: c.viewTokens[v] }),
        b('key-as-token', { ...id(), token: c.key }),
        b('real-token-mismatch', { ...mismatched(), token: c.userTokens[v] }),
      ];
      // The real token of this device with a key that is not one of its keys: 1597, nothing revoked.
      if (v === 'mobile') bases.push(b('real-token-hostile-key', { ...id(), token: c.userTokens.mobile, key: hostileValue(rng, c.key.slice(0, 40)) }, { noDelete: ['key'] }));
      return bases;
    }
    default:
      throw new Error(ep);
  }
}

/** Applies 1–4 mutations that keep the base's refusal guaranteed. */
function mutate(rng: Rng, base: Base): { body: Body; labels: string[] } {
  const body = new Pairs(base.body.entries.map(([k, x]) => [k, x] as [string, unknown]));
  const locked = new Set(base.locked ?? []);
  const noDelete = new Set([...(base.noDelete ?? []), ...locked]);
  const labels: string[] = [];
  const n = rng.weighted([[5, 1], [3, 2], [1, 3], [1, 4]] as const);
  for (let i = 0; i < n; i++) {
    const free = body.keys().filter((k) => !locked.has(k));
    const op = rng.weighted<string>([
      [8, 'replace'],
      [2, 'delete'],
      [2, 'duplicate'],
      [3, 'noise'],
      [1, 'pollute-field'],
      [1, 'huge-field'],
      [1, 'deep-field'],
      [1, 'number-field'],
      [1, 'leading-proto'],
    ]);
    const key = free.length ? rng.pick(free) : undefined;
    const plausible = key !== undefined && typeof body.get(key) === 'string' ? (body.get(key) as string) : undefined;
    if (op === 'replace' && key) {
      // Mostly a string where a string is expected, so the value gets past the schema.
      body.set(key, plausible !== undefined && rng.chance(0.6) ? hostileString(rng, plausible) : hostileValue(rng, plausible));
      labels.push(`replace:${key}`);
    } else if (op === 'delete' && key && !noDelete.has(key)) {
      body.delete(key);
      labels.push(`delete:${key}`);
    } else if (op === 'duplicate' && key) {
      // The last occurrence wins in JSON.parse: a locked value may only be repeated after a hostile one.
      const hostile: [string, unknown] = [key, hostileValue(rng, plausible)];
      if (rng.chance(0.5)) body.entries.unshift(hostile);
      else body.entries.push(hostile);
      labels.push(`duplicate:${key}`);
    } else if (op === 'pollute-field' && key) {
      body.set(key, pollution(rng));
      labels.push(`pollute:${key}`);
    } else if (op === 'huge-field' && key) {
      body.set(key, bulk(rng, rng.range(2000, 15000)));
      labels.push(`huge:${key}`);
    } else if (op === 'deep-field' && key) {
      body.set(key, deep(rng, rng.range(1000, 2800)));
      labels.push(`deep:${key}`);
    } else if (op === 'number-field' && key) {
      body.set(key, new Raw(rng.pick(NUMBER_LITERALS)));
      labels.push(`number:${key}`);
    } else if (op === 'leading-proto') {
      const p = pollution(rng);
      body.entries.unshift(...p.entries);
      labels.push('pollute:body');
    } else {
      body.entries.push([noiseKey(rng), hostileValue(rng)]);
      labels.push('noise');
    }
  }
  return { body, labels };
}

const CREDENTIAL_FIELDS = ['sessionId', 'otp', 'password', 'newPassword', 'confirmPassword', 'token', 'key', 'expiredToken', 'deviceId', 'hash', 'timeStamp'];

/**
 * The base with only its credential-like fields replaced by hostile strings that pass the
 * schema (at most 120 characters, no control characters in a deviceId), plus some noise:
 * these requests reach the flows (session, token, key and password checks).
 */
function credentialOnly(rng: Rng, base: Base): { body: Body; labels: string[] } {
  const body = new Pairs(base.body.entries.map(([k, x]) => [k, x] as [string, unknown]));
  const locked = new Set(base.locked ?? []);
  const fields = body.keys().filter((k) => CREDENTIAL_FIELDS.includes(k) && !locked.has(k));
  const labels: string[] = [];
  for (const k of fields) {
    if (!rng.chance(0.7)) continue;
    const current = body.get(k);
    let value = hostileString(rng, typeof current === 'string' ? current : undefined).slice(0, k === 'otp' ? 32 : 120);
    if (k === 'deviceId') value = value.replace(/[\u0000-\u001f\u007f]/g, '') || 'device-x';
    body.set(k, value === '' && k === 'otp' ? '0' : value);
    labels.push(`credential:${k}`);
  }
  if (rng.chance(0.3)) {
    body.entries.push([noiseKey(rng), hostileValue(rng)]);
    labels.push('noise');
  }
  return { body, labels };
}

/** A whole body that is not a JSON object at all, or not JSON. */
function brokenBody(rng: Rng, valid: string): { payload: string | Buffer; label: string } {
  return rng.weighted<() => { payload: string | Buffer; label: string }>([
    [3, () => ({ payload: valid.slice(0, rng.int(valid.length)), label: 'truncated' })],
    [2, () => {
      const at = rng.int(valid.length);
      return { payload: valid.slice(0, at) + rng.pick([',', '}', ']', '"', ':', '\\', '\u0001', '/*x*/', "'", '\n', 'NaN']) + valid.slice(at), label: 'spliced' };
    }],
    [1, () => ({ payload: valid.replace(/"/g, "'"), label: 'single-quotes' })],
    [1, () => ({ payload: valid.replace(/"([A-Za-z]+)":/g, '$1:'), label: 'unquoted-keys' })],
    [1, () => ({ payload: `${valid.slice(0, -1)},}`, label: 'trailing-comma' })],
    [1, () => ({ payload: `${valid}${valid}`, label: 'two-documents' })],
    [1, () => ({ payload: `${valid} // comment`, label: 'comment' })],
    [1, () => ({ payload: valid.replace(/:"[^"]*"/, `:${rng.pick(BAD_NUMBER_LITERALS)}`), label: 'bad-number' })],
    [1, () => ({ payload: valid.replace(/:"/, ':"\\uZZZZ'), label: 'bad-escape' })],
    [1, () => ({ payload: valid.replace(/:"/, ':"\u0001\u0002'), label: 'raw-control-char' })],
    [3, () => ({ payload: rng.pick(['null', 'true', 'false', '0', '-0', '1e999', '"x"', '""', '[]', '[{}]', '[null]', '{}', ' ', '', '\n', '\ufeff', '\ufeff{}', '{"":""}', '{"brand":}', '{,}', '{"a" "b"}', `[${valid}]`]), label: 'not-an-object' })],
    [2, () => ({ payload: rng.pick(['<?xml version="1.0"?><a>1</a>', 'brand=fuzz&identifierType=MOBILE', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'hello', '%7B%7D', '\\x00', 'undefined', 'function(){}']), label: 'not-json' })],
    [2, () => ({ payload: Buffer.from(Array.from({ length: rng.range(1, 400) }, () => rng.int(256))), label: 'random-bytes' })],
    [2, () => {
      // Invalid UTF-8 inside a string: overlong '/', an encoded surrogate, a lone continuation, 0xFF.
      const bad = rng.pick([[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xff, 0xfe], [0xf4, 0x90, 0x80, 0x80], [0xc3]]);
      const at = valid.indexOf(':"') + 2;
      const payload = at > 1 ? Buffer.concat([Buffer.from(valid.slice(0, at)), Buffer.from(bad), Buffer.from(valid.slice(at))]) : Buffer.from(bad);
      return { payload, label: 'invalid-utf8' };
    }],
    [2, () => ({ payload: deep(rng, rng.range(1000, 7000)).text, label: 'deep-body' })],
    [1, () => ({ payload: `{"a":${deep(rng, rng.range(1000, 2500)).text},${valid.slice(1)}`, label: 'deep-prefix' })],
  ])();
}

function oversize(rng: Rng, body: Body): { payload: string; label: string } {
  const big = new Pairs([...body.entries, [noiseKey(rng), bulk(rng, BODY_LIMIT + rng.range(10, 20000))]]);
  if (rng.chance(0.8)) return { payload: ser(big), label: 'oversize' };
  let garbage = bulk(rng, BODY_LIMIT + rng.range(1, 5000));
  while (utf8Len(garbage) <= BODY_LIMIT) garbage += garbage;
  return { payload: garbage, label: 'oversize-garbage' };
}

/** A request id header: mostly plain, sometimes hostile. */
function requestIdHeader(rng: Rng): Record<string, string> {
  if (!rng.chance(0.15)) return {};
  const printable = () => String.fromCharCode(...Array.from({ length: rng.range(0, 300) }, () => 32 + rng.int(95)));
  return { 'x-request-id': rng.pick([printable(), 'a'.repeat(129), 'abc-123', '../../x', 'a b', '{"x":1}', '', 'x'.repeat(128), '%00', '<script>']) };
}

function customerRequest(rng: Rng, ep: string, v: V, c: Creds): Req {
  const path = url(v, ep);
  const base = rng.pick(customerBases(ep, v, c, rng));
  const mode = rng.weighted<string>([
    [20, 'credential'],
    [40, 'mutated'],
    [13, 'broken'],
    [7, 'content-type'],
    [4, 'oversize'],
    [4, 'query'],
    [3, 'method'],
    [3, 'path'],
    [2, 'headers'],
  ]);
  const { body, labels } = mode === 'credential' ? credentialOnly(rng, base) : mutate(rng, base);
  let payload: string | Buffer = ser(body);
  let headers: Record<string, string> = { 'content-type': rng.pick(CONTENT_TYPES_ACCEPTED), ...requestIdHeader(rng) };
  let method = 'POST';
  let u = path;
  labels.unshift(base.name);
  if (mode === 'broken') {
    const b = brokenBody(rng, payload);
    payload = b.payload;
    labels.push(b.label);
  } else if (mode === 'content-type') {
    const ct = rng.pick([...CONTENT_TYPES_OTHER, '']);
    if (ct === '') delete headers['content-type'];
    else headers['content-type'] = ct;
    labels.push(`content-type:${ct}`);
  } else if (mode === 'oversize') {
    const o = oversize(rng, body);
    payload = o.payload;
    labels.push(o.label);
  } else if (mode === 'query') {
    u += `?${hostileQuery(rng, ['fallbackChannel', 'brand', 'sessionId', 'otp'])}`;
    labels.push('query');
  } else if (mode === 'method') {
    method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);
    labels.push(`method:${method}`);
  } else if (mode === 'path') {
    u = rng.pick([
      `${path}/`, path.toUpperCase(), `${path}%00`, `${path}/..`, `${path}?`, `${path}#x`, `${path}/${enc(hostileString(rng))}`,
      path.replace('/v1/', '/v2/'), path.replace('auth', 'AUTH'), `/${enc(hostileString(rng))}`, `${path};x=1`, `${path}%ZZ`,
      `/auth/v1/${enc(hostileString(rng))}/${ep}`, '/', '/auth', '/auth/v1/web', '/admin/v1', `${path}.json`,
    ]);
    labels.push(`path:${u.slice(0, 60)}`);
  } else if (mode === 'headers') {
    const hs = rng.pick<Record<string, string>>([
      { 'accept-version': '1.0.0' },
      { 'content-length': String(rng.range(0, Buffer.byteLength(payload))) },
      { 'content-encoding': 'gzip' },
      { 'content-encoding': 'br' },
      { 'transfer-encoding': 'identity' },
      { 'x-forwarded-for': '1.2.3.4, 5.6.7.8' },
      { authorization: 'Bearer x' },
      { 'x-http-method-override': 'DELETE' },
      { accept: 'text/html' },
      { expect: '100-continue' },
    ]);
    headers = { ...headers, ...hs };
    labels.push(`headers:${Object.keys(hs).join(',')}`);
  }
  return {
    method,
    url: u,
    headers,
    payload: method === 'GET' && rng.chance(0.5) ? undefined : payload,
    mustRefuse: true,
    customer: true,
    expect413: mode === 'oversize',
    label: `${method} ${path} ${labels.join(' ')}`,
  };
}

function hostileQuery(rng: Rng, keys: string[]): string {
  const parts: string[] = [];
  const n = rng.range(1, 5);
  for (let i = 0; i < n; i++) {
    const k = rng.chance(0.8) ? rng.pick(keys) : hostileString(rng);
    const val = rng.weighted<() => string>([
      [4, () => enc(String(hostileValue(rng) instanceof Raw ? rng.pick(NUMBER_LITERALS) : hostileString(rng)))],
      [2, () => rng.pick(['1', '0', '-0', '1e308', '1001', '50.5', 'NaN', '', '9007199254740993', '-1', '0x10', '%20', '+1'])],
      [1, () => rng.pick(['%', '%ZZ', '%E0%A4%A', '%00', '%F0%9F%98', '%C0%AF', '%ED%A0%80', '&', '=', '==', '[]', '%5B%5D'])],
      [1, () => enc(bulk(rng, rng.range(100, 3000)))],
      [1, () => enc(rng.pick(['MOBILE|919999999993', 'MOBILE|', '|', 'EMAIL|a@b.co', 'USERNAME|ghost_user', 'mobıle|919999999993', 'MOBILE|９１９９９９９９９９９３']))],
    ])();
    const shape = rng.int(6);
    const ek = enc(k);
    if (shape === 0) parts.push(`${ek}[]=${val}`);
    else if (shape === 1) parts.push(`${ek}[a]=${val}`);
    else if (shape === 2) parts.push(ek);
    else parts.push(`${ek}=${val}`);
    if (rng.chance(0.3)) parts.push(`${ek}=${val}`); // duplicate key: an array in the parsed query
  }
  return parts.join(rng.chance(0.9) ? '&' : rng.pick(['&&', ';', '&=&']));
}

function introspectRequest(rng: Rng, c: Creds): Req {
  const path = '/auth/v1/token/introspect';
  const auth = adminAuth(rng);
  const token = rng.weighted<() => unknown>([
    [3, () => rng.pick(c.forged)],
    [3, () => hostileValue(rng)],
    [1, () => rng.pick([c.userTokens.mobile, c.userTokens.web, c.viewTokens.mobile, c.key])],
    [1, () => bulk(rng, rng.range(8000, 15000))],
  ])();
  const body = new Pairs([['token', token]]);
  const labels = ['introspect', `auth:${auth.label}`];
  if (rng.chance(0.4)) {
    const m = mutate(rng, { name: 'introspect', body });
    labels.push(...m.labels);
    body.entries.splice(0, body.entries.length, ...m.body.entries);
  }
  let payload: string | Buffer = ser(body);
  const headers: Record<string, string> = { 'content-type': rng.pick(CONTENT_TYPES_ACCEPTED), ...auth.headers, ...requestIdHeader(rng) };
  const mode = rng.int(10);
  if (mode === 0) {
    const b = brokenBody(rng, payload);
    payload = b.payload;
    labels.push(b.label);
  } else if (mode === 1) {
    headers['content-type'] = rng.pick(CONTENT_TYPES_OTHER);
    labels.push(`content-type:${headers['content-type']}`);
  } else if (mode === 2) {
    payload = oversize(rng, body).payload;
    labels.push('oversize');
  }
  return { method: 'POST', url: path, headers, payload, mustRefuse: false, customer: false, label: `POST ${path} ${labels.join(' ')}` };
}

/** Mostly the admin token; sometimes a wrong, malformed or missing one. */
function adminAuth(rng: Rng): { headers: Record<string, string>; label: string } {
  if (rng.chance(0.88)) return { headers: { authorization: rng.pick([AUTH, `bearer ${ADMIN_TOKEN}`, `Bearer   ${ADMIN_TOKEN}  `]) }, label: 'admin' };
  const bad = rng.pick(['', 'Bearer', 'Bearer ', `Bearer ${ADMIN_TOKEN}x`, `Bearer ${ADMIN_TOKEN.slice(0, -1)}`, `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`, ADMIN_TOKEN, `Token ${ADMIN_TOKEN}`, 'Bearer null', 'Bearer undefined', `Bearer ${'a'.repeat(5000)}`, `Bearer ${enc('\u0000')}`]);
  return { headers: bad === '' ? {} : { authorization: bad }, label: 'bad' };
}

// ---- admin

const BRAND_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** A brand name for a URL segment (encoded) that names no existing brand. */
function hostileBrandSegment(rng: Rng, allowExisting: boolean): { seg: string; name: string } {
  for (;;) {
    const name = rng.weighted<() => string>([
      [5, () => hostileString(rng, rng.pick(['fuzz', 'FUZZ-NEW', 'docdemo']))],
      [2, () => rng.pick(['FUZZ-NEW', 'a', 'A.B_C-9', 'x'.repeat(64), '.', '..', '-', '_', 'fuzz.', 'fuzz-', '0', 'null', 'constructor', '__proto__', 'hasOwnProperty', 'FUZZ NEW', 'fuzz\u0000'])],
      [1, () => 'b'.repeat(rng.range(65, 140))],
      [1, () => (allowExisting ? rng.pick(['fuzz', 'FUZZ', 'FuZz', 'fuzznopw']) : 'FUZZ-NEW')],
    ])();
    if (!allowExisting && BRAND_NAME.test(name) && EXISTING_BRANDS.includes(name.toUpperCase())) continue;
    // Sometimes unencoded, but never with `.`, `\` or `/`: the URL parser of the client (inject,
    // like a browser) resolves dot segments and backslashes, which would name another path.
    const raw = rng.chance(0.1) && /^[A-Za-z0-9_~!$'()*+,;=:@%-]+$/.test(name) ? name : enc(name);
    return { seg: raw === '' ? '%20' : raw, name };
  }
}

// ---- brand configs that can never be valid

const isPlain = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const parsed = (v: unknown): unknown => JSON.parse(ser(v));

type FieldKind =
  | { kind: 'bool' }
  | { kind: 'int'; min: number; max: number; nullable?: boolean }
  | { kind: 'list'; allowed?: string[]; digits?: boolean }
  | { kind: 'template'; needsOtp: boolean; max: number }
  | { kind: 'regex' }
  | { kind: 'pem' }
  | { kind: 'object'; keys: string[]; nullable?: boolean }
  | { kind: 'testOtps' };

const TEN_YEARS = 10 * 365 * 24 * 3600;
const CONFIG_FIELDS: [string, FieldKind][] = [
  ['otpEnabled', { kind: 'bool' }],
  ['passwordEnabled', { kind: 'bool' }],
  ['passwordRequiredAtSignup', { kind: 'bool' }],
  ['issueKey', { kind: 'bool' }],
  ['rotateKeys', { kind: 'bool' }],
  ['accountLocking.enabled', { kind: 'bool' }],
  ['passwordPolicy.rejectCommon', { kind: 'bool' }],
  ['encryption.enabled', { kind: 'bool' }],
  ['otpLength', { kind: 'int', min: 4, max: 10 }],
  ['sessionValiditySeconds', { kind: 'int', min: 1, max: TEN_YEARS }],
  ['otpValiditySeconds', { kind: 'int', min: 1, max: TEN_YEARS }],
  ['otpResendCooldownSeconds', { kind: 'int', min: 0, max: TEN_YEARS }],
  ['maxOtpRetries', { kind: 'int', min: 1, max: 1e9 }],
  ['maxPasswordRetries', { kind: 'int', min: 1, max: 1e9 }],
  ['passwordRetryWindowMinutes', { kind: 'int', min: 1, max: TEN_YEARS / 60 }],
  ['accountLocking.maxFailures', { kind: 'int', min: 1, max: 1e9 }],
  ['accountLocking.lockMinutes', { kind: 'int', min: 1, max: 43200 }],
  ['tokenValiditySeconds.mobile', { kind: 'int', min: 1, max: TEN_YEARS }],
  ['tokenValiditySeconds.web', { kind: 'int', min: 1, max: TEN_YEARS }],
  ['webRegenerateGraceSeconds', { kind: 'int', min: 1, max: TEN_YEARS }],
  ['passwordPolicy.minLength', { kind: 'int', min: 1, max: 64 }], // the base's maxLength is 64
  ['passwordPolicy.maxLength', { kind: 'int', min: 8, max: 4096 }], // the base's minLength is 8
  ['otpAbuse.prefixLength', { kind: 'int', min: 1, max: 15 }],
  ['encryption.validSeconds', { kind: 'int', min: 1, max: TEN_YEARS }],
  ['otpDailyLimit', { kind: 'int', min: 1, max: 1e9, nullable: true }],
  ['keyValidityMinutes', { kind: 'int', min: 1, max: TEN_YEARS / 60, nullable: true }],
  ['otpAbuse.perIpPerHour', { kind: 'int', min: 1, max: 1e9, nullable: true }],
  ['loginAbuse.perIpPerMinute', { kind: 'int', min: 1, max: 1e9, nullable: true }],
  ['identifierTypes', { kind: 'list', allowed: ['MOBILE', 'EMAIL', 'USERNAME'] }],
  ['channels.fallbackChannels', { kind: 'list', allowed: ['SMS', 'EMAIL', 'WHATSAPP', 'ZALO'] }],
  ['encryption.endpoints', { kind: 'list', allowed: ['OTP'] }],
  ['otpAbuse.allowedCountryCodes', { kind: 'list', digits: true }],
  ['channels.templates.SMS', { kind: 'template', needsOtp: true, max: 1000 }],
  ['channels.templates.WHATSAPP', { kind: 'template', needsOtp: true, max: 1000 }],
  ['channels.templates.EMAIL.text', { kind: 'template', needsOtp: true, max: 1000 }],
  ['channels.templates.EMAIL.subject', { kind: 'template', needsOtp: false, max: 200 }],
  ['passwordPolicy.regex', { kind: 'regex' }],
  ['encryption.privateKeyPem', { kind: 'pem' }],
  ['accountLocking', { kind: 'object', keys: ['enabled', 'maxFailures', 'lockMinutes'] }],
  ['tokenValiditySeconds', { kind: 'object', keys: ['mobile', 'web'] }],
  ['passwordPolicy', { kind: 'object', keys: ['minLength', 'maxLength', 'regex', 'rejectCommon'] }],
  ['otpAbuse', { kind: 'object', keys: ['perIpPerHour', 'perPrefixPerHour', 'prefixLength', 'allowedCountryCodes', 'brandDailyBudget'] }],
  ['loginAbuse', { kind: 'object', keys: ['perIpPerMinute', 'perIdentifierPerMinute'] }],
  ['channels', { kind: 'object', keys: ['mobileSubChannel', 'fallbackChannels', 'templates'] }],
  ['channels.templates', { kind: 'object', keys: ['SMS', 'EMAIL', 'WHATSAPP', 'ZALO'] }],
  ['ipRateLimit', { kind: 'object', keys: ['requestsPerMinute'], nullable: true }],
  ['testOtps', { kind: 'testOtps' }],
];

/** Whether `v` is certainly refused for a field of this kind (a conservative mirror of the contract's rules). */
function certainlyInvalid(kind: FieldKind, raw: unknown): boolean {
  const v = parsed(raw);
  switch (kind.kind) {
    case 'bool':
      return typeof v !== 'boolean';
    case 'int':
      if (v === null) return !kind.nullable;
      return !(typeof v === 'number' && Number.isInteger(v) && v >= kind.min && v <= kind.max);
    case 'list':
      if (!Array.isArray(v)) return true;
      return v.some((x) => (kind.digits ? !(typeof x === 'string' && /^[0-9]{1,4}$/.test(x)) : !(typeof x === 'string' && kind.allowed!.includes(x.toUpperCase()))));
    case 'template':
      return typeof v !== 'string' || v.trim() === '' || v.length > kind.max || (kind.needsOtp && !v.includes('{otp}'));
    case 'regex':
      if (v === null) return false;
      if (typeof v !== 'string' || v === '' || v.length > 1000) return true;
      try {
        new RegExp(v, 'u');
        return false;
      } catch {
        return true;
      }
    case 'pem':
      return v !== null; // none of the generated strings is a readable RSA key
    case 'object':
      if (v === null) return !kind.nullable;
      return !isPlain(v) || Object.keys(v as object).some((k) => !kind.keys.includes(k));
    case 'testOtps':
      return !isPlain(v) || Object.keys(v as object).some((k) => !k.includes('|'));
  }
}

function invalidFor(rng: Rng, kind: FieldKind): unknown {
  for (let i = 0; i < 20; i++) {
    const v = rng.weighted<() => unknown>([
      [6, () => hostileValue(rng)],
      [2, () => (kind.kind === 'object' || kind.kind === 'testOtps' ? new Pairs([[noiseKey(rng), hostileValue(rng)]]) : [hostileValue(rng)])],
      [1, () => (kind.kind === 'regex' ? rng.pick(['(', '[', '\\', '(?<', '*', 'a{2,1}', '(?<a>x)(?<a>y)', '\\p{Nope}']) : hostileString(rng))],
      [1, () => (kind.kind === 'pem' ? `-----BEGIN PRIVATE KEY-----\n${base64url.encode(hostileString(rng))}\n-----END PRIVATE KEY-----` : bulk(rng, 1200))],
    ])();
    try {
      if (certainlyInvalid(kind, v)) return v;
    } catch {
      // not parseable on its own (cannot happen for generated values); try another
    }
  }
  return new Pairs([['__fuzz_unknown_field__', 1]]);
}

function setPath(body: Pairs, path: string, value: unknown): void {
  const parts = path.split('.');
  let obj = body;
  for (const p of parts.slice(0, -1)) {
    let next = obj.get(p);
    if (!(next instanceof Pairs)) {
      next = new Pairs([]);
      obj.set(p, next);
    }
    obj = next as Pairs;
  }
  obj.set(parts[parts.length - 1]!, value);
}

/** A brand config that is valid except for one field (or is not an object at all). */
function invalidConfig(rng: Rng): { payload: string | Buffer; label: string } {
  const body = deepPairs({
    passwordEnabled: true,
    otpLength: 6,
    identifierTypes: ['MOBILE', 'EMAIL'],
    accountLocking: { enabled: false, maxFailures: 5, lockMinutes: 10 },
    passwordPolicy: { minLength: 8, maxLength: 64, regex: null },
    channels: { templates: { SMS: 'Code {otp}' } },
    testOtps: { 'MOBILE|919000000009': '123456' },
    ...NO_LIMITS,
  });
  const mode = rng.weighted<string>([
    [10, 'field'],
    [2, 'unknown-key'],
    [1, 'pollution'],
    [1, 'rules'],
    [2, 'broken'],
    [1, 'oversize'],
  ]);
  if (mode === 'field') {
    const [path, kind] = rng.pick(CONFIG_FIELDS);
    setPath(body, path, invalidFor(rng, kind));
    return { payload: ser(body), label: `config:${path}` };
  }
  if (mode === 'unknown-key') {
    const [path] = rng.pick(CONFIG_FIELDS.filter(([, k]) => k.kind === 'object'));
    setPath(body, `${path}.${noiseKey(rng).replace(/\./g, '_')}`, hostileValue(rng));
    return { payload: ser(body), label: `config:unknown-in:${path}` };
  }
  if (mode === 'pollution') {
    body.entries.unshift(...pollution(rng).entries);
    return { payload: ser(body), label: 'config:pollution' };
  }
  if (mode === 'rules') {
    const r = rng.int(4);
    if (r === 0) body.set('otpMaxCount', 0);
    else if (r === 1) body.set('otpMaxCount', 3); // without otpTimeOut
    else if (r === 2) setPath(body, 'passwordPolicy.minLength', 65); // above maxLength
    else setPath(body, 'encryption.enabled', true); // without a key
    return { payload: ser(body), label: `config:rule-${r}` };
  }
  if (mode === 'oversize') return { ...oversize(rng, body), label: 'config:oversize' };
  // Some "broken" bodies are still a JSON object (a newline spliced between tokens, invalid
  // UTF-8 the parser replaces with U+FFFD, `{}`): only the ones that are not are used here.
  for (;;) {
    const b = brokenBody(rng, ser(body));
    try {
      // (The server's parser skips a leading byte order mark; JSON.parse does not.)
      const v = JSON.parse(Buffer.from(b.payload).toString('utf8').replace(/^\uFEFF/, ''));
      if (isPlain(v)) continue;
    } catch {
      // not JSON: refused
    }
    return { payload: b.payload, label: `config:${b.label}` };
  }
}

function userPath(rng: Rng): { path: string; label: string } {
  const segs = [BRAND, 'MOBILE', ADMIN_USER_MOBILE].map((s) => enc(s));
  const n = rng.range(1, 3);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const which = rng.int(3);
    if (which === 0) segs[0] = hostileBrandSegment(rng, true).seg;
    else {
      const plausible = which === 1 ? 'MOBILE' : ADMIN_USER_MOBILE;
      const s = rng.chance(0.1) ? 'x'.repeat(rng.range(90, 300)) : hostileString(rng, plausible);
      segs[which] = rng.chance(0.08) ? rng.pick(['%ZZ', '%', '%E0%A4%A', '%00', '..', '.', '%2F', '%252F', 'a%2Fb', ';', '%C0%AF']) : enc(s) || '%20';
    }
    labels.push(`seg${which}`);
  }
  return { path: `/admin/v1/users/${segs.join('/')}`, label: labels.join(',') };
}

function adminRequest(rng: Rng, route: string): Req {
  const auth = adminAuth(rng);
  const headers: Record<string, string> = { ...auth.headers, ...requestIdHeader(rng) };
  const json = (payload: string | Buffer) => {
    headers['content-type'] = rng.chance(0.9) ? rng.pick(CONTENT_TYPES_ACCEPTED) : rng.pick(CONTENT_TYPES_OTHER);
    return payload;
  };
  const q = (keys: string[]) => (rng.chance(0.85) ? `?${hostileQuery(rng, keys)}` : '');
  let method = 'GET';
  let u: string;
  let payload: string | Buffer | undefined;
  let mustRefuse = false;
  let label = `auth:${auth.label}`;
  switch (route) {
    case 'PUT brand': {
      method = 'PUT';
      mustRefuse = true;
      const { seg } = hostileBrandSegment(rng, true);
      u = `/admin/v1/brands/${seg}`;
      const c = invalidConfig(rng);
      payload = json(c.payload);
      label += ` ${c.label}`;
      break;
    }
    case 'GET brand':
      u = `/admin/v1/brands/${hostileBrandSegment(rng, true).seg}${rng.chance(0.2) ? q(['x']) : ''}`;
      break;
    case 'DELETE brand':
      method = 'DELETE';
      mustRefuse = true;
      u = `/admin/v1/brands/${hostileBrandSegment(rng, false).seg}`;
      if (rng.chance(0.2)) payload = json(ser(hostileValue(rng)));
      break;
    case 'GET brands':
      u = `/admin/v1/brands${q(['brand', 'limit', 'x'])}`;
      break;
    case 'GET outbox':
      u = `/admin/v1/outbox${q(['brand', 'identifier', 'limit', 'to'])}`;
      break;
    case 'GET audit':
      u = `/admin/v1/audit${q(['brand', 'limit', 'type'])}`;
      break;
    case 'GET user': {
      const p = userPath(rng);
      u = p.path + (rng.chance(0.2) ? q(['x']) : '');
      label += ` ${p.label}`;
      break;
    }
    case 'DELETE user': {
      method = 'DELETE';
      mustRefuse = true;
      const p = userPath(rng);
      u = p.path;
      label += ` ${p.label}`;
      if (rng.chance(0.2)) payload = json(ser(hostileValue(rng)));
      break;
    }
    case 'POST unlock': {
      method = 'POST';
      mustRefuse = true;
      const p = userPath(rng);
      u = `${p.path}/unlock`;
      label += ` ${p.label}`;
      if (rng.chance(0.5)) payload = json(rng.chance(0.5) ? ser(hostileValue(rng)) : brokenBody(rng, '{"a":"b"}').payload);
      break;
    }
    case 'other': {
      method = rng.pick(['PATCH', 'POST', 'PUT', 'OPTIONS', 'DELETE']);
      mustRefuse = true;
      u = rng.pick(['/admin/v1/brands', '/admin/v1/outbox', '/admin/v1/audit', `/admin/v1/${enc(hostileString(rng))}`, '/admin/v1/brands/fuzz/x', '/admin/v2/brands', '/admin/v1/users/fuzz/MOBILE', '/admin/v1/users/fuzz', '/.well-known/jwks.json', '/health', '/ready']);
      if (method !== 'OPTIONS' && rng.chance(0.5)) payload = json(ser(hostileValue(rng)));
      break;
    }
    default:
      throw new Error(route);
  }
  return { method, url: u, headers, payload, mustRefuse, customer: false, label: `${method} ${route} ${label}` };
}

const ADMIN_ROUTES = ['PUT brand', 'GET brand', 'DELETE brand', 'GET brands', 'GET outbox', 'GET audit', 'GET user', 'DELETE user', 'POST unlock', 'other'];
const CUSTOMER_EPS = ['token/generate', 'otp/generate', 'otp/validate', 'password/validate', 'token/regenerate', 'password/change', 'password/forget', 'token/expire'];
/** Every target, round robin: each gets the same share of the requests. */
const TARGETS: string[] = [
  ...CUSTOMER_EPS.flatMap((ep) => VARIANTS.map((v) => `${v} ${ep}`)),
  'introspect',
  ...ADMIN_ROUTES.map((r) => `admin ${r}`),
];

function phase1Request(i: number, c: Creds): Req {
  const rng = new Rng(SEED, i);
  const target = TARGETS[i % TARGETS.length]!;
  if (target === 'introspect') return introspectRequest(rng, c);
  if (target.startsWith('admin ')) return adminRequest(rng, target.slice(6));
  const [v, ep] = target.split(' ') as [V, string];
  return customerRequest(rng, ep, v, c);
}

/**
 * Phase 2: hostile but possibly acceptable passwords, confirmed, on a sign-up (token/generate of
 * a new identifier) and on a reset (password/forget on the real session): either refused or a
 * success that writes to the session store only.
 */
function phase2Request(i: number, c: Creds): Req {
  const rng = new Rng(SEED ^ 0x5bd1e995, i);
  const v = VARIANTS[i % 2]!;
  const ep = rng.chance(0.6) ? 'token/generate' : 'password/forget';
  const password = rng.weighted<() => string>([
    [4, () => hostileString(rng, 'Str0ng-Passw0rd!')],
    [2, () => `Pw-${hostileString(rng)}-${rng.u32()}`],
    [1, () => bulk(rng, rng.range(100, 600))],
    [1, () => rng.pick(['password', 'Password1', '12345678', 'ＰＡＳＳＷＯＲＤ１２３', 'p\u0000ssword-long', '\uD800\uD800\uD800\uD800\uD800\uD800\uD800\uD800', 'e\u0301'.repeat(8), '👨‍👩‍👧‍👦'.repeat(3), 'ﬁ'.repeat(10)])],
  ])();
  const confirm = rng.chance(0.9) ? password : `${password}x`;
  let body: Pairs;
  if (ep === 'token/generate') {
    const value = `9197${String(rng.u32() % 1e8).padStart(8, '0')}`;
    const device = rng.pick<string | number>([DEVICE, 12345, `dev-${rng.u32()}`]);
    body = Pairs.of({ ...idBody(v, rng.pick([BRAND, 'FUZZ', 'Fuzz']), rng.pick(['MOBILE', 'mobile']), rng.chance(0.3) ? `+${value.slice(0, 2)} ${value.slice(2)}` : value), password, confirmPassword: confirm });
    if (v === 'mobile') body.set('deviceId', device);
  } else {
    body = Pairs.of({ ...idBody(v, BRAND, 'MOBILE', MOBILE), sessionId: c.sessions[v], password, confirmPassword: confirm });
  }
  for (let k = rng.int(3); k > 0; k--) body.entries.push([noiseKey(rng).replace(/^(__proto__|constructor|prototype)$/, 'x'), hostileValue(rng)]);
  return { method: 'POST', url: url(v, ep), headers: { 'content-type': 'application/json' }, payload: ser(body), mustRefuse: false, customer: true, label: `POST ${url(v, ep)} phase2` };
}

// ---------------------------------------------------------------- checking a response

const STACK = /\n\s+at \S|\(\/[^)]*:\d+:\d+\)|node:internal|\.ts:\d+:\d+|\.js:\d+:\d+|FST_ERR|SqliteError|SQLITE_|TypeError|RangeError|ReferenceError/;
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

interface Outcome {
  key: string;
  problem?: string;
  success: boolean;
}

function check(req: Req, r: { statusCode: number; headers: Record<string, unknown>; body: string }): Outcome {
  const fail = (problem: string): Outcome => ({ key: `${r.statusCode}`, problem, success: false });
  if (r.statusCode >= 500) return fail(`HTTP ${r.statusCode}`);
  const ct = String(r.headers['content-type'] ?? '');
  if (!ct.startsWith('application/json')) return fail(`content-type ${JSON.stringify(ct)}`);
  const rid = r.headers['x-request-id'];
  if (typeof rid !== 'string' || rid === '') return fail('no x-request-id');
  const sent = req.headers['x-request-id'];
  if (sent !== undefined && rid === sent && !SAFE_REQUEST_ID.test(sent)) return fail('unsafe x-request-id echoed');
  if (STACK.test(r.body)) return fail('internals in the body');
  let body: any;
  try {
    body = JSON.parse(r.body);
  } catch {
    return fail('body is not JSON');
  }
  const s = body?.status;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof s !== 'object' || s === null) return fail('no status envelope');
  if (Object.keys(s).sort().join() !== 'code,message,success' || typeof s.success !== 'boolean' || !Number.isInteger(s.code) || typeof s.message !== 'string') {
    return fail('malformed status');
  }
  const key = `${r.statusCode}/${s.code}`;
  if (req.expect413 && key !== '413/1519') return { key, problem: 'a body over 16 KiB was not refused with 413 / 1519', success: Boolean(s.success) };
  if (s.success) {
    if (r.statusCode !== 200) return { key, problem: 'success with a non-200 status', success: true };
    try {
      assert.deepEqual(s, SUCCESS);
    } catch {
      return { key, problem: 'success status is not the §1.2 one', success: true };
    }
    if (req.mustRefuse) return { key, problem: 'a request that must be refused succeeded', success: true };
    return { key, success: true };
  }
  const isAdmin = new URL(req.url, 'http://x').pathname.startsWith('/admin/');
  if (s.code === 404) {
    if (r.statusCode !== 404 || s.message !== 'Resource not found.') return { key, problem: 'bad not-found envelope', success: false };
  } else if (Object.hasOwn(SPEC_ERRORS, s.code)) {
    const [http, message] = SPEC_ERRORS[s.code as SpecCode];
    const expectedHttp = s.code === 1519 && r.statusCode === 413 ? 413 : s.code === 1504 && isAdmin ? 404 : http;
    if (r.statusCode !== expectedHttp) return { key, problem: `HTTP ${r.statusCode} for code ${s.code} (expected ${expectedHttp})`, success: false };
    if (s.message !== message) return { key, problem: `message ${JSON.stringify(s.message)} for code ${s.code}`, success: false };
    if (r.statusCode === 413 && Buffer.byteLength(req.payload ?? '') <= BODY_LIMIT) return { key, problem: '413 for a body under the limit', success: false };
  } else {
    return { key, problem: `code ${s.code} is not in §9`, success: false };
  }
  const extra = Object.keys(body).filter((k) => k !== 'status');
  if (req.customer && extra.length) return { key, problem: `customer failure carries ${extra.join(',')}`, success: false };
  if (!req.customer && extra.some((k) => k !== 'detail')) return { key, problem: `admin failure carries ${extra.join(',')}`, success: false };
  return { key, success: false };
}

interface RunResult {
  count: number;
  ms: number;
  byStatus: Map<string, number>;
  byTarget: Map<string, number>;
  problems: string[];
  successes: number;
}

async function run(h: Harness, n: number, make: (i: number) => Req, target: (i: number) => string): Promise<RunResult> {
  const res: RunResult = { count: 0, ms: 0, byStatus: new Map(), byTarget: new Map(), problems: [], successes: 0 };
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= n) return;
      if (ONLY && !ONLY.has(i)) continue;
      const req = make(i);
      let out: Outcome;
      try {
        const r = await h.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload });
        out = check(req, r);
      } catch (err) {
        out = { key: 'inject-error', problem: `inject threw ${(err as Error).message}`, success: false };
      }
      res.count++;
      res.byStatus.set(out.key, (res.byStatus.get(out.key) ?? 0) + 1);
      res.byTarget.set(target(i), (res.byTarget.get(target(i)) ?? 0) + 1);
      if (out.success) res.successes++;
      if (out.problem && res.problems.length < 25) {
        const p = typeof req.payload === 'string' ? req.payload : req.payload === undefined ? '' : `<${req.payload.length} bytes>`;
        res.problems.push(`#${i} ${out.problem} [${out.key}] ${req.label.slice(0, 300)}\n    url: ${req.url.slice(0, Number(process.env.FUZZ_SHOW ?? 300))}\n    headers: ${JSON.stringify(req.headers).slice(0, 200)}\n    payload: ${JSON.stringify(p.slice(0, Number(process.env.FUZZ_SHOW ?? 300)))}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  res.ms = performance.now() - t0;
  return res;
}

// ---------------------------------------------------------------- storage snapshot

type Snapshot = Map<string, { rows: number; digest: string }>;

const rowText = (row: unknown) =>
  JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v && typeof v === 'object' && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('hex') : v));

function digestRows(rows: unknown[]): { rows: number; digest: string } {
  const lines = rows.map((r) => rowText(r instanceof Uint8Array ? Buffer.from(r).toString('hex') : r)).sort();
  return { rows: rows.length, digest: createHash('sha256').update(lines.join('\n')).digest('hex') };
}

function sqliteTables(file: string, prefix: string, out: Snapshot): void {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[];
    for (const { name } of tables) out.set(`${prefix}${name}`, digestRows(db.prepare(`SELECT * FROM "${name}"`).all() as unknown[]));
  } finally {
    db.close();
  }
}

/** Every row of every table (embedded: both SQLite files; production: the database and the Redis prefix). */
async function snapshot(h: Harness, part: 'all' | 'durable'): Promise<Snapshot> {
  const out: Snapshot = new Map();
  if (h.storage === 'embedded') {
    sqliteTables(join(h.dataDir, 'auth.db'), '', out);
    if (part === 'all') sqliteTables(join(h.dataDir, 'sessions.db'), 'sessions.db:', out);
    return out;
  }
  const tables = await h.selectRows<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`);
  for (const { t } of tables) out.set(t, digestRows(await h.selectRows(`SELECT * FROM "${t}"`)));
  if (part === 'all') {
    const dump = await h.rawStorageDump('sessions');
    out.set('redis', digestRows(dump.split('\n').filter((l) => l !== '')));
  }
  return out;
}

function diffSnapshots(a: Snapshot, b: Snapshot): string[] {
  const out: string[] = [];
  for (const k of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(k);
    const y = b.get(k);
    if (x?.digest !== y?.digest) out.push(`${k}: ${x?.rows ?? '-'} rows → ${y?.rows ?? '-'} rows${x?.rows === y?.rows ? ' (contents changed)' : ''}`);
  }
  return out;
}

const fmt = (m: Map<string, number>) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

// ---------------------------------------------------------------- the test

const PROTO_NAMES = {
  object: Object.getOwnPropertyNames(Object.prototype).sort(),
  array: Object.getOwnPropertyNames(Array.prototype).sort(),
  function: Object.getOwnPropertyNames(Function.prototype).sort(),
};

function assertPrototypesClean(): void {
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), PROTO_NAMES.object, 'Object.prototype gained or lost a property');
  assert.deepEqual(Object.getOwnPropertyNames(Array.prototype).sort(), PROTO_NAMES.array, 'Array.prototype gained or lost a property');
  assert.deepEqual(Object.getOwnPropertyNames(Function.prototype).sort(), PROTO_NAMES.function, 'Function.prototype gained or lost a property');
  const o: Record<string, unknown> = {};
  for (const m of ['fuzzPolluted', 'isAdmin', 'polluted', 'role', 'passwordEnabled', 'status', 'nested']) {
    assert.equal(o[m], undefined, `({}).${m} is polluted`);
    assert.equal(([] as unknown as Record<string, unknown>)[m], undefined, `[].${m} is polluted`);
  }
  assert.equal(typeof o.toString, 'function');
  assert.equal(String({}), '[object Object]');
}

async function setup(h: Harness): Promise<Creds> {
  await h.createBrand(BRAND, { passwordEnabled: true, ...NO_LIMITS });
  await h.createBrand(BRAND_NOPW, { ...NO_LIMITS });
  await h.createBrand(BRAND_REQ, { passwordEnabled: true, passwordRequiredAtSignup: true, ...NO_LIMITS });
  // The real user: signs up with a password, then logs in on both variants.
  const m = await otpLogin(h, 'mobile', BRAND, 'MOBILE', MOBILE, { password: PASSWORD, confirmPassword: PASSWORD }, DEVICE);
  expectOk(m.res, 'mobile login');
  const w = await otpLogin(h, 'web', BRAND, 'MOBILE', MOBILE);
  expectOk(w.res, 'web login');
  const sessions = {} as Record<V, string>;
  const viewTokens = {} as Record<V, string>;
  for (const v of VARIANTS) {
    const g = await h.post(url(v, 'token/generate'), idBody(v, BRAND, 'MOBILE', MOBILE, DEVICE));
    expectOk(g, `token/generate ${v}`);
    sessions[v] = g.body.user.sessionId;
    viewTokens[v] = g.body.auth.token;
  }
  const userTokens = { mobile: m.res.body.auth.token as string, web: w.res.body.auth.token as string };
  const kid = JSON.parse(Buffer.from(userTokens.mobile.split('.')[0]!, 'base64url').toString('utf8')).kid as string;
  const key = m.res.body.auth.key as string;
  const forged = [...(await forgedTokens(userTokens.mobile, kid)), ...(await forgedTokens(key, kid)), ...(await forgedTokens(userTokens.web, kid))];
  return { kid, sessions, viewTokens, userTokens, key, forged };
}

/** Everything still works for the real user: OTP login on both variants, password login, the key, the token. */
async function assertValidFlowsWork(h: Harness, c: Creds): Promise<void> {
  for (const v of VARIANTS) {
    const o = await otpLogin(h, v, BRAND, 'MOBILE', MOBILE, {}, DEVICE);
    expectOk(o.res, `OTP login after the fuzz (${v})`);
    assert.equal(o.res.body.user.role, 'USER');
    const g = await h.post(url(v, 'token/generate'), idBody(v, BRAND, 'MOBILE', MOBILE, DEVICE));
    expectOk(g, `token/generate after the fuzz (${v})`);
    assert.equal(g.body.user.userRegisteredForPassword, true, 'the password is still set');
    const p = await h.post(url(v, 'password/validate'), { ...idBody(v, BRAND, 'MOBILE', MOBILE, DEVICE), sessionId: g.body.user.sessionId, password: PASSWORD });
    expectOk(p, `password login after the fuzz (${v})`);
    assert.deepEqual(p.body.identifiers.identifierList, [{ type: 'MOBILE', value: MOBILE }]);
  }
  const r = await h.post(url('mobile', 'token/regenerate'), { ...idBody('mobile', BRAND, 'MOBILE', MOBILE, DEVICE), key: c.key });
  expectOk(r, 'the key still regenerates after the fuzz');
  const i = await h.app.inject({ method: 'POST', url: '/auth/v1/token/introspect', headers: { authorization: AUTH, 'content-type': 'application/json' }, payload: JSON.stringify({ token: c.userTokens.web }) });
  assert.equal(i.statusCode, 200, i.body);
  assert.equal(JSON.parse(i.body).active, true, 'the web token is still active after the fuzz');
}

test(`fuzz: ${PHASE1_REQUESTS + PHASE2_REQUESTS} hostile requests on every endpoint — no 5xx, always the envelope, no state changed by a refusal`, async (t) => {
  const started = performance.now();
  t.diagnostic(`FUZZ_SEED=${SEED} (replay: FUZZ_SEED=${SEED} FUZZ_ONLY=<i,…>)`);
  const h = await startHarness();
  try {
    const c = await setup(h);
    assertPrototypesClean();
    const before = await snapshot(h, 'all');

    // Phase 1: only refusals (and reads).
    const p1 = await run(h, PHASE1_REQUESTS, (i) => phase1Request(i, c), (i) => TARGETS[i % TARGETS.length]!);
    t.diagnostic(`phase 1: ${p1.count} requests in ${Math.round(p1.ms)} ms (${Math.round((p1.count / p1.ms) * 1000)}/s); HTTP/code: ${fmt(p1.byStatus)}`);
    assert.deepEqual(p1.problems, [], `seed ${SEED}: ${p1.problems.length}+ bad responses:\n${p1.problems.join('\n')}`);
    const afterP1 = await snapshot(h, 'all');
    assert.deepEqual(diffSnapshots(before, afterP1), [], `seed ${SEED}: refused requests changed the storage`);
    assertPrototypesClean();

    if (!ONLY) {
      assert.equal(p1.count, PHASE1_REQUESTS);
      // Every target got its share.
      for (const target of TARGETS) assert.ok((p1.byTarget.get(target) ?? 0) >= Math.floor(PHASE1_REQUESTS / TARGETS.length), `${target}: ${p1.byTarget.get(target)}`);
      // The requests reached the flows, not only the schema: each of these answers comes from a
      // check after the body shape (sessions, tokens, keys, passwords, users, the admin API).
      const seen = new Set([...p1.byStatus.keys()].map((k) => Number(k.split('/')[1])));
      for (const code of [1519, 1546, 1504, 1505, 1507, 1508, 1509, 1521, 1524, 1525, 1529, 1537, 1540, 1541, 1548, 1597, 1515, 1520, 404]) {
        assert.ok(seen.has(code), `seed ${SEED}: no response with code ${code}: ${fmt(p1.byStatus)}`);
      }
      assert.ok((p1.byStatus.get('413/1519') ?? 0) > 0, 'oversized bodies were sent and refused with 413');
    }

    // Phase 2: hostile passwords that may be accepted (sign-up sessions, a pending reset): the
    // session store may change, the durable store may not.
    const p2 = await run(h, ONLY ? 0 : PHASE2_REQUESTS, (i) => phase2Request(i, c), (i) => `phase2 ${VARIANTS[i % 2]}`);
    t.diagnostic(`phase 2: ${p2.count} requests in ${Math.round(p2.ms)} ms; HTTP/code: ${fmt(p2.byStatus)}`);
    assert.deepEqual(p2.problems, [], `seed ${SEED}: ${p2.problems.length}+ bad responses:\n${p2.problems.join('\n')}`);
    if (!ONLY) {
      assert.ok(p2.successes > 0 && (p2.byStatus.get('400/1542') ?? 0) > 0, `phase 2 reached both outcomes: ${fmt(p2.byStatus)}`);
    }
    const afterP2 = await snapshot(h, 'durable');
    const durableBefore = new Map([...before].filter(([k]) => !k.startsWith('sessions.db:') && k !== 'redis'));
    assert.deepEqual(diffSnapshots(durableBefore, afterP2), [], `seed ${SEED}: phase 2 changed the durable store`);
    assertPrototypesClean();

    await assertValidFlowsWork(h, c);
    const rows = [...before].filter(([k]) => /^(users|identifiers|keys|outbox|revoked_tokens|user_marks|limit_events|failures|audit|brands|sessions\.db:sessions)$/.test(k));
    t.diagnostic(`storage unchanged by phase 1: ${rows.map(([k, x]) => `${k}=${x.rows}`).join(', ')}`);
    t.diagnostic(`total ${p1.count + p2.count} requests; whole test ${Math.round(performance.now() - started)} ms`);
  } finally {
    await h.close();
  }
});
