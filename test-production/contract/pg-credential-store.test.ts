// Runs the CredentialStore contract (test/contract/credential-store.contract.ts, unchanged)
// against the PostgreSQL adapters: one transaction across users, keys, marks, revoked tokens,
// failure counters and the audit log.
import { after, before } from 'node:test';
import { PgCredentialStore } from '../../src/storage/postgres/pg-credential-store.ts';
import { PgDurableStore } from '../../src/storage/postgres/pg-durable-store.ts';
import { PgLimitStore } from '../../src/storage/postgres/pg-limit-store.ts';
import { PgRevocationStore } from '../../src/storage/postgres/pg-revocation-store.ts';
import { credentialStoreContract } from '../../test/contract/credential-store.contract.ts';
import { createTestDatabase, makeOnDatabase, type TestDatabase } from '../helpers/pg.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db?.drop();
});

credentialStoreContract(
  'PgCredentialStore',
  makeOnDatabase(
    () => db,
    (pool) => {
      const durable = new PgDurableStore(pool);
      const revocations = new PgRevocationStore(pool);
      return { credentials: new PgCredentialStore(pool), users: durable, keys: durable, revocations, audit: revocations, limits: new PgLimitStore(pool) };
    },
  ),
);
