// Smoke test of the benchmark harness (`npm run bench`, scripts/bench): a very short run of
// every workload on the embedded storage must print one well-formed JSON line per workload,
// with completed operations and no errors. No timing is asserted: the numbers depend on the
// machine and on whatever else runs; BENCHMARKS.md is where figures live.
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childEnv } from '../helpers/process.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const WORKLOADS = ['otp_login', 'password_login', 'regenerate', 'introspect', 'verify_local'];

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    // childEnv: no DATABASE_URL / REDIS_URL from this process, so the run is embedded.
    const p = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/main.ts', ...args], { cwd: ROOT, env: childEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

test('bench: one JSON line per workload, operations completed, no errors', { timeout: 180_000 }, async () => {
  const r = await runBench(['--workload', WORKLOADS.join(','), '--duration', '1', '--warmup', '0.3', '--concurrency', '2', '--argon2-samples', '3']);
  assert.equal(r.code, 0, `bench exited with ${r.code}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, WORKLOADS.length, `stdout:\n${r.stdout}`);
  const results = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(results.map((x) => x.workload), WORKLOADS);
  for (const x of results) {
    assert.ok(isNumber(x.rate) && (x.rate as number) > 0, `${x.workload}: rate ${x.rate}`);
    assert.ok(isNumber(x.completed) && (x.completed as number) > 0, `${x.workload}: completed ${x.completed}`);
    assert.equal(x.errors, 0, `${x.workload}: errors\n${r.stderr}`);
    for (const f of ['p50Ms', 'p90Ms', 'p99Ms']) assert.ok(isNumber(x[f]), `${x.workload}: ${f} = ${x[f]}`);
    assert.ok((x.p50Ms as number) <= (x.p90Ms as number) && (x.p90Ms as number) <= (x.p99Ms as number), `${x.workload}: percentiles out of order`);
    if (x.workload === 'verify_local') continue;
    assert.equal(x.mode, 'embedded');
    assert.equal(x.concurrency, 2);
    assert.ok(isNumber(x.serverCpuMsPerOp) && (x.serverCpuMsPerOp as number) > 0, `${x.workload}: serverCpuMsPerOp ${x.serverCpuMsPerOp}`);
    assert.ok(isNumber(x.serverPeakRssMb) && (x.serverPeakRssMb as number) > 0, `${x.workload}: serverPeakRssMb ${x.serverPeakRssMb}`);
  }
  const pw = results.find((x) => x.workload === 'password_login') as Record<string, unknown>;
  assert.ok(isNumber(pw.argon2VerifyMs) && isNumber(pw.hashingLimit) && isNumber(pw.pctOfHashingLimit), 'password_login carries the hashing limit');
});

test('bench: refuses several embedded instances and unknown workloads (exit 2, no server started)', async () => {
  const many = await runBench(['--instances', '2']);
  assert.equal(many.code, 2);
  assert.match(many.stderr, /--instances > 1 needs DATABASE_URL and REDIS_URL/);
  const unknown = await runBench(['--workload', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown workload nope/);
});
