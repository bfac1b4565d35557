// Spec §3.10 token/introspect, for API gateways: is this token (or key) live right now?
// Checks signature, expiry and revocation; answers only active/inactive, never why.
import type { FlowDeps } from './deps.ts';
import { isRevoked } from './token-checks.ts';

export type Introspection = { active: false } | { active: true; claims: Record<string, unknown> };

const INACTIVE: Introspection = { active: false };

export async function introspect(deps: FlowDeps, token: string): Promise<Introspection> {
  const now = deps.clock.now();
  const v = await deps.tokens.verify(token, { now });
  if (!v) return INACTIVE;
  if (v.claims.rol === 'AUTH') {
    // A key is live while its row is: not revoked, not retired by rotation, not expired.
    const row = await deps.keys.findKeyByHash(deps.secrets.keyHash(token));
    if (!row || row.revokedAt !== null || row.retiredAt !== null || (row.expiresAt !== null && now >= row.expiresAt)) return INACTIVE;
  } else if (await isRevoked(deps, v.header.org, v)) {
    return INACTIVE;
  }
  const { idv, dev, org, kid } = v.header;
  return { active: true, claims: { ...v.claims, idv, dev, org, kid } };
}
