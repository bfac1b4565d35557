// Packages that only one deployment mode uses are loaded when that mode starts, not when the
// service's modules are imported: an instance on PostgreSQL+Redis never loads libsql, an
// embedded one never loads pg or ioredis, and nodemailer loads only with an SMTP provider.
// Each holds 2–8 MB of heap (and libsql a native library) for the life of the process, which
// counts against the peak RSS target (BENCHMARKS.md). A static `import` cannot be deferred:
// the one-file build hoists imports of external packages to the top of dist/server.js.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A loader that requires `name` at its first call (these packages are CommonJS) and keeps it. */
export function lazyPackage<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
