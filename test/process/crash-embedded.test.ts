// A crash under load on the embedded store (auth.db's writes are acknowledged after a shared
// WAL fsync off the event loop: src/storage/sqlite/wal-sync.ts). One service process takes a
// sign-up and password-login load and is killed with SIGKILL mid-load; a new process on the
// same DATA_DIR must hold every sign-up that was answered with success, whole (the user, its
// identifier and password), and the sign-ups cut by the kill exist whole or not at all.
// (A power loss cannot be staged here; a process crash exercises the same commit path.)
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep, useInstances } from '../../test-production/helpers/instances.ts';
import { getUser, passwordLogin } from '../../test-production/helpers/flows.ts';
import { Load, describeOutcome, type Account } from '../../test-production/helpers/load.ts';
import { expectAdminError, expectOk } from '../helpers/spec.ts';

const instances = useInstances();
const dataDir = mkdtempSync(join(tmpdir(), 'ae-crash-embedded-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('embedded: SIGKILL mid-load, restart on the same files: every answered sign-up is there and logs in', { timeout: 120_000 }, async () => {
  const brand = 'CRASHEMB';
  const A = await instances.start({ dataDir, name: 'A' });
  const put = await A.admin('PUT', `/admin/v1/brands/${brand}`, { passwordEnabled: true });
  assert.equal(put.status, 200, put.raw);

  const load = new Load({ brand, workers: 6, pick: () => A }).start();
  let killAt = 0;
  try {
    await sleep(2_000);
    killAt = Date.now();
    assert.equal((await A.stop('SIGKILL')).signal, 'SIGKILL');
  } finally {
    await load.stop();
  }
  // Before the kill every request succeeded; after it, only requests the kill cut failed.
  assert.deepEqual(load.outcomes.filter((o) => o.kind !== 'ok' && !(o.kind === 'network' && o.ended >= killAt)).map(describeOutcome), []);
  assert.ok(load.signedUp.length > 10, `the load signed users up before the kill (${load.signedUp.length})`);

  const B = await instances.start({ dataDir, name: 'B' });
  const answered: Account[] = load.signedUp;
  for (const a of answered) {
    const u = await getUser(B, brand, a.person);
    assert.equal(u.status, 200, `an answered sign-up is missing after the crash (${a.person.value}): ${u.raw}`);
    assert.equal(u.body.user.hasPassword, true);
    expectOk(await passwordLogin(a.person, brand, B, a.password), `password login of ${a.person.value} after the crash`);
  }
  let cutButThere = 0;
  for (const a of load.uncertain) {
    const u = await getUser(B, brand, a.person);
    if (u.status !== 200) {
      expectAdminError(u, 1515, `a cut sign-up ${a.person.value}`);
      continue;
    }
    cutButThere++;
    expectOk(await passwordLogin(a.person, brand, B, a.password), `a cut sign-up that exists logs in (${a.person.value})`);
  }
  console.log(`embedded crash: ${answered.length} answered sign-ups all present after the restart; ${load.uncertain.length} cut at otp/validate, ${cutButThere} of them present`);
});
