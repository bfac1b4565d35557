// The logger's redaction (src/deps.ts REDACT_PATHS): a secret field logged at the top level or
// one level down is censored, whatever its name among the secret fields. The end-to-end check
// that no flow logs a secret is test/http/log-leak.test.ts; this pins the safety net itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, REDACT_PATHS } from '../../src/deps.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger('trace', stream) };
}

const SECRET_FIELDS = [...new Set(REDACT_PATHS.filter((p) => !p.includes('.')))];

test('every secret field is censored at the top level and one level down', async () => {
  const { lines, logger } = capture();
  const values = new Map<string, string>();
  for (const field of SECRET_FIELDS) {
    const top = `top-${field}-4f1b9c2e7a`;
    const nested = `nested-${field}-8d3e6a1f0b`;
    values.set(top, field);
    values.set(nested, field);
    logger.info({ [field]: top, body: { [field]: nested } }, `logging ${field}`);
  }
  logger.info({ req: { headers: { authorization: 'Bearer admin-secret-token-77' } } }, 'a request');
  logger.info({ headers: { authorization: 'Bearer admin-secret-token-78' } }, 'headers');
  await new Promise((r) => setImmediate(r));
  assert.equal(lines.length, SECRET_FIELDS.length + 2);
  const all = lines.join('');
  for (const [value, field] of values) assert.ok(!all.includes(value), `${field} reached the log`);
  assert.ok(!all.includes('admin-secret-token'), 'an authorization header reached the log');
  // The field is kept, censored, so a reader sees that something was there.
  const first = JSON.parse(lines[0]);
  assert.equal(first[SECRET_FIELDS[0]], '[redacted]');
  assert.equal(first.body[SECRET_FIELDS[0]], '[redacted]');
});

test('the secret fields cover every secret the API accepts or stores', () => {
  for (const f of ['password', 'confirmPassword', 'newPassword', 'otp', 'key', 'token', 'expiredToken', 'hash', 'privateKeyPem', 'text', 'passwordHash', 'secret']) {
    assert.ok(SECRET_FIELDS.includes(f), `${f} is not redacted`);
  }
});
