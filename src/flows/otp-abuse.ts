// OTP-send abuse controls (SMS pumping / toll fraud), brand `otpAbuse`, each off when null/empty:
//   allowedCountryCodes  a MOBILE destination must start with one of these calling codes
//   perIpPerHour         sends per brand and client address per rolling hour        → 1547
//   perPrefixPerHour     sends per brand and MOBILE number prefix per rolling hour   → 1534
//   brandDailyBudget     sends per brand per rolling 24 h                            → 1534
// "Destination" is where the code goes: the identifier itself, or a USERNAME user's mobile /
// email. Prefix and country rules look only at MOBILE destinations (email costs nothing).
//
// The window limits are not reserved here: send-otp.ts reserves them together with the
// per-identifier limits in ONE all-or-nothing reservation. The reservation result only says
// "full, retry in N ms", so when it is refused `explainRefusal` finds which limit is full (to
// answer 1547 or 1534 and to audit the reason) by trying each alone, in the order below, and
// giving back at once any that had room. A try can hold a slot for a moment, which can only
// make a concurrent request be refused, never let one through.
import { identifierKey, type BrandConfig, type Identifier } from '../domain/types.ts';
import type { WindowLimit } from '../ports/limit-store.ts';
import type { FlowDeps } from './deps.ts';
import { clientKey } from './ip-limit.ts';

const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

export type RefusalReason =
  | 'country_not_allowed'
  | 'ip_hourly_limit'
  | 'prefix_hourly_limit'
  | 'brand_daily_budget'
  | 'identifier_window_limit'
  | 'identifier_daily_limit';

/** A send-counting window with what its refusal answers. */
export interface SendLimit extends WindowLimit {
  code: 1534 | 1547;
  reason: RefusalReason;
}

/**
 * Why sending to `to` is not allowed at all (a MOBILE number outside the brand's allowed
 * country codes), or null. Static: no counter is read or written.
 */
export function countryRefusal(config: Readonly<BrandConfig>, to: Identifier): RefusalReason | null {
  const codes = config.otpAbuse.allowedCountryCodes;
  if (to.type !== 'MOBILE' || codes.length === 0) return null;
  return codes.some((c) => to.value.startsWith(c)) ? null : 'country_not_allowed';
}

/**
 * Every window one OTP send counts toward, in the order a refusal is attributed: client
 * address (1547), number prefix, brand budget, then the identifier's own limits (1534).
 */
export function sendLimits(brand: string, config: Readonly<BrandConfig>, identifier: Identifier, to: Identifier, ip: string | null): SendLimit[] {
  const a = config.otpAbuse;
  const limits: SendLimit[] = [];
  if (a.perIpPerHour !== null) {
    limits.push({ key: `otp-ip:${brand}:${clientKey(ip)}`, windowMs: HOUR_MS, max: a.perIpPerHour, code: 1547, reason: 'ip_hourly_limit' });
  }
  if (a.perPrefixPerHour !== null && to.type === 'MOBILE') {
    limits.push({ key: `otp-prefix:${brand}:${to.value.slice(0, a.prefixLength)}`, windowMs: HOUR_MS, max: a.perPrefixPerHour, code: 1534, reason: 'prefix_hourly_limit' });
  }
  if (a.brandDailyBudget !== null) {
    limits.push({ key: `otp-budget:${brand}`, windowMs: DAY_MS, max: a.brandDailyBudget, code: 1534, reason: 'brand_daily_budget' });
  }
  // Per identifier (spec §2 otpMaxCount/otpTimeOut, otpDailyLimit), across sessions and devices.
  const key = `otp:${brand}:${identifierKey(identifier)}`;
  if (config.otpMaxCount !== null && config.otpTimeOut !== null) {
    limits.push({ key: `${key}:window`, windowMs: config.otpTimeOut * 60_000, max: config.otpMaxCount, code: 1534, reason: 'identifier_window_limit' });
  }
  if (config.otpDailyLimit !== null) {
    limits.push({ key: `${key}:day`, windowMs: DAY_MS, max: config.otpDailyLimit, code: 1534, reason: 'identifier_daily_limit' });
  }
  return limits;
}

/** After a refused reservation of `limits`: the first of them that is full (undefined if a slot freed up meanwhile). */
export async function explainRefusal(deps: Pick<FlowDeps, 'limits'>, limits: SendLimit[], now: number): Promise<SendLimit | undefined> {
  if (limits.length === 1) return limits[0];
  for (const l of limits) {
    const r = await deps.limits.reserve([{ key: l.key, windowMs: l.windowMs, max: l.max }], now);
    if (!r.ok) return l;
    await deps.limits.release(r.id);
  }
  return undefined;
}
