// Turns a schema-valid customer body into the flows' RequestContext, applying the first
// checks of spec §1.3 in order: body shape (1519) → identifierType (1546) → brand (1504) →
// identifierType enabled for the brand (1546) → then the brand's per-IP request limit
// (`ipRateLimit`, 1547; flows/ip-limit.ts): the first point where the brand is known, so every
// later refusal of every customer endpoint still counts as a request.
import { fail } from '../domain/errors.ts';
import { normaliseIdentifier, parseIdentifierType } from '../domain/identifier.ts';
import type { Variant } from '../domain/types.ts';
import type { BrandStore } from '../ports/durable-store.ts';
import type { FlowDeps, RequestContext } from '../flows/deps.ts';
import { loadBrand } from '../flows/brands.ts';
import { enforceIpRateLimit } from '../flows/ip-limit.ts';

export interface CustomerBody {
  identifierType?: string;
  identifierValue?: string;
  mobile?: string;
  email?: string;
  brand: string;
  deviceId?: string | number;
}

export interface ParsedRequest {
  ctx: RequestContext;
  /** identifierValue exactly as sent (legacy shape: `mobile`), for the §7 payload hash. */
  rawIdentifierValue: string;
  /** USERNAME requests only: normalised sign-up destinations. */
  signupMobile?: string;
  signupEmail?: string;
}

/** What parsing needs: the brands, and the limit store and clock of the per-IP request limit. */
export type RequestDeps = Pick<FlowDeps, 'limits' | 'clock'> & { brands: BrandStore };

export async function parseRequest(body: CustomerBody, variant: Variant, deps: RequestDeps, ip: string | null = null): Promise<ParsedRequest> {
  let rawType = body.identifierType;
  let rawValue = body.identifierValue;
  // Legacy shape: `mobile` alone means a MOBILE identifier; explicit fields win when both are sent.
  if (rawType === undefined && rawValue === undefined && body.mobile !== undefined) {
    rawType = 'MOBILE';
    rawValue = body.mobile;
  }
  if (rawType === undefined || rawValue === undefined) return fail(1519);
  const type = parseIdentifierType(rawType);
  // A value error is a shape error, so it is checked before the type is judged; a value of
  // an unknown type cannot be judged at all.
  const value = type ? normaliseIdentifier(type, rawValue) : '';
  let signupMobile: string | undefined;
  let signupEmail: string | undefined;
  if (type === 'USERNAME') {
    if (body.mobile !== undefined) signupMobile = normaliseIdentifier('MOBILE', body.mobile);
    if (body.email !== undefined) signupEmail = normaliseIdentifier('EMAIL', body.email);
  }
  let deviceId: string | null = null;
  if (variant === 'mobile') {
    // Lenient: a numeric deviceId is the same device as its decimal string.
    deviceId = typeof body.deviceId === 'number' ? String(body.deviceId) : (body.deviceId ?? null);
    // Control characters (NUL included) are a shape error: they have no place in a device id,
    // and PostgreSQL text cannot even store NUL.
    if (deviceId === null || deviceId.trim() === '' || deviceId === 'NaN' || /[\u0000-\u001f\u007f]/.test(deviceId)) return fail(1519);
  }
  if (!type) return fail(1546);
  const brand = await loadBrand(deps.brands, body.brand);
  if (!brand.config.identifierTypes.includes(type)) return fail(1546);
  const ctx: RequestContext = { brand, variant, identifier: { type, value }, deviceId, ip };
  await enforceIpRateLimit(deps, ctx);
  return { ctx, rawIdentifierValue: rawValue, signupMobile, signupEmail };
}

/** `otp` may be a JSON number; a number loses leading zeros, so pad it back to the code length. */
export function otpText(otp: string | number, length: number): string {
  if (typeof otp === 'string') return otp.trim();
  if (!Number.isSafeInteger(otp) || otp < 0) return '';
  return String(otp).padStart(length, '0');
}
