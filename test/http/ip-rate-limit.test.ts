// Brand `ipRateLimit.requestsPerMinute` (spec §2, [ext]): per client IP and brand on every
// customer endpoint → 1547 with Retry-After. Checked right after the brand is known: body shape
// (1519), identifierType (1546) and brand (1504) answer first and are not counted; every request
// past that point counts, whatever a later check answers; a refused request is not counted.
// The client address is the socket peer unless AUTH_TRUST_PROXY names the proxy; IPv6 clients
// are counted per /64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';

const SEC = 1000;
const IP_A = '203.0.113.7';
const IP_B = '198.51.100.20';

async function postFrom(h: Harness, ip: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const r = await h.app.inject({ method: 'POST', url: path, payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, remoteAddress: ip });
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body);
  } catch {
    parsed = undefined;
  }
  return { status: r.statusCode, headers: r.headers as Res['headers'], body: parsed, raw: r.body };
}

/** A shape-valid body for each customer endpoint (what later checks answer does not matter here). */
function bodies(v: V, brand: string): [string, object][] {
  const id = idBody(v, brand, 'MOBILE', '919999999001');
  return [
    ['token/generate', id],
    ['otp/generate', { ...id, sessionId: 'P-none' }],
    ['otp/validate', { ...id, sessionId: 'P-none', otp: '123456' }],
    ['password/validate', { ...id, sessionId: 'P-none', password: 'whatever-password' }],
    ['token/regenerate', v === 'mobile' ? { ...id, key: 'not-a-key' } : { ...id, expiredToken: 'not-a-token' }],
    ['password/change', { ...id, token: 'not-a-token', password: 'old-password-1', newPassword: 'new-password-1', confirmPassword: 'new-password-1' }],
    ['password/forget', { ...id, sessionId: 'P-none', password: 'new-password-1', confirmPassword: 'new-password-1' }],
    ['token/expire', { ...id, token: 'not-a-token' }],
  ];
}

function expectLimited(r: Res, retryAfter: number, what: string) {
  expectError(r, 1547, what);
  assert.equal(r.headers['retry-after'], String(retryAfter), `${what}: Retry-After`);
}

async function withHarness(fn: (h: Harness) => Promise<void>, env?: Record<string, string>) {
  const h = await startHarness(env ? { env } : {});
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

for (const v of VARIANTS) {
  test(`${v}: every customer endpoint counts toward requestsPerMinute and is refused with 1547 once the minute is full`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Rl', { ipRateLimit: { requestsPerMinute: 8 }, passwordEnabled: true });
      const all = bodies(v, 'Rl');
      const t0 = h.clock.now();
      // One request to each of the 8 endpoints: each answers what it would without the limit
      // (token/generate succeeds, the rest fail their own checks) and each one counts.
      for (const [step, body] of all) {
        const r = await postFrom(h, IP_A, url(v, step), body);
        assert.notEqual(r.body?.status?.code, 1547, `${v} ${step}: ${r.raw}`);
        h.clock.advance(SEC);
      }
      // The ninth request, whatever the endpoint, is refused until the first leaves the window.
      for (const [step, body] of all) expectLimited(await postFrom(h, IP_A, url(v, step), body), 52, `${v} ${step} over the limit`);
      // Refused requests did not count: once the first request's minute is over, exactly one fits.
      h.clock.set(t0 + 60 * SEC);
      expectOk(await postFrom(h, IP_A, url(v, 'token/generate'), all[0][1]), `${v} after the first left the window`);
      expectLimited(await postFrom(h, IP_A, url(v, 'token/generate'), all[0][1]), 1, `${v} full again`);
    });
  });

  test(`${v}: the limit is per brand and per client address`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Rl', { ipRateLimit: { requestsPerMinute: 2 } });
      await h.createBrand('Rl2', { ipRateLimit: { requestsPerMinute: 2 } });
      await h.createBrand('Free');
      const gen = (ip: string, brand: string) => postFrom(h, ip, url(v, 'token/generate'), idBody(v, brand, 'MOBILE', '919999999001'));
      expectOk(await gen(IP_A, 'Rl'), 'A 1');
      expectOk(await gen(IP_A, 'Rl'), 'A 2');
      expectLimited(await gen(IP_A, 'Rl'), 60, 'A 3');
      expectOk(await gen(IP_B, 'Rl'), 'B has its own budget');
      expectOk(await gen(IP_A, 'rl2'), 'A in another brand');
      for (let i = 0; i < 5; i++) expectOk(await gen(IP_A, 'Free'), 'no limit configured');
      // An IPv4-mapped IPv6 address is the same client as its IPv4 form.
      expectLimited(await gen(`::ffff:${IP_A}`, 'Rl'), 60, 'A as ::ffff:');
    });
  });

  test(`${v}: shape, identifierType and brand errors answer first and are not counted`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Rl', { ipRateLimit: { requestsPerMinute: 1 }, identifierTypes: ['MOBILE', 'EMAIL'] });
      const id = idBody(v, 'Rl', 'MOBILE', '919999999001');
      for (let i = 0; i < 3; i++) {
        expectError(await postFrom(h, IP_A, url(v, 'token/generate'), '{"brand":'), 1519, 'malformed JSON');
        expectError(await postFrom(h, IP_A, url(v, 'token/generate'), { ...id, identifierValue: '12' }), 1519, 'bad value');
        expectError(await postFrom(h, IP_A, url(v, 'token/generate'), { ...id, identifierType: 'FAX' }), 1546, 'unknown type');
        expectError(await postFrom(h, IP_A, url(v, 'token/generate'), { ...id, identifierType: 'USERNAME', identifierValue: 'alice' }), 1546, 'type not enabled for the brand');
        expectError(await postFrom(h, IP_A, url(v, 'token/generate'), { ...id, brand: 'Nope' }), 1504, 'unknown brand');
      }
      expectOk(await postFrom(h, IP_A, url(v, 'token/generate'), id), 'the first counted request');
      // Now full: the early checks still answer with their own codes, the rest with 1547.
      expectError(await postFrom(h, IP_A, url(v, 'token/generate'), { ...id, identifierType: 'FAX' }), 1546, 'unknown type while full');
      expectError(await postFrom(h, IP_A, url(v, 'token/generate'), { ...id, brand: 'Nope' }), 1504, 'unknown brand while full');
      expectLimited(await postFrom(h, IP_A, url(v, 'otp/generate'), { ...id, sessionId: 'P-none' }), 60, 'an unknown session while full: 1547 before 1505');
    });
  });
}

test('X-Forwarded-For is ignored by default and believed from AUTH_TRUST_PROXY', async () => {
  const body = idBody('web', 'Rl', 'MOBILE', '919999999001');
  await withHarness(async (h) => {
    await h.createBrand('Rl', { ipRateLimit: { requestsPerMinute: 1 } });
    expectOk(await postFrom(h, IP_A, url('web', 'token/generate'), body, { 'x-forwarded-for': '1.2.3.4' }), 'first');
    expectLimited(await postFrom(h, IP_A, url('web', 'token/generate'), body, { 'x-forwarded-for': '5.6.7.8' }), 60, 'a new X-Forwarded-For changes nothing');
  });
  await withHarness(async (h) => {
    await h.createBrand('Rl', { ipRateLimit: { requestsPerMinute: 1 } });
    expectOk(await postFrom(h, '127.0.0.1', url('web', 'token/generate'), body, { 'x-forwarded-for': '1.2.3.4' }), 'client 1.2.3.4 via the proxy');
    expectOk(await postFrom(h, '127.0.0.1', url('web', 'token/generate'), body, { 'x-forwarded-for': '5.6.7.8' }), 'client 5.6.7.8 via the proxy');
    expectLimited(await postFrom(h, '127.0.0.1', url('web', 'token/generate'), body, { 'x-forwarded-for': '1.2.3.4' }), 60, '1.2.3.4 again');
    expectOk(await postFrom(h, IP_A, url('web', 'token/generate'), body, { 'x-forwarded-for': '1.2.3.4' }), 'an untrusted peer is counted as itself');
  }, { AUTH_TRUST_PROXY: '127.0.0.1' });
});

test('IPv6 clients are counted per /64 network', async () => {
  await withHarness(async (h) => {
    await h.createBrand('Rl', { ipRateLimit: { requestsPerMinute: 2 } });
    const gen = (ip: string) => postFrom(h, ip, url('web', 'token/generate'), idBody('web', 'Rl', 'MOBILE', '919999999001'));
    expectOk(await gen('2001:db8:1:2::1'), 'first address of the /64');
    expectOk(await gen('2001:0db8:0001:0002:ffff:ffff:ffff:fffe'), 'another address of the same /64');
    expectLimited(await gen('2001:db8:1:2:abcd::9'), 60, 'a third address of the same /64');
    expectOk(await gen('2001:db8:1:3::1'), 'the next /64 is another client');
  });
});
