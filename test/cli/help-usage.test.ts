// --help on every command, and the usage errors (exit 2) and connection errors (exit 3) that
// are decided before or without an answer from the server.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, call, cleanup, cli, startServer, tempDir, type Server } from './live-server.ts';
import { freePort } from '../helpers/process.ts';

// Written out here, not imported from src: a command that disappears fails this test.
const COMMANDS: Array<{ words: string[]; args: string[]; options: string[] }> = [
  { words: ['brands', 'list'], args: [], options: ['--names'] },
  { words: ['brands', 'show'], args: ['<brand>'], options: [] },
  { words: ['brands', 'create'], args: ['<brand>'], options: ['--file', '--drop-private-key'] },
  { words: ['brands', 'update'], args: ['<brand>'], options: ['--file', '--drop-private-key'] },
  { words: ['brands', 'delete'], args: ['<brand>'], options: ['--yes'] },
  { words: ['outbox'], args: [], options: ['--brand', '--identifier', '--limit'] },
  { words: ['users', 'show'], args: ['<brand>', '<identifierType>', '<identifierValue>'], options: [] },
  { words: ['users', 'unlock'], args: ['<brand>', '<identifierType>', '<identifierValue>'], options: [] },
  { words: ['users', 'erase'], args: ['<brand>', '<identifierType>', '<identifierValue>'], options: ['--yes'] },
  { words: ['audit'], args: [], options: ['--brand', '--limit', '--follow', '--interval'] },
];

let server: Server;
before(async () => {
  server = await startServer();
  assert.equal((await call(server, 'PUT', '/admin/v1/brands/KEEP', {}, ADMIN_TOKEN)).status, 200);
});
after(cleanup);

// Help needs neither a server nor a token; the token in the environment is never shown.
const noServer = { url: 'http://127.0.0.1:9' };
const helpEnv = { AUTH_ADMIN_TOKEN: ADMIN_TOKEN };

test('--help, -h and `help <command>` on every command', async () => {
  for (const c of COMMANDS) {
    const r = await cli(noServer, [...c.words, '--help'], { env: helpEnv });
    const name = c.words.join(' ');
    assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
    assert.equal(r.stderr, '');
    assert.ok(r.stdout.startsWith(`Usage: auth-engine ${name}${c.args.map((a) => ` ${a}`).join('')}`), `${name}:\n${r.stdout}`);
    for (const o of [...c.options, '--url', '--token', '--timeout', '--help']) assert.ok(r.stdout.includes(o), `${name} --help lacks ${o}`);
    assert.match(r.stdout, /Example/);
    assert.match(r.stdout, /AUTH_ADMIN_TOKEN/);
    // -h, `help <command>` and --help among other arguments print the same.
    assert.equal((await cli(noServer, [...c.words, '-h'], { env: helpEnv })).stdout, r.stdout);
    assert.equal((await cli(noServer, ['help', ...c.words], { env: helpEnv })).stdout, r.stdout);
    assert.equal((await cli(noServer, [...c.words, 'x', '--help', '--yes'], { env: helpEnv })).stdout, r.stdout);
  }
});

test('top-level and group help', async () => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await cli(noServer, argv, { env: helpEnv });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^auth-engine: admin command-line tool/);
    for (const c of COMMANDS) assert.ok(r.stdout.includes(`  ${c.words.join(' ')}`), `top help lacks ${c.words.join(' ')}`);
    assert.match(r.stdout, /Exit codes: 0 ok, 1 API error or refused, 2 usage error, 3 server unreachable/);
  }
  // No command: the help, on stderr, exit 2.
  const none = await cli(noServer, [], { env: helpEnv });
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /Usage: auth-engine <command>/);
  for (const group of ['brands', 'users']) {
    const r = await cli(noServer, [group, '--help'], { env: helpEnv });
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^Usage: auth-engine ${group} <subcommand>`));
    assert.equal((await cli(noServer, ['help', group], { env: helpEnv })).stdout, r.stdout);
    const bare = await cli(noServer, [group], { env: helpEnv });
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, new RegExp(`${group} needs a subcommand`));
  }
});

test('usage errors exit 2 with a message on stderr and nothing on stdout', async () => {
  const dir = tempDir('ae-cli-usage-');
  const notJson = join(dir, 'bad.json');
  writeFileSync(notJson, '{"encryption": {"privateKeyPem": "-----BEGIN PRIVATE KEY-----\nSECRETKEYMATERIAL');
  const array = join(dir, 'array.json');
  writeFileSync(array, '[]');
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command: frobnicate/],
    [['brands', 'frob'], /unknown command: brands frob/],
    [['help', 'frob'], /no such command: frob/],
    [['brands', 'list', '--frob'], /Unknown option '--frob'/],
    [['brands', 'show'], /brands show takes <brand> \(got none\)/],
    [['brands', 'show', 'A', 'B'], /brands show takes <brand> \(got "A" "B"\)/],
    [['brands', 'list', 'extra'], /brands list takes no arguments/],
    [['users', 'show', 'KEEP', 'MOBILE'], /users show takes <brand> <identifierType> <identifierValue>/],
    [['brands', 'create', 'NEW'], /--file <path> is required/],
    [['brands', 'create', 'NEW', '--file'], /argument missing/],
    [['brands', 'create', 'NEW', '--file', join(dir, 'missing.json')], /cannot read .*missing\.json \(ENOENT\)/],
    [['brands', 'create', 'NEW', '--file', notJson], /bad\.json is not valid JSON$/m],
    [['brands', 'update', 'KEEP', '--file', array], /must hold a JSON object/],
    [['brands', 'delete', 'KEEP'], /refusing to delete brand KEEP without --yes/],
    [['brands', 'delete', 'KEEP', '--yes=1'], /does not take an argument/],
    [['users', 'erase', 'KEEP', 'MOBILE', '919000000001'], /without --yes/],
    [['outbox', '--limit', '0'], /--limit must be an integer from 1 to 1000/],
    [['outbox', '--limit', '1001'], /--limit must be an integer from 1 to 1000/],
    [['audit', '--limit', 'ten'], /--limit must be an integer from 1 to 1000/],
    [['audit', '--follow', '--interval', '10'], /--interval must be an integer from 100 to 3600000/],
    [['audit', '--interval', '500'], /--interval needs --follow/],
    [['audit', '--brand'], /argument missing/],
    [['brands', 'list', '--timeout', '0'], /--timeout must be an integer from 1 to 600000/],
    [['brands', 'list', '--url', 'not a url'], /is not a URL/],
    [['brands', 'list', '--url', 'ftp://127.0.0.1/'], /must be http:\/\/ or https:\/\//],
    [['brands', 'list', '--url', 'http://admin:pw@127.0.0.1/'], /must not contain credentials/],
  ];
  for (const [argv, message] of cases) {
    const r = await cli(server, argv);
    const what = argv.join(' ');
    assert.equal(r.code, 2, `${what}: exit ${r.code}, stderr: ${r.stderr}`);
    assert.equal(r.stdout, '', what);
    assert.match(r.stderr, message, what);
    assert.ok(!r.stderr.includes('SECRETKEYMATERIAL'), `${what}: file content echoed`);
  }
  // Nothing was changed by any of them.
  assert.equal((await call(server, 'GET', '/admin/v1/brands/KEEP', undefined, ADMIN_TOKEN)).status, 200);
  assert.equal((await call(server, 'GET', '/admin/v1/brands/NEW', undefined, ADMIN_TOKEN)).status, 404);

  // No token anywhere: exit 2 before any request.
  const noToken = await cli(server, ['brands', 'list'], { env: { AUTH_ENGINE_URL: server.url, AUTH_ADMIN_TOKEN: '' } });
  assert.equal(noToken.code, 2);
  assert.match(noToken.stderr, /no admin token: set AUTH_ADMIN_TOKEN/);
});

test('connection errors exit 3; the URL comes from --url, AUTH_ENGINE_URL or PORT', async () => {
  const closed = await freePort(); // nothing listens there
  const refused = await cli(server, ['brands', 'list'], { env: { AUTH_ENGINE_URL: `http://127.0.0.1:${closed}`, AUTH_ADMIN_TOKEN: ADMIN_TOKEN } });
  assert.equal(refused.code, 3);
  assert.equal(refused.stdout, '');
  assert.equal(refused.stderr, `auth-engine: cannot reach http://127.0.0.1:${closed}: ECONNREFUSED\n`);

  // --url beats AUTH_ENGINE_URL; PORT is used when neither is set.
  const viaFlag = await cli(server, ['brands', 'list', '--names', '--url', server.url], { env: { AUTH_ENGINE_URL: `http://127.0.0.1:${closed}`, AUTH_ADMIN_TOKEN: ADMIN_TOKEN } });
  assert.equal(viaFlag.code, 0, viaFlag.stderr);
  assert.equal(viaFlag.stdout, 'KEEP\n');
  const viaPort = await cli(server, ['brands', 'list', '--names'], { env: { PORT: String(server.port), AUTH_ADMIN_TOKEN: ADMIN_TOKEN } });
  assert.equal(viaPort.code, 0, viaPort.stderr);
  assert.equal(viaPort.stdout, 'KEEP\n');

  // Something that is not Auth Engine answering: exit 1, its body not echoed.
  const html = (async () => new Response('<html>502 Bad Gateway SECRET-PAGE</html>', { status: 502 })) as typeof fetch;
  const proxy = await cli(server, ['brands', 'list'], { fetch: html });
  assert.equal(proxy.code, 1);
  assert.match(proxy.stderr, /error: unexpected answer from http:\/\/127\.0\.0\.1:\d+ \(not an Auth Engine response\) \(HTTP 502\)/);
  assert.ok(!proxy.stderr.includes('SECRET-PAGE'));

  // A server that never answers: the timeout, exit 3.
  const hang = ((_u: unknown, init?: RequestInit) =>
    new Promise((_res, rej) => init?.signal?.addEventListener('abort', () => rej(init.signal?.reason)))) as typeof fetch;
  const slow = await cli(server, ['brands', 'list', '--timeout', '50'], { fetch: hang });
  assert.equal(slow.code, 3);
  assert.match(slow.stderr, /no answer from http:\/\/127\.0\.0\.1:\d+ within 50 ms/);
});
