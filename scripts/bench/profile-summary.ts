// Summarises V8 .cpuprofile files (node --cpu-prof): self time by function, by package, and
// inclusive time of the service's own functions, optionally only for samples inside a time
// window (the benchmark's timed window, so start-up and set-up do not count).
//
//   node --import tsx scripts/bench/profile-summary.ts <file.cpuprofile>… [--top 25] [--window <x.window.json>]
//
// Times are V8 sample intervals attributed to the sampled (leaf) frame; "(program)" is native
// work outside JS (the event loop, syscalls, libuv, the HTTP parser), "(garbage collector)" GC.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface Summary {
  /** Sampled ms (idle excluded) inside the window. */
  busyMs: number;
  idleMs: number;
  top: Array<{ fn: string; selfMs: number; pct: number }>;
  byPackage: Array<{ pkg: string; selfMs: number; pct: number }>;
  byActivity: Array<{ activity: string; selfMs: number; pct: number }>;
  inclusive: Array<{ fn: string; totalMs: number; pct: number }>;
}

const ROOT = resolve(import.meta.dirname, '../..');

function shortUrl(url: string): string {
  let u = url.startsWith('file://') ? decodeURIComponent(url.slice(7)) : url;
  if (u.startsWith(`${ROOT}/`)) u = u.slice(ROOT.length + 1);
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm);
  return u;
}

function packageOf(fn: CallFrame): string {
  const u = shortUrl(fn.url);
  if (u === '') return fn.functionName.startsWith('(') ? fn.functionName : '(native / V8 builtins)';
  if (u.startsWith('node_modules/')) {
    const parts = u.split('/');
    return parts[1]?.startsWith('@') ? `${parts[1]}/${parts[2]}` : (parts[1] as string);
  }
  if (u.startsWith('node:')) return 'node: (core modules)';
  if (u.startsWith('src/')) return u.split('/').slice(0, 2).join('/');
  return u;
}

/**
 * A coarse "what is the thread doing" class of a leaf frame, for the where-the-time-goes
 * tables. Native bindings have no URL: socket writes (writev, writeUtf8String …) are the
 * send syscalls of HTTP responses and of PostgreSQL/Redis requests; writeString is
 * fs.writeSync of a string (pino's synchronous log destination).
 */
export function activityOf(f: CallFrame): string {
  const u = shortUrl(f.url);
  const fn = f.functionName;
  if (u === '') {
    if (fn === '(garbage collector)') return 'GC';
    if (fn === '(program)') return 'native, outside JS (event loop, parsers)';
    if (['writev', 'writeUtf8String', 'writeBuffer', 'writeLatin1String', 'writeAsciiString', 'writeUcs2String'].includes(fn)) return 'socket writes (send syscalls)';
    if (fn === 'writeString' || fn === 'writeSync') return 'log writes (fs.writeSync)';
  }
  const pkg = packageOf(f);
  if (pkg === 'libsql') return 'SQLite (synchronous, incl. fsync)';
  if (['pg', 'pg-protocol', 'pg-pool', 'pg-types', 'postgres-array', 'postgres-date', 'pgpass'].includes(pkg)) return 'PostgreSQL client (pg)';
  if (['ioredis', '@ioredis/commands', 'redis-parser', 'denque', 'cluster-key-slot', 'standard-as-callback'].includes(pkg)) return 'Redis client (ioredis)';
  if (pkg === 'jose' || u.startsWith('node:internal/crypto/webcrypto') || u.startsWith('node:internal/crypto/keys') || u.startsWith('node:internal/crypto/util') || u.startsWith('node:internal/crypto/webidl') || u.startsWith('node:internal/worker/js_transferable')) return 'JWT: jose + WebCrypto';
  if (u.startsWith('node:internal/crypto/')) return 'node:crypto (HMAC, random)';
  if (['pino', '@pinojs/redact', 'fast-redact', 'sonic-boom', 'pino-std-serializers', 'quick-format-unescaped', 'atomic-sleep', 'on-exit-leak-free', 'thread-stream'].includes(pkg)) return 'logging (pino, redaction)';
  if (['fastify', 'find-my-way', 'avvio', 'secure-json-parse', 'fast-json-stringify', 'light-my-request', 'fast-querystring', 'fast-decode-uri-component', 'ajv', 'fast-uri', 'safe-regex2', 'abstract-logging', 'ret', 'toad-cache', '@fastify/error', '@fastify/ajv-compiler', '@fastify/fast-json-stringify-compiler', 'process-warning', 'rfdc', 'fastq'].includes(pkg) || u.startsWith('node:_http') || u.startsWith('node:http')) return 'HTTP (node:http + fastify)';
  if (pkg === 'prom-client' || pkg === 'bintrees' || pkg === 'tdigest') return 'metrics (prom-client)';
  if (pkg === '@node-rs/argon2') return 'argon2 (calls only; hashing runs on the pool)';
  if (u.startsWith('src/')) return 'service code (src/)';
  if (u.startsWith('node:') || pkg === '(native / V8 builtins)') return 'other node core / V8 builtins';
  return `other: ${pkg}`;
}

const keyOf = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`.trim();

const SPECIAL_IDLE = '(idle)';

/** `window` in µs of the monotonic clock (process.hrtime), the clock of V8's profile timestamps. */
export function summarise(files: string[], opts: { top?: number; window?: { fromUs: number; toUs: number } } = {}): Summary {
  const self = new Map<string, number>();
  const pkg = new Map<string, number>();
  const act = new Map<string, number>();
  const incl = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const file of files) {
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map<number, ProfileNode>();
    const parent = new Map<number, number>();
    for (const n of p.nodes) {
      byId.set(n.id, n);
      for (const c of n.children ?? []) parent.set(c, n.id);
    }
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      // The interval that ends at a sample is charged to it.
      const dt = p.timeDeltas[i] ?? 0;
      t += dt;
      if (opts.window && (t < opts.window.fromUs || t > opts.window.toUs)) continue;
      const node = byId.get(p.samples[i] as number);
      if (!node) continue;
      const ms = dt / 1000;
      const f = node.callFrame;
      if (f.functionName === SPECIAL_IDLE) {
        idle += ms;
        continue;
      }
      busy += ms;
      const k = keyOf(f);
      self.set(k, (self.get(k) ?? 0) + ms);
      const pk = packageOf(f);
      pkg.set(pk, (pkg.get(pk) ?? 0) + ms);
      const a = activityOf(f);
      act.set(a, (act.get(a) ?? 0) + ms);
      // Inclusive time of the service's own functions: each distinct one on the stack once.
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const cf = (byId.get(id) as ProfileNode).callFrame;
        if (!shortUrl(cf.url).startsWith('src/')) continue;
        const key = keyOf(cf);
        if (seen.has(key)) continue;
        seen.add(key);
        incl.set(key, (incl.get(key) ?? 0) + ms);
      }
    }
  }
  const top = opts.top ?? 25;
  const pct = (v: number) => (busy > 0 ? Math.round((v / busy) * 1000) / 10 : 0);
  const sorted = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    busyMs: Math.round(busy),
    idleMs: Math.round(idle),
    top: sorted(self).slice(0, top).map(([fn, v]) => ({ fn, selfMs: Math.round(v), pct: pct(v) })),
    byPackage: sorted(pkg).slice(0, 15).map(([p, v]) => ({ pkg: p, selfMs: Math.round(v), pct: pct(v) })),
    byActivity: sorted(act).map(([a, v]) => ({ activity: a, selfMs: Math.round(v), pct: pct(v) })),
    inclusive: sorted(incl).slice(0, 20).map(([fn, v]) => ({ fn, totalMs: Math.round(v), pct: pct(v) })),
  };
}

export function formatSummary(title: string, s: Summary): string {
  const lines = [`== ${title}: ${s.busyMs} ms busy (JS thread), ${s.idleMs} ms idle`, '-- self time by activity'];
  for (const r of s.byActivity) lines.push(`${String(r.selfMs).padStart(7)} ms ${String(r.pct).padStart(5)}%  ${r.activity}`);
  lines.push('-- self time by package');
  for (const r of s.byPackage) lines.push(`${String(r.selfMs).padStart(7)} ms ${String(r.pct).padStart(5)}%  ${r.pkg}`);
  lines.push('-- self time by function');
  for (const r of s.top) lines.push(`${String(r.selfMs).padStart(7)} ms ${String(r.pct).padStart(5)}%  ${r.fn}`);
  lines.push('-- inclusive time of src/ functions');
  for (const r of s.inclusive) lines.push(`${String(r.totalMs).padStart(7)} ms ${String(r.pct).padStart(5)}%  ${r.fn}`);
  return lines.join('\n');
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, window: { type: 'string' } } });
  if (positionals.length === 0) {
    process.stderr.write('usage: profile-summary.ts <file.cpuprofile>… [--top N]\n');
    process.exit(2);
  }
  const window = values.window ? (JSON.parse(readFileSync(values.window, 'utf8')) as { fromUs: number; toUs: number }) : undefined;
  process.stdout.write(`${formatSummary(positionals.join(', '), summarise(positionals, { top: Number(values.top), window }))}\n`);
}
