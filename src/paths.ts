// Files the service reads at run time, located from the project root. One module, one level
// below the root, so the locations hold both when the sources run (tsx, tests) and when they
// run as the one-file build (`npm run build` → dist/server.js, also one level below the root).
import { fileURLToPath } from 'node:url';

const ROOT = new URL('../', import.meta.url);
const at = (path: string) => new URL(path, ROOT);

export const PACKAGE_JSON = at('package.json');
export const COMMON_PASSWORDS = at('assets/common-passwords.txt');
export const MIGRATIONS_DIR = fileURLToPath(at('src/storage/postgres/migrations/'));
export const DEMO_ASSETS = at('src/http/demo/assets/');
export const SDK_SOURCES_DIR = fileURLToPath(at('packages/client/src/'));
