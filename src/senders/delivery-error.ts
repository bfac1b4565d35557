// What a provider throws when it could not deliver an OTP message (the flow answers 1503).
// The message is built only from safe parts (provider, attempt count, HTTP status, error
// code): never from the message text, never from a library's own error message, which may
// quote what was sent or what a remote server echoed back.
import type { ProviderName } from '../domain/types.ts';

export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    readonly provider: ProviderName,
    /** Short machine-readable reason: `http_500`, `timeout`, `ECONNREFUSED`, `smtp_550`, `not_configured`… */
    readonly reason: string,
    readonly attempts: number,
  ) {
    super(`${provider} delivery failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`);
  }
}

/**
 * A destination as it may appear in a log line: a phone number or address is personal data,
 * so only enough to tell two apart while debugging (`***67`, `a***@example.com`).
 */
export function maskDestination(to: string): string {
  const at = to.lastIndexOf('@');
  if (at > 0) return `${to[0]}***${to.slice(at)}`;
  return `***${to.slice(-2)}`;
}

/** A short, safe token from an unknown error's `code` (e.g. ECONNREFUSED); never its message. */
export function errorCode(err: unknown, fallback: string): string {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
  }
  return fallback;
}
