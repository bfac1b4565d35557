// Per-client-address limits. `ipRateLimit.requestsPerMinute` (spec §2) counts every request a
// brand's customer endpoints receive from one client address, checked right after the brand is
// known (request-context.ts: after 1519 → 1546 → 1504 → identifierType enabled 1546, before
// everything else), so requests that fail later checks count too. Full → 1547 with Retry-After.
//
// The address is what the HTTP layer decided (`req.ip`): the socket peer, or the
// X-Forwarded-For entry of a trusted proxy when AUTH_TRUST_PROXY says so. A request without a
// known address counts under one shared "unknown" address: limited, never exempt.
import { isIPv6 } from 'node:net';
import { fail } from '../domain/errors.ts';
import type { FlowDeps, RequestContext } from './deps.ts';

const MINUTE_MS = 60_000;
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * The subject of a per-IP counter. An IPv4-mapped IPv6 address is its IPv4 address; any other
 * IPv6 address counts as its /64 network: one subscriber normally holds a whole /64, so
 * per-address counting would let a client rotate addresses and never be limited.
 */
export function clientKey(ip: string | null): string {
  if (ip === null || ip === '') return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip.split('%')[0])) return ip;
  return `${expandIPv6(ip.split('%')[0]).slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, without leading zeros (an embedded IPv4 tail becomes two groups). */
function expandIPv6(ip: string): string[] {
  let text = ip.toLowerCase();
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16).toString(16));
}

/** spec §2 ipRateLimit: one request per call is counted; 1547 with Retry-After once the minute is full. */
export async function enforceIpRateLimit(deps: Pick<FlowDeps, 'clock' | 'limits'>, ctx: RequestContext): Promise<void> {
  const limit = ctx.brand.config.ipRateLimit;
  if (limit === null) return;
  const r = await deps.limits.reserve([{ key: `ip-rate:${ctx.brand.name}:${clientKey(ctx.ip)}`, windowMs: MINUTE_MS, max: limit.requestsPerMinute }], deps.clock.now());
  if (!r.ok) fail(1547, { retryAfterSeconds: seconds(r.retryAfterMs) });
}
