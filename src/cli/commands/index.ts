// Every command of the admin CLI, in the order --help lists them.
import type { Command } from '../command.ts';
import { auditCommand } from './audit.ts';
import { brandCommands } from './brands.ts';
import { outboxCommand } from './outbox.ts';
import { userCommands } from './users.ts';

export const COMMANDS: Command[] = [...brandCommands, outboxCommand, ...userCommands, auditCommand];

/** Words that only group subcommands (`brands`, `users`). */
export const GROUPS = [...new Set(COMMANDS.filter((c) => c.words.length > 1).map((c) => c.words[0]))];
