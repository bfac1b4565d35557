// PostgreSQL adapter for atomic credential changes: the statements of the other adapters, run
// in one transaction on one connection, so a change commits whole or not at all.
import type pg from 'pg';
import type { CredentialChange, CredentialStore } from '../../ports/durable-store.ts';
import { pgCall, withTransaction } from './pg-pool.ts';
import { durableQuery } from './pg-durable-store.ts';
import { limitQuery } from './pg-limit-store.ts';
import { revocationQuery } from './pg-revocation-store.ts';

export class PgCredentialStore implements CredentialStore {
  constructor(private readonly pool: pg.Pool) {}

  applyCredentialChange(c: CredentialChange) {
    return pgCall(() =>
      withTransaction(this.pool, async (db) => {
        if (c.passwordHash !== undefined) await db.query(durableQuery('updateUser', [c.uid, c.brand, c.passwordHash, [], []]));
        if (c.revokeKeys) {
          const { deviceId, exceptDeviceId } = c.revokeKeys;
          if (deviceId !== undefined) await db.query(durableQuery('revokeDevice', [c.now, c.brand, c.uid, deviceId]));
          else if (exceptDeviceId !== undefined) await db.query(durableQuery('revokeOthers', [c.now, c.brand, c.uid, exceptDeviceId]));
          else await db.query(durableQuery('revokeAll', [c.now, c.brand, c.uid]));
        }
        if (c.revokeJti) await db.query(revocationQuery('revoke', [c.revokeJti.jti, c.brand, c.revokeJti.expiresAt]));
        if (c.mark) {
          const m = c.mark;
          await db.query(revocationQuery('addMark', [c.brand, c.uid, m.notBefore, m.exceptDevice, m.exceptJti, m.onlyDevice]));
        }
        if (c.clearFailures?.length) await db.query(limitQuery('clearFailures', [c.clearFailures]));
        if (c.audit) {
          const e = c.audit;
          // The audit statement takes arrays (one element per event; see pg-revocation-store.ts).
          await db.query(revocationQuery('audit', [[e.brand], [e.type], [e.identifier], [e.deviceId], [e.ip], [e.at], [JSON.stringify(e.detail)]]));
        }
      }),
    );
  }
}
