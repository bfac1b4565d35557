-- 001: the durable data model (same as src/storage/sqlite/durable-migrations.ts, 1 and 2).
-- Forward-only: never edit an applied file; add 002_….sql instead.
-- Times are epoch milliseconds (BIGINT); user_marks.not_before is microseconds.

-- config is the JSON text, as in SQLite: an exact round trip (jsonb would refuse a "\u0000"
-- escape that JSON.stringify may legitimately produce).
CREATE TABLE brands (
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE users (
  uid BIGSERIAL PRIMARY KEY,
  brand TEXT NOT NULL,
  password_hash TEXT,
  created_at BIGINT NOT NULL
);

-- The primary key is what makes two racing sign-ups of one identifier safe.
CREATE TABLE identifiers (
  brand TEXT NOT NULL,
  type TEXT NOT NULL,
  value TEXT NOT NULL,
  uid BIGINT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
  verified BOOLEAN NOT NULL,
  -- Position in the user's identifier list (SQLite keeps it as rowid order).
  ord SMALLINT NOT NULL,
  PRIMARY KEY (brand, type, value)
);
CREATE INDEX identifiers_uid ON identifiers(uid);

CREATE TABLE keys (
  jti TEXT PRIMARY KEY,
  brand TEXT NOT NULL,
  uid BIGINT NOT NULL REFERENCES users(uid) ON DELETE CASCADE,
  device_id TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  revoked_at BIGINT,
  retired_at BIGINT,
  successor_sealed TEXT
);
CREATE INDEX keys_user_device ON keys(uid, device_id);

CREATE TABLE outbox (
  id BIGSERIAL PRIMARY KEY,
  brand TEXT NOT NULL,
  identifier TEXT NOT NULL,
  channel TEXT NOT NULL,
  dest TEXT NOT NULL,
  text TEXT NOT NULL,
  otp TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX outbox_identifier ON outbox(identifier, id);
CREATE INDEX outbox_dest ON outbox(dest, id);

CREATE TABLE revoked_tokens (
  jti TEXT PRIMARY KEY,
  brand TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);

CREATE TABLE user_marks (
  brand TEXT NOT NULL,
  uid BIGINT NOT NULL,
  not_before BIGINT NOT NULL,
  except_device TEXT,
  except_jti TEXT,
  PRIMARY KEY (brand, uid)
);

CREATE TABLE limit_events (
  id BIGSERIAL PRIMARY KEY,
  key TEXT NOT NULL,
  at BIGINT NOT NULL,
  reservation TEXT NOT NULL
);
CREATE INDEX limit_events_key ON limit_events(key, at);
CREATE INDEX limit_events_reservation ON limit_events(reservation);

CREATE TABLE failures (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  last_at BIGINT NOT NULL,
  locked_until BIGINT
);

CREATE TABLE audit (
  id BIGSERIAL PRIMARY KEY,
  brand TEXT NOT NULL,
  type TEXT NOT NULL,
  identifier TEXT,
  device_id TEXT,
  ip TEXT,
  at BIGINT NOT NULL,
  detail JSONB NOT NULL
);
CREATE INDEX audit_brand ON audit(brand, id);
