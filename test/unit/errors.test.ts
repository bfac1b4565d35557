// Pins the error table of spec §9. The table below is copied from the spec, not from src, so a
// changed code, HTTP status or message in src/domain/errors.ts fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, ERRORS, fail, type ErrorCode } from '../../src/domain/errors.ts';

// code → [HTTP, message], exactly as in spec §9.
const SPEC: Record<number, [number, string]> = {
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
};

const srcCodes = () => Object.keys(ERRORS).map(Number).sort((a, b) => a - b);
const specCodes = () => Object.keys(SPEC).map(Number).sort((a, b) => a - b);

test('the spec table has the 40 codes of §9 (guards against a copy slip here)', () => {
  assert.equal(specCodes().length, 40);
});

test('every code of §9 is in ERRORS with its exact HTTP status and message', () => {
  for (const code of specCodes()) {
    const [http, message] = SPEC[code]!;
    const e = (ERRORS as Record<number, { http: number; message: string } | undefined>)[code];
    assert.ok(e, `code ${code} missing from ERRORS`);
    assert.equal(e.http, http, `HTTP status of ${code}`);
    assert.equal(e.message, message, `message of ${code}`);
  }
});

test('ERRORS has no code that §9 does not list', () => {
  const extra = srcCodes().filter((c) => !(c in SPEC));
  assert.deepEqual(extra, []);
  assert.deepEqual(srcCodes(), specCodes());
});

test('each ERRORS entry carries exactly an HTTP status and a message', () => {
  for (const code of srcCodes()) {
    const e = (ERRORS as Record<number, object>)[code]!;
    assert.deepEqual(Object.keys(e).sort(), ['http', 'message'], `entry ${code}`);
  }
});

test('AuthError carries code, httpStatus, message and retryAfterSeconds for every code', () => {
  for (const code of specCodes()) {
    const [http, message] = SPEC[code]!;
    const e = new AuthError(code as ErrorCode);
    assert.ok(e instanceof Error);
    assert.ok(e instanceof AuthError);
    assert.equal(e.name, 'AuthError');
    assert.equal(e.code, code);
    assert.equal(e.httpStatus, http, `httpStatus of ${code}`);
    assert.equal(e.message, message, `message of ${code}`);
    assert.equal(e.retryAfterSeconds, undefined);
  }
});

test('AuthError keeps retryAfterSeconds and detail when given', () => {
  const e = new AuthError(1534, { retryAfterSeconds: 37, detail: 'otpMaxCount reached' });
  assert.equal(e.code, 1534);
  assert.equal(e.httpStatus, 429);
  assert.equal(e.retryAfterSeconds, 37);
  assert.equal(e.detail, 'otpMaxCount reached');
  const locked = new AuthError(1544, { retryAfterSeconds: 1800 });
  assert.equal(locked.httpStatus, 423);
  assert.equal(locked.retryAfterSeconds, 1800);
  assert.equal(locked.message, 'Account is temporarily locked. Try again later.');
});

test('AuthError keeps a cause without putting it in the message', () => {
  const cause = new Error('SELECT * FROM users failed');
  const e = new AuthError(1599, { cause });
  assert.equal(e.cause, cause);
  assert.equal(e.message, 'Service temporarily unavailable.');
  assert.equal(e.httpStatus, 503);
});

test('fail() throws the AuthError of the code with its options', () => {
  assert.throws(
    () => fail(1547, { retryAfterSeconds: 5 }),
    (err: unknown) => err instanceof AuthError && err.code === 1547 && err.httpStatus === 429 && err.retryAfterSeconds === 5 && err.message === 'Too many requests. Try again later.',
  );
  assert.throws(() => fail(1506), (err: unknown) => err instanceof AuthError && err.code === 1506 && err.retryAfterSeconds === undefined);
});
