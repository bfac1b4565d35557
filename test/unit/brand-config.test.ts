import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { AuthError } from '../../src/domain/errors.ts';
import { DEFAULT_BRAND_CONFIG, parseBrandConfig, publicBrandConfig } from '../../src/domain/brand-config.ts';

// One key pair for the file: generating RSA keys is slow.
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PKCS8 = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const PKCS1 = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;

/** Asserts 1519 whose detail starts with the field path. */
function refused(body: unknown, field: string): void {
  assert.throws(() => parseBrandConfig(body), (e: unknown) => {
    assert.ok(e instanceof AuthError, 'an AuthError');
    assert.equal(e.code, 1519);
    // `field:` or, for a map entry, `field["key"]:`
    assert.ok(e.detail?.startsWith(`${field}:`) || e.detail?.startsWith(`${field}["`), `detail "${e.detail}" names ${field}`);
    return true;
  });
}

test('{} gives every default of spec §2', () => {
  const c = parseBrandConfig({});
  assert.deepEqual(c, DEFAULT_BRAND_CONFIG);
  assert.deepEqual(c.identifierTypes, ['MOBILE', 'EMAIL', 'USERNAME']);
  assert.equal(c.otpLength, 6);
  assert.equal(c.sessionValiditySeconds, 1200);
  assert.deepEqual(c.accountLocking, { enabled: false, maxFailures: 10, lockMinutes: 30 });
  assert.deepEqual(c.encryption, { enabled: false, privateKeyPem: null, validSeconds: 120, endpoints: ['OTP'] });
  assert.equal(c.channels.templates.SMS, 'Your {brand} code is {otp}. It expires in {minutes} minutes.');
  assert.deepEqual(c.channels.templates.EMAIL, {
    subject: 'Your {brand} code', text: 'Your {brand} code is {otp}. It expires in {minutes} minutes.',
  });
  assert.equal(c.channels.templates.ZALO, c.channels.templates.SMS);
  assert.deepEqual(c.testOtps, {});
});

test('the result and the defaults are deep-frozen', () => {
  const c = parseBrandConfig({ testOtps: { 'MOBILE|919999999993': '999999' } });
  for (const o of [c, c.accountLocking, c.identifierTypes, c.channels.templates.EMAIL, c.testOtps, c.encryption.endpoints,
    DEFAULT_BRAND_CONFIG, DEFAULT_BRAND_CONFIG.channels.fallbackChannels]) {
    assert.ok(Object.isFrozen(o));
  }
  assert.throws(() => { (c as { otpLength: number }).otpLength = 4; }, TypeError);
});

test('a nested object given in part is completed from the defaults', () => {
  const c = parseBrandConfig({
    accountLocking: { enabled: true },
    tokenValiditySeconds: { mobile: 60 },
    passwordPolicy: { regex: '[a-z0-9]+' },
    encryption: { validSeconds: 30 },
    channels: { templates: { SMS: 'Code {otp}', EMAIL: { subject: 'Hi' } } },
  });
  assert.deepEqual(c.accountLocking, { enabled: true, maxFailures: 10, lockMinutes: 30 });
  assert.deepEqual(c.tokenValiditySeconds, { mobile: 60, web: 900 });
  assert.deepEqual(c.passwordPolicy, { minLength: 8, maxLength: 128, regex: '[a-z0-9]+', rejectCommon: true });
  assert.deepEqual(c.encryption, { enabled: false, privateKeyPem: null, validSeconds: 30, endpoints: ['OTP'] });
  assert.equal(c.channels.templates.SMS, 'Code {otp}');
  assert.deepEqual(c.channels.templates.EMAIL, { subject: 'Hi', text: DEFAULT_BRAND_CONFIG.channels.templates.EMAIL.text });
  assert.equal(c.channels.templates.WHATSAPP, DEFAULT_BRAND_CONFIG.channels.templates.WHATSAPP);
});

test('PUT replaces: missing fields take defaults, not the previous config', () => {
  const prev = parseBrandConfig({ otpLength: 8, passwordEnabled: true });
  const c = parseBrandConfig({ otpEnabled: false }, prev);
  assert.equal(c.otpLength, 6);
  assert.equal(c.passwordEnabled, false);
  assert.equal(c.otpEnabled, false);
});

test('valid values are accepted and case-insensitive lists are upper-cased', () => {
  const c = parseBrandConfig({
    identifierTypes: ['mobile', 'Email'],
    otpLength: 10,
    otpMaxCount: 3,
    otpTimeOut: 10,
    otpDailyLimit: 20,
    otpResendCooldownSeconds: 0,
    keyValidityMinutes: 60,
    ipRateLimit: { requestsPerMinute: 120 },
    accountLocking: { lockMinutes: 43200 },
    encryption: { endpoints: ['otp'] },
    channels: { mobileSubChannel: 'whatsapp', fallbackChannels: ['sms', 'EMAIL'] },
    testOtps: { 'mobile|+91 99999-99993': '0123', 'EMAIL|QA@Example.com': '9999999999' },
  });
  assert.deepEqual(c.identifierTypes, ['MOBILE', 'EMAIL']);
  assert.equal(c.otpMaxCount, 3);
  assert.equal(c.otpTimeOut, 10);
  assert.deepEqual(c.ipRateLimit, { requestsPerMinute: 120 });
  assert.deepEqual(c.encryption.endpoints, ['OTP']);
  assert.equal(c.channels.mobileSubChannel, 'WHATSAPP');
  assert.deepEqual(c.channels.fallbackChannels, ['SMS', 'EMAIL']);
  assert.deepEqual(c.testOtps, { 'MOBILE|919999999993': '0123', 'EMAIL|qa@example.com': '9999999999' });
});

test('the body must be a plain object', () => {
  for (const bad of [null, [], 'x', 1, new Date()]) refused(bad, 'config');
});

test('unknown field names are refused, top-level and nested', () => {
  refused({ otpLenght: 6 }, 'otpLenght');
  refused({ accountLocking: { enable: true } }, 'accountLocking.enable');
  refused({ channels: { templates: { SMSS: 'x {otp}' } } }, 'channels.templates.SMSS');
  refused({ channels: { templates: { EMAIL: { body: 'x {otp}' } } } }, 'channels.templates.EMAIL.body');
  refused({ encryption: { privateKey: 'x' } }, 'encryption.privateKey');
});

test('each rule refuses a bad value with 1519 naming the field', () => {
  const cases: [unknown, string][] = [
    [{ otpEnabled: 'true' }, 'otpEnabled'],
    [{ passwordEnabled: 1 }, 'passwordEnabled'],
    [{ passwordRequiredAtSignup: null }, 'passwordRequiredAtSignup'],
    [{ issueKey: 'yes' }, 'issueKey'],
    [{ rotateKeys: 0 }, 'rotateKeys'],
    [{ identifierTypes: [] }, 'identifierTypes'],
    [{ identifierTypes: 'MOBILE' }, 'identifierTypes'],
    [{ identifierTypes: ['MOBILE', 'PHONE'] }, 'identifierTypes[1]'],
    [{ identifierTypes: ['MOBILE', 'mobile'] }, 'identifierTypes[1]'],
    [{ otpLength: 3 }, 'otpLength'],
    [{ otpLength: 11 }, 'otpLength'],
    [{ otpLength: 6.5 }, 'otpLength'],
    [{ otpLength: '6' }, 'otpLength'],
    [{ sessionValiditySeconds: 0 }, 'sessionValiditySeconds'],
    [{ otpValiditySeconds: -1 }, 'otpValiditySeconds'],
    [{ otpMaxCount: -1, otpTimeOut: 5 }, 'otpMaxCount'],
    [{ otpMaxCount: 3 }, 'otpMaxCount'], // set both or neither
    [{ otpTimeOut: 5 }, 'otpMaxCount'],
    [{ otpMaxCount: 3, otpTimeOut: 0 }, 'otpTimeOut'],
    [{ otpDailyLimit: 0 }, 'otpDailyLimit'],
    [{ otpResendCooldownSeconds: -1 }, 'otpResendCooldownSeconds'],
    [{ maxOtpRetries: 0 }, 'maxOtpRetries'],
    [{ maxPasswordRetries: 1.5 }, 'maxPasswordRetries'],
    [{ passwordRetryWindowMinutes: 0 }, 'passwordRetryWindowMinutes'],
    [{ accountLocking: null }, 'accountLocking'],
    [{ accountLocking: { enabled: 'no' } }, 'accountLocking.enabled'],
    [{ accountLocking: { maxFailures: 0 } }, 'accountLocking.maxFailures'],
    [{ accountLocking: { lockMinutes: 43201 } }, 'accountLocking.lockMinutes'],
    [{ accountLocking: { lockMinutes: 0 } }, 'accountLocking.lockMinutes'],
    [{ tokenValiditySeconds: { web: 0 } }, 'tokenValiditySeconds.web'],
    [{ tokenValiditySeconds: 900 }, 'tokenValiditySeconds'],
    [{ keyValidityMinutes: 0 }, 'keyValidityMinutes'],
    [{ webRegenerateGraceSeconds: 0 }, 'webRegenerateGraceSeconds'],
    [{ passwordPolicy: { minLength: 0 } }, 'passwordPolicy.minLength'],
    [{ passwordPolicy: { minLength: 10, maxLength: 9 } }, 'passwordPolicy.maxLength'],
    [{ passwordPolicy: { maxLength: 4097 } }, 'passwordPolicy.maxLength'],
    [{ passwordPolicy: { regex: '([a-z]' } }, 'passwordPolicy.regex'],
    [{ passwordPolicy: { regex: '\\p{Foo}' } }, 'passwordPolicy.regex'], // valid only without the u flag
    [{ passwordPolicy: { regex: 5 } }, 'passwordPolicy.regex'],
    [{ passwordPolicy: { rejectCommon: 'yes' } }, 'passwordPolicy.rejectCommon'],
    [{ otpAbuse: { perIpPerHour: 0 } }, 'otpAbuse.perIpPerHour'],
    [{ otpAbuse: { perPrefixPerHour: -1 } }, 'otpAbuse.perPrefixPerHour'],
    [{ otpAbuse: { prefixLength: 16 } }, 'otpAbuse.prefixLength'],
    [{ otpAbuse: { allowedCountryCodes: ['+91'] } }, 'otpAbuse.allowedCountryCodes[0]'],
    [{ otpAbuse: { allowedCountryCodes: ['91', '91'] } }, 'otpAbuse.allowedCountryCodes[1]'],
    [{ otpAbuse: { brandDailyBudget: 1.5 } }, 'otpAbuse.brandDailyBudget'],
    [{ otpAbuse: { typo: 1 } }, 'otpAbuse.typo'],
    [{ loginAbuse: { perIpPerMinute: 0 } }, 'loginAbuse.perIpPerMinute'],
    [{ loginAbuse: { perIdentifierPerMinute: 'x' } }, 'loginAbuse.perIdentifierPerMinute'],
    [{ ipRateLimit: { requestsPerMinute: 0 } }, 'ipRateLimit.requestsPerMinute'],
    [{ ipRateLimit: {} }, 'ipRateLimit.requestsPerMinute'],
    [{ ipRateLimit: 120 }, 'ipRateLimit'],
    [{ encryption: { enabled: 'true' } }, 'encryption.enabled'],
    [{ encryption: { enabled: true } }, 'encryption.privateKeyPem'], // enabled without a key
    [{ encryption: { validSeconds: 0 } }, 'encryption.validSeconds'],
    [{ encryption: { endpoints: ['TOKEN'] } }, 'encryption.endpoints[0]'],
    [{ encryption: { endpoints: 'OTP' } }, 'encryption.endpoints'],
    [{ encryption: { privateKeyPem: 42 } }, 'encryption.privateKeyPem'],
    [{ channels: { mobileSubChannel: 'SMS' } }, 'channels.mobileSubChannel'],
    [{ channels: { fallbackChannels: ['FAX'] } }, 'channels.fallbackChannels[0]'],
    [{ channels: { fallbackChannels: ['SMS', 'sms'] } }, 'channels.fallbackChannels[1]'],
    [{ channels: { templates: { SMS: 'no code here' } } }, 'channels.templates.SMS'],
    [{ channels: { templates: { WHATSAPP: '' } } }, 'channels.templates.WHATSAPP'],
    [{ channels: { templates: { ZALO: `{otp}${'x'.repeat(1000)}` } } }, 'channels.templates.ZALO'],
    [{ channels: { templates: { EMAIL: { text: 'hello' } } } }, 'channels.templates.EMAIL.text'],
    [{ channels: { templates: { EMAIL: { subject: '' } } } }, 'channels.templates.EMAIL.subject'],
    [{ channels: { templates: { EMAIL: { subject: 'x'.repeat(201) } } } }, 'channels.templates.EMAIL.subject'],
    [{ channels: { templates: { EMAIL: 'x {otp}' } } }, 'channels.templates.EMAIL'],
    [{ testOtps: [] }, 'testOtps'],
    [{ testOtps: { 'PHONE|919999999993': '1234' } }, 'testOtps'],
    [{ testOtps: { 'MOBILE|123': '1234' } }, 'testOtps'],
    [{ testOtps: { 'MOBILE|919999999993': 123456 } }, 'testOtps'], // a number loses leading zeros
    [{ testOtps: { 'MOBILE|919999999993': '123' } }, 'testOtps'],
    [{ testOtps: { 'MOBILE|919999999993': '12345678901' } }, 'testOtps'],
    [{ testOtps: { 'MOBILE|919999999993': '12a4' } }, 'testOtps'],
    [{ testOtps: { 'MOBILE|919999999993': '1234', 'MOBILE|+91 99999 99993': '1234' } }, 'testOtps'],
  ];
  for (const [body, field] of cases) refused(body, field);
});

test('testOtps holds at most 1000 entries', () => {
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`USERNAME|user${i}`, '1234']));
  assert.equal(Object.keys(parseBrandConfig({ testOtps: many(1000) }).testOtps).length, 1000);
  refused({ testOtps: many(1001) }, 'testOtps');
});

test('otpMaxCount 0 is 1535, even without otpTimeOut', () => {
  for (const body of [{ otpMaxCount: 0 }, { otpMaxCount: 0, otpTimeOut: 10 }]) {
    assert.throws(() => parseBrandConfig(body), (e: unknown) => e instanceof AuthError && e.code === 1535);
  }
});

test('RSA private keys in PKCS#8 and PKCS#1 PEM are accepted', () => {
  for (const pem of [PKCS8, PKCS1]) {
    const c = parseBrandConfig({ encryption: { enabled: true, privateKeyPem: pem } });
    assert.equal(c.encryption.privateKeyPem, pem);
    assert.equal(c.encryption.enabled, true);
  }
});

test('a bad key is refused without echoing it', () => {
  const garbage = '-----BEGIN PRIVATE KEY-----\nTm90QUtleVNlY3JldE1hdGVyaWFs\n-----END PRIVATE KEY-----\n';
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const pub = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  for (const pem of [garbage, ec, small, pub, 'not a pem at all']) {
    assert.throws(() => parseBrandConfig({ encryption: { privateKeyPem: pem } }), (e: unknown) => {
      assert.ok(e instanceof AuthError && e.code === 1519);
      assert.ok(e.detail?.startsWith('encryption.privateKeyPem:'));
      assert.ok(!e.detail?.includes('Tm90QUtl') && !e.detail?.includes('BEGIN'), 'no key material in the detail');
      assert.ok(!e.message.includes('Tm90QUtl') && e.cause === undefined);
      return true;
    });
  }
});

test('an absent or null privateKeyPem keeps the previous key (GET → edit → PUT)', () => {
  const prev = parseBrandConfig({ encryption: { enabled: true, privateKeyPem: PKCS8 } });
  const shown = publicBrandConfig(prev); // what an admin GETs, key hidden
  const { hasPrivateKey: _, ...encryption } = shown.encryption;
  const roundTrip = parseBrandConfig({ ...shown, encryption, otpLength: 8 }, prev);
  assert.equal(roundTrip.encryption.privateKeyPem, PKCS8);
  assert.equal(roundTrip.encryption.enabled, true);
  assert.equal(roundTrip.otpLength, 8);
  // The GET body as it is (with `hasPrivateKey`) is accepted too, and keeps the key.
  const verbatim = parseBrandConfig(JSON.parse(JSON.stringify(shown)), prev);
  assert.equal(verbatim.encryption.privateKeyPem, PKCS8);
  assert.ok(!('hasPrivateKey' in verbatim.encryption), 'hasPrivateKey is not stored');
  assert.throws(() => parseBrandConfig({ encryption: { hasPrivateKey: 'yes' } }), (e: AuthError) => e.code === 1519 && String(e.detail).includes('hasPrivateKey'));
  assert.equal(parseBrandConfig({ encryption: { enabled: true } }, prev).encryption.privateKeyPem, PKCS8);
  assert.equal(parseBrandConfig({}, prev).encryption.privateKeyPem, PKCS8);
  // A new key given replaces the old one.
  assert.equal(parseBrandConfig({ encryption: { privateKeyPem: PKCS1 } }, prev).encryption.privateKeyPem, PKCS1);
});

test('publicBrandConfig hides the key and tells whether one is set', () => {
  const withKey = publicBrandConfig(parseBrandConfig({ encryption: { enabled: true, privateKeyPem: PKCS8 } }));
  assert.equal(withKey.encryption.privateKeyPem, null);
  assert.equal(withKey.encryption.hasPrivateKey, true);
  assert.ok(!JSON.stringify(withKey).includes('PRIVATE KEY'));
  const without = publicBrandConfig(parseBrandConfig({ otpLength: 5 }));
  assert.deepEqual(without, {
    ...DEFAULT_BRAND_CONFIG, otpLength: 5,
    encryption: { enabled: false, privateKeyPem: null, hasPrivateKey: false, validSeconds: 120, endpoints: ['OTP'] },
  });
});
