// argon2 runs at most one job per core (password-hasher.ts): the FIFO ConcurrencyLimit itself,
// and the hasher going through it — results unchanged, extra jobs queued, never more running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { ConcurrencyLimit } from '../../src/crypto/concurrency-limit.ts';
import { argon2Hasher, processArgon2Limit } from '../../src/crypto/password-hasher.ts';

/** A task that finishes when told to, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<string>((resolve, reject) => {
    open = () => resolve(name);
    fail = reject;
  });
  return { task: () => (log.push(name), done), open: () => open(), fail: (e: Error) => fail(e) };
}

const tick = () => new Promise((r) => setImmediate(r));

test('ConcurrencyLimit: never more than max running, the rest start in arrival order', async () => {
  const limit = new ConcurrencyLimit(2);
  const started: string[] = [];
  const gates = ['a', 'b', 'c', 'd', 'e'].map((n) => gate(started, n));
  const results = gates.map((g) => limit.run(g.task));
  await tick();
  assert.deepEqual(started, ['a', 'b']);
  assert.equal(limit.active, 2);
  assert.equal(limit.queued, 3);
  gates[1]?.open(); // b ends first: c (the oldest waiting) takes its slot
  await tick();
  assert.deepEqual(started, ['a', 'b', 'c']);
  assert.equal(limit.active, 2);
  gates[0]?.open();
  gates[2]?.open();
  await tick();
  assert.deepEqual(started, ['a', 'b', 'c', 'd', 'e']);
  assert.equal(limit.queued, 0);
  gates[3]?.open();
  gates[4]?.open();
  assert.deepEqual(await Promise.all(results), ['a', 'b', 'c', 'd', 'e']);
  assert.equal(limit.active, 0);
});

test('ConcurrencyLimit: a failing task (rejected or thrown) gives its slot back', async () => {
  const limit = new ConcurrencyLimit(1);
  const started: string[] = [];
  const bad = gate(started, 'bad');
  const p1 = limit.run(bad.task);
  const p2 = limit.run(() => {
    throw new Error('sync');
  });
  const good = gate(started, 'good');
  const p3 = limit.run(good.task);
  bad.fail(new Error('boom'));
  await assert.rejects(p1, /boom/);
  await assert.rejects(p2, /sync/);
  await tick();
  assert.deepEqual(started, ['bad', 'good']);
  good.open();
  assert.equal(await p3, 'good');
  assert.equal(limit.active, 0);
  assert.equal(limit.queued, 0);
});

test('ConcurrencyLimit: a long queue drains completely, one at a time', async () => {
  const limit = new ConcurrencyLimit(1);
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 3000 }, (_, i) =>
      limit.run(async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await Promise.resolve();
        running--;
      }),
    ),
  );
  assert.equal(peak, 1);
  assert.deepEqual(order, Array.from({ length: 3000 }, (_, i) => i));
  assert.equal(limit.queued, 0);
  assert.equal(limit.active, 0);
});

test('ConcurrencyLimit: the limit must be a positive integer', () => {
  for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new ConcurrencyLimit(bad), RangeError);
});

test('argon2Hasher: jobs beyond the limit queue, results are unchanged, a corrupt hash takes no slot', async () => {
  const limit = new ConcurrencyLimit(1);
  const hasher = argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 }, { limit });
  const stored = await hasher.hash('correct horse');
  assert.equal(limit.active, 0);
  const jobs = [hasher.verify(stored, 'correct horse'), hasher.verify(stored, 'wrong'), hasher.hash('other'), hasher.verify(stored, 'correct horse')];
  assert.equal(limit.active, 1, 'one argon2 job running');
  assert.equal(limit.queued, 3, 'the others wait');
  const corrupt = hasher.verify('$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNo', 'x');
  assert.equal(limit.queued, 3, 'refused before queueing');
  assert.equal(await corrupt, false);
  const [ok, wrong, other, ok2] = await Promise.all(jobs);
  assert.equal(ok, true);
  assert.equal(wrong, false);
  assert.match(other as string, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
  assert.equal(ok2, true);
  assert.equal(await hasher.verify(other as string, 'other'), true);
  assert.equal(limit.active, 0);
  assert.equal(limit.queued, 0);
});

test('argon2Hasher: by default every hasher of the process shares one limit at the core count', async () => {
  assert.equal(processArgon2Limit().max, availableParallelism());
  assert.equal(processArgon2Limit(), processArgon2Limit());
  const a = argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const b = argon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const before = processArgon2Limit().active + processArgon2Limit().queued;
  const jobs = Array.from({ length: availableParallelism() + 2 }, (_, i) => (i % 2 ? a : b).hash(`p${i}`));
  assert.equal(processArgon2Limit().active + processArgon2Limit().queued - before, jobs.length, 'both hashers count against it');
  assert.ok(processArgon2Limit().active <= availableParallelism());
  await Promise.all(jobs);
});
