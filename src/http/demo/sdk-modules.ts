// The SDK (packages/client/src) as browser ES modules for the demo page: each TypeScript module
// is stripped of its types with esbuild — a dependency of tsx, which the service runs on, so it
// is installed wherever the service is (`npm install --omit=dev` included) — and served as
// /demo/sdk/<name>.js. The page therefore runs the SDK's own source, never a copy of it.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SDK_SOURCES_DIR } from '../../paths.ts';

export const SDK_DIR = SDK_SOURCES_DIR;

/** Module file names the browser may ask for: plain names only, so no path reaches the disk. */
export const SDK_MODULE_NAME = /^[a-z][a-z0-9-]*\.js$/;

/**
 * Relative import specifiers naming a `.ts` file become `.js` (the SDK writes `.js` already,
 * as its own build needs; this keeps the page working if a module is ever written otherwise).
 */
export function browserSpecifiers(code: string): string {
  return code.replace(/((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]+?)\.ts(['"])/g, '$1$2.js$3');
}

/** Every SDK module, transpiled once: name (`client.js`) → JavaScript. */
export async function compileSdk(dir: string = SDK_DIR): Promise<Map<string, string>> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (err) {
    throw new Error(`the demo page needs esbuild (installed with tsx) to serve the SDK: ${err instanceof Error ? err.message : String(err)}`);
  }
  const out = new Map<string, string>();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort()) {
    const source = await readFile(join(dir, file), 'utf8');
    // ES2020, as the SDK's own build targets: every browser the SDK supports runs it.
    const { code } = await esbuild.transform(source, { loader: 'ts', format: 'esm', target: 'es2020', sourcefile: file });
    out.set(file.replace(/\.ts$/, '.js'), browserSpecifiers(code));
  }
  return out;
}
