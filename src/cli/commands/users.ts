// users show | unlock | erase (admin API /admin/v1/users/{brand}/{type}/{value}).
import { seg } from '../client.ts';
import { UsageError, payload, printJson, type Command } from '../command.ts';

const ARGS = ['brand', 'identifierType', 'identifierValue'];
const userPath = ([brand, type, value]: string[]) => `users/${seg(brand)}/${seg(type)}/${seg(value)}`;

export const userCommands: Command[] = [
  {
    words: ['users', 'show'],
    args: ARGS,
    options: {},
    summary: 'show a user (identifiers, password set, lock)',
    description:
      'Prints { "user": { "uid", "brand", "identifiers", "hasPassword", "lockedUntil", "createdAt" } }.\n' +
      'identifierType is MOBILE, EMAIL or USERNAME; the value is normalised like a login (1515 if unknown).\n\n' +
      'Example:\n  auth-engine users show DocDemo MOBILE 919999999993',
    async run(ctx, p) {
      printJson(ctx, payload(await ctx.client().get(userPath(p))));
      return 0;
    },
  },
  {
    words: ['users', 'unlock'],
    args: ARGS,
    options: {},
    summary: "clear a user's account lock and retry counts",
    description: 'Clears the account lock and the OTP/password failure counts; audited as "unlock".\n\nExample:\n  auth-engine users unlock DocDemo EMAIL jane@example.com',
    async run(ctx, p) {
      await ctx.client().post(`${userPath(p)}/unlock`);
      printJson(ctx, { brand: p[0], identifierType: p[1], identifierValue: p[2], unlocked: true });
      return 0;
    },
  },
  {
    words: ['users', 'erase'],
    args: ARGS,
    options: { yes: { type: 'boolean', help: 'confirm the erasure' } },
    summary: 'erase a user with their credentials and keys (needs --yes)',
    description:
      'Deletes the user, every identifier, the password and all keys; their tokens stop working.\n' +
      'Cannot be undone. Audited as "user_deleted".\n\nExample:\n  auth-engine users erase DocDemo MOBILE 919999999993 --yes',
    async run(ctx, p, values) {
      if (values.yes !== true) throw new UsageError(`refusing to erase ${p[1]} ${p[2]} of ${p[0]} without --yes`);
      await ctx.client().delete(userPath(p));
      printJson(ctx, { brand: p[0], identifierType: p[1], identifierValue: p[2], erased: true });
      return 0;
    },
  },
];
