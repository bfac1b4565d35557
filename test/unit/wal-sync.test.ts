// WalSync (src/storage/sqlite/wal-sync.ts): a write is acknowledged only after an fsync that
// started after it; writes made while an fsync runs share the next one; a failed fsync
// poisons the file for writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync, type FsyncFn } from '../../src/storage/sqlite/wal-sync.ts';

/** An fsync that completes only when the test says so. */
function heldFsync() {
  const calls: Array<(err: NodeJS.ErrnoException | null) => void> = [];
  const fsync: FsyncFn = (_fd, cb) => void calls.push(cb);
  return { fsync, calls };
}

const settled = async (p: Promise<unknown>) => {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

function walFile() {
  const dir = mkdtempSync(join(tmpdir(), 'ae-walsync-'));
  const file = join(dir, 'auth.db-wal');
  writeFileSync(file, 'x');
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a sync during an fsync in flight waits for the next one; callers in between share it', async () => {
  const { file, cleanup } = walFile();
  const { fsync, calls } = heldFsync();
  const wal = new WalSync(file, fsync);
  const first = wal.sync();
  assert.equal(calls.length, 1, 'an idle file is synced at once');
  const second = wal.sync();
  const third = wal.sync();
  assert.equal(calls.length, 1, 'no second fsync while one runs');
  calls[0](null);
  await first;
  assert.equal(await settled(second), false, 'a write made during the first fsync is not covered by it');
  assert.equal(calls.length, 2, 'the queued fsync starts when the first ends');
  calls[1](null);
  await Promise.all([second, third]);
  assert.equal(calls.length, 2, 'both waiters shared one fsync');
  wal.close();
  cleanup();
});

test('a failed fsync rejects its waiters and every later sync (no retry that could lie)', async () => {
  const { file, cleanup } = walFile();
  const { fsync, calls } = heldFsync();
  const wal = new WalSync(file, fsync);
  const first = wal.sync();
  const queued = wal.sync();
  calls[0](Object.assign(new Error('EIO'), { code: 'EIO' }));
  await assert.rejects(first, /EIO/);
  await assert.rejects(queued, /EIO/);
  await assert.rejects(wal.sync(), /EIO/);
  assert.equal(calls.length, 1, 'fsync is not retried after a failure');
  assert.match(String(wal.failure), /EIO/);
  wal.close();
  cleanup();
});

test('real fsync of a real file resolves', async () => {
  const { file, cleanup } = walFile();
  const wal = new WalSync(file);
  await Promise.all([wal.sync(), wal.sync(), wal.sync()]);
  wal.close();
  cleanup();
});
