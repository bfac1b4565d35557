// The error codes of the Auth Engine wire contract (spec §9), written out literally: an app
// branches on them (`err.code === 1506`), so the union of codes is part of this package's API.

export const AUTH_ERRORS = {
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
} as const;

/** Every business code of spec §9. */
export type AuthErrorCode = keyof typeof AUTH_ERRORS;

/** The codes after which the stored session is gone and the user must log in again. */
export type LoginRequiredCode = 1525 | 1529 | 1597;
const LOGIN_REQUIRED: ReadonlySet<number> = new Set<LoginRequiredCode>([1525, 1529, 1597]);

export const isAuthErrorCode = (code: unknown): code is AuthErrorCode =>
  typeof code === 'number' && Object.prototype.hasOwnProperty.call(AUTH_ERRORS, code);

/** The server answered with a §9 failure (or the SDK knows the answer without asking, see README). */
export class AuthError extends Error {
  readonly code: AuthErrorCode;
  /** The HTTP status of the answer (the §9 status when the SDK raised the error itself). */
  readonly httpStatus: number;
  /** From `Retry-After` (1534, 1544, 1547), when the server sent it and the browser exposes it. */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: AuthErrorCode, opts: { message?: string; httpStatus?: number; retryAfterSeconds?: number } = {}) {
    super(opts.message ?? AUTH_ERRORS[code].message);
    this.name = 'AuthError';
    this.code = code;
    this.httpStatus = opts.httpStatus ?? AUTH_ERRORS[code].http;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
  /** True for 1525, 1529 and 1597: the session cannot be renewed, log in again. */
  get loginRequired(): boolean {
    return LOGIN_REQUIRED.has(this.code);
  }
}

export type NetworkErrorReason = 'network' | 'timeout' | 'bad-response';

/**
 * No contract answer: the request did not reach the server or timed out, or what came back is
 * not a spec envelope (a proxy's error page, a wrong baseUrl, an internal error). Retrying
 * later is the only thing an app can do about any of them.
 */
export class AuthNetworkError extends Error {
  readonly reason: NetworkErrorReason;
  /** The HTTP status, when a response arrived ('bad-response'). */
  readonly httpStatus: number | undefined;
  constructor(reason: NetworkErrorReason, message: string, opts: { httpStatus?: number; cause?: unknown } = {}) {
    super(message);
    this.name = 'AuthNetworkError';
    this.reason = reason;
    this.httpStatus = opts.httpStatus;
    // Assigned rather than passed to super(): the `cause` option is ES2022, this package targets ES2020.
    if (opts.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
}
