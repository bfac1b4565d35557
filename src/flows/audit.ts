// Audit events (spec §8): who, where, when and what happened — never a secret. The detail
// carries codes and reasons only.
import { identifierKey, type Identifier } from '../domain/types.ts';
import type { AuditEvent } from '../ports/durable-store.ts';
import type { FlowDeps, RequestContext } from './deps.ts';

export type AuditType =
  | 'login_success'
  | 'login_failure'
  | 'otp_sent'
  | 'otp_send_failed'
  | 'otp_send_refused'
  | 'test_otp_used'
  | 'login_refused'
  | 'lock'
  | 'unlock'
  | 'password_reset'
  | 'password_change'
  | 'logout'
  | 'key_reuse_detected'
  | 'user_deleted';

/** The event for this request (to append now, or to commit with a credential change). */
export function auditEvent(deps: FlowDeps, ctx: RequestContext, type: AuditType, detail: Record<string, unknown> = {}, identifier: Identifier = ctx.identifier): AuditEvent {
  return { type, brand: ctx.brand.name, identifier: identifierKey(identifier), deviceId: ctx.deviceId, ip: ctx.ip, at: deps.clock.now(), detail };
}

export function audit(deps: FlowDeps, ctx: RequestContext, type: AuditType, detail: Record<string, unknown> = {}, identifier: Identifier = ctx.identifier): Promise<void> {
  return deps.audit.appendAudit(auditEvent(deps, ctx, type, detail, identifier));
}
