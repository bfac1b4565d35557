// The package as an app gets it: built with its own tsconfig (ES2020 + DOM only, no Node types)
// into a node_modules/@auth-engine/client of a temp dir, then resolved by its name through the
// "exports" map — from JavaScript (the built ES modules, used against the real service) and from
// TypeScript (the .d.ts: spec codes are a checked union).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type Server } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const PKG = join(ROOT, 'packages/client');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

let tmp: string;
let installed: string;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'ae-sdk-build-'));
  installed = join(tmp, 'node_modules/@auth-engine/client');
  mkdirSync(installed, { recursive: true });
  cpSync(join(PKG, 'package.json'), join(installed, 'package.json'));
  // The package's own build (its tsconfig), into the installed copy instead of packages/client/dist.
  execFileSync(process.execPath, [TSC, '-p', PKG, '--outDir', join(installed, 'dist')], { cwd: ROOT, stdio: 'pipe' });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('package.json ships dist only, as ES modules with types', () => {
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  assert.equal(pkg.name, '@auth-engine/client');
  assert.equal(pkg.type, 'module');
  assert.deepEqual(pkg.files, ['dist']);
  assert.deepEqual(pkg.exports['.'], { types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' });
  assert.equal(pkg.scripts.build, 'tsc -p .');
  assert.equal(pkg.dependencies, undefined, 'no runtime dependencies');
});

test('the build emits .js and .d.ts per module, with nothing Node-only in the code', () => {
  const files = readdirSync(join(installed, 'dist')).sort();
  for (const m of ['client', 'errors', 'index', 'jwt', 'storage', 'transport', 'types']) {
    assert.ok(files.includes(`${m}.js`) && files.includes(`${m}.d.ts`), `${m}: ${files.join(', ')}`);
  }
  for (const f of files.filter((x) => x.endsWith('.js'))) {
    // Code only: the comments may name what the code avoids.
    const js = readFileSync(join(installed, 'dist', f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    assert.doesNotMatch(js, /from ['"]node:|require\(|\bBuffer\b|\bprocess\./, `${f} uses a Node API`);
    // ES modules with explicit extensions: loadable by browsers and Node without a bundler.
    for (const m of js.matchAll(/from '(\.[^']*)'/g)) assert.match(m[1], /\.js$/, `${f}: ${m[1]}`);
  }
  assert.match(readFileSync(join(installed, 'dist/index.d.ts'), 'utf8'), /createAuthClient/);
});

test('resolved by name through "exports" in a plain Node process', () => {
  const script = `
    import * as sdk from '@auth-engine/client';
    const c = sdk.createAuthClient({ baseUrl: 'http://127.0.0.1:1', brand: 'B', variant: 'web', storage: sdk.memoryStorage() });
    const e = new sdk.AuthError(1506);
    console.log(JSON.stringify({ exports: Object.keys(sdk).sort(), token: await c.getToken(), code: e.code, message: e.message, http: e.httpStatus }));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: tmp, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    exports: ['AUTH_ERRORS', 'AuthError', 'AuthNetworkError', 'createAuthClient', 'isAuthErrorCode', 'memoryStorage', 'webStorage'],
    token: null,
    code: 1506,
    message: 'Invalid OTP.',
    http: 401,
  });
});

test('the declarations type-check an app: spec codes are a checked union', () => {
  writeFileSync(join(tmp, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(tmp, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2020', lib: ['ES2020', 'DOM'], types: [], skipLibCheck: true }, files: ['app.ts'] }),
  );
  writeFileSync(
    join(tmp, 'app.ts'),
    `import { AuthError, createAuthClient, webStorage, type AuthErrorCode, type LoginResult } from '@auth-engine/client';
const client = createAuthClient({ baseUrl: 'https://auth.example', brand: 'B', variant: 'web', storage: webStorage(localStorage), onLoginRequired: (code) => { const c: 1525 | 1529 | 1597 = code; void c; } });
export async function login(otp: string): Promise<LoginResult | AuthErrorCode> {
  try {
    return await client.verifyOtp({ type: 'EMAIL', value: 'a@example.com' }, 'P-1', otp);
  } catch (err) {
    if (err instanceof AuthError && err.code === 1506) return err.code;
    // @ts-expect-error 9999 is not a spec code: the comparison has no overlap
    if (err instanceof AuthError && err.code === 9999) return 1506;
    throw err;
  }
}
// @ts-expect-error the variant is 'mobile' or 'web'
createAuthClient({ baseUrl: 'x', brand: 'B', variant: 'desktop' });
// @ts-expect-error an identifier type outside the spec
void client.startSession({ type: 'PHONE', value: '1' });
`,
  );
  const r = spawnSync(process.execPath, [TSC, '-p', tmp], { cwd: tmp, encoding: 'utf8' });
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  // And the check can fail: a wrong use is reported.
  writeFileSync(join(tmp, 'app.ts'), `import { AuthError } from '@auth-engine/client';\nexport const bad = (e: AuthError) => e.code === 9999;\n`);
  const bad = spawnSync(process.execPath, [TSC, '-p', tmp], { cwd: tmp, encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stdout, /TS2367/);
});

let srv: Server;
test('the built ES modules log in against the real service', async (t) => {
  srv = await startServer();
  t.after(() => srv.close());
  await srv.createBrand('SdkBuilt');
  assert.ok(existsSync(join(installed, 'dist/index.js')));
  const sdk = (await import(pathToFileURL(join(installed, 'dist/index.js')).href)) as typeof import('../../packages/client/src/index.ts');
  const client = sdk.createAuthClient({ baseUrl: srv.baseUrl, brand: 'SdkBuilt', variant: 'mobile', deviceId: 'built-1', now: () => srv.h.clock.now() });
  const id = { type: 'MOBILE', value: '919400000001' } as const;
  const { sessionId } = await client.startSession(id);
  await client.sendOtp(id, sessionId);
  const otp = await srv.lastOtp('SdkBuilt', id);
  const wrong = await client.verifyOtp(id, sessionId, otp === '000000' ? '111111' : '000000').catch((e: unknown) => e);
  assert.ok(wrong instanceof sdk.AuthError && wrong.code === 1506, String(wrong));
  const login = await client.verifyOtp(id, sessionId, otp);
  assert.ok(await srv.isActive(login.token));
  assert.equal(await client.getToken(), login.token);
  const renewed = await client.regenerate();
  assert.ok(await srv.isActive(renewed));
  await client.logout();
  assert.equal(await srv.isActive(renewed), false);
});
