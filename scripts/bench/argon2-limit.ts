// The ceiling of password logins on this machine: one login costs one argon2id verification
// with the service's parameters, and the cores can do at most cores ÷ verify-time of them
// per second, whatever else the service does. Measured here with the service's own hasher
// (same parameters, same library, same NFKC step), one verification at a time, before the
// load starts, so the time is that of an otherwise idle core.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { argon2Hasher, DEFAULT_ARGON2, type Argon2Params } from '../../src/crypto/password-hasher.ts';
import { Samples } from './stats.ts';

export interface HashingLimit {
  params: Argon2Params;
  samples: number;
  verifyMeanMs: number;
  verifyP50Ms: number;
  cores: number;
  /**
   * cores ÷ median verify time, in logins per second. The median, not the mean: a sample that
   * another process on the box slowed down (seen: 4.8 ms and 9.5 ms means minutes apart) must
   * not lower the ceiling the service is held to.
   */
  limitPerSecond: number;
  /**
   * Verifications per second measured with `cores` of them in flight for `parallelMs` (through the
   * libuv pool, as in the service): the same ceiling observed rather than computed; lower
   * when the cores share caches / memory bandwidth (argon2id's 19 MiB per verification).
   */
  parallelPerSecond: number;
}

export async function measureHashingLimit(samples = 20, parallelMs = 2000, params: Argon2Params = DEFAULT_ARGON2): Promise<HashingLimit> {
  const hasher = argon2Hasher(params);
  const stored = await hasher.hash('Bench-Passw0rd-limit');
  for (let i = 0; i < 3; i++) await hasher.verify(stored, 'Bench-Passw0rd-limit'); // warm-up
  const times = new Samples();
  let total = 0;
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const ok = await hasher.verify(stored, 'Bench-Passw0rd-limit');
    const ms = performance.now() - t0;
    if (!ok) throw new Error('argon2 verification of the benchmark hash failed');
    times.add(ms);
    total += ms;
  }
  const cores = availableParallelism();
  const verifyMeanMs = total / samples;
  let done = 0;
  const t0 = performance.now();
  const until = t0 + parallelMs;
  await Promise.all(
    Array.from({ length: cores }, async () => {
      while (performance.now() < until) {
        await hasher.verify(stored, 'Bench-Passw0rd-limit');
        done++;
      }
    }),
  );
  const parallelPerSecond = Math.round((done * 1000) / (performance.now() - t0));
  return {
    params,
    samples,
    verifyMeanMs: Math.round(verifyMeanMs * 100) / 100,
    verifyP50Ms: times.percentiles([50])[0] as number,
    cores,
    limitPerSecond: Math.round((cores * 1000) / (times.percentiles([50])[0] as number)),
    parallelPerSecond,
  };
}
