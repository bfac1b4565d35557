// Concurrency of key rotation (issue 3 acceptance): many token/regenerate calls with one key
// under rotateKeys. Exactly one rotation happens; every success carries that one successor
// (the retry grace), never two different live successors. And a burst with a key retired
// beyond the grace is all refusals, with the family revoked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { idBody, otpLogin, startHarness, url, type Harness, type Res } from '../helpers/harness.ts';
import { SIGNING_KEY, SPEC_ERRORS, expectError, expectOk } from '../helpers/spec.ts';

const BRAND = 'DocDemo';
const MOB = '919999999993';
const N = 20;

/**
 * In-process the embedded store answers synchronously, so requests fired together could run
 * one after another; over PostgreSQL a pool of a few connections serialises them partly. In
 * 'interleaved' mode, once a burst is armed with its key, every request's lookup of that key
 * is held until all N requests have read it, so all racing requests read the presented key
 * (not yet retired) before any of them rotates it: what several instances would do. Only the
 * store's guarded rotation can keep it exact.
 */
const MODES = ['interleaved', 'as-is'] as const;
type Mode = (typeof MODES)[number];

interface Applied {
  restore(): void;
  /** Starts a burst of N requests presenting `key` (interleaved: holds their lookups of it until all N have read). */
  arm(key: string): void;
  /** Outcomes of KeyStore.rotateKey while applied: shows whether the race really happened. */
  outcomes: string[];
}

/** If fewer than N lookups ever arrive, the held ones fail (visibly, as 500s) instead of hanging the run. */
const GATE_GIVE_UP_MS = 30_000;

function applyMode(h: Harness, mode: Mode): Applied {
  const keys = h.deps.keys;
  const find = keys.findKeyByHash;
  const rotate = keys.rotateKey;
  const outcomes: string[] = [];
  keys.rotateKey = async (...args) => {
    const o = await rotate.apply(keys, args);
    outcomes.push(o);
    return o;
  };
  let gate: { hash: string; arrived: number; open: Promise<void>; release(): void; giveUp: NodeJS.Timeout } | null = null;
  if (mode === 'interleaved') {
    keys.findKeyByHash = async (hash: string) => {
      const row = await find.call(keys, hash);
      const g = gate;
      // Only each request's first lookup of the armed key is held (a lost rotation reads it again).
      if (g && hash === g.hash && g.arrived < N) {
        g.arrived++;
        if (g.arrived === N) g.release();
        await g.open;
      }
      return row;
    };
  }
  const disarm = () => {
    if (gate) clearTimeout(gate.giveUp);
    gate = null;
  };
  return {
    outcomes,
    arm(key) {
      if (mode !== 'interleaved') return;
      disarm();
      let release!: () => void;
      let fail!: (err: Error) => void;
      const open = new Promise<void>((resolve, reject) => {
        release = resolve;
        fail = reject;
      });
      open.catch(() => undefined);
      const g = {
        hash: h.deps.secrets.keyHash(key),
        arrived: 0,
        open,
        release: () => {
          clearTimeout(g.giveUp);
          release();
        },
        giveUp: setTimeout(() => fail(new Error(`interleave gate: only ${g.arrived} of ${N} lookups arrived`)), GATE_GIVE_UP_MS),
      };
      gate = g;
    },
    restore() {
      disarm();
      keys.findKeyByHash = find;
      keys.rotateKey = rotate;
    },
  };
}

const regen = (h: Harness, key: string) => h.post(url('mobile', 'token/regenerate'), { ...idBody('mobile', BRAND, 'MOBILE', MOB), key });

function is1597(r: Res): boolean {
  const [http, message] = SPEC_ERRORS[1597];
  return r.status === http && r.body?.status?.success === false && r.body.status.code === 1597 && r.body.status.message === message && Object.keys(r.body).length === 1;
}

function isSuccess(r: Res): boolean {
  return r.status === 200 && r.body?.status?.success === true && r.body.status.code === 200 && r.body.status.message === 'SUCCESS';
}

/** Rows of the user's keys, read from the durable store (auth.db through a second, read-only connection, or PostgreSQL). */
function keyRows(h: Harness, uid: string): Promise<Array<{ jti: string; device_id: string; revoked_at: number | null; retired_at: number | null }>> {
  return h.selectRows('SELECT jti, device_id, revoked_at, retired_at FROM keys WHERE uid = ? ORDER BY created_at, jti', [Number(uid)]);
}

async function loginKey(h: Harness, deviceId = 'device-1'): Promise<{ key: string; uid: string }> {
  const r = await otpLogin(h, 'mobile', BRAND, 'MOBILE', MOB, {}, deviceId);
  expectOk(r.res, 'login');
  const key = r.res.body.auth.key as string;
  return { key, uid: jose.decodeJwt(key).uid as string };
}

/** One burst of N concurrent regenerates with `key`: the one successor, checked. */
async function burst(h: Harness, applied: Applied, key: string, uid: string, what: string): Promise<{ successor: string; answers: Res[] }> {
  applied.arm(key);
  const answers = await Promise.all(Array.from({ length: N }, () => regen(h, key)));
  const ok = answers.filter(isSuccess);
  const other = answers.filter((r) => !isSuccess(r) && !is1597(r));
  assert.deepEqual(other.map((r) => `${r.status} ${r.raw}`), [], `${what}: only successes and 1597`);
  assert.ok(ok.length >= 1, `${what}: at least one rotation succeeds`);
  const successors = new Set(ok.map((r) => r.body.auth.key));
  assert.equal(successors.size, 1, `${what}: exactly one distinct successor, got ${successors.size}`);
  const [successor] = successors;
  assert.equal(typeof successor, 'string', `${what}: a key is returned`);
  assert.notEqual(successor, key, `${what}: the successor is a new key`);
  for (const r of ok) {
    const { payload, protectedHeader } = await jose.jwtVerify(r.body.auth.token, SIGNING_KEY, { algorithms: ['HS256'], currentDate: new Date(h.clock.now()) });
    assert.equal(payload.rol, 'USER');
    assert.equal(payload.uid, uid);
    assert.equal(protectedHeader.dev, 'device-1');
  }
  return { successor, answers };
}

for (const mode of MODES) {
  test(`rotateKeys (${mode}): ${N} concurrent regenerates with one key — one rotation, one successor for all`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand(BRAND, { rotateKeys: true });
      const { key, uid } = await loginKey(h);
      assert.equal((await keyRows(h, uid)).length, 1);
      const applied = applyMode(h, mode);
      let successor: string;
      try {
        ({ successor } = await burst(h, applied, key, uid, 'burst'));
      } finally {
        applied.restore();
      }
      assert.equal(applied.outcomes.filter((o) => o === 'rotated').length, 1, `one rotation: ${applied.outcomes}`);
      if (mode === 'interleaved') assert.equal(applied.outcomes.length, N, `all ${N} read the key before any rotated: ${applied.outcomes}`);
      const rows = await keyRows(h, uid);
      assert.equal(rows.length, 2, `exactly one successor row: ${JSON.stringify(rows)}`);
      assert.equal(rows.filter((r) => r.retired_at !== null).length, 1, 'the presented key is retired');
      assert.equal(rows.filter((r) => r.revoked_at !== null).length, 0, 'no reuse was detected');
      assert.ok(rows.some((r) => r.jti === jose.decodeJwt(successor).jti), 'the stored successor is the one returned');

      // The successor works and rotates normally.
      const next = await regen(h, successor);
      expectOk(next, 'successor');
      assert.ok(next.body.auth.key && next.body.auth.key !== successor);
      assert.equal((await keyRows(h, uid)).length, 3);
    } finally {
      await h.close();
    }
  });

  test(`rotateKeys (${mode}): 10 chained bursts of ${N} — 200 answers, one successor per burst`, async () => {
    const h = await startHarness();
    try {
      await h.createBrand(BRAND, { rotateKeys: true });
      let { key, uid } = await loginKey(h);
      const applied = applyMode(h, mode);
      const seen = new Set<string>([key]);
      let answers = 0;
      try {
        for (let round = 0; round < 10; round++) {
          const b = await burst(h, applied, key, uid, `round ${round}`);
          answers += b.answers.length;
          assert.ok(!seen.has(b.successor), `round ${round}: a key never seen before`);
          seen.add(b.successor);
          key = b.successor;
          h.clock.advance(60_000); // well past the grace: the next burst starts from a settled key
        }
      } finally {
        applied.restore();
      }
      assert.equal(answers, 200);
      assert.equal(applied.outcomes.filter((o) => o === 'rotated').length, 10, 'one rotation per round');
      const rows = await keyRows(h, uid);
      assert.equal(rows.length, 11, 'the first key and exactly one successor per round');
      assert.equal(rows.filter((r) => r.retired_at === null && r.revoked_at === null).length, 1, 'exactly one live key');
      expectOk(await regen(h, key), 'the last successor works');
    } finally {
      await h.close();
    }
  });

  test(`rotateKeys (${mode}): ${N} concurrent regenerates with a key retired beyond the grace — all 1597, the family revoked`, async () => {
    const h = await startHarness({ env: { AUTH_KEY_REUSE_GRACE_SECONDS: '5' } });
    try {
      await h.createBrand(BRAND, { rotateKeys: true });
      const { key: k0, uid } = await loginKey(h);
      const { key: d2key } = await loginKey(h, 'device-2');
      const r = await regen(h, k0);
      expectOk(r, 'rotation');
      const k1 = r.body.auth.key as string;
      assert.ok(k1);
      h.clock.advance(6000);

      const applied = applyMode(h, mode);
      let answers: Res[];
      try {
        applied.arm(k0);
        answers = await Promise.all(Array.from({ length: N }, () => regen(h, k0)));
      } finally {
        applied.restore();
      }
      assert.deepEqual(applied.outcomes, [], 'a retired key is never rotated again');
      const bad = answers.filter((a) => !is1597(a));
      assert.deepEqual(bad.map((a) => `${a.status} ${a.raw}`), [], 'every answer is 1597');
      expectError(await regen(h, k1), 1597, 'the successor is revoked');

      const rows = await keyRows(h, uid);
      const device1 = rows.filter((x) => x.device_id === 'device-1');
      assert.equal(device1.length, 2, 'no new key was created');
      assert.ok(device1.every((x) => x.revoked_at !== null), `every device-1 key revoked: ${JSON.stringify(device1)}`);
      assert.ok(rows.filter((x) => x.device_id === 'device-2').every((x) => x.revoked_at === null), 'device-2 untouched');
      expectOk(await h.post(url('mobile', 'token/regenerate'), { ...idBody('mobile', BRAND, 'MOBILE', MOB, 'device-2'), key: d2key }), 'device-2 still works');

      const audit = await h.admin('GET', `/admin/v1/audit?brand=${BRAND}&limit=500`);
      expectOk(audit, 'audit');
      assert.ok(audit.body.events.some((e: any) => e.type === 'key_reuse_detected' && e.deviceId === 'device-1'), 'key reuse audited');
    } finally {
      await h.close();
    }
  });
}
