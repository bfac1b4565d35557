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

// 2: key rotation, token revocation, limit counters and the audit log (issue 3).
DURABLE_MIGRATIONS.push(`
  ALTER TABLE keys ADD COLUMN retired_at INTEGER;
  ALTER TABLE keys ADD COLUMN successor_sealed TEXT;
  CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    brand TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);
  CREATE TABLE user_marks (
    brand TEXT NOT NULL,
    uid INTEGER NOT NULL,
    not_before INTEGER NOT NULL,
    except_device TEXT,
    except_jti TEXT,
    PRIMARY KEY (brand, uid)
  );
  CREATE TABLE limit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at INTEGER NOT NULL,
    reservation TEXT NOT NULL
  );
  CREATE INDEX limit_events_key ON limit_events(key, at);
  CREATE INDEX limit_events_reservation ON limit_events(reservation);
  CREATE TABLE failures (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    locked_until INTEGER
  );
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    brand TEXT NOT NULL,
    type TEXT NOT NULL,
    identifier TEXT,
    device_id TEXT,
    ip TEXT,
    at INTEGER NOT NULL,
    detail TEXT NOT NULL
  );
  CREATE INDEX audit_brand ON audit(brand, id);
`);

// 3: revocation marks become a history (a later mark must never bring back what an earlier one
// revoked) and can be limited to one device.
DURABLE_MIGRATIONS.push(`
  CREATE TABLE user_marks_v3 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    brand TEXT NOT NULL,
    uid INTEGER NOT NULL,
    not_before INTEGER NOT NULL,
    except_device TEXT,
    except_jti TEXT,
    only_device TEXT
  );
  INSERT INTO user_marks_v3 (brand, uid, not_before, except_device, except_jti)
    SELECT brand, uid, not_before, except_device, except_jti FROM user_marks;
  DROP TABLE user_marks;
  ALTER TABLE user_marks_v3 RENAME TO user_marks;
  CREATE INDEX user_marks_user ON user_marks(brand, uid);
`);
