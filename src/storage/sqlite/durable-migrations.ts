// Forward-only migrations of the durable database (auth.db). Append, never edit.
export const DURABLE_MIGRATIONS: string[] = [
  `
  CREATE TABLE brands (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE users (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    brand TEXT NOT NULL,
    password_hash TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE identifiers (
    brand TEXT NOT NULL,
    type TEXT NOT NULL,
    value TEXT NOT NULL,
    uid INTEGER NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    verified INTEGER NOT NULL,
    PRIMARY KEY (brand, type, value)
  );
  CREATE INDEX identifiers_uid ON identifiers(uid);
  CREATE TABLE keys (
    jti TEXT PRIMARY KEY,
    brand TEXT NOT NULL,
    uid INTEGER NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
    device_id TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
  );
  CREATE INDEX keys_user_device ON keys(uid, device_id);
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    brand TEXT NOT NULL,
    identifier TEXT NOT NULL,
    channel TEXT NOT NULL,
    dest TEXT NOT NULL,
    text TEXT NOT NULL,
    otp TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX outbox_identifier ON outbox(identifier, id);
  CREATE INDEX outbox_dest ON outbox(dest, id);
  `,
];
