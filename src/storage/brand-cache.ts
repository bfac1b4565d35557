// A per-process cache in front of the brand store. Every customer request loads its brand; at
// load that is one PostgreSQL round trip (and a JSON parse) per request for a config that
// changes a few times a year. Entries live `ttlMs` (default 1 s), unknown brands included, so
// a flood of requests for a made-up brand does not reach the database either.
//
// Consistency: a change made through this process (admin PUT/DELETE) applies at once here;
// other instances see it within `ttlMs`. Measured in BENCHMARKS.md.
import { deepFreeze } from '../domain/brand-config.ts';
import type { BrandConfig } from '../domain/types.ts';
import type { BrandStore } from '../ports/durable-store.ts';

export const BRAND_CACHE_TTL_MS = 1000;
const MAX_ENTRIES = 10_000;

/** Monotonic milliseconds: the cache must not depend on the wall clock or the test clock. */
const monotonic = () => performance.now();

export function cachedBrandStore(inner: BrandStore, ttlMs = BRAND_CACHE_TTL_MS, now = monotonic): BrandStore {
  const entries = new Map<string, { config: BrandConfig | null; until: number }>();
  // A write bumps the generation before and after it: a read that overlapped it must not
  // store what it read (it may be the old config).
  let generation = 0;
  return {
    async getBrand(name) {
      const hit = entries.get(name);
      const t = now();
      if (hit !== undefined && hit.until > t) return hit.config;
      const started = generation;
      const config = await inner.getBrand(name);
      const frozen = config === null ? null : deepFreeze(config);
      if (started === generation) {
        if (entries.size >= MAX_ENTRIES) entries.clear();
        entries.set(name, { config: frozen, until: t + ttlMs });
      }
      return frozen;
    },
    async putBrand(name, config, at) {
      generation++;
      entries.delete(name);
      try {
        await inner.putBrand(name, config, at);
      } finally {
        generation++;
        entries.delete(name);
      }
    },
    async deleteBrand(name) {
      generation++;
      entries.delete(name);
      try {
        return await inner.deleteBrand(name);
      } finally {
        generation++;
        entries.delete(name);
      }
    },
    listBrands: () => inner.listBrands(),
  };
}
