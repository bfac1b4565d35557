#!/usr/bin/env node
// `npx auth-engine …` / the package's bin: the admin CLI (src/cli/main.ts, run through tsx,
// which is a runtime dependency). Ctrl-C stops the command (audit --follow ends cleanly);
// a second Ctrl-C exits at once.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/main.ts');

const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(130);
  controller.abort();
});
process.on('SIGTERM', () => controller.abort());

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  signal: controller.signal,
});
