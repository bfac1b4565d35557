// No secret in any log line (captured at level trace) nor in any customer response: run the
// full flows on mobile and web, collect every secret the run produced or used, then search
// every log line and every response body for each of them.
import { randomInt, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, VARIANTS, idBody, startHarness, url, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SUCCESS, expectError, expectOk } from '../helpers/spec.ts';

const BRAND = 'leaky';
// 10-digit codes: a 6-digit code could turn up by chance inside a timestamp or a uuid in a
// log line and make this test flaky; 10 digits make that negligible.
const OTP_LENGTH = 10;

/** A 10-digit code that differs from `otp`. */
const wrongOtp = (otp: string) => {
  let w = otp;
  while (w === otp) w = Array.from({ length: OTP_LENGTH }, () => String(randomInt(10))).join('');
  return w;
};

interface Secret {
  kind: string;
  value: string;
  /** Also refused in every customer response (a token is returned by the endpoint that issues it). */
  neverInResponses: boolean;
}

class Recorder {
  readonly secrets: Secret[] = [];
  readonly responses: Array<{ path: string; res: Res }> = [];
  readonly requests: Array<{ id: string; path: string; status: number; json: boolean }> = [];
  private n = 0;
  constructor(private readonly h: Harness) {}

  secret(kind: string, value: string | null | undefined, neverInResponses: boolean) {
    assert.equal(typeof value, 'string', `${kind}: expected a string`);
    assert.ok((value as string).length >= 8, `${kind}: too short to search for`);
    this.secrets.push({ kind, value: value as string, neverInResponses });
  }

  /** A JWS: the whole token and its signature on their own (a log could cut the token). */
  jws(kind: string, token: unknown) {
    assert.equal(typeof token, 'string', `${kind}: expected a token`);
    const parts = (token as string).split('.');
    assert.equal(parts.length, 3, `${kind}: not a JWS`);
    this.secret(kind, token as string, false);
    this.secret(`${kind} signature`, parts[2], false);
  }

  async post(path: string, body: unknown): Promise<Res> {
    const id = `leak-${++this.n}`;
    const res = await this.h.post(path, body, { 'x-request-id': id });
    assert.equal(res.headers['x-request-id'], id);
    this.requests.push({ id, path, status: res.status, json: typeof body !== 'string' });
    this.responses.push({ path, res });
    return res;
  }
}

const logLines = (h: Harness) =>
  h.logs
    .join('')
    .split('\n')
    .filter((l) => l.trim() !== '');

const parsed = (lines: string[]) =>
  lines.map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      assert.fail(`log line is not JSON: ${l}`);
    }
  });

/** USERNAME sign-up destinations per variant (must be free in the brand). */
const USERNAME_SIGNUP = {
  mobile: { username: 'leaky_mobile', dest: { mobile: '918000000102' }, key: 'USERNAME|leaky_mobile' },
  web: { username: 'leaky_web', dest: { email: 'leaky-username-web@example.com' }, key: 'USERNAME|leaky_web' },
} as const;
const IDENTIFIER = {
  mobile: { type: 'MOBILE', value: '918000000101' },
  web: { type: 'EMAIL', value: 'leak-web@example.com' },
} as const;

async function runFlows(h: Harness, rec: Recorder, v: V) {
  const { type, value } = IDENTIFIER[v];
  const id = idBody(v, BRAND, type, value);
  const password = `Pw-${v}-${randomUUID()}`;
  rec.secret(`${v} password`, password, true);

  // 1. Sign-up with a password, a wrong OTP first, then the right one.
  let r = await rec.post(url(v, 'token/generate'), { ...id, password, confirmPassword: password });
  assert.equal(r.status, 200, r.raw);
  rec.jws(`${v} sign-up VIEW token`, r.body.auth.token);
  const signupSession = r.body.user.sessionId as string;
  r = await rec.post(url(v, 'otp/generate'), { ...id, sessionId: signupSession });
  assert.equal(r.status, 200, r.raw);
  assert.deepEqual(r.body, { status: SUCCESS }, 'otp/generate answers status only');
  const otp = await h.lastOtp(BRAND, `${type}|${value}`);
  assert.equal(otp.length, OTP_LENGTH);
  rec.secret(`${v} sign-up OTP`, otp, true);
  const session = await h.deps.sessions.get(signupSession, h.clock.now());
  rec.secret(`${v} OTP hash`, session?.otpHash, true);
  rec.secret(`${v} pending password hash`, session?.pendingPassword?.hash, true);
  const wrong = wrongOtp(otp);
  rec.secret(`${v} wrong OTP`, wrong, true);
  r = await rec.post(url(v, 'otp/validate'), { ...id, sessionId: signupSession, otp: wrong });
  expectError(r, 1506);
  r = await rec.post(url(v, 'otp/validate'), { ...id, sessionId: signupSession, otp });
  expectOk(r);
  rec.jws(`${v} sign-up USER token`, r.body.auth.token);
  if (v === 'mobile') {
    rec.jws('mobile sign-up key', r.body.auth.key);
    rec.secret('mobile sign-up key hash', h.deps.secrets.keyHash(r.body.auth.key), true);
  } else assert.equal(r.body.auth.key, null);
  const user = await h.deps.users.findUser(BRAND.toUpperCase(), { type, value });
  rec.secret(`${v} stored password hash`, user?.passwordHash, true);

  // 2. Password login: a wrong password, then the right one.
  r = await rec.post(url(v, 'token/generate'), id);
  assert.equal(r.status, 200, r.raw);
  assert.equal(r.body.user.userRegisteredForPassword, true);
  rec.jws(`${v} login VIEW token`, r.body.auth.token);
  const loginSession = r.body.user.sessionId as string;
  const wrongPassword = `Wrong-${v}-${randomUUID()}`;
  rec.secret(`${v} wrong password`, wrongPassword, true);
  r = await rec.post(url(v, 'password/validate'), { ...id, sessionId: loginSession, password: wrongPassword });
  expectError(r, 1528);
  r = await rec.post(url(v, 'password/validate'), { ...id, sessionId: loginSession, password });
  expectOk(r);
  rec.jws(`${v} login USER token`, r.body.auth.token);
  if (v === 'mobile') {
    rec.jws('mobile login key', r.body.auth.key);
    rec.secret('mobile login key hash', h.deps.secrets.keyHash(r.body.auth.key), true);
  }

  // 3. USERNAME sign-up (password required), OTP to the given destination.
  const u = USERNAME_SIGNUP[v];
  const uid = idBody(v, BRAND, 'USERNAME', u.username);
  const uPassword = `UPw-${v}-${randomUUID()}`;
  rec.secret(`${v} USERNAME password`, uPassword, true);
  r = await rec.post(url(v, 'token/generate'), { ...uid, ...u.dest, password: uPassword, confirmPassword: uPassword });
  assert.equal(r.status, 200, r.raw);
  rec.jws(`${v} USERNAME VIEW token`, r.body.auth.token);
  const uSession = r.body.user.sessionId as string;
  r = await rec.post(url(v, 'otp/generate'), { ...uid, sessionId: uSession });
  assert.equal(r.status, 200, r.raw);
  assert.deepEqual(r.body, { status: SUCCESS });
  const uOtp = await h.lastOtp(BRAND, u.key);
  rec.secret(`${v} USERNAME OTP`, uOtp, true);
  r = await rec.post(url(v, 'otp/validate'), { ...uid, sessionId: uSession, otp: uOtp });
  assert.equal(r.status, 200, r.raw);
  rec.jws(`${v} USERNAME USER token`, r.body.auth.token);
  if (v === 'mobile') rec.jws('mobile USERNAME key', r.body.auth.key);

  // 4. Malformed requests carrying secrets: broken JSON, a wrong field type, a mismatch.
  const p1 = `Broken-${v}-${randomUUID()}`;
  const p2 = `Typed-${v}-${randomUUID()}`;
  const p3 = `Mismatch-${v}-${randomUUID()}`;
  const p4 = `Confirm-${v}-${randomUUID()}`;
  for (const [k, p] of [['broken JSON', p1], ['wrong type', p2], ['mismatch', p3], ['confirm', p4]] as const) rec.secret(`${v} ${k} password`, p, true);
  const broken = JSON.stringify({ ...idBody(v, BRAND, 'MOBILE', '918000000199'), password: p1, confirmPassword: p1 }).slice(0, -1);
  r = await rec.post(url(v, 'token/generate'), broken);
  expectError(r, 1519);
  r = await rec.post(url(v, 'token/generate'), { ...idBody(v, BRAND, 'MOBILE', '918000000199'), identifierValue: 918000000199, password: p2, confirmPassword: p2 });
  expectError(r, 1519);
  r = await rec.post(url(v, 'token/generate'), { ...idBody(v, BRAND, 'MOBILE', '918000000199'), password: p3, confirmPassword: p4 });
  expectError(r, 1521);
  // A wrong OTP shape on a live session: the OTP field itself is the secret.
  r = await rec.post(url(v, 'otp/validate'), { ...id, sessionId: loginSession, otp: { code: p1 } });
  expectError(r, 1519);
}

test('no secret reaches a log line or a customer response (mobile and web, logs at trace)', async () => {
  const h = await startHarness();
  try {
    assert.equal(h.config.logLevel, 'trace');
    await h.createBrand(BRAND, { passwordEnabled: true, otpLength: OTP_LENGTH });
    const rec = new Recorder(h);
    rec.secret('admin token (harness)', ADMIN_TOKEN, true);
    rec.secret('admin token (config)', h.config.adminToken, true);
    rec.secret('signing secret', h.config.signingSecret, true);
    rec.secret('OTP/key HMAC secret', h.config.otpSecret, true);

    for (const v of VARIANTS) await runFlows(h, rec, v);

    // The admin outbox shows OTPs by design; the log of that very request must not.
    const adminId = 'leak-admin-outbox';
    const outbox = await h.app.inject({
      method: 'GET',
      url: `/admin/v1/outbox?brand=${BRAND}&limit=100`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-request-id': adminId },
    });
    assert.equal(outbox.statusCode, 200, outbox.body);
    const messages = (JSON.parse(outbox.body) as { messages: Array<{ otp: string; text: string }> }).messages;
    const otps = rec.secrets.filter((s) => /(sign-up|USERNAME) OTP$/.test(s.kind));
    assert.equal(otps.length, 4);
    for (const o of otps) assert.ok(outbox.body.includes(o.value), `the admin outbox should show the ${o.kind}`);
    for (const m of messages) assert.ok(m.text.includes(m.otp), 'an outbox message text should hold its OTP');

    const lines = logLines(h);
    const entries = parsed(lines);

    // Logging works: one `request` line per request, carrying its request id, brand, route,
    // status and latency.
    assert.ok(lines.length >= rec.requests.length, 'the log is (nearly) empty: is logging broken?');
    for (const q of rec.requests) {
      const mine = entries.filter((e) => e.reqId === q.id && e.msg === 'request');
      assert.equal(mine.length, 1, `expected one request line for ${q.id} (${q.path})`);
      assert.equal(mine[0].status, q.status, `status logged for ${q.id}`);
      // A body that is not JSON names no brand.
      assert.equal(mine[0].brand, q.json ? BRAND.toUpperCase() : undefined, `brand logged for ${q.id}`);
      assert.equal(mine[0].route, q.path, `route logged for ${q.id}`);
      assert.equal(mine[0].method, 'POST');
      assert.equal(typeof mine[0].ms, 'number', `latency logged for ${q.id}`);
    }
    const adminLines = lines.filter((_, i) => entries[i].reqId === adminId);
    assert.ok(adminLines.length >= 1, 'the admin outbox request was not logged');
    for (const line of adminLines) {
      for (const m of messages) {
        assert.ok(!line.includes(m.otp), 'an OTP reached the log of the admin outbox request');
        assert.ok(!line.includes(m.text), 'a message text reached the log of the admin outbox request');
      }
    }

    // No secret in any log line.
    for (const s of rec.secrets) {
      const hit = lines.find((l) => l.includes(s.value));
      assert.equal(hit, undefined, `${s.kind} appears in a log line: ${hit}`);
    }
    for (const m of messages) {
      const hit = lines.find((l) => l.includes(m.text));
      assert.equal(hit, undefined, `an outbox message text appears in a log line: ${hit}`);
    }

    // No password, OTP, hash or deployment secret in any customer response.
    assert.equal(rec.responses.length, 2 * 14);
    for (const { path, res } of rec.responses) {
      assert.ok(path.startsWith('/auth/'), `not a customer endpoint: ${path}`);
      for (const s of rec.secrets.filter((x) => x.neverInResponses)) {
        assert.ok(!res.raw.includes(s.value), `${s.kind} appears in the response of ${path}: ${res.raw}`);
      }
    }
  } finally {
    await h.close();
  }
});
