// Runs the CredentialStore contract against the embedded SQLite adapters (one auth.db).
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openAuthDb, SqliteDurableStore } from '../../src/storage/sqlite/sqlite-durable-store.ts';
import { SqliteLimitStore } from '../../src/storage/sqlite/sqlite-limit-store.ts';
import { SqliteRevocationStore } from '../../src/storage/sqlite/sqlite-revocation-store.ts';
import { SqliteCredentialStore } from '../../src/storage/sqlite/sqlite-credential-store.ts';
import { credentialStoreContract, type CredentialStores } from './credential-store.contract.ts';
import { tempRoot, type MakeStore } from '../helpers/store-contract.ts';

const root = tempRoot('ae-contract-credentials-');

const make: MakeStore<CredentialStores> = async () => {
  const dir = mkdtempSync(join(root, 'store-'));
  const db = openAuthDb(join(dir, 'auth.db'));
  const durable = new SqliteDurableStore(db);
  const revocations = new SqliteRevocationStore(db);
  const limits = new SqliteLimitStore(db);
  return {
    store: { credentials: new SqliteCredentialStore(db, durable, revocations, limits), users: durable, keys: durable, revocations, audit: revocations, limits },
    cleanup: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

credentialStoreContract('SqliteCredentialStore', make);
