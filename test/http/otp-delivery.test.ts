// Spec §6 delivery choices on otp/generate: the brand's mobile sub-channel, `?fallbackChannel=`
// with 1601/1602/1603, where a fallback may send a code (never to an address the caller names),
// which identifier the code then proves, locale templates, the SMS Retriever / WebOTP formats,
// and the per-brand provider choice (1603 when the deployment has no such provider).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, startHarness, url, VARIANTS, type Harness, type V } from '../helpers/harness.ts';
import { expectAdminError, expectError, expectOk } from '../helpers/spec.ts';

const MOB = '919800000101';
const MAIL = 'fallback.user@example.com';

interface Sent { channel: string; to: string; text: string; otp: string; identifier: string }

async function outbox(h: Harness, brand: string, identifier: string): Promise<Sent[]> {
  const r = await h.admin('GET', `/admin/v1/outbox?brand=${brand}&identifier=${encodeURIComponent(identifier)}&limit=10`);
  expectOk(r, 'outbox');
  return r.body.messages as Sent[];
}

async function start(h: Harness, v: V, brand: string, type: string, value: string, extra: object = {}): Promise<string> {
  const r = await h.post(url(v, 'token/generate'), { ...idBody(v, brand, type, value), ...extra });
  expectOk(r, 'token/generate');
  return r.body.user.sessionId as string;
}

const generate = (h: Harness, v: V, brand: string, type: string, value: string, sessionId: string, query = '', extra: object = {}) =>
  h.post(`${url(v, 'otp/generate')}${query}`, { ...idBody(v, brand, type, value), sessionId, ...extra });

const validate = (h: Harness, v: V, brand: string, type: string, value: string, sessionId: string, otp: string) =>
  h.post(url(v, 'otp/validate'), { ...idBody(v, brand, type, value), sessionId, otp });

/** A USERNAME user with a verified mobile and an unverified email (the sign-up code went to the mobile). */
async function userWithMobileAndEmail(h: Harness, v: V, brand: string, username: string, mobile: string, email: string) {
  // USERNAME sign-up with both destinations; the code goes to the mobile, which becomes verified.
  const s = await start(h, v, brand, 'USERNAME', username, { mobile, email, password: 'Correct-Horse-42', confirmPassword: 'Correct-Horse-42' });
  expectOk(await generate(h, v, brand, 'USERNAME', username, s), 'sign-up send');
  const [m] = await outbox(h, brand, `MOBILE|${mobile}`);
  expectOk(await validate(h, v, brand, 'USERNAME', username, s, m.otp), 'sign-up validate');
}

const userView = async (h: Harness, brand: string, type: string, value: string) => {
  const r = await h.admin('GET', `/admin/v1/users/${brand}/${type}/${encodeURIComponent(value)}`);
  expectOk(r, 'admin user');
  return r.body.user as { identifiers: { type: string; value: string; verified: boolean }[] };
};

for (const v of VARIANTS) {
  test(`${v}: mobileSubChannel sends MOBILE codes by WHATSAPP; ?fallbackChannel=SMS sends by SMS; EMAIL stays EMAIL`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Sub', { channels: { mobileSubChannel: 'WHATSAPP', fallbackChannels: ['SMS'], templates: { WHATSAPP: 'WA {otp}', SMS: 'SMS {otp}' } } });
      const s = await start(h, v, 'Sub', 'MOBILE', MOB);
      expectOk(await generate(h, v, 'Sub', 'MOBILE', MOB, s), 'primary send');
      let [m] = await outbox(h, 'SUB', `MOBILE|${MOB}`);
      assert.equal(m.channel, 'WHATSAPP');
      assert.equal(m.text, `WA ${m.otp}`);

      expectOk(await generate(h, v, 'Sub', 'MOBILE', MOB, s, '?fallbackChannel=SMS'), 'fallback send');
      [m] = await outbox(h, 'SUB', `MOBILE|${MOB}`);
      assert.equal(m.channel, 'SMS');
      assert.equal(m.to, MOB);
      assert.equal(m.text, `SMS ${m.otp}`);
      // Lower case is the same channel name.
      expectOk(await generate(h, v, 'Sub', 'MOBILE', MOB, s, '?fallbackChannel=sms'), 'fallback, lower case');
      // The latest code (sent by the fallback) logs in.
      [m] = await outbox(h, 'SUB', `MOBILE|${MOB}`);
      expectOk(await validate(h, v, 'Sub', 'MOBILE', MOB, s, m.otp), 'validate the fallback code');

      const e = await start(h, v, 'Sub', 'EMAIL', MAIL);
      expectOk(await generate(h, v, 'Sub', 'EMAIL', MAIL, e), 'email send');
      const [em] = await outbox(h, 'SUB', `EMAIL|${MAIL}`);
      assert.equal(em.channel, 'EMAIL');
    } finally {
      await h.close();
    }
  });

  test(`${v}: a fallback channel not in fallbackChannels, or unknown, is 1603; nothing is sent or counted`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Fb', { otpMaxCount: 1, otpTimeOut: 10, channels: { mobileSubChannel: 'ZALO', fallbackChannels: ['SMS'] } });
      const s = await start(h, v, 'Fb', 'MOBILE', MOB);
      expectError(await generate(h, v, 'Fb', 'MOBILE', MOB, s, '?fallbackChannel=WHATSAPP'), 1603, 'not listed');
      expectError(await generate(h, v, 'Fb', 'MOBILE', MOB, s, '?fallbackChannel=FAX'), 1603, 'not a channel');
      expectError(await generate(h, v, 'Fb', 'MOBILE', MOB, s, '?fallbackChannel=SMS&fallbackChannel=SMS'), 1519, 'repeated parameter');
      assert.equal((await outbox(h, 'FB', `MOBILE|${MOB}`)).length, 0);
      // The one allowed send is still there.
      expectOk(await generate(h, v, 'Fb', 'MOBILE', MOB, s), 'the quota was not used by the refusals');
      const [m] = await outbox(h, 'FB', `MOBILE|${MOB}`);
      assert.equal(m.channel, 'ZALO');
    } finally {
      await h.close();
    }
  });

  test(`${v}: fallback needing a mobile or an email the customer does not have — 1601 / 1602`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Need', { channels: { fallbackChannels: ['SMS', 'EMAIL', 'WHATSAPP'] } });
      // A new MOBILE customer has no email; a new EMAIL customer has no mobile.
      const m = await start(h, v, 'Need', 'MOBILE', MOB);
      expectError(await generate(h, v, 'Need', 'MOBILE', MOB, m, '?fallbackChannel=EMAIL'), 1602, 'mobile session, email fallback');
      // An email named in the body is not a destination the customer is bound to.
      expectError(await generate(h, v, 'Need', 'MOBILE', MOB, m, '?fallbackChannel=EMAIL', { email: 'attacker@example.com' }), 1602, 'named email');
      const e = await start(h, v, 'Need', 'EMAIL', MAIL);
      expectError(await generate(h, v, 'Need', 'EMAIL', MAIL, e, '?fallbackChannel=SMS'), 1601, 'email session, SMS fallback');
      expectError(await generate(h, v, 'Need', 'EMAIL', MAIL, e, '?fallbackChannel=WHATSAPP', { mobile: '919800000999' }), 1601, 'named mobile');
      assert.equal((await outbox(h, 'NEED', `MOBILE|${MOB}`)).length + (await outbox(h, 'NEED', `EMAIL|${MAIL}`)).length, 0);
    } finally {
      await h.close();
    }
  });

  test(`${v}: an existing user's email receives the EMAIL fallback of a MOBILE login; a different named email is 1541`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Exist', { passwordEnabled: true, channels: { fallbackChannels: ['EMAIL'] } });
      await userWithMobileAndEmail(h, v, 'Exist', 'fbuser', MOB, MAIL);
      const s = await start(h, v, 'Exist', 'MOBILE', MOB);
      expectError(await generate(h, v, 'Exist', 'MOBILE', MOB, s, '?fallbackChannel=EMAIL', { email: 'someone.else@example.com' }), 1541, 'named email not the user’s');
      expectOk(await generate(h, v, 'Exist', 'MOBILE', MOB, s, '?fallbackChannel=EMAIL', { email: MAIL.toUpperCase() }), 'the user’s own email, any case');
      const [m] = await outbox(h, 'EXIST', `EMAIL|${MAIL}`);
      assert.equal(m.channel, 'EMAIL');
      assert.equal(m.to, MAIL);
      assert.equal(m.identifier, `MOBILE|${MOB}`, 'the session identifier is recorded');
      const r = await validate(h, v, 'Exist', 'MOBILE', MOB, s, m.otp);
      expectOk(r, 'the code from the email logs the MOBILE session in');
      // The email was unverified (the sign-up code went to the mobile); receiving this code proves it.
      const u = await userView(h, 'EXIST', 'MOBILE', MOB);
      assert.deepEqual(u.identifiers.find((i) => i.type === 'EMAIL'), { type: 'EMAIL', value: MAIL, verified: true });
    } finally {
      await h.close();
    }
  });

  test(`${v}: USERNAME sign-up with EMAIL fallback — the code goes to the sign-up email, which becomes the verified one`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Signup', { passwordEnabled: true, channels: { fallbackChannels: ['EMAIL'] } });
      const s = await start(h, v, 'Signup', 'USERNAME', 'newbie', { mobile: MOB, email: MAIL, password: 'Correct-Horse-42', confirmPassword: 'Correct-Horse-42' });
      expectOk(await generate(h, v, 'Signup', 'USERNAME', 'newbie', s, '?fallbackChannel=EMAIL'), 'fallback to the sign-up email');
      assert.equal((await outbox(h, 'SIGNUP', `MOBILE|${MOB}`)).length, 0, 'nothing went to the mobile');
      const [m] = await outbox(h, 'SIGNUP', `EMAIL|${MAIL}`);
      expectOk(await validate(h, v, 'Signup', 'USERNAME', 'newbie', s, m.otp), 'validate');
      const u = await userView(h, 'SIGNUP', 'USERNAME', 'newbie');
      const byType = Object.fromEntries(u.identifiers.map((i) => [i.type, i.verified]));
      assert.deepEqual(byType, { USERNAME: true, MOBILE: false, EMAIL: true });
    } finally {
      await h.close();
    }
  });

  test(`${v}: locale templates — exact tag, then language, then the default; a bad locale is 1519`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Loc', {
        channels: {
          templates: { SMS: 'Code {otp}', EMAIL: { subject: 'Code', text: 'Code {otp}' } },
          locales: { vi: { SMS: 'Mã {brand} của bạn là {otp} ({minutes} phút)' }, 'pt-BR': { SMS: 'Código {otp}' }, fr: { EMAIL: { subject: 'Votre code' } } },
        },
        otpValiditySeconds: 150,
      });
      const send = async (locale: string | undefined, type = 'MOBILE', value = MOB) => {
        const s = await start(h, v, 'Loc', type, value);
        const r = await generate(h, v, 'Loc', type, value, s, '', locale === undefined ? {} : { locale });
        return r;
      };
      expectOk(await send('vi'), 'vi');
      let [m] = await outbox(h, 'LOC', `MOBILE|${MOB}`);
      assert.equal(m.text, `Mã LOC của bạn là ${m.otp} (3 phút)`);
      expectOk(await send('VI-vn'), 'vi-VN falls back to vi');
      [m] = await outbox(h, 'LOC', `MOBILE|${MOB}`);
      assert.match(m.text, /^Mã LOC/);
      expectOk(await send('pt-br'), 'pt-BR, any case');
      [m] = await outbox(h, 'LOC', `MOBILE|${MOB}`);
      assert.equal(m.text, `Código ${m.otp}`);
      expectOk(await send('de'), 'no German: default');
      [m] = await outbox(h, 'LOC', `MOBILE|${MOB}`);
      assert.equal(m.text, `Code ${m.otp}`);
      expectOk(await send(undefined), 'no locale: default');
      // A locale given in part takes the rest from the brand's templates.
      expectOk(await send('fr', 'EMAIL', MAIL), 'fr email');
      [m] = await outbox(h, 'LOC', `EMAIL|${MAIL}`);
      assert.equal(m.text, `Code ${m.otp}`);
      for (const bad of ['english!', 'x', 'a'.repeat(40), 12]) expectError(await send(bad as string), 1519, `locale ${JSON.stringify(bad)}`);
    } finally {
      await h.close();
    }
  });

  test(`${v}: SMS formats — Android app hash line and WebOTP last line; other channels untouched`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Fmt', { channels: { templates: { SMS: 'Your code is {otp}.' }, smsFormat: { appHash: 'FA+9qCX9VSu', webOtpDomain: 'Login.Example.com' } } });
      const s = await start(h, v, 'Fmt', 'MOBILE', MOB);
      expectOk(await generate(h, v, 'Fmt', 'MOBILE', MOB, s), 'send');
      const [m] = await outbox(h, 'FMT', `MOBILE|${MOB}`);
      assert.equal(m.text, `Your code is ${m.otp}.\nFA+9qCX9VSu\n\n@login.example.com #${m.otp}`);
      const e = await start(h, v, 'Fmt', 'EMAIL', MAIL);
      expectOk(await generate(h, v, 'Fmt', 'EMAIL', MAIL, e), 'email');
      const [em] = await outbox(h, 'FMT', `EMAIL|${MAIL}`);
      assert.doesNotMatch(em.text, /FA\+9qCX9VSu|@login/);
    } finally {
      await h.close();
    }
  });
}

test('brand channel settings are validated when saved (1519) and shown by GET', async () => {
  const h = await startHarness();
  try {
    const bad: [string, object][] = [
      ['locale template without {otp}', { locales: { vi: { SMS: 'no code here' } } }],
      ['locale tag', { locales: { 'not a tag': { SMS: '{otp}' } } }],
      ['duplicate locale after lower-casing', { locales: { vi: { SMS: '{otp}' }, VI: { SMS: '{otp}' } } }],
      ['unknown template field in a locale', { locales: { vi: { FAX: '{otp}' } } }],
      ['smtp for SMS', { providers: { SMS: 'smtp' } }],
      ['unknown provider', { providers: { EMAIL: 'pigeon' } }],
      ['unknown provider channel', { providers: { FAX: 'webhook' } }],
      ['app hash length', { smsFormat: { appHash: 'short' } }],
      ['WebOTP with a scheme', { smsFormat: { webOtpDomain: 'https://example.com' } }],
      ['WebOTP with a path', { smsFormat: { webOtpDomain: 'example.com/login' } }],
      ['fallback not a channel', { fallbackChannels: ['FAX'] }],
    ];
    for (const [what, channels] of bad) {
      const r = await h.admin('PUT', '/admin/v1/brands/CHK', { channels });
      expectAdminError(r, 1519, what);
    }
    const good = { mobileSubChannel: 'WHATSAPP', fallbackChannels: ['SMS', 'EMAIL'], locales: { 'pt-BR': { SMS: 'Código {otp}' } }, providers: { EMAIL: 'smtp', SMS: 'webhook' }, smsFormat: { appHash: 'FA+9qCX9VSu', webOtpDomain: 'example.com' } };
    expectOk(await h.admin('PUT', '/admin/v1/brands/CHK', { channels: good }), 'good channels');
    const r = await h.admin('GET', '/admin/v1/brands/CHK');
    const ch = r.body.config.channels;
    assert.deepEqual(ch.providers, { SMS: 'webhook', EMAIL: 'smtp' });
    assert.deepEqual(ch.smsFormat, good.smsFormat);
    assert.equal(ch.locales['pt-br'].SMS, 'Código {otp}');
    assert.equal(ch.locales['pt-br'].WHATSAPP, ch.templates.WHATSAPP, 'a partial locale is completed from the brand templates');
  } finally {
    await h.close();
  }
});

test('a brand provider the deployment does not have answers 1603 and counts nothing', async () => {
  const h = await startHarness();
  try {
    const orig = h.deps.sender;
    const asked: [string, string | null][] = [];
    h.deps.sender = {
      canDeliver: (channel, provider) => {
        asked.push([channel, provider]);
        return provider !== 'smtp';
      },
      send: (m) => orig.send(m),
    };
    await h.createBrand('Prov', { otpMaxCount: 1, otpTimeOut: 10, channels: { providers: { EMAIL: 'smtp', SMS: 'outbox' } } });
    const e = await start(h, 'mobile', 'Prov', 'EMAIL', MAIL);
    expectError(await generate(h, 'mobile', 'Prov', 'EMAIL', MAIL, e), 1603, 'email by smtp, not configured');
    const s = await start(h, 'mobile', 'Prov', 'MOBILE', MOB);
    expectOk(await generate(h, 'mobile', 'Prov', 'MOBILE', MOB, s), 'SMS by outbox');
    assert.deepEqual(asked, [['EMAIL', 'smtp'], ['SMS', 'outbox']]);
    // The refused email send did not use the email's one allowed OTP.
    h.deps.sender = orig;
    expectOk(await h.admin('PUT', '/admin/v1/brands/PROV', { otpMaxCount: 1, otpTimeOut: 10 }), 'back to the deployment providers');
    expectOk(await generate(h, 'mobile', 'Prov', 'EMAIL', MAIL, e), 'the quota is intact');
  } finally {
    await h.close();
  }
});
