// GET /metrics (spec §8, issue 6): Prometheus text scraped after real flows. Request counts and
// latency per route template and status, OTP sends / delivery failures per channel, logins by
// method and outcome, locks, limit refusals, storage errors — and no secret in the scrape.
// Each harness has its own app and registry: the exact values below would double if two apps
// shared one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { ADMIN_TOKEN, idBody, otpLogin, startHarness, url, VARIANTS, type Harness } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';

const MOB = '919999999993';
const PW = 'Correct-Horse-42';

async function scrape(h: Harness): Promise<string> {
  const res = await h.app.inject({ method: 'GET', url: '/metrics' });
  assert.equal(res.statusCode, 200, res.body);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return res.body;
}

/** The value of the one sample line named exactly `series` (name plus label set). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

for (const v of VARIANTS) {
  test(`${v}: after an OTP login and wrong passwords, /metrics counts requests, logins, OTPs and the lock — and holds no secret`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('MetricsDemo', { passwordEnabled: true, accountLocking: { enabled: true, maxFailures: 2, lockMinutes: 30 } });
      const login = await otpLogin(h, v, 'metricsdemo', 'MOBILE', MOB, { password: PW, confirmPassword: PW });
      expectOk(login.res, 'OTP login with a new password');

      const id = idBody(v, 'metricsdemo', 'MOBILE', MOB);
      const wrong: string[] = [];
      for (const expected of [1528, 1544] as const) {
        const s = await h.post(url(v, 'token/generate'), id);
        expectOk(s, 'token/generate');
        const password = `Wrong-Password-${expected}`;
        wrong.push(password);
        expectError(await h.post(url(v, 'password/validate'), { ...id, sessionId: s.body.user.sessionId, password }), expected, `wrong password → ${expected}`);
      }
      // An unknown path: counted as route "unknown", never with its raw URL.
      const miss = await h.app.inject({ method: 'GET', url: `/auth/v1/no-such-path/${MOB}` });
      assert.equal(miss.statusCode, 404);

      const text = await scrape(h);
      const validate = url(v, 'otp/validate');
      const pwValidate = url(v, 'password/validate');
      assert.equal(sample(text, 'auth_otp_sent_total{channel="SMS"}'), 1);
      assert.equal(sample(text, 'auth_logins_total{method="otp",outcome="success"}'), 1);
      assert.equal(sample(text, 'auth_logins_total{method="password",outcome="failure"}'), 2);
      assert.equal(sample(text, 'auth_logins_total{method="password",outcome="success"}'), undefined, 'no password success happened');
      assert.equal(sample(text, 'auth_locks_total'), 1);
      assert.equal(sample(text, 'auth_storage_errors_total'), 0);
      assert.equal(sample(text, `http_requests_total{route="${validate}",method="POST",status="200"}`), 1);
      assert.equal(sample(text, `http_requests_total{route="${url(v, 'token/generate')}",method="POST",status="200"}`), 3);
      assert.equal(sample(text, `http_requests_total{route="${pwValidate}",method="POST",status="401"}`), 1);
      assert.equal(sample(text, `http_requests_total{route="${pwValidate}",method="POST",status="423"}`), 1, 'the locking failure (1544)');
      assert.equal(sample(text, 'http_requests_total{route="unknown",method="GET",status="404"}'), 1);
      assert.equal(sample(text, `http_request_duration_seconds_count{route="${validate}",method="POST",status="200"}`), 1);
      assert.ok(sample(text, `http_request_duration_seconds_bucket{le="+Inf",route="${validate}",method="POST",status="200"}`) === 1);
      assert.ok(sample(text, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics');

      // No secret and no personal data in the scrape.
      const secrets = [login.otp, login.sessionId, login.res.body.auth.token, PW, ...wrong, MOB, ADMIN_TOKEN];
      if (login.res.body.auth.key) secrets.push(login.res.body.auth.key);
      for (const s of secrets) assert.ok(!text.includes(s), `the scrape contains a secret: ${s.slice(0, 12)}…`);
      assert.ok(!text.includes('no-such-path'), 'raw URLs are not labels');
    } finally {
      await h.close();
    }
  });

  test(`${v}: /metrics counts a delivery failure per channel, a limit refusal by code and a storage error`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('MetricsFaults', { otpMaxCount: 1, otpTimeOut: 10 });
      const id = idBody(v, 'metricsfaults', 'MOBILE', MOB);
      const sessionId = (await h.post(url(v, 'token/generate'), id)).body.user.sessionId;
      const orig = h.deps.sender;
      try {
        h.deps.sender = { canDeliver: () => true, send: async () => { throw new Error('provider down'); } };
        expectError(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 1503, 'provider failure');
        h.deps.sender = { canDeliver: () => true, send: async () => { throw new StoreUnavailableError(new Error('db down')); } };
        expectError(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 1599, 'our store down');
      } finally {
        h.deps.sender = orig;
      }
      expectOk(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 'the one send allowed');
      expectError(await h.post(url(v, 'otp/generate'), { ...id, sessionId }), 1534, 'over the limit');

      const text = await scrape(h);
      const gen = url(v, 'otp/generate');
      assert.equal(sample(text, 'auth_otp_send_failures_total{channel="SMS"}'), 1);
      assert.equal(sample(text, 'auth_otp_sent_total{channel="SMS"}'), 1);
      assert.equal(sample(text, 'auth_rate_limit_refusals_total{code="1534"}'), 1);
      assert.equal(sample(text, 'auth_storage_errors_total'), 1);
      assert.equal(sample(text, `http_requests_total{route="${gen}",method="POST",status="502"}`), 1, '1503');
      assert.equal(sample(text, `http_requests_total{route="${gen}",method="POST",status="503"}`), 1, '1599');
      assert.equal(sample(text, `http_requests_total{route="${gen}",method="POST",status="200"}`), 1);
      assert.equal(sample(text, 'auth_logins_total{method="otp",outcome="success"}'), undefined);
    } finally {
      await h.close();
    }
  });
}
