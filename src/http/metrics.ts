// Prometheus metrics (spec §8, GET /metrics). One registry per app, never the global one, so
// several apps in one process (tests) do not share or clash on counters. Labels are route
// templates, methods, statuses, channels and codes only: never an identifier, OTP or token.
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuditEvent, AuditStore } from '../ports/durable-store.ts';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route' | 'method' | 'status'>;
  otpSent: Counter<'channel'>;
  otpSendFailures: Counter<'channel'>;
  logins: Counter<'method' | 'outcome'>;
  locks: Counter;
  rateLimitRefusals: Counter<'code'>;
  storageErrors: Counter;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({ name: 'http_requests_total', help: 'HTTP requests answered, by route template, method and status.', labelNames: ['route', 'method', 'status'], registers }),
    httpDuration: new Histogram({ name: 'http_request_duration_seconds', help: 'HTTP request latency in seconds, by route template, method and status.', labelNames: ['route', 'method', 'status'], registers }),
    otpSent: new Counter({ name: 'auth_otp_sent_total', help: 'OTPs delivered, by channel.', labelNames: ['channel'], registers }),
    otpSendFailures: new Counter({ name: 'auth_otp_send_failures_total', help: 'OTP deliveries the provider failed (1503), by channel.', labelNames: ['channel'], registers }),
    logins: new Counter({ name: 'auth_logins_total', help: 'Login attempts by method (otp|password) and outcome (success|failure).', labelNames: ['method', 'outcome'], registers }),
    locks: new Counter({ name: 'auth_locks_total', help: 'Accounts or identifiers locked after too many failures.', registers }),
    rateLimitRefusals: new Counter({ name: 'auth_rate_limit_refusals_total', help: 'Requests refused by a send or login limit, by error code.', labelNames: ['code'], registers }),
    storageErrors: new Counter({ name: 'auth_storage_errors_total', help: 'Requests answered 1599 because a store was unavailable.', registers }),
  };
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : 'unknown');

/** Counts one audit event into the auth counters (the flows audit every event we count). */
export function countAuditEvent(m: Metrics, e: AuditEvent): void {
  const d = e.detail ?? {};
  switch (e.type) {
    case 'otp_sent': m.otpSent.inc({ channel: str(d.channel) }); break;
    case 'otp_send_failed': m.otpSendFailures.inc({ channel: str(d.channel) }); break;
    // login_failure also records a wrong current password on password/change; that is not a login.
    case 'login_success':
    case 'login_failure':
      if (d.method === 'otp' || d.method === 'password') m.logins.inc({ method: d.method, outcome: e.type === 'login_success' ? 'success' : 'failure' });
      break;
    case 'lock': m.locks.inc(); break;
    case 'otp_send_refused':
    case 'login_refused': m.rateLimitRefusals.inc({ code: str(d.code) }); break;
    default: break;
  }
}

const ORIGINAL = Symbol('uncounted audit store');

/** An audit store that counts every appended event, then appends it to `store`. */
export function countingAudit(store: AuditStore, m: Metrics): AuditStore {
  // Building a second app on the same deps re-wraps the original store, never the wrapper.
  const base: AuditStore = (store as AuditStore & { [ORIGINAL]?: AuditStore })[ORIGINAL] ?? store;
  return {
    [ORIGINAL]: base,
    appendAudit(event) {
      countAuditEvent(m, event);
      return base.appendAudit(event);
    },
    listAudit: (filter) => base.listAudit(filter),
  } as AuditStore;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics (decorated in buildApp). */
    metrics: Metrics;
  }
}
