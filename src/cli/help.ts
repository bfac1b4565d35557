// Help texts, built from the command table so they cannot drift from what is parsed.
import type { Command, OptionSpec } from './command.ts';
import { COMMANDS } from './commands/index.ts';

export const DEFAULT_PORT = 8080; // src/config/env.ts: the server's PORT default
export const DEFAULT_TIMEOUT_MS = 30_000;

/** Options every command takes. The token's help names the variable, never a value. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  url: { type: 'string', arg: 'url', help: `server base URL (env AUTH_ENGINE_URL; else http://127.0.0.1:$PORT, PORT defaulting to ${DEFAULT_PORT})` },
  token: { type: 'string', arg: 'token', help: 'admin token (env AUTH_ADMIN_TOKEN, preferred: a flag shows in `ps` and shell history)' },
  timeout: { type: 'string', arg: 'ms', help: `per-request timeout, 1-600000 (default ${DEFAULT_TIMEOUT_MS})` },
  help: { type: 'boolean', short: 'h', help: 'show help' },
};

const EXIT_CODES = 'Exit codes: 0 ok, 1 API error or refused, 2 usage error, 3 server unreachable.';

const usageOf = (c: Command) => {
  const required = Object.entries(c.options).some(([n]) => n === 'file') ? ' --file <path>' : '';
  return `auth-engine ${c.words.join(' ')}${c.args.map((a) => ` <${a}>`).join('')}${required} [options]`;
};

function optionLines(options: Record<string, OptionSpec>): string {
  const rows = Object.entries(options).map(([name, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ` <${o.arg}>` : ''}`, o.help]);
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}\n`).join('');
}

function commandList(commands: Command[], extra: string[][] = []): string {
  const rows = [...commands.map((c) => [`${c.words.join(' ')}${c.args.map((a) => ` <${a}>`).join('')}`, c.summary]), ...extra];
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, s]) => `  ${l.padEnd(width)}  ${s}\n`).join('');
}

export function topHelp(): string {
  return (
    'auth-engine: admin command-line tool of Auth Engine (talks to the admin API, /admin/v1)\n\n' +
    'Usage: auth-engine <command> [arguments] [options]\n\nCommands:\n' +
    commandList(COMMANDS, [['help [command]', 'this text, or the help of a command']]) +
    '\n' +
    `Connection options (every command):\n${optionLines(GLOBAL_OPTIONS)}\n` +
    'Output is JSON (audit: one JSON object a line); errors go to stderr with the API code and message.\n' +
    `${EXIT_CODES}\nRun \`auth-engine <command> --help\` for a command's options and examples.\n`
  );
}

export function groupHelp(group: string): string {
  const cs = COMMANDS.filter((c) => c.words[0] === group);
  return `Usage: auth-engine ${group} <subcommand> ...\n\nSubcommands:\n${commandList(cs)}\nRun \`auth-engine ${group} <subcommand> --help\` for details.\n`;
}

export function commandHelp(c: Command): string {
  const own = Object.keys(c.options).length ? `Options:\n${optionLines(c.options)}\n` : '';
  return (
    `Usage: ${usageOf(c)}\n\n${c.summary[0].toUpperCase()}${c.summary.slice(1)}.\n\n${own}` +
    `Connection options:\n${optionLines(GLOBAL_OPTIONS)}\n${c.description}\n\n${EXIT_CODES}\n`
  );
}
