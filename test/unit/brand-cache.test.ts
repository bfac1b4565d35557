// The per-process brand cache (src/storage/brand-cache.ts): hits within the TTL, refetch after
// it, unknown brands cached too, writes through this process invalidate at once, and a read that
// overlaps a write never stores the old config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cachedBrandStore } from '../../src/storage/brand-cache.ts';
import { parseBrandConfig } from '../../src/domain/brand-config.ts';
import type { BrandConfig } from '../../src/domain/types.ts';
import type { BrandStore } from '../../src/ports/durable-store.ts';

function fakeStore() {
  const data = new Map<string, BrandConfig>();
  let reads = 0;
  let gate: Promise<void> | null = null;
  const store: BrandStore = {
    async getBrand(name) {
      reads++;
      const value = data.get(name) ?? null;
      if (gate) await gate;
      return value === null ? null : structuredClone(value);
    },
    async putBrand(name, config) {
      data.set(name, config);
    },
    async deleteBrand(name) {
      return data.delete(name);
    },
    async listBrands() {
      return [...data].map(([name, config]) => ({ name, config }));
    },
  };
  return { store, data, reads: () => reads, hold: (p: Promise<void> | null) => (gate = p) };
}

test('hits within the TTL, refetches after it; unknown brands are cached too', async () => {
  const f = fakeStore();
  let t = 0;
  const c = cachedBrandStore(f.store, 1000, () => t);
  f.data.set('A', parseBrandConfig({ otpLength: 7 }));
  assert.equal((await c.getBrand('A'))?.otpLength, 7);
  assert.equal((await c.getBrand('A'))?.otpLength, 7);
  assert.equal(await c.getBrand('NOPE'), null);
  assert.equal(await c.getBrand('NOPE'), null);
  assert.equal(f.reads(), 2);
  assert.ok(Object.isFrozen(await c.getBrand('A')), 'cached configs are frozen');
  // Changed behind the cache's back (another instance): seen after the TTL.
  f.data.set('A', parseBrandConfig({ otpLength: 8 }));
  t = 999;
  assert.equal((await c.getBrand('A'))?.otpLength, 7);
  t = 1000;
  assert.equal((await c.getBrand('A'))?.otpLength, 8);
});

test('put and delete through the cache apply at once', async () => {
  const f = fakeStore();
  const c = cachedBrandStore(f.store, 60_000, () => 0);
  assert.equal(await c.getBrand('B'), null);
  await c.putBrand('B', parseBrandConfig({ otpLength: 9 }), 0);
  assert.equal((await c.getBrand('B'))?.otpLength, 9);
  assert.equal(await c.deleteBrand('B'), true);
  assert.equal(await c.getBrand('B'), null);
});

test('a read that overlaps a write does not cache the old config', async () => {
  const f = fakeStore();
  const c = cachedBrandStore(f.store, 60_000, () => 0);
  f.data.set('C', parseBrandConfig({ otpLength: 5 }));
  let release!: () => void;
  f.hold(new Promise<void>((r) => (release = r)));
  const slow = c.getBrand('C'); // reads the old value, then waits
  await new Promise((r) => setImmediate(r));
  f.hold(null);
  await c.putBrand('C', parseBrandConfig({ otpLength: 6 }), 0);
  release();
  assert.equal((await slow)?.otpLength, 5, 'the overlapping read itself returns what it read');
  assert.equal((await c.getBrand('C'))?.otpLength, 6, 'but it was not cached');
});
