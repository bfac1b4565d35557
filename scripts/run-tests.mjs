// Runs every test/**/*.test.ts with node's built-in runner (Node 20 has no --test glob).
// Extra arguments narrow the set: `npm test -- admin` runs files whose path contains "admin".
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = process.env.TEST_ROOT ?? 'test';
const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
};
walk(root);
const chosen = filters.length ? files.filter((f) => filters.some((x) => f.includes(x))) : files;
if (chosen.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Two test files at a time (node's default is cores - 1, i.e. one on a 2-core machine): every
// file uses its own data directory, database and key prefix, and waiting on I/O overlaps.
// TEST_CONCURRENCY overrides it.
const CONCURRENCY = Number(process.env.TEST_CONCURRENCY ?? 2);
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${CONCURRENCY}`, '--test-reporter=spec', ...chosen], { stdio: 'inherit' });
process.exit(r.status ?? 1);
