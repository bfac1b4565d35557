// The admin CLI's outbox, users and audit commands against a live server (a child process),
// including `audit --follow` printing events that happen after it started, across a restart.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, call, cleanup, cli, startServer, tempDir, until, type Server } from './live-server.ts';

let server: Server;
const BRAND = 'CLIUSERS';
const MOBILE = '919000000123';
const id = (value = MOBILE, deviceId = 'cli-dev') => ({ brand: BRAND, identifierType: 'MOBILE', identifierValue: value, deviceId });

before(async () => {
  server = await startServer();
  const put = await call(server, 'PUT', `/admin/v1/brands/${BRAND}`, { accountLocking: { enabled: true, maxFailures: 2, lockMinutes: 30 } }, ADMIN_TOKEN);
  assert.equal(put.status, 200, put.raw);
});
after(cleanup);

/** token/generate + otp/generate: one outbox message and one `otp_sent` event. Returns the session. */
async function sendOtp(value = MOBILE): Promise<string> {
  const gen = await call(server, 'POST', '/auth/v1/token/generate', id(value));
  assert.equal(gen.status, 200, gen.raw);
  const sessionId = gen.body.user.sessionId as string;
  const send = await call(server, 'POST', '/auth/v1/otp/generate', { ...id(value), sessionId });
  assert.equal(send.status, 200, send.raw);
  return sessionId;
}

const validate = (sessionId: string, otp: string, value = MOBILE) => call(server, 'POST', '/auth/v1/otp/validate', { ...id(value), sessionId, otp });

test('outbox: the newest messages for an identifier, the OTP included; --limit and the filter apply', async () => {
  const first = await sendOtp();
  await sendOtp('919000000456'); // another identifier: filtered out
  const second = await sendOtp();
  const r = await cli(server, ['outbox', '--brand', BRAND, '--identifier', `MOBILE|${MOBILE}`]);
  assert.equal(r.code, 0, r.stderr);
  const { messages } = r.json();
  assert.equal(messages.length, 2);
  for (const m of messages) {
    assert.equal(m.brand, BRAND);
    assert.equal(m.identifier, `MOBILE|${MOBILE}`);
    assert.match(m.otp, /^[0-9]{6}$/);
  }
  const newest = await cli(server, ['outbox', '--brand', BRAND, '--identifier', `mobile|+${MOBILE}`, '--limit', '1']);
  assert.equal(newest.code, 0, newest.stderr);
  assert.deepEqual(newest.json().messages, [messages[0]]);
  // The codes are the real ones: the newest validates the second session (and signs the user up).
  assert.equal((await validate(second, messages[0].otp)).status, 200);
  assert.notEqual(first, second);
  // A malformed identifier filter is the server's 1519.
  const bad = await cli(server, ['outbox', '--identifier', 'NOPE|x']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /error 1519: Invalid details passed\./);
});

test('users show / unlock / erase', async () => {
  const show = await cli(server, ['users', 'show', BRAND.toLowerCase(), 'MOBILE', MOBILE]);
  assert.equal(show.code, 0, show.stderr);
  const { user } = show.json();
  assert.equal(user.brand, BRAND);
  assert.deepEqual(user.identifiers, [{ type: 'MOBILE', value: MOBILE, verified: true }]);
  assert.equal(user.hasPassword, false);
  assert.equal(user.lockedUntil, null);

  // Two wrong OTPs lock the account (maxFailures 2) …
  const sid = await sendOtp();
  assert.equal((await validate(sid, '000000')).body.status.code, 1506);
  assert.equal((await validate(sid, '000001')).body.status.code, 1544);
  const locked = (await cli(server, ['users', 'show', BRAND, 'MOBILE', MOBILE])).json().user;
  assert.ok(Date.parse(locked.lockedUntil) > Date.now(), `lockedUntil: ${locked.lockedUntil}`);
  // … unlock clears it.
  const unlock = await cli(server, ['users', 'unlock', BRAND, 'MOBILE', MOBILE]);
  assert.equal(unlock.code, 0, unlock.stderr);
  assert.deepEqual(unlock.json(), { brand: BRAND, identifierType: 'MOBILE', identifierValue: MOBILE, unlocked: true });
  assert.equal((await cli(server, ['users', 'show', BRAND, 'MOBILE', MOBILE])).json().user.lockedUntil, null);

  // Errors: unknown user 1515, bad type 1546, unknown brand 1504.
  const unknown = await cli(server, ['users', 'show', BRAND, 'MOBILE', '919000000999']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /error 1515: User does not exist\. \(HTTP 404\)/);
  assert.match((await cli(server, ['users', 'unlock', BRAND, 'PIGEON', 'x'])).stderr, /error 1546: Invalid identifierType passed\./);
  assert.match((await cli(server, ['users', 'show', 'NoBrand', 'MOBILE', MOBILE])).stderr, /error 1504: Unable to generate token\./);

  // erase needs --yes.
  const refused = await cli(server, ['users', 'erase', BRAND, 'MOBILE', MOBILE]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /without --yes/);
  assert.equal((await cli(server, ['users', 'show', BRAND, 'MOBILE', MOBILE])).code, 0, 'still there');
  const erase = await cli(server, ['users', 'erase', BRAND, 'MOBILE', MOBILE, '--yes']);
  assert.equal(erase.code, 0, erase.stderr);
  assert.deepEqual(erase.json(), { brand: BRAND, identifierType: 'MOBILE', identifierValue: MOBILE, erased: true });
  assert.match((await cli(server, ['users', 'show', BRAND, 'MOBILE', MOBILE])).stderr, /error 1515/);
  assert.match((await cli(server, ['users', 'erase', BRAND, 'MOBILE', MOBILE, '--yes'])).stderr, /error 1515/);
});

const lines = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));

test('audit: the newest N events, one JSON line each, oldest first', async () => {
  const api = await call(server, 'GET', `/admin/v1/audit?brand=${BRAND}&limit=4`, undefined, ADMIN_TOKEN);
  assert.equal(api.status, 200);
  assert.equal(api.body.events.length, 4);
  const r = await cli(server, ['audit', '--brand', BRAND, '--limit', '4']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').length, 5, 'four lines and a final newline');
  assert.deepEqual(lines(r.stdout), [...api.body.events].reverse());
  assert.equal(lines(r.stdout).at(-1).type, 'user_deleted');
  // Default limit 20; without --brand every brand.
  const all = await cli(server, ['audit']);
  assert.equal(all.code, 0);
  assert.ok(lines(all.stdout).length > 4 && lines(all.stdout).length <= 20);
});

test('audit --follow prints events that happen after it started, each once, until aborted', async () => {
  const ac = new AbortController();
  let out = { stdout: '', stderr: '' };
  let polls = 0;
  const counting = ((...a: Parameters<typeof fetch>) => (polls++, fetch(...a))) as typeof fetch;
  const running = cli(server, ['audit', '--brand', BRAND, '--limit', '2', '--follow', '--interval', '100'], { signal: ac.signal, fetch: counting, onOutput: (o) => (out = { ...o }) });
  await until(() => out.stderr.includes('following the audit log'), 'follow to start');
  const initial = lines(out.stdout);
  assert.equal(initial.length, 2);

  await call(server, 'POST', `/admin/v1/users/${BRAND}/MOBILE/919000000456/unlock`, undefined, ADMIN_TOKEN); // 1515: no event
  await sendOtp('919000000321');
  await until(() => lines(out.stdout).length >= 3, 'the otp_sent event');
  await sendOtp('919000000654');
  await until(() => lines(out.stdout).length >= 4, 'the second otp_sent event');
  // Three more polls, and still nothing printed twice.
  const before3 = polls;
  await until(() => polls >= before3 + 3, 'three more polls');
  ac.abort();
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  const printed = lines(r.stdout);
  assert.deepEqual(printed.slice(0, 2), initial);
  assert.deepEqual(printed.slice(2).map((e) => [e.type, e.identifier]), [
    ['otp_sent', 'MOBILE|919000000321'],
    ['otp_sent', 'MOBILE|919000000654'],
  ]);
});

test('audit --follow keeps going through a server restart', async () => {
  const dataDir = tempDir();
  let s = await startServer({ dataDir });
  const put = await call(s, 'PUT', '/admin/v1/brands/RESTARTS', {}, ADMIN_TOKEN);
  assert.equal(put.status, 200, put.raw);
  const ac = new AbortController();
  let out = { stdout: '', stderr: '' };
  const running = cli(s, ['audit', '--brand', 'RESTARTS', '--follow', '--interval', '100'], { signal: ac.signal, onOutput: (o) => (out = { ...o }) });
  await until(() => out.stderr.includes('following the audit log'), 'follow to start');
  assert.equal(out.stdout, '', 'no events yet');

  await s.stop();
  await until(() => out.stderr.includes('still trying'), 'the CLI to notice the server is gone');
  s = await startServer({ dataDir, port: s.port });
  const gen = await call(s, 'POST', '/auth/v1/web/token/generate', { brand: 'RESTARTS', identifierType: 'EMAIL', identifierValue: 'after@example.com' });
  assert.equal(gen.status, 200, gen.raw);
  const send = await call(s, 'POST', '/auth/v1/web/otp/generate', { brand: 'RESTARTS', identifierType: 'EMAIL', identifierValue: 'after@example.com', sessionId: gen.body.user.sessionId });
  assert.equal(send.status, 200, send.raw);
  await until(() => out.stdout.includes('after@example.com'), 'the event after the restart');
  ac.abort();
  const r = await running;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(r.stdout).map((e) => [e.type, e.identifier]), [['otp_sent', 'EMAIL|after@example.com']]);
  assert.match(r.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED; still trying/);
  assert.match(r.stderr, /audit log reachable again/);
});
