// outbox (admin API /admin/v1/outbox): the messages the `outbox` provider stored, OTPs included.
import { LIMIT_OPTION, limitOption, payload, printJson, type Command } from '../command.ts';

export const outboxCommand: Command = {
  words: ['outbox'],
  args: [],
  options: {
    brand: { type: 'string', arg: 'brand', help: 'only this brand' },
    identifier: { type: 'string', arg: 'TYPE|value', help: "only this session identifier or destination, e.g. 'MOBILE|919999999993'" },
    limit: { ...LIMIT_OPTION, help: 'how many, 1-1000 (default 50)' },
  },
  summary: 'show sent messages (OTPs) for an identifier, newest first',
  description:
    'Prints { "messages": [ { "brand", "identifier", "channel", "to", "text", "otp", "createdAt" } ] }.\n' +
    'The identifier matches the session identifier or the destination, so a USERNAME login\'s code is\n' +
    'found by the username or by the mobile/email it went to. Quote the | for the shell.\n\n' +
    "Example:\n  auth-engine outbox --brand DocDemo --identifier 'MOBILE|919999999993' --limit 1",
  async run(ctx, _p, values) {
    const query = { brand: values.brand as string | undefined, identifier: values.identifier as string | undefined, limit: limitOption(values, 50) };
    printJson(ctx, payload(await ctx.client().get('outbox', query)));
    return 0;
  },
};
