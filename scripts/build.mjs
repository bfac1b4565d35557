// `npm run build`: the service as one ES module, dist/server.js, compiled by esbuild (installed
// with tsx, a runtime dependency, so it is there with --omit=dev too). Packages stay external.
// It runs without tsx's loader thread and compiled-source caches: about 50 MB less memory per
// instance (BENCHMARKS.md). dist/ is one level below the root, like src/paths.ts, so run-time
// files are found the same way.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/server.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
