// Plumbing shared by the port contracts (test/contract/*.contract.ts) and the files that run
// them against an adapter: a `make` that opens a fresh, empty store, and temp directories.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** Opens a fresh, empty store; `cleanup` closes it and removes whatever it left behind. */
export type MakeStore<S> = () => Promise<{ store: S; cleanup: () => Promise<void> }>;

/** Runs `fn` on a fresh store from `make`, cleaning up whatever happens. */
export async function withFreshStore<S>(make: MakeStore<S>, fn: (store: S) => Promise<void>): Promise<void> {
  const { store, cleanup } = await make();
  try {
    await fn(store);
  } finally {
    await cleanup();
  }
}

/** A temp directory for this test file, removed after all its tests. */
export function tempRoot(prefix: string): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

/**
 * A `make` for a file-backed adapter: each store is opened by `open` in a new empty directory
 * under `root`; cleanup closes it and removes that directory.
 */
export function makeInTempDir<S extends { close(): unknown }>(root: string, open: (dir: string) => S): MakeStore<S> {
  return async () => {
    const dir = mkdtempSync(join(root, 'store-'));
    const store = open(dir);
    return {
      store,
      cleanup: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}
