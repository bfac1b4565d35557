// GET /demo without a browser: on by default outside production and off in production unless
// AUTH_DEMO=true (then the envelope's 404), the page's own CSP with no inline script or style,
// every file the page loads served with its type, and the SDK modules it imports loadable as
// they are served — imported here by Node from a directory holding exactly the served bytes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { ConfigError, loadConfig } from '../../src/config/env.ts';
import { browserSpecifiers } from '../../src/http/demo/sdk-modules.ts';

const ROOT = resolve(import.meta.dirname, '../..');
// Written out here rather than imported: a change to the page's policy must fail this test.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const NOT_FOUND = { status: { success: false, code: 404, message: 'Resource not found.' } };
const SECRETS = {
  AUTH_ADMIN_TOKEN: 'demo-admin-token-0123456789abcdefghijklmnop',
  AUTH_SIGNING_SECRET: 'demo-signing-secret-0123456789abcdefghijklmn',
  AUTH_OTP_SECRET: 'demo-otp-secret-0123456789abcdefghijklmnopqr',
};

const get = (h: Harness, url: string) => h.app.inject({ method: 'GET', url });

/** Static `import … from '…'` / `export … from '…'` specifiers of a module. */
const specifiers = (code: string) => [...code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?\bfrom\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? m[2]);

describe('AUTH_DEMO', () => {
  const config = (env: Record<string, string>) => loadConfig({ ...SECRETS, DATA_DIR: join(tmpdir(), 'ae-demo-unused'), ...env });

  test('on by default outside production, off by default in production; true/false override both', () => {
    assert.equal(config({}).demo, true);
    assert.equal(config({ NODE_ENV: 'test' }).demo, true);
    assert.equal(config({ NODE_ENV: 'production' }).demo, false);
    assert.equal(config({ NODE_ENV: 'production', AUTH_DEMO: 'true' }).demo, true);
    assert.equal(config({ AUTH_DEMO: 'false' }).demo, false);
    assert.equal(config({ NODE_ENV: 'production', AUTH_DEMO: '' }).demo, false, 'empty means unset');
  });

  test('any other value is refused with one line naming the variable', () => {
    assert.throws(
      () => config({ AUTH_DEMO: 'yes' }),
      (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0] === 'AUTH_DEMO: must be true or false (got "yes")',
    );
  });
});

describe('GET /demo enabled (development)', () => {
  let h: Harness;
  let html: string;
  before(async () => {
    h = await startHarness();
    const r = await get(h, '/demo');
    assert.equal(r.statusCode, 200, r.body);
    html = r.body;
  });
  after(() => h.close());

  test('the page: HTML, its own CSP, the other security headers kept', async () => {
    const r = await get(h, '/demo');
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['content-security-policy'], CSP);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.equal(r.headers['x-frame-options'], 'DENY');
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.ok(r.headers['x-request-id']);
    assert.match(html, /<body data-development="true">/);
    // Under script-src/style-src 'self' inline code would be blocked: there must be none.
    assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=|javascript:/i);
    for (const m of html.matchAll(/<script\b[^>]*>/g)) assert.match(m[0], /\ssrc="\/demo\/[^"]+"/, m[0]);
    assert.doesNotMatch(html, /<script\b[^>]*>[^<]+<\/script>/);
    // Nothing from another origin (the machine running it may have no internet).
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
  });

  test('the stylesheet and the script are served with their types and the same CSP', async () => {
    const refs = [...html.matchAll(/(?:src|href)="(\/demo\/[^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(refs.sort(), ['/demo/demo.css', '/demo/demo.js']);
    const css = await get(h, '/demo/demo.css');
    assert.equal(css.statusCode, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(css.headers['content-security-policy'], CSP);
    const js = await get(h, '/demo/demo.js');
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['content-security-policy'], CSP);
  });

  test('the script talks to the service only through the SDK and never writes markup', async () => {
    const js = (await get(h, '/demo/demo.js')).body;
    assert.deepEqual(specifiers(js).sort(), ['/demo/sdk/index.js', '/demo/sdk/jwt.js']);
    // Code only: the comments may name what the code avoids.
    const code = js.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    const banned = /\bfetch\(|XMLHttpRequest|innerHTML|outerHTML|insertAdjacentHTML|document\.write/.exec(code);
    assert.equal(banned, null, `demo.js uses ${banned?.[0]}`);
    // Syntax: the served bytes parse as an ES module.
    const dir = mkdtempSync(join(tmpdir(), 'ae-demo-js-'));
    try {
      writeFileSync(join(dir, 'demo.mjs'), js);
      execFileSync(process.execPath, ['--check', join(dir, 'demo.mjs')], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the SDK modules the page imports are served as JavaScript and load as they are served', async () => {
    // Follow the imports from the page's script, fetching each module the browser would.
    const served = new Map<string, string>();
    const queue = ['/demo/sdk/index.js', '/demo/sdk/jwt.js'];
    while (queue.length > 0) {
      const url = queue.shift() as string;
      if (served.has(url)) continue;
      const r = await get(h, url);
      assert.equal(r.statusCode, 200, url);
      assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8', url);
      assert.equal(r.headers['content-security-policy'], CSP, url);
      served.set(url, r.body);
      for (const spec of specifiers(r.body)) {
        assert.match(spec, /^\.\/[a-z-]+\.js$/, `${url} imports ${spec}: a relative .js module is all a browser can load here`);
        queue.push(new URL(spec, `http://x${url}`).pathname);
      }
    }
    // Every SDK source module with code in it is reachable (types.ts only has types).
    const sources = readdirSync(join(ROOT, 'packages/client/src')).filter((f) => f.endsWith('.ts')).map((f) => `/demo/sdk/${f.replace(/\.ts$/, '.js')}`);
    assert.deepEqual([...served.keys()].sort(), sources.filter((s) => !s.endsWith('/types.js')).sort());
    for (const [url, code] of served) {
      assert.doesNotMatch(code, /\binterface\s|:\s*(string|number|boolean)\b[,)=;]|\bas const\b/, `${url} still has TypeScript in it`);
    }
    // The bytes as served, loaded by Node's ES module loader: parse, link, evaluate.
    const dir = mkdtempSync(join(tmpdir(), 'ae-demo-sdk-'));
    try {
      writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
      for (const [url, code] of served) writeFileSync(join(dir, url.slice('/demo/sdk/'.length)), code);
      const sdk = await import(pathToFileURL(join(dir, 'index.js')).href);
      assert.equal(typeof sdk.createAuthClient, 'function');
      assert.equal(typeof sdk.webStorage, 'function');
      const err = new sdk.AuthError(1506);
      assert.equal(err.message, 'Invalid OTP.');
      assert.equal(err.httpStatus, 401);
      const jwt = await import(pathToFileURL(join(dir, 'jwt.js')).href);
      const payload = Buffer.from(JSON.stringify({ exp: 2000, iat: 1100, rol: 'USER' })).toString('base64url');
      assert.deepEqual(jwt.jwtPayload(`e30.${payload}.sig`), { exp: 2000, iat: 1100, rol: 'USER' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('only SDK module names are served: anything else is the envelope 404', async () => {
    for (const url of ['/demo/sdk/nope.js', '/demo/sdk/client.ts', '/demo/sdk/..%2f..%2fpackage.json', '/demo/sdk/%2e%2e%2fsdk-modules.js', '/demo/sdk/Index.js', '/demo/other']) {
      const r = await get(h, url);
      assert.equal(r.statusCode, 404, url);
      assert.deepEqual(JSON.parse(r.body), NOT_FOUND, url);
    }
  });

  test('.ts import specifiers are rewritten for the browser', () => {
    assert.equal(browserSpecifiers(`import { a } from './a.ts';\nexport * from "../b.ts";\nconst c = import('./c.ts');`), `import { a } from './a.js';\nexport * from "../b.js";\nconst c = import('./c.js');`);
    assert.equal(browserSpecifiers(`import x from 'pkg.ts';`), `import x from 'pkg.ts';`, 'bare specifiers are not the SDK\'s');
  });
});

describe('GET /demo elsewhere', () => {
  test('production with AUTH_DEMO=true: served, without the development hint', async () => {
    const h = await startHarness({ env: { NODE_ENV: 'production', AUTH_DEMO: 'true' } });
    try {
      const r = await get(h, '/demo');
      assert.equal(r.statusCode, 200);
      assert.match(r.body, /<body data-development="false">/);
    } finally {
      await h.close();
    }
  });

  for (const env of [{ AUTH_DEMO: 'false' }, { NODE_ENV: 'production' }] as Record<string, string>[]) {
    test(`disabled (${JSON.stringify(env)}): every /demo path is the envelope 404, the rest of the service unchanged`, async () => {
      const h = await startHarness({ env });
      try {
        for (const url of ['/demo', '/demo/demo.js', '/demo/demo.css', '/demo/sdk/index.js']) {
          const r = await get(h, url);
          assert.equal(r.statusCode, 404, url);
          assert.deepEqual(JSON.parse(r.body), NOT_FOUND, url);
          assert.equal(r.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", url);
        }
        assert.equal((await get(h, '/health')).statusCode, 200);
      } finally {
        await h.close();
      }
    });
  }
});
