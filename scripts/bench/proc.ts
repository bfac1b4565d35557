// CPU time and memory of processes, read from /proc (Linux). The benchmark measures the
// server's own cost (not wall time shared with the driver, PostgreSQL and Redis) by the
// difference of utime+stime across the timed window; /proc/<pid>/stat of the thread-group
// leader sums every thread (the libuv pool running argon2 included).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;

/** Clock ticks per second (USER_HZ), almost always 100. */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface CpuTimes {
  /** utime: user space, ms. */
  user: number;
  /** stime: in the kernel on the process's behalf (syscalls: socket and file I/O, fsync …), ms. */
  sys: number;
}

/** utime and stime of a process in ms, or null when it cannot be read (gone, not Linux). */
export function cpuTimes(pid: number | string): CpuTimes | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of the whole line are 12 and 13 after the name.
    const t = clockTicks();
    return { user: (Number(fields[11]) * 1000) / t, sys: (Number(fields[12]) * 1000) / t };
  } catch {
    return null;
  }
}

/**
 * utime + stime of each process's main thread only (the JS event loop: thread id = pid), ms;
 * the rest of a process's CPU is its other threads (libuv pool: argon2, fsync; V8 helpers).
 */
export function mainThreadCpuMsOf(pids: number[]): number | null {
  return cpuMsOf(pids.map((p) => `${p}/task/${p}`));
}

/** Sum of cpuTimes over pids; null if none could be read. */
export function cpuTimesOf(pids: Array<number | string>): CpuTimes | null {
  const total = { user: 0, sys: 0 };
  let any = false;
  for (const p of pids) {
    const v = cpuTimes(p);
    if (v !== null) {
      total.user += v.user;
      total.sys += v.sys;
      any = true;
    }
  }
  return any ? total : null;
}

/** utime + stime summed over pids, ms; null if none could be read. */
export function cpuMsOf(pids: Array<number | string>): number | null {
  const t = cpuTimesOf(pids);
  return t === null ? null : t.user + t.sys;
}

/** A field of /proc/<pid>/status in MB (VmHWM = peak resident set, VmRSS = current). */
export function statusMb(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : null;
  } catch {
    return null;
  }
}

export interface MachineCpu {
  busy: number;
  total: number;
}

/** Whole-machine jiffies from /proc/stat, for "how busy was the box" during a window. */
export function machineCpu(): MachineCpu | null {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n')[0] as string;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal (guest is inside user)
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Busy share of all cores between two samples, in percent of the whole machine. */
export function busyPercent(a: MachineCpu | null, b: MachineCpu | null): number | null {
  if (!a || !b || b.total === a.total) return null;
  return Math.round(((b.busy - a.busy) / (b.total - a.total)) * 1000) / 10;
}

/**
 * The given processes and all their descendants (from the ppid field of every /proc/<pid>/stat).
 * A service that forks workers itself (node:cluster) is then measured whole: CPU summed over
 * the tree, peak RSS per process.
 */
export function withDescendants(roots: number[]): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return roots;
  }
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(d));
      children.set(ppid, list);
    } catch {
      /* gone meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  roots.forEach(walk);
  return out;
}
