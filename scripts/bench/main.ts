// `npm run bench`: starts the service (embedded by default; PostgreSQL + Redis when
// DATABASE_URL and REDIS_URL are set), creates a brand, drives each workload over loopback
// and prints one JSON line per workload on stdout (progress and profiles go to stderr).
//
//   npm run bench -- [--workload otp_login,password_login,regenerate,introspect,verify_local,health]
//                    [--concurrency 32] [--duration 10] [--warmup 2] [--instances 1]
//                    [--log-level info] [--signing-alg HS256|ES256|EdDSA] [--profile [dir]]
//                    [--entry tsx|bundle] [--server-env NAME=value]… [--count-store-calls]
//
// Each HTTP workload gets freshly started servers, so its peak RSS and its profile are its
// own. Server CPU is read from /proc across the timed window only. See BENCHMARKS.md.
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureHashingLimit, type HashingLimit } from './argon2-limit.ts';
import { DEFAULT_ARGON2 } from '../../src/crypto/password-hasher.ts';
import { runLoad } from './driver.ts';
import { busyPercent, cpuMsOf, cpuTimesOf, mainThreadCpuMsOf, withDescendants, type CpuTimes, machineCpu, statusMb, type MachineCpu } from './proc.ts';
import { formatSummary, summarise } from './profile-summary.ts';
import { createScratchStorage, type ScratchStorage } from './scratch-storage.ts';
import { countFile, ROOT, startServers, type Entry, type Servers } from './servers.ts';
import { round } from './stats.ts';
import { VERIFIERS, type Verifier, type VerifyInput, type VerifyOutput } from './verify-local.ts';
import { ALL_WORKLOADS, createBrand, DEFAULT_WORKLOADS, mobileSequence, oneLogin, prepare, type BenchBrand, type HttpWorkload, type WorkloadName } from './workloads.ts';

const ISSUER = 'AUTH ENGINE';

export interface BenchOptions {
  workloads: WorkloadName[];
  concurrency: number;
  durationS: number;
  warmupS: number;
  instances: number;
  logLevel: string;
  signingAlg: 'HS256' | 'ES256' | 'EdDSA';
  profileDir: string | null;
  entry: Entry;
  /** Count PostgreSQL statements and Redis commands per operation (preloaded instrumentation). */
  countStoreCalls: boolean;
  /** Extra environment of the servers (--server-env K=V, repeatable): UV_THREADPOOL_SIZE, NODE_OPTIONS … */
  serverEnv: Record<string, string>;
  argon2Samples: number;
  databaseUrl: string | null;
  redisUrl: string | null;
}

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\nusage: npm run bench -- [--workload ${ALL_WORKLOADS.join(',')}] [--concurrency 32] [--duration 10] [--warmup 2] [--instances 1] [--log-level info] [--signing-alg HS256|ES256|EdDSA] [--profile [dir]] [--entry tsx|bundle] [--server-env NAME=value]… [--count-store-calls] [--argon2-samples 20]\n`);
  process.exit(2);
}

export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  // `--profile` takes an optional directory: normalise a bare flag to `--profile=`.
  const args = argv.map((a, i) => (a === '--profile' && (argv[i + 1] === undefined || argv[i + 1]?.startsWith('--')) ? '--profile=' : a));
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        workload: { type: 'string', default: DEFAULT_WORKLOADS.join(',') },
        concurrency: { type: 'string', default: '32' },
        duration: { type: 'string', default: '10' },
        warmup: { type: 'string', default: '2' },
        instances: { type: 'string', default: '1' },
        'log-level': { type: 'string', default: 'info' },
        'signing-alg': { type: 'string', default: 'HS256' },
        profile: { type: 'string' },
        entry: { type: 'string', default: 'bundle' },
        'server-env': { type: 'string', multiple: true, default: [] },
        'count-store-calls': { type: 'boolean', default: false },
        'argon2-samples': { type: 'string', default: '20' },
      },
    }));
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const workloads = (values.workload as string).split(',').map((w) => w.trim()).filter(Boolean);
  for (const w of workloads) if (!(ALL_WORKLOADS as readonly string[]).includes(w)) usage(`unknown workload ${w}`);
  const num = (name: string, v: string, min: number, max: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) usage(`--${name} must be a number between ${min} and ${max}`);
    return n;
  };
  const alg = values['signing-alg'] as string;
  if (alg !== 'HS256' && alg !== 'ES256' && alg !== 'EdDSA') usage('--signing-alg must be HS256, ES256 or EdDSA');
  const databaseUrl = env.DATABASE_URL || null;
  const redisUrl = env.REDIS_URL || null;
  if ((databaseUrl === null) !== (redisUrl === null)) usage('set both DATABASE_URL and REDIS_URL (PostgreSQL + Redis), or neither (embedded)');
  const instances = Math.floor(num('instances', values.instances as string, 1, 16));
  if (instances > 1 && databaseUrl === null) {
    usage('--instances > 1 needs DATABASE_URL and REDIS_URL: the embedded storage is one process (its atomicity relies on the synchronous SQLite driver of a single process)');
  }
  const entry = values.entry as string;
  if (entry !== 'tsx' && entry !== 'bundle') usage('--entry must be tsx or bundle');
  const serverEnv: Record<string, string> = {};
  for (const kv of values['server-env'] as string[]) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(kv);
    if (!m) usage(`--server-env takes NAME=value (got ${kv})`);
    serverEnv[m[1] as string] = m[2] as string;
  }
  let profileDir: string | null = null;
  if (values.profile !== undefined) profileDir = values.profile === '' ? join(tmpdir(), `ae-bench-profiles-${Date.now()}`) : values.profile;
  return {
    workloads: workloads as WorkloadName[],
    concurrency: Math.floor(num('concurrency', values.concurrency as string, 1, 4096)),
    durationS: num('duration', values.duration as string, 0.2, 3600),
    warmupS: num('warmup', values.warmup as string, 0, 600),
    instances,
    logLevel: values['log-level'] as string,
    signingAlg: alg,
    profileDir,
    entry,
    countStoreCalls: values['count-store-calls'] as boolean,
    serverEnv,
    argon2Samples: Math.floor(num('argon2-samples', values['argon2-samples'] as string, 1, 1000)),
    databaseUrl,
    redisUrl,
  };
}

const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

function machineLine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  return `node ${process.version}, ${availableParallelism()} cores (${model}), ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Context {
  o: BenchOptions;
  mode: 'embedded' | 'postgres+redis';
  workDir: string;
  env: Record<string, string>;
  brand: BenchBrand;
  secrets: { signing: string };
  scratch: ScratchStorage | null;
  nextMobile: () => string;
  hashing: HashingLimit | null;
}

/** Servers running now (stopped first on Ctrl-C, so none writes after the clean-up). */
const live = new Set<Servers>();

async function withServers<T>(c: Context, label: string, fn: (s: Servers) => Promise<T>): Promise<T> {
  const servers = await startServers({ instances: c.o.instances, entry: c.o.entry, env: c.env, logDir: c.workDir, label, profileDir: c.o.profileDir ?? undefined, countStoreCalls: c.o.countStoreCalls });
  live.add(servers);
  try {
    return await fn(servers);
  } finally {
    await servers.stop();
    live.delete(servers);
  }
}

interface Readings {
  /** Server processes read: each instance and whatever it forked (node:cluster workers). */
  serverPids: number[];
  serverCpu: CpuTimes | null;
  serverMainThreadCpu: number | null;
  pgPids: number[];
  pgCpu: number | null;
  redisCpu: number | null;
  machine: MachineCpu | null;
  hrUs: number;
}

async function readings(c: Context, serverPids: number[], pgPids?: number[]): Promise<Readings> {
  const hrUs = Number(process.hrtime.bigint() / 1000n);
  const serverCpu = cpuTimesOf(serverPids);
  const serverMainThreadCpu = mainThreadCpuMsOf(serverPids);
  const machine = machineCpu();
  const pids = c.scratch ? (pgPids ?? (await c.scratch.backendPids())) : [];
  return { serverPids, serverCpu, serverMainThreadCpu, pgPids: pids, pgCpu: c.scratch ? cpuMsOf(pids) : null, redisCpu: c.scratch ? await c.scratch.redisCpuMs() : null, machine, hrUs };
}

const total = (t: CpuTimes | null | undefined) => (t ? t.user + t.sys : null);
/** Share of the server's CPU spent in the kernel (syscalls), percent. */
function sysPct(a: CpuTimes | null | undefined, b: CpuTimes | null | undefined): number | null {
  if (!a || !b) return null;
  const all = b.user + b.sys - a.user - a.sys;
  return all > 0 ? round((100 * (b.sys - a.sys)) / all, 1) : null;
}
const perOp = (a: number | null, b: number | null, ops: number) => (a === null || b === null || ops === 0 ? null : round((b - a) / ops, 3));

interface WorkloadResult {
  line: Record<string, unknown>;
  /** The timed window on the monotonic clock (µs), to summarise the profiles over it. */
  window?: { fromUs: number; toUs: number };
}

async function runHttpWorkload(c: Context, workload: HttpWorkload): Promise<WorkloadResult> {
  return withServers(c, workload, async (s) => {
    await createBrand(s.ports[0] as number, c.brand);
    log(`${workload}: preparing (${c.o.instances} instance(s) on ports ${s.ports.join(', ')})`);
    const prepared = await prepare({ workload, ports: s.ports, brand: c.brand, concurrency: c.o.concurrency, nextMobile: c.nextMobile });
    let start: Readings | undefined;
    let end: Readings | undefined;
    log(`${workload}: ${c.o.warmupS} s warm-up + ${c.o.durationS} s at concurrency ${c.o.concurrency}`);
    const r = await runLoad({
      ports: s.ports,
      concurrency: c.o.concurrency,
      warmupMs: c.o.warmupS * 1000,
      durationMs: c.o.durationS * 1000,
      flow: prepared.flow,
      onWindowStart: async () => {
        if (c.o.countStoreCalls) for (const p of s.pids) process.kill(p, 'SIGUSR2'); // reset the counts
        start = await readings(c, withDescendants(s.pids));
      },
      // Backends that appeared during the window are read too (their pre-window CPU counts: small).
      onWindowEnd: async () => {
        const pids = c.scratch ? [...new Set([...(start?.pgPids ?? []), ...(await c.scratch.backendPids())])] : [];
        // The same server processes as at the start, so the CPU difference is like for like.
        end = await readings(c, start?.serverPids ?? s.pids, pids);
        if (c.o.countStoreCalls) for (const p of s.pids) process.kill(p, 'SIGUSR2');
      },
    });
    const storeCalls = c.o.countStoreCalls ? await readStoreCalls(countFile({ logDir: c.workDir, label: workload }), s.pids, r.flows) : null;
    if (storeCalls) {
      log(`${workload}: store calls per ${prepared.unit === 'flows/s' ? 'flow' : 'request'}:`);
      for (const [k, v] of storeCalls.detail) log(`  ${String(v).padStart(6)}  ${k}`);
    }
    // Peak RSS per process (an instance, or a cluster worker of one).
    const rss = withDescendants(s.pids).map((p) => statusMb(p, 'VmHWM'));
    const [p50, p90, p99] = r.flowLatency.percentiles([50, 90, 99]);
    const [rq50, rq99] = r.requestLatency.percentiles([50, 99]);
    const ops = r.flows;
    if (r.errorSamples.length > 0) log(`${workload}: errors, e.g. ${r.errorSamples.join(' | ')}`);
    const line: Record<string, unknown> = {
      workload,
      mode: c.mode,
      instances: c.o.instances,
      concurrency: c.o.concurrency,
      durationS: c.o.durationS,
      unit: prepared.unit,
      rate: round((ops * 1000) / r.windowMs, 1),
      completed: ops,
      p50Ms: p50,
      p90Ms: p90,
      p99Ms: p99,
      requestP50Ms: rq50,
      requestP99Ms: rq99,
      errors: r.errors,
      serverCpuMsPerOp: perOp(total(start?.serverCpu), total(end?.serverCpu), ops),
      serverMainThreadCpuMsPerOp: perOp(start?.serverMainThreadCpu ?? null, end?.serverMainThreadCpu ?? null, ops),
      serverSysCpuPct: sysPct(start?.serverCpu, end?.serverCpu),
      serverPeakRssMb: rss.every((x) => x !== null) ? Math.max(...(rss as number[])) : null,
      serverPeakRssMbPerProcess: rss,
      postgresCpuMsPerOp: c.scratch ? perOp(start?.pgCpu ?? null, end?.pgCpu ?? null, ops) : undefined,
      redisCpuMsPerOp: c.scratch ? perOp(start?.redisCpu ?? null, end?.redisCpu ?? null, ops) : undefined,
      ...(storeCalls ? (c.scratch ? { pgStatementsPerOp: storeCalls.pg, redisCommandsPerOp: storeCalls.redis } : { sqliteStatementsPerOp: storeCalls.sqlite }) : {}),
      driverCpuMsPerOp: ops > 0 ? round(r.driverCpuMs / ops, 3) : null,
      machineBusyPct: busyPercent(start?.machine ?? null, end?.machine ?? null),
      loadAvg1: round(loadavg()[0] as number, 2),
      logLevel: c.o.logLevel,
      entry: c.o.entry,
      ...(Object.keys(c.o.serverEnv).length > 0 ? { serverEnv: c.o.serverEnv } : {}),
    };
    if (workload === 'password_login' && c.hashing) {
      line.argon2VerifyMs = c.hashing.verifyMeanMs;
      line.argon2VerifyP50Ms = c.hashing.verifyP50Ms;
      line.cores = c.hashing.cores;
      line.hashingLimit = c.hashing.limitPerSecond;
      line.argon2ParallelPerSecond = c.hashing.parallelPerSecond;
      line.pctOfHashingLimit = round((100 * (line.rate as number)) / c.hashing.limitPerSecond, 1);
    }
    // The profiles are written when the servers exit: the caller summarises them after stop().
    return { line, window: start && end ? { fromUs: start.hrUs, toUs: end.hrUs } : undefined };
  });
}

/** Sums the counts the servers wrote at the window's end (count-store-calls.mjs), per operation. */
async function readStoreCalls(file: string, pids: number[], ops: number): Promise<{ pg: number; redis: number; sqlite: number; detail: Array<[string, number]> } | null> {
  const total = new Map<string, number>();
  for (const pid of pids) {
    let text: string | null = null;
    // The server writes the file when it handles the signal: wait a little for it.
    for (let i = 0; i < 50 && text === null; i++) {
      try {
        text = readFileSync(`${file}.${pid}`, 'utf8');
        rmSync(`${file}.${pid}`);
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (text === null) return null;
    for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, number>)) total.set(k, (total.get(k) ?? 0) + v);
  }
  if (ops === 0) return null;
  const per = (v: number) => Math.round((v / ops) * 100) / 100;
  const sum = (prefix: string) => per([...total].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0));
  return { pg: sum('pg:'), redis: sum('redis:'), sqlite: sum('sqlite:'), detail: [...total].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, per(v)] as [string, number]).filter(([, v]) => v >= 0.01) };
}

async function runVerifyLocal(c: Context): Promise<Record<string, unknown>> {
  // A real token of the service, and the key material a gateway would be given.
  const material = await withServers(c, 'verify_local', async (s) => {
    await createBrand(s.ports[0] as number, c.brand);
    const login = await oneLogin(s.ports, c.brand, c.nextMobile());
    const jwks = c.o.signingAlg === 'HS256' ? undefined : ((await (await fetch(`http://127.0.0.1:${s.ports[0]}/.well-known/jwks.json`)).json()) as VerifyInput['jwks']);
    return { token: login.token, jwks };
  });
  const base = {
    token: material.token,
    issuer: ISSUER,
    alg: c.o.signingAlg,
    secret: c.o.signingAlg === 'HS256' ? c.secrets.signing : undefined,
    jwks: material.jwks,
    durationMs: Math.max(1000, Math.min(c.o.durationS, 3) * 1000),
    inFlight: 16,
  };
  const pinned = hasTaskset();
  const byVerifier: Record<string, Record<string, unknown>> = {};
  let headline: VerifyOutput | undefined;
  for (const verifier of VERIFIERS) {
    const v = await verifyInChild({ ...base, verifier }, pinned);
    byVerifier[verifier] = { rate: round((v.ops * 1000) / v.wallMs, 0), perCpuSecond: v.cpuMs > 0 ? round((v.ops * 1000) / v.cpuMs, 0) : null, p50Ms: v.p50Ms, p99Ms: v.p99Ms, errors: v.errors };
    if (verifier === HEADLINE_VERIFIER) headline = v;
  }
  const v = headline as VerifyOutput;
  const errors = Object.values(byVerifier).reduce((n, x) => n + (x.errors as number), 0);
  return {
    workload: 'verify_local',
    mode: 'in-process',
    alg: c.o.signingAlg,
    verifier: HEADLINE_VERIFIER,
    pinnedToOneCore: pinned,
    inFlight: base.inFlight,
    durationS: round(v.wallMs / 1000, 2),
    unit: 'verifications/s',
    rate: round((v.ops * 1000) / v.wallMs, 0),
    completed: v.ops,
    perCpuSecond: v.cpuMs > 0 ? round((v.ops * 1000) / v.cpuMs, 0) : null,
    p50Ms: v.p50Ms,
    p90Ms: v.p90Ms,
    p99Ms: v.p99Ms,
    errors,
    byVerifier,
    loadAvg1: round(loadavg()[0] as number, 2),
  };
}

/**
 * The project's own verifier (TokenVerifier, node:crypto for HS256) with the gateway's key
 * material. byVerifier adds jose (key imported once / KeyObject) and bare node:crypto.
 */
const HEADLINE_VERIFIER: Verifier = 'service';

/** One verifier in its own process, pinned to the last core when taskset exists. */
async function verifyInChild(input: VerifyInput, pinned: boolean): Promise<VerifyOutput> {
  const cmd = pinned ? 'taskset' : process.execPath;
  const args = [...(pinned ? ['-c', String(availableParallelism() - 1), process.execPath] : []), '--import', 'tsx', join(ROOT, 'scripts/bench/verify-local.ts')];
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, BENCH_VERIFY_INPUT: JSON.stringify(input) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    p.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`verify_local (${input.verifier}) exited with ${code}`))));
  });
  return JSON.parse(out) as VerifyOutput;
}

/** Run on Ctrl-C / SIGTERM: the scratch database and Redis keys must not outlive the run. */
let onInterrupt: (() => Promise<void>) | null = null;

export async function runBench(o: BenchOptions, emit: (line: Record<string, unknown>) => void): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'ae-bench-'));
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const hex = randomBytes(6).toString('hex');
  const secret = () => randomBytes(32).toString('hex');
  const secrets = { admin: secret(), signing: secret(), otp: secret(), gateway: secret() };
  let scratch: ScratchStorage | null = null;
  const failed: string[] = [];
  try {
    const env: Record<string, string> = {
      // What a deployment runs: production mode (secrets required, test OTPs off) at the
      // default log level unless told otherwise.
      NODE_ENV: 'production',
      LOG_LEVEL: o.logLevel,
      DATA_DIR: join(workDir, 'data'),
      AUTH_ADMIN_TOKEN: secrets.admin,
      AUTH_SIGNING_SECRET: secrets.signing,
      AUTH_OTP_SECRET: secrets.otp,
      AUTH_GATEWAY_TOKEN: secrets.gateway,
      AUTH_ISSUER: ISSUER,
      ...o.serverEnv,
    };
    if (o.signingAlg !== 'HS256') {
      const { privateKey } = o.signingAlg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const file = join(workDir, 'signing-key.pem');
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      env.AUTH_SIGNING_ALG = o.signingAlg;
      env.AUTH_SIGNING_PRIVATE_KEY_FILE = file;
    }
    if (o.databaseUrl && o.redisUrl) {
      scratch = await createScratchStorage(o.databaseUrl, o.redisUrl);
      onInterrupt = scratch.cleanup;
      env.DATABASE_URL = scratch.databaseUrl;
      env.REDIS_URL = scratch.redisUrl;
      env.REDIS_KEY_PREFIX = scratch.redisKeyPrefix;
      log(`PostgreSQL database ${scratch.databaseName}, Redis prefix ${scratch.redisKeyPrefix}`);
    }
    const c: Context = {
      o,
      mode: scratch ? 'postgres+redis' : 'embedded',
      workDir,
      env,
      brand: { name: `BENCH${hex}`, adminAuth: `Bearer ${secrets.admin}`, gatewayAuth: `Bearer ${secrets.gateway}`, password: 'Bench-Login-Passw0rd-x7' },
      secrets: { signing: secrets.signing },
      scratch,
      nextMobile: mobileSequence(),
      hashing: null,
    };
    log(machineLine());
    if (o.workloads.includes('password_login')) {
      // The servers' own cost: the default, or what --server-env AUTH_ARGON2_* sets.
      const env = o.serverEnv;
      const params = {
        memoryCost: Number(env.AUTH_ARGON2_MEMORY_KIB ?? DEFAULT_ARGON2.memoryCost),
        timeCost: Number(env.AUTH_ARGON2_TIME_COST ?? DEFAULT_ARGON2.timeCost),
        parallelism: DEFAULT_ARGON2.parallelism,
      };
      c.hashing = await measureHashingLimit(o.argon2Samples, Math.min(2000, o.durationS * 1000), params);
      const p = c.hashing.params;
      log(`argon2id m=${p.memoryCost} t=${p.timeCost} p=${p.parallelism}: verify ${c.hashing.verifyMeanMs} ms (median ${c.hashing.verifyP50Ms}) → hashing limit ${c.hashing.limitPerSecond} logins/s on ${c.hashing.cores} cores (measured with ${c.hashing.cores} in parallel: ${c.hashing.parallelPerSecond}/s)`);
    }
    for (const w of o.workloads) {
      // One failing workload does not cost the others their numbers: report it, go on, exit 1.
      let result: WorkloadResult;
      try {
        result = w === 'verify_local' ? { line: await runVerifyLocal(c) } : await runHttpWorkload(c, w);
      } catch (err) {
        log(`${w} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        failed.push(w);
        continue;
      }
      const { line, window } = result;
      emit(line);
      if (o.profileDir) {
        const files = readdirSync(o.profileDir).filter((f) => f.startsWith(`${w}-`) && f.endsWith('.cpuprofile')).map((f) => join(o.profileDir as string, f));
        if (files.length > 0) {
          const text = formatSummary(`${w} (${c.mode}, ${o.instances} instance(s), timed window only)`, summarise(files, { window }));
          writeFileSync(join(o.profileDir, `${w}.summary.txt`), `${text}\n`);
          // Kept so the profiles can be summarised again later with the same window.
          if (window) writeFileSync(join(o.profileDir, `${w}.window.json`), `${JSON.stringify(window)}\n`);
          process.stderr.write(`${text}\n`);
        }
      }
    }
    if (o.profileDir) log(`profiles in ${o.profileDir}`);
    if (failed.length > 0) throw new Error(`workloads failed: ${failed.join(', ')}`);
  } finally {
    onInterrupt = null;
    await scratch?.cleanup().catch((err) => log(`clean-up: ${err instanceof Error ? err.message : String(err)}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const o = parseOptions(process.argv.slice(2), process.env);
  // The servers share our process group, so a Ctrl-C reaches (and stops) them too.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void Promise.all([...live].map((s) => s.stop()))
        .then(() => onInterrupt?.())
        .catch(() => undefined)
        .finally(() => process.exit(130));
    });
  }
  runBench(o, (line) => process.stdout.write(`${JSON.stringify(line)}\n`)).catch((err) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  });
}
