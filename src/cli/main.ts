// The admin CLI (spec §8 over HTTP): `runCli(argv, io)` parses, runs one command, returns the
// exit code. bin/auth-engine.js wires it to the process; tests call it directly.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AdminClient, ApiError, ConnectionError, type FetchFn } from './client.ts';
import { EXIT, RefusedError, UsageError, intOption, type Command, type CommandContext, type OptionSpec, type Values } from './command.ts';
import { COMMANDS, GROUPS } from './commands/index.ts';
import { DEFAULT_PORT, DEFAULT_TIMEOUT_MS, GLOBAL_OPTIONS, commandHelp, groupHelp, topHelp } from './help.ts';
import { Output, type Sink } from './output.ts';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: Sink;
  stderr: Sink;
  /** Defaults to the global fetch. */
  fetch?: FetchFn;
  /** Aborting it stops the command (Ctrl-C); `audit --follow` then ends with 0. */
  signal?: AbortSignal;
  /** For `--file -`; defaults to process.stdin. */
  stdin?: AsyncIterable<string | Uint8Array>;
  /** Relative --file paths start here; defaults to process.cwd(). */
  cwd?: string;
}

type ParseOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>;

const toParse = (specs: Record<string, OptionSpec>): ParseOptions =>
  Object.fromEntries(Object.entries(specs).map(([k, o]) => [k, o.short ? { type: o.type, short: o.short } : { type: o.type }]));

/** Every option of every command: lets the first pass tell option values from command words. */
const ALL_OPTIONS = toParse(Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options)));

/** Which command the words name, and argv without those words. */
function locate(argv: string[]): { words: string[]; positionals: string[]; command?: Command; rest: string[]; help: boolean; token?: string } {
  const { tokens, values } = parseArgs({ args: argv, options: ALL_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positionals = tokens.filter((t) => t.kind === 'positional');
  const token = typeof values.token === 'string' ? values.token : undefined;
  const help = values.help === true;
  const first = positionals[0]?.value;
  const take = first !== undefined && GROUPS.includes(first) ? 2 : 1;
  const used = positionals.slice(0, take);
  const words = used.map((t) => t.value);
  const command = COMMANDS.find((c) => c.words.length === words.length && c.words.every((w, i) => w === words[i]));
  const drop = new Set(used.map((t) => t.index));
  return { words, positionals: positionals.map((t) => t.value), command, rest: argv.filter((_, i) => !drop.has(i)), help, token };
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const out = new Output(io.stdout, io.stderr);
  const env = io.env;
  const envToken = env.AUTH_ADMIN_TOKEN || undefined;
  out.hide(envToken);
  const signal = io.signal ?? new AbortController().signal;

  let command: Command | undefined;
  try {
    const found = locate(argv);
    out.hide(found.token);
    command = found.command;
    const [first, second] = found.words;

    if (first === 'help') return helpFor(out, found.positionals.slice(1));
    if (!command) {
      if (first === undefined) {
        if (found.help) return printed(out, topHelp());
        out.stderr(topHelp());
        return EXIT.USAGE;
      }
      if (GROUPS.includes(first) && (second === undefined || found.help)) {
        if (found.help && second === undefined) return printed(out, groupHelp(first));
        out.error(second === undefined ? `${first} needs a subcommand` : `unknown command: ${first} ${second}`);
        out.stderr(groupHelp(first));
        return EXIT.USAGE;
      }
      throw new UsageError(`unknown command: ${found.words.join(' ')} (see auth-engine --help)`);
    }

    // --help wins over every other problem of the command line.
    if (found.help) return printed(out, commandHelp(command));
    let parsed;
    try {
      parsed = parseArgs({ args: found.rest, options: toParse({ ...GLOBAL_OPTIONS, ...command.options }), strict: true, allowPositionals: true });
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const values = parsed.values as Values;
    if (parsed.positionals.length !== command.args.length) {
      const want = command.args.map((a) => `<${a}>`).join(' ') || 'no arguments';
      throw new UsageError(`${command.words.join(' ')} takes ${want} (got ${parsed.positionals.length === 0 ? 'none' : parsed.positionals.map((p) => JSON.stringify(p)).join(' ')})`);
    }

    let client: AdminClient | undefined;
    const ctx: CommandContext = {
      out,
      signal,
      client: () => (client ??= makeClient(values, env, io.fetch ?? fetch, signal)),
      readInput: (path) => readInput(path, io),
    };
    return await command.run(ctx, parsed.positionals, values);
  } catch (err) {
    return report(out, err, command, signal);
  }
}

function makeClient(values: Values, env: CliIo['env'], fetchFn: FetchFn, signal: AbortSignal): AdminClient {
  const token = (values.token as string | undefined) || env.AUTH_ADMIN_TOKEN || '';
  if (token === '') throw new UsageError('no admin token: set AUTH_ADMIN_TOKEN (or pass --token)');
  const port = /^[0-9]{1,5}$/.test(env.PORT ?? '') && Number(env.PORT) >= 1 && Number(env.PORT) <= 65535 ? env.PORT : String(DEFAULT_PORT);
  const raw = (values.url as string | undefined) || env.AUTH_ENGINE_URL || `http://127.0.0.1:${port}`;
  let baseUrl: URL;
  try {
    baseUrl = new URL(raw);
  } catch {
    throw new UsageError('--url / AUTH_ENGINE_URL is not a URL');
  }
  if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') throw new UsageError('--url must be http:// or https://');
  // Credentials in a URL end up in messages and shell history; the token goes in AUTH_ADMIN_TOKEN.
  if (baseUrl.username !== '' || baseUrl.password !== '') throw new UsageError('--url must not contain credentials');
  baseUrl.search = '';
  baseUrl.hash = '';
  const timeoutMs = intOption(values, 'timeout', 1, 600_000, DEFAULT_TIMEOUT_MS);
  return new AdminClient({ baseUrl, token, timeoutMs, fetch: fetchFn, signal });
}

async function readInput(path: string, io: CliIo): Promise<string> {
  try {
    if (path === '-') {
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of io.stdin ?? process.stdin) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      return text + decoder.decode();
    }
    return await readFile(resolve(io.cwd ?? process.cwd(), path), 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new UsageError(`cannot read ${path === '-' ? 'stdin' : path}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}

/** Hints for the codes an admin meets, whose contract messages are written for customers. */
const HINTS: Record<number, string> = { 1504: 'unknown brand', 1548: 'wrong or missing admin token (AUTH_ADMIN_TOKEN)' };

function report(out: Output, err: unknown, command: Command | undefined, signal: AbortSignal): number {
  if (err instanceof UsageError) {
    out.error(err.message);
    out.stderr(`Run \`auth-engine ${command ? `${command.words.join(' ')} ` : ''}--help\` for usage.\n`);
    return EXIT.USAGE;
  }
  if (err instanceof ApiError) {
    const extra = [`HTTP ${err.http}`, ...(err.code !== null && HINTS[err.code] ? [HINTS[err.code]] : []), ...(err.detail ? [err.detail] : [])];
    out.error(err.code === null ? `error: ${err.apiMessage} (${extra.join('; ')})` : `error ${err.code}: ${err.apiMessage} (${extra.join('; ')})`);
    return EXIT.API;
  }
  if (err instanceof RefusedError) {
    out.error(err.message);
    return EXIT.API;
  }
  if (err instanceof ConnectionError) {
    out.error(err.message);
    return EXIT.CONNECTION;
  }
  if (signal.aborted) {
    out.error('interrupted');
    return EXIT.INTERRUPTED;
  }
  // A bug in the tool: say so without a stack (it could quote request data).
  out.error(`unexpected error: ${err instanceof Error ? err.message : String(err)}`);
  return EXIT.API;
}

function helpFor(out: Output, words: string[]): number {
  if (words.length === 0) return printed(out, topHelp());
  const command = COMMANDS.find((c) => c.words.join(' ') === words.join(' '));
  if (command) return printed(out, commandHelp(command));
  if (words.length === 1 && GROUPS.includes(words[0])) return printed(out, groupHelp(words[0]));
  out.error(`no such command: ${words.join(' ')} (see auth-engine --help)`);
  return EXIT.USAGE;
}

function printed(out: Output, text: string): number {
  out.stdout(text);
  return EXIT.OK;
}
