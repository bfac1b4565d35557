// Group commit (src/storage/group-commit.ts): rows that arrive during a write share the next
// one; each caller settles with its own row; a bad row fails alone; a fatal error fails the batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupCommit } from '../../src/storage/group-commit.ts';

test('an idle writer writes at once; appends during a write share the next one, in order', async () => {
  const writes: number[][] = [];
  let release: (() => void) | null = null;
  const append = groupCommit<number>(async (items) => {
    writes.push(items);
    if (items[0] === 1) await new Promise<void>((r) => (release = r));
  });
  const first = append(1);
  assert.deepEqual(writes, [[1]], 'the first row is written without waiting');
  const rest = [2, 3, 4].map((n) => append(n));
  release!();
  await Promise.all([first, ...rest]);
  assert.deepEqual(writes, [[1], [2, 3, 4]]);
});

test('maxBatch bounds a write', async () => {
  const writes: number[][] = [];
  const append = groupCommit<number>(async (items) => void writes.push(items), { maxBatch: 2, deferStart: true });
  await Promise.all([1, 2, 3, 4, 5].map((n) => append(n)));
  assert.deepEqual(writes, [[1, 2], [3, 4], [5]]);
});

test('a failed batch is retried row by row: only the bad row fails', async () => {
  const committed: string[] = [];
  const append = groupCommit<string>(
    async (items) => {
      if (items.includes('bad')) throw new Error('constraint');
      committed.push(...items);
    },
    { deferStart: true },
  );
  const results = await Promise.allSettled(['a', 'bad', 'c'].map((s) => append(s)));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.deepEqual(committed, ['a', 'c']);
});

test('a fatal error fails the whole batch without retries, and the writer keeps working', async () => {
  let calls = 0;
  let down = true;
  const append = groupCommit<string>(
    async () => {
      calls++;
      if (down) throw new Error('unreachable');
    },
    { deferStart: true, isFatal: () => true },
  );
  const results = await Promise.allSettled(['a', 'b', 'c'].map((s) => append(s)));
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected', 'rejected']);
  assert.equal(calls, 1);
  down = false;
  await append('d');
  assert.equal(calls, 2);
});
