// GET /demo: a small login page built on the SDK (packages/client), for trying a brand out in a
// browser. Registered only when AUTH_DEMO is on (default outside production). Everything it
// loads comes from this service: the page, its stylesheet and script (./assets) and the SDK's
// modules, so the page runs under a CSP without 'unsafe-inline' and without any other origin.
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../envelope.ts';
import { compileSdk, SDK_MODULE_NAME } from './sdk-modules.ts';
import { DEMO_ASSETS } from '../../paths.ts';

/** The page's own policy: scripts, styles and requests from this origin only; no framing. */
export const DEMO_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const asset = (name: string) => readFileSync(new URL(name, DEMO_ASSETS), 'utf8');

export function registerDemo(app: FastifyInstance, opts: { development: boolean }): void {
  // Read once at start (a broken install fails loudly, not on a visitor's request).
  const html = asset('index.html').replace('{{DEVELOPMENT}}', opts.development ? 'true' : 'false');
  const css = asset('demo.css');
  const js = asset('demo.js');
  // The SDK is transpiled on the first request for it and kept; a failure is retried next time.
  let sdk: Promise<Map<string, string>> | undefined;
  const sdkModules = () => {
    sdk ??= compileSdk().catch((err) => {
      sdk = undefined;
      throw err;
    });
    return sdk;
  };

  const route = (url: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    app.get(url, {
      schema: { hide: true },
      // Route onSend hooks run after the app's: this CSP replaces the default-src 'none' one.
      onSend: async (_req, reply) => {
        reply.header('content-security-policy', DEMO_CSP);
      },
    }, handler);

  route('/demo', async (_req, reply) => reply.type('text/html; charset=utf-8').send(html));
  route('/demo/demo.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(css));
  route('/demo/demo.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(js));
  route('/demo/sdk/:module', async (req, reply) => {
    const name = (req.params as { module: string }).module;
    const code = SDK_MODULE_NAME.test(name) ? (await sdkModules()).get(name) : undefined;
    if (code === undefined) return reply.code(404).send(notFound);
    return reply.type('text/javascript; charset=utf-8').send(code);
  });
}
