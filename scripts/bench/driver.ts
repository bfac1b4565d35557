// The closed-loop load driver: `concurrency` loops, each running one flow after another
// (a flow = the requests of one login, or one request) for warm-up + duration. Only what
// completes inside the timed window counts: its flows give the rate and the flow latencies,
// its requests the per-request latencies; a flow that fails inside the window is an error.
// `onWindow` hooks take the server-side readings (CPU, RSS) exactly at the window's edges.
import { performance } from 'node:perf_hooks';
import { RoundRobin, type HttpResponse } from './http-client.ts';
import { Samples } from './stats.ts';

export interface LoopContext {
  /** 0 … concurrency-1. */
  index: number;
  /** Sends a request to the next server in turn; the latency is recorded. */
  request(method: string, path: string, body?: unknown, authorization?: string): Promise<HttpResponse>;
}

/** One flow; throws (any error) when it did not succeed. */
export type Flow = (ctx: LoopContext) => Promise<void>;

export interface LoadOptions {
  ports: number[];
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  flow: Flow;
  /** Called right at the start and at the end of the timed window. */
  onWindowStart?: () => void | Promise<void>;
  onWindowEnd?: () => void | Promise<void>;
}

export interface LoadResult {
  flows: number;
  errors: number;
  /** The window's real length (ms), for the rate. */
  windowMs: number;
  flowLatency: Samples;
  requestLatency: Samples;
  /** A few distinct error messages, for the operator. */
  errorSamples: string[];
  /** CPU ms of this (driver) process during the window. */
  driverCpuMs: number;
}

export class FlowError extends Error {}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const flowLatency = new Samples();
  const requestLatency = new Samples();
  const errorSamples = new Set<string>();
  let flows = 0;
  let errors = 0;
  const begin = performance.now();
  const windowStart = begin + o.warmupMs;
  const windowEnd = windowStart + o.durationMs;
  let inWindow = false;
  let realStart = windowStart;
  let realEnd = windowEnd;
  let cpuStart = process.cpuUsage();
  let driverCpuMs = 0;

  const startTimer = new Promise<void>((resolve) =>
    setTimeout(async () => {
      await o.onWindowStart?.();
      cpuStart = process.cpuUsage();
      realStart = performance.now();
      inWindow = true;
      resolve();
    }, o.warmupMs),
  );
  const endTimer = new Promise<void>((resolve) =>
    setTimeout(async () => {
      inWindow = false;
      realEnd = performance.now();
      const d = process.cpuUsage(cpuStart);
      driverCpuMs = (d.user + d.system) / 1000;
      await o.onWindowEnd?.();
      resolve();
    }, o.warmupMs + o.durationMs),
  );

  const loop = async (index: number) => {
    const rr = new RoundRobin(o.ports, index);
    const ctx: LoopContext = {
      index,
      async request(method, path, body, authorization) {
        const t0 = performance.now();
        const r = await rr.pick().request(method, path, body === undefined ? undefined : JSON.stringify(body), authorization);
        if (inWindow) requestLatency.add(performance.now() - t0);
        return r;
      },
    };
    try {
      while (performance.now() < windowEnd) {
        const t0 = performance.now();
        try {
          await o.flow(ctx);
          // Throughput counts completions inside the window (a flow begun in the warm-up
          // and finished in the window counts, one still running at the end does not).
          if (inWindow) {
            flows++;
            flowLatency.add(performance.now() - t0);
          }
        } catch (err) {
          if (inWindow) errors++;
          if (errorSamples.size < 5) errorSamples.add(err instanceof Error ? err.message : String(err));
          // A broken connection or a refusing server: do not spin.
          if (!(err instanceof FlowError)) await new Promise((r) => setTimeout(r, 10));
        }
      }
    } finally {
      rr.close();
    }
  };
  await Promise.all([startTimer, endTimer, ...Array.from({ length: o.concurrency }, (_, i) => loop(i))]);
  return { flows, errors, windowMs: realEnd - realStart, flowLatency, requestLatency, errorSamples: [...errorSamples], driverCpuMs };
}

/** Parses a JSON answer, failing the flow on a non-200 or a business failure. */
export function expectSuccess(r: HttpResponse, step: string): any {
  let body: any;
  try {
    body = JSON.parse(r.body);
  } catch {
    throw new FlowError(`${step}: HTTP ${r.status}, body is not JSON`);
  }
  if (r.status !== 200 || body?.status?.success === false) {
    throw new FlowError(`${step}: HTTP ${r.status}, code ${body?.status?.code ?? '?'} ${body?.status?.message ?? ''}`.trim());
  }
  return body;
}
