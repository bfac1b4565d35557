// Embedded adapter for atomic credential changes: the other auth.db adapters' synchronous
// steps run inside one SQLite transaction, so a change is applied whole or not at all.
import type { CredentialChange, CredentialStore } from '../../ports/durable-store.ts';
import { write, type Db } from './open.ts';
import type { SqliteDurableStore } from './sqlite-durable-store.ts';
import type { SqliteLimitStore } from './sqlite-limit-store.ts';
import type { SqliteRevocationStore } from './sqlite-revocation-store.ts';

export class SqliteCredentialStore implements CredentialStore {
  constructor(
    private readonly db: Db,
    private readonly durable: SqliteDurableStore,
    private readonly revocations: SqliteRevocationStore,
    private readonly limits: SqliteLimitStore,
  ) {}

  applyCredentialChange(c: CredentialChange) {
    return write(this.db, () =>
      this.db.transaction(() => {
        if (c.passwordHash !== undefined) this.durable.setPasswordSync(c.brand, c.uid, c.passwordHash);
        if (c.revokeKeys) this.durable.revokeKeysSync(c.brand, c.uid, c.revokeKeys, c.now);
        if (c.revokeJti) this.revocations.revokeJtiSync(c.revokeJti.jti, c.brand, c.revokeJti.expiresAt);
        if (c.mark) this.revocations.addUserMarkSync(c.brand, c.uid, c.mark);
        if (c.clearFailures) this.limits.clearFailuresSync(c.clearFailures);
        if (c.audit) this.revocations.appendAuditSync(c.audit);
      })(),
    );
  }
}
