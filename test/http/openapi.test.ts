import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startHarness } from '../helpers/harness.ts';

// The customer endpoints of the wire contract, each as mobile and web.
const CUSTOMER = ['token/generate', 'otp/generate', 'otp/validate', 'password/validate', 'token/regenerate', 'password/change', 'password/forget', 'token/expire'];
const VARIANTS = ['mobile', 'web'] as const;
const customerPath = (v: (typeof VARIANTS)[number], p: string) => `/auth/v1/${v === 'web' ? 'web/' : ''}${p}`;
const OTHER: [string, string][] = [
  ['post', '/auth/v1/token/introspect'],
  ['get', '/.well-known/jwks.json'],
  ['get', '/health'],
  ['get', '/ready'],
  ['put', '/admin/v1/brands/{brand}'],
  ['get', '/admin/v1/brands/{brand}'],
  ['delete', '/admin/v1/brands/{brand}'],
  ['get', '/admin/v1/brands'],
  ['get', '/admin/v1/outbox'],
  ['get', '/admin/v1/users/{brand}/{type}/{value}'],
  ['delete', '/admin/v1/users/{brand}/{type}/{value}'],
  ['post', '/admin/v1/users/{brand}/{type}/{value}/unlock'],
  ['get', '/admin/v1/audit'],
];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

type Json = Record<string, any>;

/** Every local $ref in the document, with where it was found. */
function refs(node: unknown, at = '#', out: [string, string][] = []): [string, string][] {
  if (Array.isArray(node)) node.forEach((n, i) => refs(n, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push([at, v]);
      else refs(v, `${at}/${k}`, out);
    }
  }
  return out;
}

function resolvePointer(doc: Json, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `only local refs expected, got ${ref}`);
  let cur: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object' || !(key in cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

async function fetchDoc() {
  const h = await startHarness();
  try {
    const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    return { status: res.statusCode, type: String(res.headers['content-type']), doc: JSON.parse(res.body) as Json };
  } finally {
    await h.close();
  }
}

test('GET /openapi.json is a valid OpenAPI 3 document (schema validator)', async () => {
  const { status, type, doc } = await fetchDoc();
  assert.equal(status, 200);
  assert.match(type, /^application\/json/);
  const result = await new Validator().validate(doc);
  assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
});

test('GET /openapi.json: structure, every endpoint, refs, error envelope, example', async () => {
  const { doc } = await fetchDoc();
  assert.match(doc.openapi, /^3\.\d+\.\d+$/);
  assert.equal(doc.info.title, 'Auth Engine');
  assert.equal(typeof doc.info.version, 'string');
  assert.ok(doc.info.version.length > 0);

  // Every operation has responses, a summary, and the error envelope for 4XX/5XX.
  let operations = 0;
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      operations++;
      assert.ok(op.responses && Object.keys(op.responses).length > 0, `${method} ${path} has no responses`);
      assert.equal(typeof op.summary, 'string', `${method} ${path} has no summary`);
      assert.equal(op.responses['4XX']?.content?.['application/json']?.schema?.$ref, '#/components/schemas/ErrorEnvelope', `${method} ${path}`);
      // Path templates declare their parameters.
      for (const name of path.match(/\{([^}]+)\}/g) ?? []) {
        assert.ok(
          (op.parameters ?? []).some((p: Json) => p.in === 'path' && `{${p.name}}` === name && p.required === true),
          `${method} ${path} lacks path parameter ${name}`,
        );
      }
    }
  }
  assert.ok(operations >= CUSTOMER.length * 2 + OTHER.length);

  // Every $ref resolves inside the document.
  const all = refs(doc);
  assert.ok(all.length > 0);
  for (const [at, ref] of all) assert.notEqual(resolvePointer(doc, ref), undefined, `${ref} at ${at} does not resolve`);

  // The error envelope component is the spec §1.2 shape.
  const env = doc.components.schemas.ErrorEnvelope;
  assert.deepEqual(env.required, ['status']);
  assert.deepEqual(env.properties.status.required, ['success', 'code', 'message']);

  // Every customer endpoint, for both variants, with its request body and 200 response schema.
  for (const v of VARIANTS) {
    for (const p of CUSTOMER) {
      const op = doc.paths[customerPath(v, p)]?.post;
      assert.ok(op, `missing POST ${customerPath(v, p)}`);
      const body = op.requestBody?.content?.['application/json']?.schema;
      assert.ok(body, `${customerPath(v, p)} has no request body schema`);
      assert.ok(body.required.includes('brand'));
      assert.equal(body.required.includes('deviceId'), v === 'mobile', `${customerPath(v, p)} deviceId requirement`);
      const ok = op.responses['200']?.content?.['application/json']?.schema;
      assert.ok(ok?.properties?.status, `${customerPath(v, p)} has no 200 envelope schema`);
    }
    const gen = doc.paths[customerPath(v, 'token/generate')].post.requestBody.content['application/json'];
    assert.equal(gen.example.brand, 'acme');
    assert.equal('deviceId' in gen.example, v === 'mobile');
    // otp/generate documents `?fallbackChannel=` and the `locale` body field (spec §3.2, §6).
    const send = doc.paths[customerPath(v, 'otp/generate')].post;
    assert.ok(send.parameters?.some((q: { in: string; name: string }) => q.in === 'query' && q.name === 'fallbackChannel'), 'fallbackChannel query parameter');
    assert.ok(send.requestBody.content['application/json'].schema.properties.locale, 'locale body field');
  }
  for (const [method, path] of OTHER) assert.ok(doc.paths[path]?.[method], `missing ${method.toUpperCase()} ${path}`);

  // Admin operations declare the bearer scheme, and it exists.
  assert.deepEqual(doc.paths['/admin/v1/brands'].get.security, [{ adminBearer: [] }]);
  assert.equal(doc.components.securitySchemes.adminBearer.scheme, 'bearer');
});

test('GET /docs: a self-contained page that renders /openapi.json, with a CSP that allows exactly it', async () => {
  const h = await startHarness();
  try {
    const res = await h.app.inject({ method: 'GET', url: '/docs' });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    const html = res.body;
    assert.match(html, /fetch\('\/openapi\.json'\)/);
    // No external assets: no src= / href= pointing off the service.
    assert.doesNotMatch(html, /<script[^>]+src=/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i);

    // The CSP admits exactly the inline script and style (by hash) and fetches to self.
    const csp = String(res.headers['content-security-policy']);
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
    assert.ok(script && style);
    assert.match(csp, /default-src 'none'/);
    assert.ok(csp.includes(`script-src ${hash(script)}`), csp);
    assert.ok(csp.includes(`style-src ${hash(style)}`), csp);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);

    // Every other response keeps the strict default.
    const health = await h.app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
  } finally {
    await h.close();
  }
});
