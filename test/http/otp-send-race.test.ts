// Concurrency of the OTP send limits (spec §2, §3.2; issue 3 acceptance): many otp/generate at
// once for one identifier (otpMaxCount) or one session (otpResendCooldownSeconds), through the
// real app and the real SQLite stores. Session reads are made to yield a macrotask, so every
// racing request passes the early checks before any of them reserves a slot — the situation of
// several instances answering at once; only an atomic check-and-reserve keeps the count exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idBody, startHarness, url, VARIANTS, type Harness, type Res, type V } from '../helpers/harness.ts';
import { SPEC_ERRORS, expectError, expectOk, type SpecCode } from '../helpers/spec.ts';

const MOB = '919600000001';

function isError(r: Res, code: SpecCode): boolean {
  const [http, message] = SPEC_ERRORS[code];
  return r.status === http && r.body?.status?.success === false && r.body.status.code === code && r.body.status.message === message;
}

/** How many responses are 200 SUCCESS, how many each error (exact §9 status), and the rest. */
function tally(rs: Res[]) {
  const t = { ok: 0, 1534: 0, 1547: 0, other: [] as string[] };
  for (const r of rs) {
    if (r.status === 200 && r.body?.status?.success === true && r.body.status.code === 200) t.ok++;
    else if (isError(r, 1534)) t[1534]++;
    else if (isError(r, 1547)) t[1547]++;
    else t.other.push(`${r.status} ${r.raw}`);
  }
  return t;
}

/**
 * Holds every session read until `n` requests have read their session (a barrier), then lets
 * them all go on together, and records how many reads had completed when the first send claim
 * happened: the test asserts all racing requests were past their session checks by then, so the
 * race is real. (A single setImmediate yield is not enough in-process: fastify.inject staggers
 * the requests, and the first one reached its claim after one read.) The timer only keeps a
 * broken flow from hanging the test; the assertion on the recorded count then fails.
 */
function interleave(h: Harness, n: number) {
  const seen = { reads: 0, readsAtFirstClaim: -1 };
  const store = h.deps.sessions;
  const get = store.get.bind(store);
  const held: (() => void)[] = [];
  const release = () => held.splice(0).forEach((go) => go());
  const safety = setTimeout(release, 5000);
  store.get = async (id, now) => {
    const s = await get(id, now);
    seen.reads++;
    if (seen.reads <= n) {
      await new Promise<void>((resolve) => {
        held.push(resolve);
        if (seen.reads === n) {
          clearTimeout(safety);
          release();
        }
      });
    }
    return s;
  };
  const claim = store.claimSend.bind(store);
  store.claimSend = async (...args) => {
    if (seen.readsAtFirstClaim < 0) seen.readsAtFirstClaim = seen.reads;
    return claim(...args);
  };
  return seen;
}

interface Session {
  v: V;
  id: ReturnType<typeof idBody>;
  sessionId: string;
}

async function session(h: Harness, v: V, brand: string, device: string): Promise<Session> {
  const id = idBody(v, brand, 'MOBILE', MOB, device);
  const g = await h.post(url(v, 'token/generate'), id);
  expectOk(g, `${v} token/generate ${device}`);
  return { v, id, sessionId: g.body.user.sessionId as string };
}

const send = (h: Harness, s: Session) => h.post(url(s.v, 'otp/generate'), { ...s.id, sessionId: s.sessionId });

async function outbox(h: Harness, brand: string): Promise<{ otp: string }[]> {
  const r = await h.admin('GET', `/admin/v1/outbox?brand=${brand}&identifier=${encodeURIComponent(`MOBILE|${MOB}`)}&limit=1000`);
  assert.equal(r.status, 200, r.raw);
  return r.body.messages;
}

async function race(h: Harness, sessions: Session[]) {
  const seen = interleave(h, sessions.length);
  const rs = await Promise.all(sessions.map((s) => send(h, s)));
  assert.equal(seen.readsAtFirstClaim, sessions.length, 'every request read its session before any claimed a send');
  return rs;
}

/** 30 concurrent sends over 30 sessions of one identifier, otpMaxCount 5: exactly 5 accepted. */
async function limitRace(variantOf: (i: number) => V) {
  const h = await startHarness();
  try {
    await h.createBrand('Race', { otpMaxCount: 5, otpTimeOut: 10 });
    const sessions: Session[] = [];
    for (let i = 0; i < 30; i++) sessions.push(await session(h, variantOf(i), 'race', `device-${i}`));
    const rs = await race(h, sessions);
    const t = tally(rs);
    assert.deepEqual(t, { ok: 5, 1534: 25, 1547: 0, other: [] });
    for (const r of rs) if (r.status !== 200) assert.equal(r.headers['retry-after'], '600', r.raw);
    const messages = await outbox(h, 'RACE');
    assert.equal(messages.length, 5, 'exactly one message per accepted request');

    // A refused session holds no code; each accepted one holds one of the five sent.
    const refused = sessions[rs.findIndex((r) => r.status !== 200)]!;
    expectError(await h.post(url(refused.v, 'otp/validate'), { ...refused.id, sessionId: refused.sessionId, otp: messages[0]!.otp }), 1537, 'refused session');
    const accepted = sessions[rs.findIndex((r) => r.status === 200)]!;
    let validated = false;
    for (const m of messages) {
      const r = await h.post(url(accepted.v, 'otp/validate'), { ...accepted.id, sessionId: accepted.sessionId, otp: m.otp });
      if (r.status === 200) {
        validated = true;
        break;
      }
      expectError(r, 1506, 'another session\'s code');
    }
    assert.ok(validated, 'an accepted session validates with its own code');
    // And the window stays full afterwards.
    expectError(await send(h, await session(h, variantOf(0), 'race', 'device-x')), 1534, 'after the race');
  } finally {
    await h.close();
  }
}

for (const v of VARIANTS) {
  test(`${v}: 30 concurrent otp/generate for one identifier with otpMaxCount 5 — exactly 5 accepted`, () => limitRace(() => v));
}

test('mobile and web: 30 concurrent otp/generate for one identifier, half on each variant — exactly 5 accepted', () =>
  limitRace((i) => (i % 2 === 0 ? 'mobile' : 'web')));

for (const v of VARIANTS) {
  test(`${v}: 10 concurrent otp/generate on one session with otpResendCooldownSeconds 60 — exactly one accepted`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand('Cool', { otpResendCooldownSeconds: 60 });
      const s = await session(h, v, 'cool', 'device-1');
      const rs = await race(h, Array.from({ length: 10 }, () => s));
      assert.deepEqual(tally(rs), { ok: 1, 1534: 0, 1547: 9, other: [] });
      for (const r of rs) if (r.status !== 200) assert.equal(r.headers['retry-after'], '60', r.raw);
      const messages = await outbox(h, 'COOL');
      assert.equal(messages.length, 1, 'one message sent');
      expectOk(await h.post(url(v, 'otp/validate'), { ...s.id, sessionId: s.sessionId, otp: messages[0]!.otp }), 'the one code validates');
    } finally {
      await h.close();
    }
  });
}
