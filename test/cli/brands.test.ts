// The admin CLI's brand commands against a live server (a child process): list, show, create,
// update, delete, the errors the API answers (1504, 1519, 1548), and the private-key guard.
import { constants, generateKeyPairSync, publicEncrypt } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, assertNoToken, call, cleanup, cli, startServer, tempDir, type Server } from './live-server.ts';

let server: Server;
let dir: string;
before(async () => {
  server = await startServer();
  dir = tempDir('ae-cli-files-');
});
after(cleanup);

const file = (name: string, content: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return p;
};

const apiGet = async (brand: string) => call(server, 'GET', `/admin/v1/brands/${brand}`, undefined, ADMIN_TOKEN);

/** The API error line: code and message, exit 1, nothing on stdout. */
function expectApiError(r: { code: number; stdout: string; stderr: string }, code: number, message: string) {
  assert.equal(r.code, 1, `exit code; stderr: ${r.stderr}`);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`error ${code}: ${message.replace(/[.()]/g, '\\$&')}`), r.stderr);
}

test('brands create from a file, then show / list print what the server stored', async () => {
  const r = await cli(server, ['brands', 'create', 'DocDemo', '--file', file('docdemo.json', { otpLength: 7, passwordEnabled: true })]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const created = r.json();
  assert.equal(created.brand, 'DOCDEMO');
  assert.equal(created.config.otpLength, 7);
  assert.equal(created.config.passwordEnabled, true);
  assert.equal(created.config.maxOtpRetries, 5, 'completed from the defaults');
  assert.equal(created.status, undefined, 'the success status is not printed');

  const stored = await apiGet('DOCDEMO');
  assert.equal(stored.status, 200);
  const show = await cli(server, ['brands', 'show', 'docdemo']);
  assert.equal(show.code, 0, show.stderr);
  assert.deepEqual(show.json(), { brand: 'DOCDEMO', config: stored.body.config });
  assert.match(show.stdout, /^\{\n {2}"brand": "DOCDEMO",\n/, 'pretty-printed JSON');

  // From stdin too.
  const piped = await cli(server, ['brands', 'create', 'Second', '--file', '-'], { stdin: '{"identifierTypes": ["EMAIL"]}' });
  assert.equal(piped.code, 0, piped.stderr);
  assert.deepEqual(piped.json().config.identifierTypes, ['EMAIL']);

  const list = await cli(server, ['brands', 'list']);
  assert.equal(list.code, 0, list.stderr);
  const listed = list.json();
  assert.deepEqual(listed.brands.map((b: { brand: string }) => b.brand), ['DOCDEMO', 'SECOND']);
  assert.deepEqual(listed.brands[0].config, stored.body.config);
  const names = await cli(server, ['brands', 'list', '--names']);
  assert.equal(names.stdout, 'DOCDEMO\nSECOND\n');
});

test('brands create refuses an existing brand and leaves it unchanged', async () => {
  assert.equal((await cli(server, ['brands', 'create', 'Exists', '--file', file('e1.json', { otpLength: 8 })])).code, 0);
  const again = await cli(server, ['brands', 'create', 'EXISTS', '-f', file('e2.json', { otpLength: 4 })]);
  assert.equal(again.code, 1);
  assert.equal(again.stdout, '');
  assert.match(again.stderr, /brand EXISTS already exists; use `brands update`/);
  assert.equal((await apiGet('EXISTS')).body.config.otpLength, 8);
});

test('brands update replaces the whole config (PUT semantics) and needs an existing brand', async () => {
  assert.equal((await cli(server, ['brands', 'create', 'Upd', '--file', file('u0.json', { otpLength: 9, otpResendCooldownSeconds: 30 })])).code, 0);
  // show > f.json; edit; update f.json
  const shown = await cli(server, ['brands', 'show', 'UPD']);
  const f = file('u1.json', shown.stdout);
  const edited = JSON.parse(readFileSync(f, 'utf8'));
  edited.config.otpLength = 5;
  writeFileSync(f, JSON.stringify(edited));
  const upd = await cli(server, ['brands', 'update', 'UPD', '--file', f]);
  assert.equal(upd.code, 0, upd.stderr);
  assert.equal(upd.json().config.otpLength, 5);
  assert.equal(upd.json().config.otpResendCooldownSeconds, 30, 'kept: it was in the file');
  assert.deepEqual((await apiGet('UPD')).body.config, upd.json().config);

  // A partial file: what it leaves out goes back to the defaults.
  const partial = await cli(server, ['brands', 'update', 'upd', '--file', file('u2.json', { passwordEnabled: true })]);
  assert.equal(partial.code, 0, partial.stderr);
  assert.equal(partial.json().config.otpLength, 6);
  assert.equal(partial.json().config.otpResendCooldownSeconds, 0);

  // Unknown brand: the server's 1504, and nothing is created.
  const missing = await cli(server, ['brands', 'update', 'NoSuchBrand', '--file', file('u3.json', {})]);
  expectApiError(missing, 1504, 'Unable to generate token.');
  assert.match(missing.stderr, /HTTP 404; unknown brand/);
  assert.equal((await apiGet('NOSUCHBRAND')).status, 404);
});

test('a config the server refuses: 1519 with the field named, old config kept', async () => {
  assert.equal((await cli(server, ['brands', 'create', 'Strict', '--file', file('s0.json', { otpLength: 8 })])).code, 0);
  const bad = await cli(server, ['brands', 'update', 'Strict', '--file', file('s1.json', { otpLength: 99 })]);
  expectApiError(bad, 1519, 'Invalid details passed.');
  assert.match(bad.stderr, /otpLength: must be an integer from 4 to 10/);
  const typo = await cli(server, ['brands', 'create', 'Typo', '--file', file('s2.json', { otpLenght: 6 })]);
  expectApiError(typo, 1519, 'Invalid details passed.');
  assert.match(typo.stderr, /otpLenght: unknown field/);
  assert.equal((await apiGet('STRICT')).body.config.otpLength, 8);
  assert.equal((await apiGet('TYPO')).status, 404);
  // A malformed brand name is the server's 1519 as well.
  expectApiError(await cli(server, ['brands', 'show', 'bad name!']), 1519, 'Invalid details passed.');
});

test('unknown brand: show and delete answer 1504', async () => {
  expectApiError(await cli(server, ['brands', 'show', 'Ghost']), 1504, 'Unable to generate token.');
  expectApiError(await cli(server, ['brands', 'delete', 'Ghost', '--yes']), 1504, 'Unable to generate token.');
});

test('brands delete needs --yes, then deletes', async () => {
  assert.equal((await cli(server, ['brands', 'create', 'Doomed', '--file', file('d.json', {})])).code, 0);
  const refused = await cli(server, ['brands', 'delete', 'Doomed']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /refusing to delete brand Doomed without --yes/);
  assert.equal((await apiGet('DOOMED')).status, 200, 'still there');
  const del = await cli(server, ['brands', 'delete', 'Doomed', '--yes']);
  assert.equal(del.code, 0, del.stderr);
  assert.deepEqual(del.json(), { brand: 'Doomed', deleted: true });
  assert.equal((await apiGet('DOOMED')).status, 404);
});

test('a wrong admin token: exit 1 with 1548, and neither token is ever printed', async () => {
  const wrong = 'wrong-admin-token-abcdefghijklmnopqrstuvwxyz012345';
  const env = { AUTH_ENGINE_URL: server.url, AUTH_ADMIN_TOKEN: wrong };
  for (const argv of [['brands', 'list'], ['brands', 'show', 'DocDemo'], ['outbox'], ['audit'], ['users', 'show', 'X', 'MOBILE', '919000000001']]) {
    const r = await cli(server, argv, { env });
    expectApiError(r, 1548, 'Unauthorized.');
    assert.match(r.stderr, /HTTP 401/);
    assertNoToken(r.stdout + r.stderr, argv.join(' '), wrong);
  }
  // --token overrides the environment (and is not printed either).
  const flag = await cli(server, ['brands', 'list', '--names', '--token', ADMIN_TOKEN], { env });
  assert.equal(flag.code, 0, flag.stderr);
  const badFlag = await cli(server, ['brands', 'list', `--token=${wrong}`]);
  expectApiError(badFlag, 1548, 'Unauthorized.');
  assertNoToken(badFlag.stderr, '--token=wrong', wrong);
});

// --- The private-key guard -------------------------------------------------------------------

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const KEY_LINE = PEM.split('\n')[1];

/** Proves the brand still holds THIS key: an otp/generate with a hash made with its public key is accepted (§7). */
async function keyWorks(brand: string, key = publicKey): Promise<boolean> {
  const id = { brand, identifierType: 'MOBILE', identifierValue: '919000000777', deviceId: 'cli-key' };
  const gen = await call(server, 'POST', '/auth/v1/token/generate', id);
  assert.equal(gen.status, 200, gen.raw);
  const sessionId = gen.body.user.sessionId as string;
  const timeStamp = Date.now();
  const hash = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(`${id.identifierValue}|${sessionId}|${timeStamp}`)).toString('base64');
  const send = await call(server, 'POST', '/auth/v1/otp/generate', { ...id, sessionId, timeStamp, hash });
  return send.status === 200;
}

test('private key: show > f.json, edit, update f.json keeps the key; the key is never printed', async () => {
  const create = await cli(server, ['brands', 'create', 'Keyed', '--file', file('k0.json', { encryption: { enabled: true, privateKeyPem: PEM } })]);
  assert.equal(create.code, 0, create.stderr);
  assert.deepEqual(create.json().config.encryption, { enabled: true, privateKeyPem: null, hasPrivateKey: true, validSeconds: 120, endpoints: ['OTP'] });
  assert.ok(!create.stdout.includes(KEY_LINE) && !create.stdout.includes('PRIVATE KEY'));
  assert.equal(await keyWorks('KEYED'), true);
  assert.equal(await keyWorks('KEYED', generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey), false, 'control: another key is refused');

  const shown = await cli(server, ['brands', 'show', 'Keyed']);
  assert.ok(!shown.stdout.includes(KEY_LINE));
  const f = file('k1.json', shown.stdout);
  const edited = JSON.parse(readFileSync(f, 'utf8'));
  assert.equal(edited.config.encryption.hasPrivateKey, true);
  edited.config.otpLength = 8;
  writeFileSync(f, JSON.stringify(edited));
  const upd = await cli(server, ['brands', 'update', 'Keyed', '--file', f]);
  assert.equal(upd.code, 0, upd.stderr);
  assert.equal(upd.json().config.otpLength, 8);
  assert.equal(upd.json().config.encryption.hasPrivateKey, true);
  assert.equal(await keyWorks('KEYED'), true, 'the same key still verifies hashes');
});

test('private key: a file naming a key it does not carry is refused for a brand that has none', async () => {
  const shown = await cli(server, ['brands', 'show', 'Keyed']);
  const withKeyFlag = file('k2.json', shown.stdout); // encryption.enabled true, hasPrivateKey true, no PEM

  // create: refused (exit 2), nothing written.
  const create = await cli(server, ['brands', 'create', 'Copy', '--file', withKeyFlag]);
  assert.equal(create.code, 2);
  assert.equal(create.stdout, '');
  assert.match(create.stderr, /carries none .*--drop-private-key/s);
  assert.equal((await apiGet('COPY')).status, 404);

  // update of a brand without a key: refused, config unchanged.
  assert.equal((await cli(server, ['brands', 'create', 'NoKey', '--file', file('k3.json', { otpLength: 9 })])).code, 0);
  const upd = await cli(server, ['brands', 'update', 'NoKey', '--file', withKeyFlag]);
  assert.equal(upd.code, 2);
  assert.match(upd.stderr, /NoKey has no key of its own to keep/);
  assert.equal((await apiGet('NOKEY')).body.config.otpLength, 9);

  // --drop-private-key lets it through; with encryption still enabled the server then wants a key.
  const dropEnabled = await cli(server, ['brands', 'create', 'Copy', '--file', withKeyFlag, '--drop-private-key']);
  expectApiError(dropEnabled, 1519, 'Invalid details passed.');
  assert.match(dropEnabled.stderr, /encryption\.privateKeyPem: required when encryption is enabled/);
  const disabled = JSON.parse(shown.stdout);
  disabled.config.encryption.enabled = false;
  const dropped = await cli(server, ['brands', 'update', 'NoKey', '--file', file('k4.json', disabled), '--drop-private-key']);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.equal(dropped.json().config.encryption.hasPrivateKey, false);

  // A file that carries the PEM is fine without the flag (and the PEM is not echoed).
  const carrying = JSON.parse(shown.stdout);
  carrying.config.encryption.privateKeyPem = PEM;
  const copy = await cli(server, ['brands', 'create', 'Copy', '--file', file('k5.json', carrying)]);
  assert.equal(copy.code, 0, copy.stderr);
  assert.equal(copy.json().config.encryption.hasPrivateKey, true);
  assert.ok(!(copy.stdout + copy.stderr).includes(KEY_LINE));
  assert.equal(await keyWorks('COPY'), true);
});

test('private key: if a server ever dropped the key on update, the CLI says so and exits 1', async () => {
  // Not reachable with this server (PUT keeps a stored key): a stand-in API that drops it.
  const view = (hasPrivateKey: boolean) => ({ status: { success: true, code: 200, message: 'SUCCESS' }, brand: 'K', config: { encryption: { enabled: false, privateKeyPem: null, hasPrivateKey } } });
  const fakeFetch = (async (_url: unknown, init?: RequestInit) =>
    new Response(JSON.stringify(view(init?.method !== 'PUT')), { status: 200, headers: { 'content-type': 'application/json' } })) as typeof fetch;
  const r = await cli({ url: 'http://127.0.0.1:9' }, ['brands', 'update', 'K', '--file', file('f.json', {})], { fetch: fakeFetch });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /the server dropped the encryption private key of K/);
});
