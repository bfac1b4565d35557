// Embedded auth.db in its default FULL mode: every write of every adapter settles only after
// an fsync of the WAL that started after the write (src/storage/sqlite/wal-sync.ts), reads do
// not wait for one, and a failed fsync leaves the store refusing writes and unready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openAuthDb, SqliteDurableStore } from '../../src/storage/sqlite/sqlite-durable-store.ts';
import { SqliteLimitStore } from '../../src/storage/sqlite/sqlite-limit-store.ts';
import { SqliteRevocationStore } from '../../src/storage/sqlite/sqlite-revocation-store.ts';
import { SqliteCredentialStore } from '../../src/storage/sqlite/sqlite-credential-store.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import type { BrandConfig } from '../../src/domain/types.ts';
import type { FsyncFn } from '../../src/storage/sqlite/wal-sync.ts';
import { tempRoot } from '../helpers/store-contract.ts';

const root = tempRoot('ae-contract-durable-ack-');

function open(mode: 'FULL' | 'NORMAL' = 'FULL') {
  const dir = mkdtempSync(join(root, 'store-'));
  const pending: Array<(err: NodeJS.ErrnoException | null) => void> = [];
  let held = false;
  const fsync: FsyncFn = (_fd, cb) => (held ? pending.push(cb) : cb(null));
  const db = openAuthDb(join(dir, 'auth.db'), mode, fsync);
  const durable = new SqliteDurableStore(db);
  const revocations = new SqliteRevocationStore(db);
  const limits = new SqliteLimitStore(db);
  const credentials = new SqliteCredentialStore(db, durable, revocations, limits);
  return {
    durable, revocations, limits, credentials, pending,
    hold: () => void (held = true),
    cleanup: async () => {
      await durable.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when the promise settled within a few event-loop turns. */
async function settles(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  return done;
}

const key = (n: number, uid: string) => ({ jti: `j${n}`, brand: 'b', uid, deviceId: 'd', keyHash: `h${n}`, createdAt: 1, expiresAt: null });
const mark = { notBefore: 5, exceptDevice: null, exceptJti: null, onlyDevice: null };

test('FULL: every write waits for the disk; reads do not', async () => {
  const s = open();
  const user = await s.durable.createUser('b', [{ type: 'MOBILE', value: '911234567890', verified: true }], null, 1);
  await s.durable.saveKey(key(0, user.uid));
  const writes: Array<[string, () => Promise<unknown>]> = [
    ['putBrand', () => s.durable.putBrand('b2', {} as BrandConfig, 1)],
    ['deleteBrand', () => s.durable.deleteBrand('b2')],
    ['createUser', () => s.durable.createUser('b', [{ type: 'EMAIL', value: 'a@b.co', verified: false }], null, 1)],
    ['updateUser', () => s.durable.updateUser('b', user.uid, { passwordHash: 'x' })],
    ['saveKey', () => s.durable.saveKey(key(1, user.uid))],
    ['rotateKey', () => s.durable.rotateKey('h1', key(2, user.uid), 'sealed', 2)],
    ['revokeKeys', () => s.durable.revokeKeys('b', user.uid, { deviceId: 'd' }, 3)],
    ['appendOutbox', () => s.durable.appendOutbox({ brand: 'b', identifier: 'i', channel: 'sms', to: 't', text: 'x', otp: '1', createdAt: 1 })],
    ['revokeJti', () => s.revocations.revokeJti('jx', 'b', 9)],
    ['addUserMark', () => s.revocations.addUserMark('b', user.uid, mark)],
    ['appendAudit', () => s.revocations.appendAudit({ type: 't', brand: 'b', identifier: null, deviceId: null, ip: null, at: 1, detail: {} })],
    ['reserve', () => s.limits.reserve([{ key: 'k', windowMs: 1000, max: 5 }], 1)],
    ['recordFailure', () => s.limits.recordFailure('f', 1, 1000)],
    ['clearFailures', () => s.limits.clearFailures(['f'])],
    ['release', () => s.limits.release('nope')],
    ['applyCredentialChange', () => s.credentials.applyCredentialChange({ brand: 'b', uid: user.uid, now: 4, passwordHash: 'y', mark })],
    ['deleteUser', () => s.durable.deleteUser('b', user.uid)],
  ];
  s.hold();
  for (const [name, run] of writes) {
    const before = s.pending.length;
    const p = run();
    assert.equal(await settles(p), false, `${name} settled before its fsync`);
    assert.ok(s.pending.length > before || before > 0, `${name} asked for an fsync`);
    // Reads answer from the committed state at once.
    assert.equal(await settles(s.durable.findKeyByHash('h0')), true, `a read waited behind ${name}`);
    for (const done of s.pending.splice(0)) done(null);
    await p;
  }
  await s.cleanup();
});

test('FULL: writes committed during an fsync share the next one', async () => {
  const s = open();
  s.hold();
  const first = s.revocations.revokeJti('j1', 'b', 9);
  await new Promise((r) => setImmediate(r));
  assert.equal(s.pending.length, 1);
  const later = [s.revocations.revokeJti('j2', 'b', 9), s.revocations.revokeJti('j3', 'b', 9), s.limits.clearFailures(['x'])];
  await new Promise((r) => setImmediate(r));
  assert.equal(s.pending.length, 1, 'no second fsync while the first runs');
  s.pending.shift()!(null);
  await first;
  assert.equal(await settles(Promise.all(later)), false, 'later writes are not covered by the earlier fsync');
  assert.equal(s.pending.length, 1, 'one fsync for all of them');
  s.pending.shift()!(null);
  await Promise.all(later);
  await s.cleanup();
});

test('FULL: a failed fsync fails its writes (1599), then refuses writes and readiness; reads still answer', async () => {
  const s = open();
  s.hold();
  const p = s.revocations.revokeJti('j1', 'b', 9);
  await new Promise((r) => setImmediate(r));
  s.pending.shift()!(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  await assert.rejects(p, StoreUnavailableError);
  await assert.rejects(s.revocations.revokeJti('j2', 'b', 9), StoreUnavailableError);
  assert.equal(s.pending.length, 0, 'a refused write neither commits nor retries the fsync');
  assert.equal(await s.revocations.isJtiRevoked('j2'), false, 'the refused write was not applied');
  await assert.rejects(s.durable.ping(), StoreUnavailableError);
  await s.cleanup();
});

test('NORMAL: writes settle without an fsync of ours', async () => {
  const s = open('NORMAL');
  s.hold();
  assert.equal(await settles(s.revocations.revokeJti('j1', 'b', 9)), true);
  assert.equal(s.pending.length, 0);
  await s.cleanup();
});
