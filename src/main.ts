// Entry point: load config → build dependencies → build app → listen; SIGTERM/SIGINT drain.
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config/env.ts';
import { buildDeps } from './deps.ts';

/** Expired sessions are removed in the background; correctness never depends on it. */
const SWEEP_INTERVAL_MS = 60_000;

async function main() {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`auth-engine: refusing to start.\n${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const deps = await buildDeps(config);
  if (config.generatedSecrets.includes('AUTH_ADMIN_TOKEN')) {
    // Printed once, on the start that generated it, straight to the terminal (not the log):
    // the developer needs it for the admin API. It is kept in DATA_DIR/secrets.json.
    process.stdout.write(
      `\nauth-engine: generated a development admin token (stored in ${config.dataDir}/secrets.json):\n  AUTH_ADMIN_TOKEN=${config.adminToken}\n\n`,
    );
  }
  const app = buildApp(deps);
  const sweep = setInterval(() => {
    deps.sessions.sweep(Date.now()).catch(() => undefined);
  }, SWEEP_INTERVAL_MS);
  sweep.unref();

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    deps.logger.info({ signal }, 'shutting down');
    clearInterval(sweep);
    await app.close(); // stops accepting, waits for in-flight requests
    for (const h of deps.health) await h.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
}

main().catch((err) => {
  process.stderr.write(`auth-engine: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
