// The one error table of spec §9. Codes, HTTP statuses and messages are part of the wire
// contract: clients match on them, so they are written out literally and pinned by
// test/unit/errors.test.ts. The status map is a Record over the code union, so adding a
// code without a status (or a message) is a type error.

export const ERRORS = {
  1502: { http: 401, message: 'Unable to validate OTP.' },
  1503: { http: 502, message: 'Unable to generate OTP.' },
  1504: { http: 400, message: 'Unable to generate token.' },
  1505: { http: 401, message: 'Invalid session.' },
  1506: { http: 401, message: 'Invalid OTP.' },
  1507: { http: 403, message: 'Mobile number does not match with the mobile number used to generate token/session.' },
  1508: { http: 403, message: 'Device ID does not match with the device ID used to generate token/session.' },
  1509: { http: 403, message: 'Brand name does not match with the brand name used to generate token/session.' },
  1515: { http: 404, message: 'User does not exist.' },
  1518: { http: 429, message: 'Reached the maximum allowed OTP retry attempts, Authenticate form the start.' },
  1519: { http: 400, message: 'Invalid details passed.' },
  1520: { http: 400, message: 'Password is enabled for the brand. Password cannot be empty.' },
  1521: { http: 400, message: 'Password and confirm password does not match.' },
  1523: { http: 500, message: 'Unable to change password.' },
  1524: { http: 400, message: 'Password is not enabled for the brand.' },
  1525: { http: 401, message: 'Cannot regenerate token, please authenticate again.' },
  1526: { http: 401, message: 'Unable to validate password.' },
  1527: { http: 400, message: 'Old password and new password cannot be same.' },
  1528: { http: 401, message: 'Invalid password, please try with the correct password.' },
  1529: { http: 401, message: 'Token has expired.' },
  1530: { http: 429, message: 'Reached the maximum allowed password retry attempts, please reset your password.' },
  1531: { http: 500, message: 'Unable to expire token.' },
  1532: { http: 500, message: 'Unable to reset password.' },
  1534: { http: 429, message: 'Reached the maximum number of OTPs allowed per customer.' },
  1535: { http: 400, message: 'Maximum OTP count per customer cannot be 0 (it has to be >= 1).' },
  1537: { http: 400, message: 'OTP is not generated for the provided details. Please generate OTP and try again.' },
  1540: { http: 400, message: 'Either mobile or email is required to send OTP.' },
  1541: { http: 403, message: 'Identifier used to generate session does not match with the identifier used to generate or validate OTP.' },
  1542: { http: 400, message: 'Password does not meet the requirements.' },
  1543: { http: 409, message: 'Username already exists.' },
  1544: { http: 423, message: 'Account is temporarily locked. Try again later.' },
  1546: { http: 400, message: 'Invalid identifierType passed.' },
  1547: { http: 429, message: 'Too many requests. Try again later.' },
  1548: { http: 401, message: 'Unauthorized.' },
  1597: { http: 401, message: 'Key expired or not valid.' },
  1599: { http: 503, message: 'Service temporarily unavailable.' },
  1601: { http: 400, message: 'Fallback channel requires identifier mobile.' },
  1602: { http: 400, message: 'Fallback channel requires identifier email.' },
  1603: { http: 400, message: 'Channel not configured properly.' },
  5004: { http: 400, message: 'Response tampered.' },
} as const satisfies Record<number, { http: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * The one domain error. Flows throw it; the HTTP layer turns it into the envelope.
 * `retryAfterSeconds` becomes a Retry-After header; `detail` is a safe, secret-free hint
 * shown only by the admin API (the customer envelope stays exactly as the contract says).
 */
export class AuthError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterSeconds: number | undefined;
  readonly detail: string | undefined;
  constructor(code: ErrorCode, opts: { retryAfterSeconds?: number; detail?: string; cause?: unknown } = {}) {
    super(ERRORS[code].message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AuthError';
    this.code = code;
    this.retryAfterSeconds = opts.retryAfterSeconds;
    this.detail = opts.detail;
  }
  get httpStatus(): number {
    return ERRORS[this.code].http;
  }
}

export const fail = (code: ErrorCode, opts?: { retryAfterSeconds?: number; detail?: string }): never => {
  throw new AuthError(code, opts);
};

/** A storage adapter throws this when its backing store cannot be reached (maps to 1599). */
export class StoreUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('store unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}
