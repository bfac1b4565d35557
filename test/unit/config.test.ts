import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import { loadOrCreateDevSecrets } from '../../src/config/secrets.ts';

const ADMIN = 'admin-token-0123456789-abcdefghijklmnop';
const SIGNING = 'signing-secret-0123456789-abcdefghijklm';
const OTP = 'otp-secret-0123456789-abcdefghijklmnopqr';
const goodSecrets = { AUTH_ADMIN_TOKEN: ADMIN, AUTH_SIGNING_SECRET: SIGNING, AUTH_OTP_SECRET: OTP };

/** Runs `fn` with a fresh temporary data directory, removed afterwards. */
const withDir = (fn: (dir: string) => void): void => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ae-cfg-'));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
};

/** Asserts that `fn` throws a ConfigError and returns it. */
const configError = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
};

const problemFor = (err: ConfigError, name: string): string | undefined => err.problems.find((p) => p.startsWith(`${name}:`));

test('defaults (development, secrets from env: nothing generated, disk untouched)', () => {
  const c = loadConfig({ ...goodSecrets });
  assert.equal(c.nodeEnv, 'development');
  assert.equal(c.port, 8080);
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.dataDir, path.resolve('./data'));
  assert.ok(path.isAbsolute(c.dataDir));
  assert.equal(c.issuer, 'AUTH ENGINE');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.adminToken, ADMIN);
  assert.equal(c.signingSecret, SIGNING);
  assert.equal(c.otpSecret, OTP);
  assert.deepEqual(c.generatedSecrets, []);
  assert.ok(Object.isFrozen(c));
  assert.ok(Object.isFrozen(c.generatedSecrets));
});

test('NODE_ENV mapping and production host default', () => {
  assert.equal(loadConfig({ ...goodSecrets, NODE_ENV: 'test' }).nodeEnv, 'test');
  assert.equal(loadConfig({ ...goodSecrets, NODE_ENV: 'staging' }).nodeEnv, 'development');
  assert.equal(loadConfig({ ...goodSecrets, NODE_ENV: '' }).nodeEnv, 'development');
  const prod = loadConfig({ ...goodSecrets, NODE_ENV: 'production' });
  assert.equal(prod.nodeEnv, 'production');
  assert.equal(prod.host, '0.0.0.0');
});

test('valid explicit values are used', () => {
  withDir((dir) => {
    const c = loadConfig({
      ...goodSecrets,
      PORT: '0',
      HOST: '::1',
      DATA_DIR: dir,
      AUTH_ISSUER: 'Acme',
      LOG_LEVEL: 'silent',
    });
    assert.equal(c.port, 0);
    assert.equal(c.host, '::1');
    assert.equal(c.dataDir, dir);
    assert.equal(c.issuer, 'Acme');
    assert.equal(c.logLevel, 'silent');
    assert.equal(loadConfig({ ...goodSecrets, PORT: '65535' }).port, 65535);
    assert.equal(loadConfig({ ...goodSecrets, AUTH_ISSUER: 'x'.repeat(200) }).issuer.length, 200);
  });
});

test('relative DATA_DIR is resolved to an absolute path', () => {
  const c = loadConfig({ ...goodSecrets, DATA_DIR: 'some/rel' });
  assert.equal(c.dataDir, path.resolve('some/rel'));
});

for (const bad of ['abc', '65536', '-1', '80.5', '1e3', ' 80', '0x50']) {
  test(`PORT=${JSON.stringify(bad)} is a problem naming PORT`, () => {
    const err = configError(() => loadConfig({ ...goodSecrets, PORT: bad }));
    assert.deepEqual(err.problems.length, 1);
    assert.equal(err.problems[0], `PORT: must be an integer between 0 and 65535 (got ${JSON.stringify(bad)})`);
    assert.match(err.message, /PORT: /);
  });
}

test('LOG_LEVEL bad value is a problem naming LOG_LEVEL', () => {
  const err = configError(() => loadConfig({ ...goodSecrets, LOG_LEVEL: 'verbose' }));
  assert.equal(err.problems.length, 1);
  assert.match(problemFor(err, 'LOG_LEVEL') ?? '', /must be one of .*"verbose"/);
});

test('AUTH_ISSUER longer than 200 characters is a problem naming AUTH_ISSUER', () => {
  const err = configError(() => loadConfig({ ...goodSecrets, AUTH_ISSUER: 'x'.repeat(201) }));
  assert.equal(err.problems.length, 1);
  assert.ok(problemFor(err, 'AUTH_ISSUER'));
});

test('HOST with spaces is a problem naming HOST', () => {
  const err = configError(() => loadConfig({ ...goodSecrets, HOST: 'local host' }));
  assert.equal(err.problems.length, 1);
  assert.ok(problemFor(err, 'HOST'));
});

test('several bad values are all listed in one error', () => {
  const err = configError(() =>
    loadConfig({ ...goodSecrets, PORT: 'abc', LOG_LEVEL: 'loud', HOST: 'a b', AUTH_ISSUER: 'y'.repeat(300) }),
  );
  assert.equal(err.problems.length, 4);
  for (const name of ['PORT', 'LOG_LEVEL', 'HOST', 'AUTH_ISSUER']) {
    assert.ok(problemFor(err, name), `missing problem for ${name}`);
    assert.ok(err.message.includes(`${name}:`), `message lacks ${name}`);
  }
});

test('production without secrets refuses to start, naming each missing variable', () => {
  withDir((dir) => {
    const err = configError(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir, PORT: 'nope' }));
    for (const name of ['AUTH_ADMIN_TOKEN', 'AUTH_SIGNING_SECRET', 'AUTH_OTP_SECRET', 'PORT']) {
      assert.ok(problemFor(err, name), `missing problem for ${name}`);
      assert.ok(err.message.includes(name));
    }
    assert.equal(fs.existsSync(path.join(dir, 'secrets.json')), false);
  });
});

test('production with one short secret refuses to start and does not reveal any secret', () => {
  withDir((dir) => {
    const short = 'shortsecretvalue';
    const err = configError(() =>
      loadConfig({ NODE_ENV: 'production', DATA_DIR: dir, AUTH_ADMIN_TOKEN: ADMIN, AUTH_SIGNING_SECRET: short }),
    );
    assert.match(problemFor(err, 'AUTH_SIGNING_SECRET') ?? '', /at least 32 characters/);
    assert.ok(problemFor(err, 'AUTH_OTP_SECRET'));
    assert.equal(problemFor(err, 'AUTH_ADMIN_TOKEN'), undefined);
    for (const secret of [short, ADMIN]) assert.ok(!err.message.includes(secret), 'secret value leaked into message');
  });
});

test('production with good secrets works and writes no secrets.json', () => {
  withDir((dir) => {
    const c = loadConfig({ ...goodSecrets, NODE_ENV: 'production', DATA_DIR: dir });
    assert.equal(c.adminToken, ADMIN);
    assert.equal(c.signingSecret, SIGNING);
    assert.equal(c.otpSecret, OTP);
    assert.deepEqual(c.generatedSecrets, []);
    assert.equal(fs.existsSync(path.join(dir, 'secrets.json')), false);
  });
});

test('production ignores an existing secrets.json', () => {
  withDir((dir) => {
    loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }); // creates the file
    const err = configError(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir }));
    assert.equal(err.problems.length, 3);
  });
});

test('development generates secrets, persists them with mode 0600 and reuses them', () => {
  withDir((base) => {
    const dir = path.join(base, 'nested', 'data'); // does not exist yet
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    assert.deepEqual([...first.generatedSecrets].sort(), ['AUTH_ADMIN_TOKEN', 'AUTH_OTP_SECRET', 'AUTH_SIGNING_SECRET']);
    for (const v of [first.adminToken, first.signingSecret, first.otpSecret]) {
      assert.match(v, /^[A-Za-z0-9_-]{43}$/); // 32 bytes, base64url
    }
    assert.equal(new Set([first.adminToken, first.signingSecret, first.otpSecret]).size, 3);

    const file = path.join(dir, 'secrets.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), {
      AUTH_ADMIN_TOKEN: first.adminToken,
      AUTH_SIGNING_SECRET: first.signingSecret,
      AUTH_OTP_SECRET: first.otpSecret,
    });
    assert.deepEqual(fs.readdirSync(dir), ['secrets.json']); // no temp file left behind

    const second = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    assert.deepEqual(second.generatedSecrets, []);
    assert.equal(second.adminToken, first.adminToken);
    assert.equal(second.signingSecret, first.signingSecret);
    assert.equal(second.otpSecret, first.otpSecret);
  });
});

test('test environment persists too', () => {
  withDir((dir) => {
    const c = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir });
    assert.equal(c.generatedSecrets.length, 3);
    assert.ok(fs.existsSync(path.join(dir, 'secrets.json')));
  });
});

test('an environment value overrides the file and is never written to it', () => {
  withDir((dir) => {
    const first = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir });
    const file = path.join(dir, 'secrets.json');
    const before = fs.readFileSync(file, 'utf8');

    const c = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir, AUTH_SIGNING_SECRET: SIGNING });
    assert.equal(c.signingSecret, SIGNING);
    assert.equal(c.adminToken, first.adminToken);
    assert.deepEqual(c.generatedSecrets, []);
    assert.equal(fs.readFileSync(file, 'utf8'), before);
  });
});

test('an environment secret is not written when others are generated', () => {
  withDir((dir) => {
    const c = loadConfig({ NODE_ENV: 'development', DATA_DIR: dir, AUTH_OTP_SECRET: OTP });
    assert.deepEqual([...c.generatedSecrets].sort(), ['AUTH_ADMIN_TOKEN', 'AUTH_SIGNING_SECRET']);
    assert.equal(c.otpSecret, OTP);
    const text = fs.readFileSync(path.join(dir, 'secrets.json'), 'utf8');
    assert.ok(!text.includes(OTP));
    assert.deepEqual(Object.keys(JSON.parse(text)).sort(), ['AUTH_ADMIN_TOKEN', 'AUTH_SIGNING_SECRET']);
  });
});

test('a short secret set in the environment is refused in development too, without touching disk', () => {
  withDir((dir) => {
    const short = 'tooshort';
    const err = configError(() => loadConfig({ NODE_ENV: 'development', DATA_DIR: dir, AUTH_ADMIN_TOKEN: short }));
    assert.equal(err.problems.length, 1);
    assert.match(problemFor(err, 'AUTH_ADMIN_TOKEN') ?? '', /at least 32 characters/);
    assert.ok(!err.message.includes(short));
    assert.equal(fs.existsSync(path.join(dir, 'secrets.json')), false);
  });
});

test('a corrupt secrets.json is an error and is not overwritten', () => {
  withDir((dir) => {
    const file = path.join(dir, 'secrets.json');
    const corrupt = '{"AUTH_ADMIN_TOKEN": "leaky-secret-value-0123456789abcdef", oops';
    fs.writeFileSync(file, corrupt, { mode: 0o600 });
    const err = configError(() => loadConfig({ NODE_ENV: 'development', DATA_DIR: dir }));
    assert.match(err.message, /secrets\.json/);
    assert.match(err.message, /not valid JSON/);
    assert.ok(!err.message.includes('leaky-secret-value'));
    assert.equal(fs.readFileSync(file, 'utf8'), corrupt);
  });
});

test('secrets.json with a non-object or a short entry is an error', () => {
  withDir((dir) => {
    const file = path.join(dir, 'secrets.json');
    fs.writeFileSync(file, '[]');
    assert.match(configError(() => loadOrCreateDevSecrets(dir, ['AUTH_OTP_SECRET'])).message, /JSON object/);
    fs.writeFileSync(file, JSON.stringify({ AUTH_OTP_SECRET: 'short-stored' }));
    const err = configError(() => loadOrCreateDevSecrets(dir, ['AUTH_OTP_SECRET']));
    assert.match(err.message, /AUTH_OTP_SECRET/);
    assert.ok(!err.message.includes('short-stored'));
  });
});

test('loadOrCreateDevSecrets keeps unrelated entries and reports only new names as generated', () => {
  withDir((dir) => {
    const a = loadOrCreateDevSecrets(dir, ['A_SECRET']);
    assert.deepEqual(a.generated, ['A_SECRET']);
    const b = loadOrCreateDevSecrets(dir, ['A_SECRET', 'B_SECRET']);
    assert.deepEqual(b.generated, ['B_SECRET']);
    assert.equal(b.values.A_SECRET, a.values.A_SECRET);
    const stored = JSON.parse(fs.readFileSync(path.join(dir, 'secrets.json'), 'utf8'));
    assert.deepEqual(stored, { A_SECRET: a.values.A_SECRET, B_SECRET: b.values.B_SECRET });
    assert.deepEqual(loadOrCreateDevSecrets(dir, []), { values: {}, generated: [] });
  });
});

test('AUTH_KEY_REUSE_GRACE_SECONDS: default 10, 0..300 accepted, anything else a problem naming it', () => {
  assert.equal(loadConfig({ ...goodSecrets }).keyReuseGraceSeconds, 10);
  assert.equal(loadConfig({ ...goodSecrets, AUTH_KEY_REUSE_GRACE_SECONDS: '0' }).keyReuseGraceSeconds, 0);
  assert.equal(loadConfig({ ...goodSecrets, AUTH_KEY_REUSE_GRACE_SECONDS: '300' }).keyReuseGraceSeconds, 300);
  for (const bad of ['301', '-1', '1.5', 'ten']) {
    const err = configError(() => loadConfig({ ...goodSecrets, AUTH_KEY_REUSE_GRACE_SECONDS: bad }));
    assert.match(problemFor(err, 'AUTH_KEY_REUSE_GRACE_SECONDS') ?? '', /between 0 and 300/);
  }
});

test('DATABASE_URL and REDIS_URL: both or neither, with the right schemes; REDIS_KEY_PREFIX validated', () => {
  const none = loadConfig({ ...goodSecrets });
  assert.equal(none.databaseUrl, null);
  assert.equal(none.redisUrl, null);
  assert.equal(none.redisKeyPrefix, 'ae:');
  const both = loadConfig({ ...goodSecrets, DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h:6379', REDIS_KEY_PREFIX: 'brand-x:' });
  assert.equal(both.databaseUrl, 'postgres://u@h/db');
  assert.equal(both.redisUrl, 'redis://h:6379');
  assert.equal(both.redisKeyPrefix, 'brand-x:');
  assert.match(problemFor(configError(() => loadConfig({ ...goodSecrets, DATABASE_URL: 'postgres://u@h/db' })), 'REDIS_URL') ?? '', /must be set too/);
  assert.match(problemFor(configError(() => loadConfig({ ...goodSecrets, REDIS_URL: 'redis://h' })), 'DATABASE_URL') ?? '', /must be set too/);
  assert.match(problemFor(configError(() => loadConfig({ ...goodSecrets, DATABASE_URL: 'mysql://h/db', REDIS_URL: 'redis://h' })), 'DATABASE_URL') ?? '', /postgres/);
  assert.match(problemFor(configError(() => loadConfig({ ...goodSecrets, DATABASE_URL: 'postgres://h/db', REDIS_URL: 'http://h' })), 'REDIS_URL') ?? '', /redis/);
  assert.ok(problemFor(configError(() => loadConfig({ ...goodSecrets, REDIS_KEY_PREFIX: 'has space' })), 'REDIS_KEY_PREFIX'));
});

test('AUTH_SQLITE_SYNC: FULL by default, NORMAL when asked, anything else refused', () => {
  assert.equal(loadConfig({ ...goodSecrets }).sqliteSync, 'FULL');
  assert.equal(loadConfig({ ...goodSecrets, AUTH_SQLITE_SYNC: 'NORMAL' }).sqliteSync, 'NORMAL');
  assert.throws(() => loadConfig({ ...goodSecrets, AUTH_SQLITE_SYNC: 'OFF' }), (e: ConfigError) => /AUTH_SQLITE_SYNC/.test(e.message));
});

test('AUTH_ARGON2_MEMORY_KIB / AUTH_ARGON2_TIME_COST: OWASP default; any row of OWASP\'s table or stronger; weaker refused', () => {
  assert.deepEqual(loadConfig({ ...goodSecrets }).argon2, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
  assert.deepEqual(loadConfig({ ...goodSecrets, AUTH_ARGON2_MEMORY_KIB: '7168', AUTH_ARGON2_TIME_COST: '5' }).argon2, { memoryCost: 7168, timeCost: 5, parallelism: 1 });
  assert.deepEqual(loadConfig({ ...goodSecrets, AUTH_ARGON2_MEMORY_KIB: '65536', AUTH_ARGON2_TIME_COST: '1' }).argon2, { memoryCost: 65536, timeCost: 1, parallelism: 1 });
  assert.deepEqual(loadConfig({ ...goodSecrets, AUTH_ARGON2_TIME_COST: '3' }).argon2, { memoryCost: 19456, timeCost: 3, parallelism: 1 });
  const weak = (m: string, t: string) => problemFor(configError(() => loadConfig({ ...goodSecrets, AUTH_ARGON2_MEMORY_KIB: m, AUTH_ARGON2_TIME_COST: t })), 'AUTH_ARGON2_MEMORY_KIB / AUTH_ARGON2_TIME_COST');
  assert.match(weak('19455', '2') ?? '', /weaker than every OWASP configuration/);
  assert.match(weak('12288', '2') ?? '', /weaker/);
  assert.match(weak('7000', '20') ?? '', /weaker/);
  assert.ok(problemFor(configError(() => loadConfig({ ...goodSecrets, AUTH_ARGON2_MEMORY_KIB: '99999999' })), 'AUTH_ARGON2_MEMORY_KIB'), 'beyond what verify accepts');
  assert.ok(problemFor(configError(() => loadConfig({ ...goodSecrets, AUTH_ARGON2_TIME_COST: '2.5' })), 'AUTH_ARGON2_TIME_COST'));
});
