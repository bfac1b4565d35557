// Spec §7 payload hash on otp/generate (code 5004): base64 RSA-OAEP (SHA-256, MGF1 SHA-256) of
// `<identifierValue>|<sessionId>|<timeStamp>` as sent in the body, under the brand's public key,
// checked with the brand's private key; timeStamp within ±validSeconds of now; each hash
// accepted once; a refused hash is not remembered; endpoints [] or enabled false turn it off.
// Hashes are built here with node's publicEncrypt, the way a client app would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants, generateKeyPairSync, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { idBody, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { expectError, expectOk } from '../helpers/spec.ts';

const SEC = 1000;
const VALID_SECONDS = 120;

const brandKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PKCS8 = brandKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const PKCS1 = brandKey.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;

const encrypted = (pem = PKCS8, extra: object = {}) => ({ encryption: { enabled: true, privateKeyPem: pem, validSeconds: VALID_SECONDS, endpoints: ['OTP'], ...extra } });

/** What a client app sends: base64 of RSA-OAEP-SHA256 over the exact text. */
function hashOf(text: string, key: KeyObject = brandKey.publicKey): string {
  return publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(text, 'utf8')).toString('base64');
}

interface Session {
  v: V;
  id: Record<string, unknown>;
  sessionId: string;
  /** identifierValue exactly as the body sends it. */
  raw: string;
}

async function session(h: Harness, v: V, brand: string, raw: string, type = 'MOBILE'): Promise<Session> {
  const id = idBody(v, brand, type, raw);
  const g = await h.post(url(v, 'token/generate'), id);
  expectOk(g, `${v} token/generate ${raw}`);
  return { v, id, sessionId: g.body.user.sessionId as string, raw };
}

/** A correct hash and timeStamp for the session, stamped with the harness clock's now (or `ts`). */
function proof(h: Harness, s: Session, ts: number | string = h.clock.now()) {
  return { timeStamp: ts, hash: hashOf(`${s.raw}|${s.sessionId}|${ts}`) };
}

const send = (h: Harness, s: Session, extra: object) => h.post(url(s.v, 'otp/generate'), { ...s.id, sessionId: s.sessionId, ...extra });

async function outboxCount(h: Harness, brand: string, identifier: string): Promise<number> {
  const r = await h.admin('GET', `/admin/v1/outbox?brand=${brand}&identifier=${encodeURIComponent(identifier)}&limit=1000`);
  assert.equal(r.status, 200, r.raw);
  return r.body.messages.length;
}

async function lastAudit(h: Harness, brand: string): Promise<{ type: string; detail: Record<string, unknown> }> {
  const r = await h.admin('GET', `/admin/v1/audit?brand=${brand}&limit=1`);
  expectOk(r, 'GET audit');
  return r.body.events[0];
}

/** 5004, nothing sent, and the refusal audited with its reason. */
async function expectTampered(h: Harness, r: Res, brand: string, identifier: string, reason: string, what: string) {
  expectError(r, 5004, what);
  assert.equal(r.headers['retry-after'], undefined, `${what}: no Retry-After on 5004`);
  assert.equal(await outboxCount(h, brand, identifier), 0, `${what}: nothing may be sent`);
  const e = await lastAudit(h, brand);
  assert.equal(e.type, 'otp_send_refused', what);
  assert.deepEqual(e.detail, { code: 5004, reason }, what);
}

async function withHarness(fn: (h: Harness) => Promise<void>) {
  const h = await startHarness();
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

for (const v of VARIANTS) {
  test(`${v}: a correct hash is accepted, with timeStamp as a JSON number or as a digit string; PKCS#1 keys work too`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Enc', encrypted());
      await h.createBrand('Enc1', encrypted(PKCS1));
      const a = await session(h, v, 'Enc', '919999999001');
      expectOk(await send(h, a, proof(h, a)), 'number timeStamp');
      assert.equal(await outboxCount(h, 'ENC', 'MOBILE|919999999001'), 1);

      const b = await session(h, v, 'Enc', '919999999002');
      expectOk(await send(h, b, proof(h, b, String(h.clock.now()))), 'string timeStamp');
      assert.equal(await outboxCount(h, 'ENC', 'MOBILE|919999999002'), 1);

      const c = await session(h, v, 'Enc1', 'c@example.com', 'EMAIL');
      expectOk(await send(h, c, proof(h, c)), 'PKCS#1 key, EMAIL identifier');
      assert.equal(await outboxCount(h, 'ENC1', 'EMAIL|c@example.com'), 1);
      assert.equal((await lastAudit(h, 'ENC1')).type, 'otp_sent');
    });
  });

  test(`${v}: missing, malformed, foreign-key and mismatching hashes are refused with 5004 and send nothing`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Enc', encrypted());
      const s = await session(h, v, 'Enc', '919999999003');
      const id = 'MOBILE|919999999003';
      const now = h.clock.now();
      const good = proof(h, s);
      const cases: [string, object, string][] = [
        ['no hash and no timeStamp', {}, 'hash_missing'],
        ['no hash', { timeStamp: now }, 'hash_missing'],
        ['empty hash', { timeStamp: now, hash: '' }, 'hash_missing'],
        ['no timeStamp', { hash: good.hash }, 'timestamp_missing'],
        ['timeStamp not digits', { hash: good.hash, timeStamp: `${now}.0` }, 'timestamp_invalid'],
        ['timeStamp negative', { hash: good.hash, timeStamp: -now }, 'timestamp_invalid'],
        ['timeStamp a fraction', { hash: good.hash, timeStamp: now + 0.5 }, 'timestamp_invalid'],
        ['timeStamp of another type', { hash: good.hash, timeStamp: { t: now } }, 'timestamp_invalid'],
        ['hash of another type', { hash: 12345, timeStamp: now }, 'hash_undecryptable'],
        ['garbage base64', { hash: '!!!not*base64!!!', timeStamp: now }, 'hash_undecryptable'],
        ['base64 of random bytes', { hash: randomBytes(256).toString('base64'), timeStamp: now }, 'hash_undecryptable'],
        ['a truncated hash', { hash: good.hash.slice(0, 100), timeStamp: now }, 'hash_undecryptable'],
        ['encrypted with another key', { hash: hashOf(`${s.raw}|${s.sessionId}|${now}`, otherKey.publicKey), timeStamp: now }, 'hash_undecryptable'],
        ['another identifierValue', { hash: hashOf(`919999999004|${s.sessionId}|${now}`), timeStamp: now }, 'hash_mismatch'],
        ['another sessionId', { hash: hashOf(`${s.raw}|P-00000000-0000-4000-8000-000000000000|${now}`), timeStamp: now }, 'hash_mismatch'],
        ['another timeStamp in the hash', { hash: hashOf(`${s.raw}|${s.sessionId}|${now - 1}`), timeStamp: now }, 'hash_mismatch'],
        ['the body timeStamp differs from the hash', { hash: good.hash, timeStamp: now + 1 }, 'hash_mismatch'],
        ['the same digits with a leading zero', { hash: good.hash, timeStamp: `0${now}` }, 'hash_mismatch'],
        ['fields in another order', { hash: hashOf(`${s.sessionId}|${s.raw}|${now}`), timeStamp: now }, 'hash_mismatch'],
      ];
      for (const [what, extra, reason] of cases) await expectTampered(h, await send(h, s, extra), 'ENC', id, reason, `${v} ${what}`);
      // None of the refusals spent anything: the correct hash still goes through.
      expectOk(await send(h, s, good), `${v} the correct hash after the refusals`);
      assert.equal(await outboxCount(h, 'ENC', id), 1);
    });
  });

  test(`${v}: timeStamp must be within validSeconds of the server's now, in both directions`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Enc', encrypted());
      const id = (n: number) => `91999999901${n}`;
      // Built now, presented validSeconds later: still accepted (the bound is inclusive).
      const a = await session(h, v, 'Enc', id(0));
      const pa = proof(h, a);
      h.clock.advance(VALID_SECONDS * SEC);
      expectOk(await send(h, a, pa), `${v} exactly validSeconds old`);
      // Built now, presented validSeconds + 1 ms later: too old.
      const b = await session(h, v, 'Enc', id(1));
      const pb = proof(h, b);
      h.clock.advance(VALID_SECONDS * SEC + 1);
      await expectTampered(h, await send(h, b, pb), 'ENC', `MOBILE|${id(1)}`, 'timestamp_out_of_window', `${v} too old`);
      // A client clock ahead of the server's: up to validSeconds is accepted, beyond is refused.
      const c = await session(h, v, 'Enc', id(2));
      expectOk(await send(h, c, proof(h, c, h.clock.now() + VALID_SECONDS * SEC)), `${v} validSeconds in the future`);
      const d = await session(h, v, 'Enc', id(3));
      await expectTampered(h, await send(h, d, proof(h, d, h.clock.now() + VALID_SECONDS * SEC + 1)), 'ENC', `MOBILE|${id(3)}`, 'timestamp_out_of_window', `${v} too far in the future`);
    });
  });

  test(`${v}: an accepted hash is refused when presented again; a refused one is not remembered`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Enc', encrypted());
      const s = await session(h, v, 'Enc', '919999999020');
      const id = 'MOBILE|919999999020';
      const p = proof(h, s);
      expectOk(await send(h, s, p), `${v} first use`);
      expectError(await send(h, s, p), 5004, `${v} replay at once`);
      assert.deepEqual((await lastAudit(h, 'ENC')).detail, { code: 5004, reason: 'hash_replayed' });
      // The same ciphertext in another base64 spelling (MIME line breaks) is the same hash.
      expectError(await send(h, s, { ...p, hash: p.hash.replace(/(.{64})/g, '$1\r\n') }), 5004, `${v} replay with line breaks`);
      h.clock.advance((VALID_SECONDS - 1) * SEC);
      expectError(await send(h, s, p), 5004, `${v} replay just inside validSeconds`);
      assert.equal(await outboxCount(h, 'ENC', id), 1, 'only the first use sent anything');
      // A fresh hash on the same session is accepted.
      expectOk(await send(h, s, proof(h, s)), `${v} a new hash`);
      assert.equal(await outboxCount(h, 'ENC', id), 2);

      // Refused for its timestamp (too far ahead), the hash is not remembered: once the
      // server's clock has caught up, the very same hash is accepted.
      const t = await session(h, v, 'Enc', '919999999021');
      const early = proof(h, t, h.clock.now() + (VALID_SECONDS + 60) * SEC);
      expectError(await send(h, t, early), 5004, `${v} too early`);
      h.clock.advance(60 * SEC);
      expectOk(await send(h, t, early), `${v} the same hash once it is in the window`);
      // Refused because the body did not match it, the hash is accepted with the corrected body.
      const u = await session(h, v, 'Enc', '919999999022');
      const pu = proof(h, u);
      expectError(await send(h, u, { ...pu, timeStamp: Number(pu.timeStamp) + 1 }), 5004, `${v} body does not match`);
      expectOk(await send(h, u, pu), `${v} the same hash with the corrected body`);
    });
  });

  test(`${v}: the hash covers identifierValue exactly as sent, not its normalised form`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Enc', encrypted());
      const raw = '+91 99999-99993';
      const s = await session(h, v, 'Enc', raw);
      const now = h.clock.now();
      await expectTampered(h, await send(h, s, { timeStamp: now, hash: hashOf(`919999999993|${s.sessionId}|${now}`) }), 'ENC', 'MOBILE|919999999993', 'hash_mismatch', `${v} normalised value in the hash`);
      expectOk(await send(h, s, { timeStamp: now, hash: hashOf(`${raw}|${s.sessionId}|${now}`) }), `${v} raw value in the hash`);
      assert.equal(await outboxCount(h, 'ENC', 'MOBILE|919999999993'), 1);

      // Legacy shape: the raw `mobile` string is the identifierValue.
      const legacyRaw = '(91) 99999.99994';
      const base = v === 'mobile' ? { brand: 'Enc', mobile: legacyRaw, deviceId: 'device-1' } : { brand: 'Enc', mobile: legacyRaw };
      const g = await h.post(url(v, 'token/generate'), base);
      expectOk(g, `${v} legacy token/generate`);
      const sid = g.body.user.sessionId as string;
      const ts = h.clock.now();
      expectError(await h.post(url(v, 'otp/generate'), { ...base, sessionId: sid, timeStamp: ts, hash: hashOf(`919999999994|${sid}|${ts}`) }), 5004, `${v} legacy, normalised in the hash`);
      expectOk(await h.post(url(v, 'otp/generate'), { ...base, sessionId: sid, timeStamp: ts, hash: hashOf(`${legacyRaw}|${sid}|${ts}`) }), `${v} legacy, raw in the hash`);
    });
  });

  test(`${v}: endpoints [] or enabled false turn the check off; the check runs after §1.3, lock and otpEnabled, before cooldown and limits`, async () => {
    await withHarness(async (h) => {
      await h.createBrand('Off', encrypted(PKCS8, { endpoints: [] }));
      await h.createBrand('Disabled', encrypted(PKCS8, { enabled: false }));
      for (const b of ['Off', 'Disabled']) {
        const s = await session(h, v, b, '919999999030');
        expectOk(await send(h, s, {}), `${v} ${b}: no hash needed`);
        // Whatever hash/timeStamp are sent is ignored.
        h.clock.advance(SEC);
        expectOk(await send(h, s, { hash: 'junk', timeStamp: 'junk' }), `${v} ${b}: junk ignored`);
      }

      // Earlier checks answer first.
      await h.createBrand('Enc', encrypted());
      const s = await session(h, v, 'Enc', '919999999031');
      expectError(await send(h, { ...s, sessionId: 'P-unknown' }, {}), 1505, `${v} unknown session before 5004`);
      expectError(await h.post(url(v, 'otp/generate'), { ...idBody(v, 'Enc', 'MOBILE', '919999999032'), sessionId: s.sessionId }), 1541, `${v} identifier mismatch before 5004`);
      await h.createBrand('EncNoOtp', { ...encrypted(), otpEnabled: false });
      const n = await session(h, v, 'EncNoOtp', '919999999033');
      expectError(await send(h, n, {}), 1503, `${v} otpEnabled false before 5004`);

      // Later checks answer after it: with the cooldown running and the per-identifier
      // window full, a bad hash still answers 5004 (and spends nothing).
      await h.createBrand('EncLimits', { ...encrypted(), otpResendCooldownSeconds: 60, otpMaxCount: 1, otpTimeOut: 60 });
      const l = await session(h, v, 'EncLimits', '919999999034');
      expectOk(await send(h, l, proof(h, l)), `${v} first send`);
      h.clock.advance(SEC);
      expectError(await send(h, l, {}), 5004, `${v} 5004 before the cooldown (1547)`);
      expectError(await send(h, l, proof(h, l)), 1547, `${v} a good hash meets the cooldown`);
      h.clock.advance(60 * SEC);
      expectError(await send(h, l, { timeStamp: h.clock.now() }), 5004, `${v} 5004 before the limit (1534)`);
      expectError(await send(h, l, proof(h, l)), 1534, `${v} a good hash meets the limit`);
    });
  });
}

test('account lock (1544) answers before the payload hash', async () => {
  await withHarness(async (h) => {
    await h.createBrand('EncLock', { ...encrypted(), accountLocking: { enabled: true, maxFailures: 1, lockMinutes: 30 } });
    const s = await session(h, 'web', 'EncLock', '919999999040');
    expectOk(await send(h, s, proof(h, s)), 'send');
    const wrong = await h.post(url('web', 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp: '000000' === (await h.lastOtp('ENCLOCK', 'MOBILE|919999999040')) ? '111111' : '000000' });
    expectError(wrong, 1544, 'the failure that locks');
    const t = await session(h, 'web', 'EncLock', '919999999040');
    expectError(await send(h, t, {}), 1544, 'locked: 1544, not 5004');
  });
});
