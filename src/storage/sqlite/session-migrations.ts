// Forward-only migrations of the short-lived database (sessions.db). Append, never edit.
export const SESSION_MIGRATIONS: string[] = [
  `
  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    otp_hash TEXT,
    otp_expires_at INTEGER,
    otp_sent_at INTEGER,
    otp_failures INTEGER NOT NULL DEFAULT 0,
    consumed INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX sessions_expiry ON sessions(expires_at);
  `,
];

// 2: a password held for reset (password/forget) after the session was created.
SESSION_MIGRATIONS.push(`ALTER TABLE sessions ADD COLUMN pending_password TEXT;`);
// 3: where the current OTP went when a fallback channel sent it elsewhere (JSON identifier).
SESSION_MIGRATIONS.push(`ALTER TABLE sessions ADD COLUMN otp_to TEXT;`);
