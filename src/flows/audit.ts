// Audit events (spec §8): who, where, when and what happened — never a secret. The detail
// carries codes and reasons only.
import { identifierKey, type Identifier } from '../domain/types.ts';
import type { FlowDeps, RequestContext } from './deps.ts';

export type AuditType =
  | 'login_success'
  | 'login_failure'
  | 'otp_sent'
  | 'otp_send_failed'
  | 'otp_send_refused'
  | 'lock'
  | 'unlock'
  | 'password_reset'
  | 'password_change'
  | 'logout'
  | 'key_reuse_detected'
  | 'user_deleted';

export function audit(deps: FlowDeps, ctx: RequestContext, type: AuditType, detail: Record<string, unknown> = {}, identifier: Identifier = ctx.identifier): Promise<void> {
  return deps.audit.appendAudit({
    type,
    brand: ctx.brand.name,
    identifier: identifierKey(identifier),
    deviceId: ctx.deviceId,
    ip: ctx.ip,
    at: deps.clock.now(),
    detail,
  });
}
