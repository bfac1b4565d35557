// What every admin CLI command is made of, and the errors that decide the exit code.
import type { AdminClient } from './client.ts';
import type { Output } from './output.ts';

/** Exit codes (docs/cli.md): 0 ok, 1 the API refused or failed, 2 bad usage, 3 server unreachable. */
export const EXIT = { OK: 0, API: 1, USAGE: 2, CONNECTION: 3, INTERRUPTED: 130 } as const;

/** Bad arguments, a missing confirmation or an unusable file: the invocation must change (exit 2). */
export class UsageError extends Error {}

/** The operation was refused by the tool itself because of the server's state (exit 1). */
export class RefusedError extends Error {}

export type OptionSpec = { type: 'string' | 'boolean'; short?: string; arg?: string; help: string };
export type Values = Record<string, string | boolean | undefined>;

export interface CommandContext {
  /** Built lazily: --help and usage errors need no token and no server. */
  client(): AdminClient;
  out: Output;
  signal: AbortSignal;
  readInput(path: string): Promise<string>;
}

export interface Command {
  /** The command words, e.g. ['brands', 'create']. */
  words: string[];
  /** Positional argument names, in order; all required. */
  args: string[];
  options: Record<string, OptionSpec>;
  summary: string;
  /** Free text under the usage line: what it does, caveats, examples. */
  description: string;
  run(ctx: CommandContext, positionals: string[], values: Values): Promise<number>;
}

/** An integer option within bounds, or a usage error naming the option. */
export function intOption(values: Values, name: string, min: number, max: number, dflt: number): number {
  const raw = values[name];
  if (raw === undefined) return dflt;
  const n = typeof raw === 'string' && /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return n;
}

/** `--limit` as the admin API takes it (1–1000). */
export const limitOption = (values: Values, dflt: number) => intOption(values, 'limit', 1, 1000, dflt);

export const LIMIT_OPTION: OptionSpec = { type: 'string', arg: 'n', help: 'how many, 1-1000' };

export const printJson = (ctx: CommandContext, value: unknown) => ctx.out.stdout(`${JSON.stringify(value, null, 2)}\n`);

/** The response body without its success `status`: what show/list print. */
export function payload(body: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, ...rest } = body;
  return rest;
}
