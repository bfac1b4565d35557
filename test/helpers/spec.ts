// What the wire contract (/work/shared/spec/auth-engine-api.md) fixes, written out literally for
// the tests: the §9 error table, the §1.2 success status, and assertions on the §1.2 envelope.
// Nothing here is imported from src, so a drift in src fails the tests instead of following it.
import { createSecretKey } from 'node:crypto';
import assert from 'node:assert/strict';

/** Spec §9, code → [HTTP status, message], exactly as the spec writes them (40 codes). */
export const SPEC_ERRORS = {
  1502: [401, 'Unable to validate OTP.'],
  1503: [502, 'Unable to generate OTP.'],
  1504: [400, 'Unable to generate token.'],
  1505: [401, 'Invalid session.'],
  1506: [401, 'Invalid OTP.'],
  1507: [403, 'Mobile number does not match with the mobile number used to generate token/session.'],
  1508: [403, 'Device ID does not match with the device ID used to generate token/session.'],
  1509: [403, 'Brand name does not match with the brand name used to generate token/session.'],
  1515: [404, 'User does not exist.'],
  1518: [429, 'Reached the maximum allowed OTP retry attempts, Authenticate form the start.'],
  1519: [400, 'Invalid details passed.'],
  1520: [400, 'Password is enabled for the brand. Password cannot be empty.'],
  1521: [400, 'Password and confirm password does not match.'],
  1523: [500, 'Unable to change password.'],
  1524: [400, 'Password is not enabled for the brand.'],
  1525: [401, 'Cannot regenerate token, please authenticate again.'],
  1526: [401, 'Unable to validate password.'],
  1527: [400, 'Old password and new password cannot be same.'],
  1528: [401, 'Invalid password, please try with the correct password.'],
  1529: [401, 'Token has expired.'],
  1530: [429, 'Reached the maximum allowed password retry attempts, please reset your password.'],
  1531: [500, 'Unable to expire token.'],
  1532: [500, 'Unable to reset password.'],
  1534: [429, 'Reached the maximum number of OTPs allowed per customer.'],
  1535: [400, 'Maximum OTP count per customer cannot be 0 (it has to be >= 1).'],
  1537: [400, 'OTP is not generated for the provided details. Please generate OTP and try again.'],
  1540: [400, 'Either mobile or email is required to send OTP.'],
  1541: [403, 'Identifier used to generate session does not match with the identifier used to generate or validate OTP.'],
  1542: [400, 'Password does not meet the requirements.'],
  1543: [409, 'Username already exists.'],
  1544: [423, 'Account is temporarily locked. Try again later.'],
  1546: [400, 'Invalid identifierType passed.'],
  1547: [429, 'Too many requests. Try again later.'],
  1548: [401, 'Unauthorized.'],
  1597: [401, 'Key expired or not valid.'],
  1601: [400, 'Fallback channel requires identifier mobile.'],
  1602: [400, 'Fallback channel requires identifier email.'],
  1603: [400, 'Channel not configured properly.'],
  5004: [400, 'Response tampered.'],
  1599: [503, 'Service temporarily unavailable.'],
} as const satisfies Record<number, readonly [number, string]>;

export type SpecCode = keyof typeof SPEC_ERRORS;

/** Spec §8: where the admin API answers a §9 code with another HTTP status. */
export const SPEC_ADMIN_HTTP: Partial<Record<SpecCode, number>> = { 1504: 404 };

/** Spec §1.2: the status of every success. */
export const SUCCESS = { success: true, code: 200, message: 'SUCCESS' } as const;

/** The failure status of a §9 code: `{ success: false, code, message }`. */
export const specStatus = (code: SpecCode) => ({ success: false, code, message: SPEC_ERRORS[code][1] });

/**
 * The harness's deployment signing secret (AUTH_SIGNING_SECRET in helpers/harness.ts; keep the
 * two equal) as an HS256 key: tokens the harness issues must verify under it.
 */
export const SIGNING_KEY = createSecretKey(Buffer.from('test-signing-secret-0123456789abcdefghijklmnop', 'utf8'));

/** The parts of a response the assertions read (helpers/harness.ts `Res` has them, and more). */
export interface Reply {
  status: number;
  body: any;
  raw: string;
}

export interface ErrorOptions {
  /** An HTTP status other than §9's (e.g. 413 for an oversized body). */
  http?: number;
}

/** A §9 failure: the HTTP status of the code, and exactly `{ status: { success: false, code, message } }` as the body. */
export function expectError(res: Reply, code: SpecCode, what = '', opts: ErrorOptions = {}): void {
  const http = opts.http ?? SPEC_ERRORS[code][0];
  assert.equal(res.status, http, `${what}: HTTP ${res.status} ${res.raw}`);
  assert.deepEqual(res.body, { status: specStatus(code) }, `${what}: ${res.raw}`);
}

/**
 * A §9 failure from the admin API: its HTTP status (§9's, or §8's where that differs) and
 * `body.status` exactly; the body may carry more (admin errors may add a `detail`).
 */
export function expectAdminError(res: Reply, code: SpecCode, what = '', opts: ErrorOptions = {}): void {
  const http = opts.http ?? SPEC_ADMIN_HTTP[code] ?? SPEC_ERRORS[code][0];
  assert.equal(res.status, http, `${what}: HTTP ${res.status} ${res.raw}`);
  assert.deepEqual(res.body?.status, specStatus(code), `${what}: ${res.raw}`);
}

/** A success: HTTP 200 and exactly the §1.2 success status (the rest of the body is the caller's). */
export function expectOk(res: Reply, what = ''): void {
  assert.equal(res.status, 200, `${what}: ${res.raw}`);
  assert.deepEqual(res.body.status, SUCCESS, `${what}: ${res.raw}`);
}
