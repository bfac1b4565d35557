// brands list | show | create | update | delete (admin API /admin/v1/brands).
import { ApiError, seg } from '../client.ts';
import { checkPrivateKey, parseBrandFile } from '../brand-file.ts';
import { RefusedError, UsageError, payload, printJson, type Command, type CommandContext } from '../command.ts';

const FILE = { type: 'string', short: 'f', arg: 'path', help: 'brand config (JSON); "-" reads stdin' } as const;
const DROP_KEY = { type: 'boolean', help: 'write the brand even though the file names a private key it does not carry' } as const;

/** The brand's current view, or null when the server answers 1504 (unknown brand). */
async function current(ctx: CommandContext, brand: string): Promise<Record<string, unknown> | null> {
  try {
    return await ctx.client().get(`brands/${seg(brand)}`);
  } catch (err) {
    if (err instanceof ApiError && err.code === 1504) return null;
    throw err;
  }
}

const hasKey = (view: Record<string, unknown> | null): boolean =>
  ((view?.config as { encryption?: { hasPrivateKey?: unknown } } | undefined)?.encryption?.hasPrivateKey ?? false) === true;

async function readConfig(ctx: CommandContext, file: string | boolean | undefined) {
  if (typeof file !== 'string' || file === '') throw new UsageError('--file <path> is required');
  return parseBrandFile(await ctx.readInput(file), file === '-' ? 'stdin' : file);
}

export const brandCommands: Command[] = [
  {
    words: ['brands', 'list'],
    args: [],
    options: { names: { type: 'boolean', help: 'print only the brand names, one a line' } },
    summary: 'list every brand with its config',
    description: 'Prints { "brands": [ { "brand", "config" } ] } (private keys are never shown).\n\nExample:\n  auth-engine brands list --names',
    async run(ctx, _p, values) {
      const body = await ctx.client().get('brands');
      const brands = (body.brands ?? []) as Array<{ brand: string }>;
      if (values.names) ctx.out.stdout(brands.map((b) => `${b.brand}\n`).join(''));
      else printJson(ctx, payload(body));
      return 0;
    },
  },
  {
    words: ['brands', 'show'],
    args: ['brand'],
    options: {},
    summary: "print a brand's config",
    description:
      'Prints { "brand", "config" } with every field completed from the defaults. The output is a\n' +
      'valid --file for `brands update` (the private key stays hidden: privateKeyPem null,\n' +
      'hasPrivateKey true; updating the same brand keeps its key).\n\nExample:\n  auth-engine brands show DocDemo > docdemo.json',
    async run(ctx, [brand]) {
      printJson(ctx, payload(await ctx.client().get(`brands/${seg(brand)}`)));
      return 0;
    },
  },
  {
    words: ['brands', 'create'],
    args: ['brand'],
    options: { file: FILE, 'drop-private-key': DROP_KEY },
    summary: 'create a brand from a JSON config file (refused if it exists)',
    description:
      'The file is the config (or the output of `brands show`); fields left out take their defaults.\n' +
      'Refused when the brand already exists (use `brands update`). The check and the write are two\n' +
      'requests: two admins creating the same brand at the same instant both succeed, the last wins.\n' +
      'Prints the stored brand.\n\nExamples:\n  auth-engine brands create DocDemo --file docdemo.json\n' +
      '  echo \'{"passwordEnabled": true}\' | auth-engine brands create DocDemo --file -',
    async run(ctx, [brand], values) {
      const file = await readConfig(ctx, values.file);
      if ((await current(ctx, brand)) !== null) throw new RefusedError(`brand ${brand} already exists; use \`brands update\` to change it`);
      checkPrivateKey(file, brand, false, values['drop-private-key'] === true);
      printJson(ctx, payload(await ctx.client().put(`brands/${seg(brand)}`, file.config)));
      return 0;
    },
  },
  {
    words: ['brands', 'update'],
    args: ['brand'],
    options: { file: FILE, 'drop-private-key': DROP_KEY },
    summary: "replace an existing brand's config from a JSON file",
    description:
      'The file is the FULL config (as `brands show` prints it): fields left out go back to their\n' +
      'defaults, like PUT. The brand must exist (else 1504). A file without a private key keeps the\n' +
      "brand's stored key; a file that names a key it does not carry (hasPrivateKey true) is refused\n" +
      'for a brand that has none, unless --drop-private-key. The admin API cannot remove a stored key\n' +
      '(disable encryption, or delete and re-create the brand). Prints the stored brand.\n\n' +
      'Example:\n  auth-engine brands show DocDemo > f.json && $EDITOR f.json && auth-engine brands update DocDemo --file f.json',
    async run(ctx, [brand], values) {
      const file = await readConfig(ctx, values.file);
      // Must exist: an unknown brand is the server's own 1504.
      const before = await ctx.client().get(`brands/${seg(brand)}`);
      const drop = values['drop-private-key'] === true;
      checkPrivateKey(file, brand, hasKey(before), drop);
      const after = await ctx.client().put(`brands/${seg(brand)}`, file.config);
      // The server keeps a stored key on PUT; should that ever change, say so rather than lose it quietly.
      if (hasKey(before) && !hasKey(after) && !drop) {
        printJson(ctx, payload(after));
        throw new RefusedError(`the server dropped the encryption private key of ${brand}; set it again with encryption.privateKeyPem`);
      }
      printJson(ctx, payload(after));
      return 0;
    },
  },
  {
    words: ['brands', 'delete'],
    args: ['brand'],
    options: { yes: { type: 'boolean', help: 'confirm the deletion' } },
    summary: "delete a brand's config (needs --yes)",
    description:
      "Removes the brand's configuration; its users stay and come back if the brand is created again\n" +
      '(erase them with `users erase`). Customer requests for the brand answer 1504 meanwhile.\n\n' +
      'Example:\n  auth-engine brands delete DocDemo --yes',
    async run(ctx, [brand], values) {
      if (values.yes !== true) throw new UsageError(`refusing to delete brand ${brand} without --yes`);
      await ctx.client().delete(`brands/${seg(brand)}`);
      printJson(ctx, { brand, deleted: true });
      return 0;
    },
  },
];
