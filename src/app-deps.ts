// Everything the HTTP app needs: the flows' ports plus admin-side stores and settings.
import type { Logger } from 'pino';
import type { FlowDeps } from './flows/deps.ts';
import type { BrandStore, HealthCheck, OutboxStore } from './ports/durable-store.ts';

export interface AppDeps extends FlowDeps {
  brands: BrandStore;
  outbox: OutboxStore;
  health: HealthCheck[];
  adminToken: string;
  /** Optional second credential accepted by token/introspect (API gateways). */
  gatewayToken: string | null;
  logger: Logger;
  http: {
    /** Whether X-Forwarded-For is believed (AUTH_TRUST_PROXY); false by default. */
    trustProxy: boolean | number | string[];
    requestTimeoutMs: number;
    /** GET /demo (AUTH_DEMO); `development` adds where to read OTPs (the admin outbox) to the page. */
    demo: { enabled: boolean; development: boolean };
  };
}
