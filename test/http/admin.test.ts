// Admin API (spec §2, §8): authentication, brand CRUD and validation, the outbox, user lookup
// and OTP template rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, startHarness, idBody, otpLogin, url, VARIANTS, type Harness, type Res } from '../helpers/harness.ts';
import { SUCCESS, expectAdminError, expectError, expectOk } from '../helpers/spec.ts';

/** Spec §2 defaults, written out literally (not imported), as the admin API must show them. */
const SPEC_DEFAULTS = {
  otpEnabled: true,
  passwordEnabled: false,
  passwordRequiredAtSignup: false,
  identifierTypes: ['MOBILE', 'EMAIL', 'USERNAME'],
  otpLength: 6,
  sessionValiditySeconds: 1200,
  otpValiditySeconds: 1200,
  otpMaxCount: null,
  otpTimeOut: null,
  otpDailyLimit: null,
  otpResendCooldownSeconds: 0,
  maxOtpRetries: 5,
  maxPasswordRetries: 5,
  passwordRetryWindowMinutes: 30,
  accountLocking: { enabled: false, maxFailures: 10, lockMinutes: 30 },
  tokenValiditySeconds: { mobile: 900, web: 900 },
  issueKey: true,
  keyValidityMinutes: null,
  rotateKeys: false,
  webRegenerateGraceSeconds: 86400,
  passwordPolicy: { minLength: 8, maxLength: 128, regex: null, rejectCommon: true },
  otpAbuse: { perIpPerHour: null, perPrefixPerHour: null, prefixLength: 7, allowedCountryCodes: [], brandDailyBudget: null },
  loginAbuse: { perIpPerMinute: null, perIdentifierPerMinute: null },
  ipRateLimit: null,
  encryption: { enabled: false, privateKeyPem: null, hasPrivateKey: false, validSeconds: 120, endpoints: ['OTP'] },
  channels: {
    mobileSubChannel: null,
    fallbackChannels: [],
    templates: {
      SMS: 'Your {brand} code is {otp}. It expires in {minutes} minutes.',
      EMAIL: { subject: 'Your {brand} code', text: 'Your {brand} code is {otp}. It expires in {minutes} minutes.' },
      WHATSAPP: 'Your {brand} code is {otp}. It expires in {minutes} minutes.',
      ZALO: 'Your {brand} code is {otp}. It expires in {minutes} minutes.',
    },
    // [ext] settings (not in spec §2's table), with their defaults.
    locales: {},
    providers: {},
    smsFormat: { appHash: null, webOtpDomain: null },
  },
  testOtps: {},
};

/** The §2 defaults with some top-level fields overridden. */
const withDefaults = (over: Record<string, unknown>) => ({ ...structuredClone(SPEC_DEFAULTS), ...over });

async function withHarness(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** An admin request with an arbitrary (or no) Authorization header. */
async function rawAdmin(h: Harness, method: 'GET' | 'PUT' | 'DELETE', path: string, authorization: string | undefined, body?: unknown): Promise<Res> {
  const headers: Record<string, string> = {};
  if (authorization !== undefined) headers.authorization = authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await h.app.inject({ method, url: path, headers, payload: body === undefined ? undefined : JSON.stringify(body) });
  let parsed: unknown;
  try {
    parsed = JSON.parse(r.body);
  } catch {
    parsed = undefined;
  }
  return { status: r.statusCode, headers: r.headers, body: parsed, raw: r.body };
}

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

const BAD_AUTH: [string, string | undefined][] = [
  ['no Authorization header', undefined],
  ['a wrong token', 'Bearer not-the-admin-token'],
  ['a wrong token that shares a prefix', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
  ['the right token under a non-Bearer scheme (Basic)', `Basic ${ADMIN_TOKEN}`],
  ['the right token under a non-Bearer scheme (Token)', `Token ${ADMIN_TOKEN}`],
  ['the right token without a scheme', ADMIN_TOKEN],
  ['an empty bearer', 'Bearer '],
  ['an empty bearer of spaces', 'Bearer    '],
  ['the bare scheme', 'Bearer'],
];

test('admin: every route refuses a missing, wrong, non-Bearer or empty credential with 401/1548 and no effect', async () => {
  await withHarness(async (h) => {
    await h.createBrand('EXISTING', { otpLength: 8 });
    await otpLogin(h, 'web', 'EXISTING', 'MOBILE', '919999999001');
    const routes: ['GET' | 'PUT' | 'DELETE', string, unknown?][] = [
      ['PUT', '/admin/v1/brands/NEWBRAND', {}],
      ['PUT', '/admin/v1/brands/EXISTING', { otpLength: 4 }],
      ['GET', '/admin/v1/brands/EXISTING'],
      ['GET', '/admin/v1/brands'],
      ['DELETE', '/admin/v1/brands/EXISTING'],
      ['GET', '/admin/v1/outbox'],
      ['GET', '/admin/v1/outbox?brand=EXISTING'],
      ['GET', '/admin/v1/users/EXISTING/MOBILE/919999999001'],
    ];
    for (const [label, auth] of BAD_AUTH) {
      for (const [method, path, body] of routes) {
        const r = await rawAdmin(h, method, path, auth, body);
        expectError(r, 1548, `${label}: ${method} ${path}`);
        // Nothing about brands, users or messages leaks into the refusal.
        assert.ok(!r.raw.includes('EXISTING') && !r.raw.includes('919999999001'), r.raw);
      }
    }
    // No effect: the new brand was not created, the existing one was neither changed nor deleted.
    expectAdminError(await h.admin('GET', '/admin/v1/brands/NEWBRAND'), 1504);
    const existing = await h.admin('GET', '/admin/v1/brands/EXISTING');
    assert.equal(existing.status, 200, existing.raw);
    assert.equal(existing.body.config.otpLength, 8);
    const list = await h.admin('GET', '/admin/v1/brands');
    assert.deepEqual(list.body.brands.map((b: { brand: string }) => b.brand), ['EXISTING']);
    // The right credential works on the same routes (so the 401s above are about the credential).
    assert.equal((await h.admin('GET', '/admin/v1/outbox')).status, 200);
    assert.equal((await h.admin('GET', '/admin/v1/users/EXISTING/MOBILE/919999999001')).status, 200);
  });
});

test('admin: a wrong token on PUT of a new brand does not create it (customer requests still get 1504)', async () => {
  await withHarness(async (h) => {
    const r = await rawAdmin(h, 'PUT', '/admin/v1/brands/DOCDEMO', 'Bearer wrong', {});
    expectAdminError(r, 1548);
    const gen = await h.post(url('web', 'token/generate'), idBody('web', 'DOCDEMO', 'MOBILE', '919999999001'));
    expectError(gen, 1504);
  });
});

// ---------------------------------------------------------------------------------------------
// Brand CRUD
// ---------------------------------------------------------------------------------------------

test('admin: PUT with {} creates the brand with every §2 default', async () => {
  await withHarness(async (h) => {
    const put = await h.admin('PUT', '/admin/v1/brands/DOCDEMO', {});
    assert.equal(put.status, 200, put.raw);
    assert.deepEqual(put.body, { status: SUCCESS, brand: 'DOCDEMO', config: SPEC_DEFAULTS });
    const get = await h.admin('GET', '/admin/v1/brands/DOCDEMO');
    assert.equal(get.status, 200, get.raw);
    assert.deepEqual(get.body, { status: SUCCESS, brand: 'DOCDEMO', config: SPEC_DEFAULTS });
  });
});

test('admin: PUT replaces the whole config (an omitted field returns to its default)', async () => {
  await withHarness(async (h) => {
    const first = await h.admin('PUT', '/admin/v1/brands/DOCDEMO', { otpLength: 8, passwordEnabled: true, tokenValiditySeconds: { mobile: 60, web: 120 } });
    assert.equal(first.status, 200, first.raw);
    assert.deepEqual(first.body.config, withDefaults({ otpLength: 8, passwordEnabled: true, tokenValiditySeconds: { mobile: 60, web: 120 } }));
    const second = await h.admin('PUT', '/admin/v1/brands/DOCDEMO', { otpLength: 7 });
    assert.equal(second.status, 200, second.raw);
    const expected = withDefaults({ otpLength: 7 });
    assert.deepEqual(second.body, { status: SUCCESS, brand: 'DOCDEMO', config: expected });
    const get = await h.admin('GET', '/admin/v1/brands/DOCDEMO');
    assert.deepEqual(get.body, { status: SUCCESS, brand: 'DOCDEMO', config: expected });
  });
});

test('admin: brand names are case-insensitive and stored upper-cased', async () => {
  await withHarness(async (h) => {
    const put = await h.admin('PUT', '/admin/v1/brands/docDemo', { otpLength: 5 });
    assert.equal(put.status, 200, put.raw);
    assert.equal(put.body.brand, 'DOCDEMO');
    for (const spelling of ['DOCDEMO', 'docdemo', 'DocDemo']) {
      const get = await h.admin('GET', `/admin/v1/brands/${spelling}`);
      assert.equal(get.status, 200, get.raw);
      assert.equal(get.body.brand, 'DOCDEMO');
      assert.equal(get.body.config.otpLength, 5);
    }
    // A PUT under another spelling replaces the same brand rather than creating a second one.
    assert.equal((await h.admin('PUT', '/admin/v1/brands/DOCdemo', { otpLength: 9 })).status, 200);
    const list = await h.admin('GET', '/admin/v1/brands');
    assert.deepEqual(list.body.brands.map((b: { brand: string }) => b.brand), ['DOCDEMO']);
    assert.equal(list.body.brands[0].config.otpLength, 9);
    // Customer requests find it under any spelling too.
    const gen = await h.post(url('web', 'token/generate'), idBody('web', 'DocDemo', 'MOBILE', '919999999001'));
    assert.equal(gen.status, 200, gen.raw);
  });
});

test('admin: invalid brand names are refused with 1519 on PUT, GET and DELETE', async () => {
  await withHarness(async (h) => {
    const names = [
      encodeURIComponent('bad name'),
      'a'.repeat(65),
      encodeURIComponent('a/b'),
      encodeURIComponent('ab!'),
      encodeURIComponent('brañd'),
    ];
    for (const name of names) {
      expectAdminError(await h.admin('PUT', `/admin/v1/brands/${name}`, {}), 1519);
      expectAdminError(await h.admin('GET', `/admin/v1/brands/${name}`), 1519);
      expectAdminError(await h.admin('DELETE', `/admin/v1/brands/${name}`), 1519);
    }
    // Nothing was created.
    const list = await h.admin('GET', '/admin/v1/brands');
    assert.deepEqual(list.body, { status: SUCCESS, brands: [] });
    // The limits themselves are fine: 64 characters, and every allowed punctuation.
    const put64 = await h.admin('PUT', `/admin/v1/brands/${'b'.repeat(64)}`, {});
    assert.equal(put64.status, 200, put64.raw);
    assert.equal(put64.body.brand, 'B'.repeat(64));
    const punct = await h.admin('PUT', '/admin/v1/brands/a_b-c.d9', {});
    assert.equal(punct.status, 200, punct.raw);
    assert.equal(punct.body.brand, 'A_B-C.D9');
  });
});

test('admin: GET one, GET list, DELETE then GET → 1504/404, DELETE unknown → 1504/404', async () => {
  await withHarness(async (h) => {
    await h.createBrand('ALPHA', { otpLength: 4 });
    await h.createBrand('beta', { passwordEnabled: true });

    const one = await h.admin('GET', '/admin/v1/brands/alpha');
    assert.equal(one.status, 200, one.raw);
    assert.deepEqual(one.body, { status: SUCCESS, brand: 'ALPHA', config: withDefaults({ otpLength: 4 }) });

    const list = await h.admin('GET', '/admin/v1/brands');
    assert.equal(list.status, 200, list.raw);
    assert.deepEqual(Object.keys(list.body).sort(), ['brands', 'status']);
    assert.deepEqual(list.body.status, SUCCESS);
    const byName = new Map(list.body.brands.map((b: { brand: string; config: unknown }) => [b.brand, b]));
    assert.equal(list.body.brands.length, 2);
    assert.deepEqual(byName.get('ALPHA'), { brand: 'ALPHA', config: withDefaults({ otpLength: 4 }) });
    assert.deepEqual(byName.get('BETA'), { brand: 'BETA', config: withDefaults({ passwordEnabled: true }) });

    const del = await h.admin('DELETE', '/admin/v1/brands/Alpha');
    assert.equal(del.status, 200, del.raw);
    assert.deepEqual(del.body, { status: SUCCESS });
    expectAdminError(await h.admin('GET', '/admin/v1/brands/ALPHA'), 1504);
    // Deleting again, or deleting a brand that never existed, is an unknown brand.
    expectAdminError(await h.admin('DELETE', '/admin/v1/brands/ALPHA'), 1504);
    expectAdminError(await h.admin('DELETE', '/admin/v1/brands/NEVER'), 1504);
    expectAdminError(await h.admin('GET', '/admin/v1/brands/NEVER'), 1504);

    const after = await h.admin('GET', '/admin/v1/brands');
    assert.deepEqual(after.body.brands.map((b: { brand: string }) => b.brand), ['BETA']);
    // The deleted brand is gone for customers too, immediately.
    expectError(await h.post(url('web', 'token/generate'), idBody('web', 'ALPHA', 'MOBILE', '919999999001')), 1504);
    assert.equal((await h.post(url('web', 'token/generate'), idBody('web', 'BETA', 'MOBILE', '919999999001'))).status, 200);
  });
});

test('admin: a bad config value is refused with 1519 and the old config stays', async () => {
  await withHarness(async (h) => {
    const original = { otpLength: 8, passwordEnabled: true, passwordPolicy: { minLength: 10 } };
    await h.createBrand('DOCDEMO', original);
    const before = (await h.admin('GET', '/admin/v1/brands/DOCDEMO')).body;
    assert.deepEqual(before.config, withDefaults({ otpLength: 8, passwordEnabled: true, passwordPolicy: { minLength: 10, maxLength: 128, regex: null, rejectCommon: true } }));

    const bad: unknown[] = [
      { otpLength: 3 },
      { otpLength: 11 },
      { otpLength: '6' },
      { sessionValiditySeconds: 0 },
      { otpValiditySeconds: 1.5 },
      { otpMaxCount: 3 }, // without otpTimeOut
      { otpTimeOut: 10 }, // without otpMaxCount
      { otpEnabled: 'yes' },
      { identifierTypes: [] },
      { identifierTypes: ['PHONE'] },
      { accountLocking: { lockMinutes: 43201 } },
      { passwordPolicy: { minLength: 20, maxLength: 10 } },
      { passwordPolicy: { regex: '(' } },
      { tokenValiditySeconds: { mobile: -1 } },
      { channels: { templates: { SMS: 'no code here' } } },
      { encryption: { enabled: true } }, // no key
      { encryption: { privateKeyPem: '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n' } },
      { testOtps: { 'MOBILE|919999999001': '12' } },
      { notAField: true },
      [],
      'config',
    ];
    for (const body of bad) {
      const r = await h.admin('PUT', '/admin/v1/brands/DOCDEMO', body);
      expectAdminError(r, 1519);
      const now = await h.admin('GET', '/admin/v1/brands/DOCDEMO');
      assert.deepEqual(now.body, before, `config changed after refused ${JSON.stringify(body)}`);
    }
    // A refused PUT of a new brand does not create it.
    expectAdminError(await h.admin('PUT', '/admin/v1/brands/NEWONE', { otpLength: 2 }), 1519);
    expectAdminError(await h.admin('GET', '/admin/v1/brands/NEWONE'), 1504);
  });
});

test('admin: otpMaxCount 0 is refused with 1535 and the old config stays', async () => {
  await withHarness(async (h) => {
    await h.createBrand('DOCDEMO', { otpMaxCount: 3, otpTimeOut: 10 });
    const before = await h.admin('GET', '/admin/v1/brands/DOCDEMO');
    assert.equal(before.body.config.otpMaxCount, 3);
    for (const body of [{ otpMaxCount: 0, otpTimeOut: 10 }, { otpMaxCount: 0 }]) {
      expectAdminError(await h.admin('PUT', '/admin/v1/brands/DOCDEMO', body), 1535);
      assert.deepEqual((await h.admin('GET', '/admin/v1/brands/DOCDEMO')).body, before.body);
    }
    // Both set, or both null, are accepted.
    const both = await h.admin('PUT', '/admin/v1/brands/DOCDEMO', { otpMaxCount: 1, otpTimeOut: 1 });
    assert.equal(both.status, 200, both.raw);
    assert.equal(both.body.config.otpMaxCount, 1);
    assert.equal(both.body.config.otpTimeOut, 1);
  });
});

test('admin: a nested object given in part is completed from the defaults', async () => {
  await withHarness(async (h) => {
    const put = await h.admin('PUT', '/admin/v1/brands/DOCDEMO', {
      passwordPolicy: { minLength: 10 },
      tokenValiditySeconds: { web: 60 },
      accountLocking: { enabled: true },
      encryption: { validSeconds: 30 },
      channels: { templates: { EMAIL: { subject: 'Code for {brand}' } } },
    });
    assert.equal(put.status, 200, put.raw);
    const expected = withDefaults({
      passwordPolicy: { minLength: 10, maxLength: 128, regex: null, rejectCommon: true },
      tokenValiditySeconds: { mobile: 900, web: 60 },
      accountLocking: { enabled: true, maxFailures: 10, lockMinutes: 30 },
      encryption: { enabled: false, privateKeyPem: null, hasPrivateKey: false, validSeconds: 30, endpoints: ['OTP'] },
      channels: {
        ...SPEC_DEFAULTS.channels,
        templates: {
          ...SPEC_DEFAULTS.channels.templates,
          EMAIL: { subject: 'Code for {brand}', text: 'Your {brand} code is {otp}. It expires in {minutes} minutes.' },
        },
      },
    });
    assert.deepEqual(put.body.config, expected);
    assert.deepEqual((await h.admin('GET', '/admin/v1/brands/DOCDEMO')).body.config, expected);
  });
});

test('admin: an encryption private key is never returned', async () => {
  await withHarness(async (h) => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.ok(pem.includes('PRIVATE KEY'));
    const keyBody = pem.split('\n')[1]!; // a line of the key material itself
    const responses: Res[] = [];
    const track = async (p: Promise<Res>) => {
      const r = await p;
      responses.push(r);
      return r;
    };

    const put = await track(h.admin('PUT', '/admin/v1/brands/DOCDEMO', { encryption: { enabled: true, privateKeyPem: pem } }));
    assert.equal(put.status, 200, put.raw);
    const expectedEnc = { enabled: true, privateKeyPem: null, hasPrivateKey: true, validSeconds: 120, endpoints: ['OTP'] };
    assert.deepEqual(put.body.config.encryption, expectedEnc);
    const get = await track(h.admin('GET', '/admin/v1/brands/DOCDEMO'));
    assert.deepEqual(get.body.config.encryption, expectedEnc);
    const list = await track(h.admin('GET', '/admin/v1/brands'));
    assert.deepEqual(list.body.brands[0].config.encryption, expectedEnc);

    // A GET → PUT round trip (privateKeyPem null) keeps the key rather than dropping it.
    const { status: _s, ...rest } = get.body;
    void _s;
    const roundTrip = { ...rest.config, encryption: { enabled: true, privateKeyPem: null, validSeconds: 60, endpoints: ['OTP'] } };
    const put2 = await track(h.admin('PUT', '/admin/v1/brands/DOCDEMO', roundTrip));
    assert.equal(put2.status, 200, put2.raw);
    assert.deepEqual(put2.body.config.encryption, { ...expectedEnc, validSeconds: 60 });
    // A refused PUT (a broken key) does not echo the PEM either.
    await track(h.admin('PUT', '/admin/v1/brands/DOCDEMO', { encryption: { enabled: true, privateKeyPem: pem.replace(keyBody, keyBody.split('').reverse().join('')) } }));

    for (const r of responses) {
      assert.ok(!r.raw.includes('PRIVATE KEY'), r.raw);
      assert.ok(!r.raw.includes(keyBody), r.raw);
    }
    const logs = h.logs.join('');
    assert.ok(!logs.includes('PRIVATE KEY') && !logs.includes(keyBody), 'private key material in the logs');
  });
});

test('admin: brand config survives an app restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ae-admin-restart-'));
  try {
    const cfg = { otpLength: 7, passwordEnabled: true, identifierTypes: ['EMAIL'], tokenValiditySeconds: { web: 42 } };
    const expected = withDefaults({ otpLength: 7, passwordEnabled: true, identifierTypes: ['EMAIL'], tokenValiditySeconds: { mobile: 900, web: 42 } });
    const h1 = await startHarness({ dataDir });
    try {
      await h1.createBrand('DocDemo', cfg);
      await h1.createBrand('Other', {});
      assert.equal((await h1.admin('DELETE', '/admin/v1/brands/other')).status, 200);
    } finally {
      await h1.close();
    }
    const h2 = await startHarness({ dataDir });
    try {
      const get = await h2.admin('GET', '/admin/v1/brands/DOCDEMO');
      assert.equal(get.status, 200, get.raw);
      assert.deepEqual(get.body, { status: SUCCESS, brand: 'DOCDEMO', config: expected });
      expectAdminError(await h2.admin('GET', '/admin/v1/brands/OTHER'), 1504);
      // And customers are served from it.
      expectError(await h2.post(url('web', 'token/generate'), idBody('web', 'DOCDEMO', 'MOBILE', '919999999001')), 1546);
      assert.equal((await h2.post(url('web', 'token/generate'), idBody('web', 'DOCDEMO', 'EMAIL', 'a@b.co'))).status, 200);
    } finally {
      await h2.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('admin: a brand change takes effect for customer requests immediately', async () => {
  for (const v of VARIANTS) {
    await withHarness(async (h) => {
      await h.createBrand('DOCDEMO');
      const before = await h.post(url(v, 'token/generate'), idBody(v, 'DOCDEMO', 'EMAIL', 'a@b.co'));
      assert.equal(before.status, 200, before.raw);
      await h.createBrand('DOCDEMO', { identifierTypes: ['MOBILE', 'USERNAME'] });
      expectError(await h.post(url(v, 'token/generate'), idBody(v, 'DOCDEMO', 'EMAIL', 'a@b.co')), 1546);
      assert.equal((await h.post(url(v, 'token/generate'), idBody(v, 'DOCDEMO', 'MOBILE', '919999999001'))).status, 200);
      // And back.
      await h.createBrand('DOCDEMO', {});
      assert.equal((await h.post(url(v, 'token/generate'), idBody(v, 'DOCDEMO', 'EMAIL', 'a@b.co'))).status, 200);
      // A new OTP length applies to the next OTP sent.
      await h.createBrand('DOCDEMO', { otpLength: 9 });
      const m = await otpLogin(h, v, 'DOCDEMO', 'MOBILE', '919999999002');
      assert.match(m.otp, /^[0-9]{9}$/);
      assert.equal(m.res.status, 200, m.res.raw);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Outbox
// ---------------------------------------------------------------------------------------------

/** token/generate + otp/generate; returns the session id. */
async function sendOtp(h: Harness, v: (typeof VARIANTS)[number], brand: string, type: string, value: string, extra: object = {}) {
  const id = idBody(v, brand, type, value);
  const gen = await h.post(url(v, 'token/generate'), { ...id, ...extra });
  assert.equal(gen.status, 200, gen.raw);
  const sessionId = gen.body.user.sessionId as string;
  const send = await h.post(url(v, 'otp/generate'), { ...id, sessionId });
  assert.equal(send.status, 200, send.raw);
  return sessionId;
}

test('admin: the outbox lists messages newest first with every field', async () => {
  await withHarness(async (h) => {
    await h.createBrand('DOCDEMO');
    const t0 = h.clock.now();
    await sendOtp(h, 'mobile', 'DOCDEMO', 'MOBILE', '+91 99999-99001');
    h.clock.advance(1000);
    await sendOtp(h, 'web', 'DOCDEMO', 'EMAIL', 'A@B.co');
    h.clock.advance(1000);
    await sendOtp(h, 'web', 'DOCDEMO', 'MOBILE', '919999999002');

    const r = await h.admin('GET', '/admin/v1/outbox');
    expectOk(r);
    const msgs = r.body.messages;
    assert.equal(msgs.length, 3);
    for (const m of msgs) assert.deepEqual(Object.keys(m).sort(), ['brand', 'channel', 'createdAt', 'identifier', 'otp', 'text', 'to']);
    const [newest, middle, oldest] = msgs;
    assert.equal(newest.identifier, 'MOBILE|919999999002');
    assert.equal(newest.to, '919999999002');
    assert.equal(newest.channel, 'SMS');
    assert.equal(newest.brand, 'DOCDEMO');
    assert.match(newest.otp, /^[0-9]{6}$/);
    assert.equal(newest.text, `Your DOCDEMO code is ${newest.otp}. It expires in 20 minutes.`);
    assert.equal(newest.createdAt, new Date(t0 + 2000).toISOString());

    assert.equal(middle.identifier, 'EMAIL|a@b.co');
    assert.equal(middle.to, 'a@b.co');
    assert.equal(middle.channel, 'EMAIL');
    assert.ok(middle.text.includes(middle.otp));
    assert.equal(middle.createdAt, new Date(t0 + 1000).toISOString());

    assert.equal(oldest.identifier, 'MOBILE|919999999001');
    assert.equal(oldest.to, '919999999001');
    assert.equal(oldest.createdAt, new Date(t0).toISOString());

    // Two OTPs for one identifier: the newer is first (and is the one that validates).
    const sid = await sendOtp(h, 'web', 'DOCDEMO', 'MOBILE', '919999999003');
    const first = (await h.admin('GET', '/admin/v1/outbox?identifier=MOBILE|919999999003')).body.messages[0].otp;
    h.clock.advance(1000);
    const resend = await h.post(url('web', 'otp/generate'), { ...idBody('web', 'DOCDEMO', 'MOBILE', '919999999003'), sessionId: sid });
    assert.equal(resend.status, 200, resend.raw);
    const both = (await h.admin('GET', `/admin/v1/outbox?identifier=${encodeURIComponent('MOBILE|919999999003')}`)).body.messages;
    assert.equal(both.length, 2);
    assert.equal(both[1].otp, first);
    assert.ok(both[0].createdAt > both[1].createdAt);
    const val = await h.post(url('web', 'otp/validate'), { ...idBody('web', 'DOCDEMO', 'MOBILE', '919999999003'), sessionId: sid, otp: both[0].otp });
    assert.equal(val.status, 200, val.raw);
  });
});

test('admin: outbox filters by identifier (session identifier or destination), brand and limit', async () => {
  await withHarness(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    await h.createBrand('OTHER');
    await sendOtp(h, 'web', 'DOCDEMO', 'MOBILE', '919999999001');
    await sendOtp(h, 'web', 'OTHER', 'MOBILE', '919999999001');
    await sendOtp(h, 'web', 'DOCDEMO', 'EMAIL', 'a@b.co');
    // A USERNAME sign-up: the session identifier is the username, the destination the mobile.
    await sendOtp(h, 'web', 'DOCDEMO', 'USERNAME', 'Alice', { mobile: '919999999009', password: 'Passw0rd-123', confirmPassword: 'Passw0rd-123' });

    const get = async (q: string) => {
      const r = await h.admin('GET', `/admin/v1/outbox?${q}`);
      assert.equal(r.status, 200, r.raw);
      return r.body.messages as { brand: string; identifier: string; to: string }[];
    };

    const byBrand = await get('brand=docdemo');
    assert.deepEqual(byBrand.map((m) => m.identifier), ['USERNAME|alice', 'EMAIL|a@b.co', 'MOBILE|919999999001']);
    assert.ok(byBrand.every((m) => m.brand === 'DOCDEMO'));
    assert.deepEqual((await get('brand=OTHER')).map((m) => [m.brand, m.identifier]), [['OTHER', 'MOBILE|919999999001']]);
    assert.deepEqual(await get('brand=NOBODY'), []);

    const byId = await get(`identifier=${encodeURIComponent('MOBILE|919999999001')}`);
    assert.deepEqual(byId.map((m) => m.brand), ['OTHER', 'DOCDEMO']);
    const byIdAndBrand = await get(`brand=DOCDEMO&identifier=${encodeURIComponent('MOBILE|919999999001')}`);
    assert.deepEqual(byIdAndBrand.map((m) => [m.brand, m.identifier]), [['DOCDEMO', 'MOBILE|919999999001']]);

    // The username's code is found by the username (session identifier) …
    const byUser = await get(`identifier=${encodeURIComponent('USERNAME|alice')}`);
    assert.deepEqual(byUser.map((m) => [m.identifier, m.to]), [['USERNAME|alice', '919999999009']]);
    // … by its spelling as typed (normalised like the identifier) …
    assert.equal((await get(`identifier=${encodeURIComponent('username|ALICE')}`)).length, 1);
    // … and by the destination it went to.
    const byDest = await get(`identifier=${encodeURIComponent('MOBILE|919999999009')}`);
    assert.deepEqual(byDest.map((m) => [m.identifier, m.to]), [['USERNAME|alice', '919999999009']]);
    // An email filter is normalised too.
    assert.deepEqual((await get(`identifier=${encodeURIComponent('EMAIL|A@B.CO')}`)).map((m) => m.identifier), ['EMAIL|a@b.co']);
    assert.deepEqual(await get(`identifier=${encodeURIComponent('MOBILE|919999999888')}`), []);

    // limit
    assert.deepEqual((await get('limit=2')).map((m) => m.identifier), ['USERNAME|alice', 'EMAIL|a@b.co']);
    assert.deepEqual((await get('limit=1&brand=OTHER')).map((m) => m.brand), ['OTHER']);
    assert.equal((await get('limit=100')).length, 4);

    for (const bad of ['limit=0', 'limit=-1', 'limit=abc', 'limit=1.5', 'limit=', 'limit=100000']) {
      expectAdminError(await h.admin('GET', `/admin/v1/outbox?${bad}`), 1519);
    }
    for (const bad of ['identifier=919999999001', `identifier=${encodeURIComponent('PHONE|919999999001')}`, `identifier=${encodeURIComponent('MOBILE|abc')}`]) {
      expectAdminError(await h.admin('GET', `/admin/v1/outbox?${bad}`), 1519);
    }
  });
});

test('admin: OTP template rendering fills {brand}, {otp} and {minutes} (rounded up)', async () => {
  for (const v of VARIANTS) {
    await withHarness(async (h) => {
      await h.createBrand('docDemo', { otpValiditySeconds: 90, channels: { templates: { SMS: '{brand}: {otp} valid {minutes} min' } } });
      await sendOtp(h, v, 'DOCDEMO', 'MOBILE', '919999999001');
      const msgs = (await h.admin('GET', '/admin/v1/outbox?brand=DOCDEMO')).body.messages;
      assert.equal(msgs.length, 1);
      assert.match(msgs[0].otp, /^[0-9]{6}$/);
      assert.equal(msgs[0].text, `DOCDEMO: ${msgs[0].otp} valid 2 min`);
      assert.equal(msgs[0].channel, 'SMS');
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

test('admin: GET user shows uid, identifiers (verified), hasPassword and createdAt; unknown → 1515', async () => {
  await withHarness(async (h) => {
    await h.createBrand('DOCDEMO', { passwordEnabled: true });
    const t0 = h.clock.now();
    const m = await otpLogin(h, 'mobile', 'DOCDEMO', 'MOBILE', '919999999001');
    assert.equal(m.res.status, 200, m.res.raw);

    const r = await h.admin('GET', '/admin/v1/users/docdemo/mobile/+91 99999-99001'.replaceAll(' ', '%20'));
    assert.equal(r.status, 200, r.raw);
    assert.deepEqual(Object.keys(r.body).sort(), ['status', 'user']);
    assert.deepEqual(r.body.status, SUCCESS);
    const u = r.body.user;
    assert.match(u.uid, /^[0-9]+$/);
    assert.deepEqual(u, {
      uid: u.uid,
      brand: 'DOCDEMO',
      identifiers: [{ type: 'MOBILE', value: '919999999001', verified: true }],
      hasPassword: false,
      lockedUntil: null,
      createdAt: new Date(t0).toISOString(),
    });

    // A user who registered a password at sign-up.
    h.clock.advance(5000);
    const p = await otpLogin(h, 'web', 'DOCDEMO', 'EMAIL', 'p@q.co', { password: 'Passw0rd-123', confirmPassword: 'Passw0rd-123' });
    assert.equal(p.res.status, 200, p.res.raw);
    const pu = (await h.admin('GET', '/admin/v1/users/DOCDEMO/EMAIL/P@Q.CO')).body.user;
    assert.equal(pu.hasPassword, true);
    assert.notEqual(pu.uid, u.uid);
    assert.deepEqual(pu.identifiers, [{ type: 'EMAIL', value: 'p@q.co', verified: true }]);
    assert.equal(pu.createdAt, new Date(t0 + 5000).toISOString());
    const raw = (await h.admin('GET', '/admin/v1/users/DOCDEMO/EMAIL/p@q.co')).raw;
    assert.ok(!raw.includes('Passw0rd-123') && !raw.includes('$argon2'), raw);

    // Unknown user, unknown brand, bad type, and a user of another brand.
    expectAdminError(await h.admin('GET', '/admin/v1/users/DOCDEMO/MOBILE/919999999999'), 1515);
    expectAdminError(await h.admin('GET', '/admin/v1/users/NOBRAND/MOBILE/919999999001'), 1504);
    await h.createBrand('OTHER');
    expectAdminError(await h.admin('GET', '/admin/v1/users/OTHER/MOBILE/919999999001'), 1515);
    expectAdminError(await h.admin('GET', '/admin/v1/users/DOCDEMO/EMAIL/919999999001'), 1519);
  });
});
