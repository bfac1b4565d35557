// Pins the error table of spec §9. SPEC_ERRORS (test/helpers/spec.ts) is copied from the spec,
// not from src, so a changed code, HTTP status or message in src/domain/errors.ts fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, ERRORS, fail, type ErrorCode } from '../../src/domain/errors.ts';
import { SPEC_ERRORS } from '../helpers/spec.ts';

const SPEC: Record<number, readonly [number, string]> = SPEC_ERRORS;

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
