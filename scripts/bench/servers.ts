// The service under test as child processes: `node --import tsx src/main.ts` (or a prebuilt
// bundle, --entry bundle), one per instance, each on its own loopback port, all with the same secrets and storage (as behind a
// load balancer; the driver does the round-robin). Each one's log goes to a file (a real
// deployment writes its JSON log lines somewhere too, so their cost is part of the figure).
// With a profile directory each process runs with --cpu-prof and writes its profile on exit.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from '../../test/helpers/process.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
const HEALTH_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export type Entry = 'tsx' | 'bundle';

export interface ServerOptions {
  instances: number;
  /** bundle: dist/server.js, what `npm start` runs (buildBundle()); tsx: `node --import tsx src/main.ts` (`npm run dev`). */
  entry: Entry;
  /** Environment of every instance (secrets, storage, log level …), PORT/HOST added per instance. */
  env: Record<string, string>;
  /** Where logs go (one file per instance). */
  logDir: string;
  /** Set: run with --cpu-prof and write `<label>-<i>.cpuprofile` here. */
  profileDir?: string;
  /** Preload count-store-calls.mjs; counts land in `<logDir>/counts-<label>.<pid>` on SIGUSR2. */
  countStoreCalls?: boolean;
  label: string;
}

export interface Server {
  pid: number;
  port: number;
  proc: ChildProcess;
  stderr: string;
  exited: Promise<number | null>;
}

export interface Servers {
  list: Server[];
  ports: number[];
  pids: number[];
  stop(): Promise<void>;
}

/** Only what a server needs: nothing of the caller's DATABASE_URL / AUTH_* leaks in by accident. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/**
 * The prebuilt server (`npm run build` → dist/server.js: esbuild bundle of src/main.ts, packages
 * external) — what `npm start` runs, without tsx's loader thread and compiled-source caches.
 */
export function buildBundle(): string {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
  return join(ROOT, 'dist/server.js');
}

let bundle: string | undefined;

/**
 * The node options `npm start` gives the build (package.json scripts.start: `node <options>
 * dist/server.js`), so the benchmark runs the same process a deployment does.
 */
export function startNodeOptions(): string[] {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const m = /(?:^|&&\s*)node((?:\s+--\S+)*)\s+dist\/server\.js\b/.exec(start);
  if (!m) throw new Error(`package.json scripts.start does not run "node [--options] dist/server.js": ${start}`);
  return (m[1] as string).split(/\s+/).filter(Boolean);
}

export const countFile = (o: Pick<ServerOptions, 'logDir' | 'label'>) => join(o.logDir, `counts-${o.label}`);

const profileSubdir = (o: ServerOptions, i: number) => join(o.profileDir as string, `${o.label}-${i}.threads`);

/** Moves the main thread's profile (default name CPU.<date>.<time>.<pid>.<tid>.<seq>) to `<label>-<i>.cpuprofile`. */
function collectProfile(o: ServerOptions, i: number): void {
  const dir = profileSubdir(o, i);
  const main = readdirSync(dir).find((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (main) renameSync(join(dir, main), join(o.profileDir as string, `${o.label}-${i}.cpuprofile`));
  rmSync(dir, { recursive: true, force: true });
}

async function startOne(o: ServerOptions, i: number): Promise<Server> {
  const port = await freePort();
  const args: string[] = [];
  // Every thread writes a profile (tsx's module loader runs on a worker thread), so each
  // server gets a directory of its own; stop() keeps the main thread's (thread id 0).
  if (o.profileDir) args.push('--cpu-prof', `--cpu-prof-dir=${profileSubdir(o, i)}`);
  const counting = o.countStoreCalls ? ['--import', join(ROOT, 'scripts/bench/count-store-calls.mjs')] : [];
  if (o.entry === 'bundle') args.push(...startNodeOptions(), ...counting, (bundle ??= buildBundle()));
  else args.push('--import', 'tsx', ...counting, 'src/main.ts');
  const log = openSync(join(o.logDir, `${o.label}-${i}.log`), 'a');
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...baseEnv(), ...o.env, PORT: String(port), HOST: '127.0.0.1', ...(o.countStoreCalls ? { BENCH_COUNT_FILE: countFile(o) } : {}) },
    stdio: ['ignore', log, 'pipe'],
  });
  closeSync(log);
  const server: Server = {
    pid: proc.pid as number,
    port,
    proc,
    stderr: '',
    exited: new Promise((r) => proc.on('exit', (code) => r(code))),
  };
  proc.stderr?.setEncoding('utf8').on('data', (c: string) => (server.stderr += c));
  let gone = false;
  void server.exited.then(() => (gone = true));
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`server ${i} exited before it was healthy:\n${server.stderr}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.status === 200) return server;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill('SIGKILL');
  throw new Error(`server ${i} not healthy within ${HEALTH_TIMEOUT_MS} ms:\n${server.stderr}`);
}

async function stopOne(s: Server): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  s.proc.kill('SIGTERM'); // graceful: the --cpu-prof profile is written on a normal exit
  const timer = setTimeout(() => s.proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await s.exited;
  clearTimeout(timer);
}

export async function startServers(o: ServerOptions): Promise<Servers> {
  const list: Server[] = [];
  try {
    // One after another: with PostgreSQL the first migrates the scratch database.
    for (let i = 0; i < o.instances; i++) list.push(await startOne(o, i));
  } catch (err) {
    await Promise.all(list.map(stopOne));
    throw err;
  }
  return {
    list,
    ports: list.map((s) => s.port),
    pids: list.map((s) => s.pid),
    stop: async () => {
      await Promise.all(list.map(stopOne));
      if (o.profileDir) list.forEach((_, i) => collectProfile(o, i));
    },
  };
}
