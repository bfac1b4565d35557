// audit (admin API /admin/v1/audit): the newest events, and --follow to tail the log.
//
// The API has no cursor: it answers the newest N events, newest first, and events carry no id.
// --follow therefore polls and prints the events it has not seen yet, matched by content
// (type, brand, identifier, device, ip, millisecond time, detail) as a multiset, so two identical
// events are two events. Matching by content rather than by position also prints an event that
// commits late in PostgreSQL (an earlier id showing up below newer ones).
import { ApiError, ConnectionError } from '../client.ts';
import { UsageError, intOption, limitOption, LIMIT_OPTION, type Command, type CommandContext } from '../command.ts';

type AuditEvent = Record<string, unknown>;

const MAX_PAGE = 1000; // the API's limit
const POLL_PAGE = 100; // enough for a poll interval; a full page of new events refetches MAX_PAGE
const REMEMBERED = 5 * MAX_PAGE; // seen events kept for matching (> MAX_PAGE, so a full page always matches)

/** The events already printed (or deliberately skipped), as a bounded multiset of their JSON. */
class Seen {
  private counts = new Map<string, number>();
  private order: string[] = [];

  add(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    this.order.push(key);
    if (this.order.length > REMEMBERED) {
      const old = this.order.shift() as string;
      const n = (this.counts.get(old) ?? 1) - 1;
      if (n === 0) this.counts.delete(old);
      else this.counts.set(old, n);
    }
  }

  /** The events of a newest-first page not accounted for by what was seen, oldest first. */
  unseen(page: AuditEvent[]): Array<{ key: string; event: AuditEvent }> {
    const used = new Map<string, number>();
    const fresh: Array<{ key: string; event: AuditEvent }> = [];
    for (const event of page) {
      const key = JSON.stringify(event);
      const u = used.get(key) ?? 0;
      if (u < (this.counts.get(key) ?? 0)) used.set(key, u + 1);
      else fresh.push({ key, event });
    }
    return fresh.reverse();
  }
}

const fetchPage = async (ctx: CommandContext, brand: string | undefined, limit: number) =>
  ((await ctx.client().get('audit', { brand, limit })).events ?? []) as AuditEvent[];

/** Waits `ms`, or less if the signal fires. */
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** Storage down (1599 / 5xx) or server restarting: a tail keeps going, like `tail -F`. */
const transient = (err: unknown) => err instanceof ConnectionError || (err instanceof ApiError && (err.code === 1599 || err.http >= 500));

export const auditCommand: Command = {
  words: ['audit'],
  args: [],
  options: {
    brand: { type: 'string', arg: 'brand', help: 'only this brand' },
    limit: { ...LIMIT_OPTION, help: 'how many of the newest events to print first, 1-1000 (default 20)' },
    follow: { type: 'boolean', help: 'keep polling and print new events until Ctrl-C' },
    interval: { type: 'string', arg: 'ms', help: 'poll interval with --follow, 100-3600000 (default 2000)' },
  },
  summary: 'print the newest audit events; --follow tails the log',
  description:
    'One JSON object a line, oldest first: { "type", "brand", "identifier", "deviceId", "ip", "at", "detail" }\n' +
    '(logins, failures, locks, unlocks, resets, logouts, key reuse; never a secret).\n' +
    'With --follow, polls every --interval ms and prints only new events until interrupted; it keeps\n' +
    'polling through a server restart (a warning goes to stderr). More than 1000 events between two\n' +
    'polls cannot all be fetched: a warning says some were skipped.\n\n' +
    'Examples:\n  auth-engine audit --brand DocDemo --limit 50\n  auth-engine audit --brand DocDemo --follow | jq -c \'select(.type == "unlock")\'',
  async run(ctx, _p, values) {
    const brand = values.brand as string | undefined;
    const limit = limitOption(values, 20);
    const interval = intOption(values, 'interval', 100, 3_600_000, 2000);
    if (values.interval !== undefined && values.follow !== true) throw new UsageError('--interval needs --follow');
    const print = (e: AuditEvent) => ctx.out.stdout(`${JSON.stringify(e)}\n`);

    if (values.follow !== true) {
      for (const event of (await fetchPage(ctx, brand, limit)).reverse()) print(event);
      return 0;
    }
    // Remember a full page, print its newest `limit`: older events must not come back as "new".
    const seen = new Seen();
    const first = new Seen().unseen(await fetchPage(ctx, brand, MAX_PAGE));
    first.forEach(({ key, event }, i) => {
      seen.add(key);
      if (i >= first.length - limit) print(event);
    });
    ctx.out.error('following the audit log (Ctrl-C to stop)');
    let failing = false;
    while (!ctx.signal.aborted) {
      await sleep(interval, ctx.signal);
      if (ctx.signal.aborted) break;
      try {
        let page = await fetchPage(ctx, brand, POLL_PAGE);
        let fresh = seen.unseen(page);
        if (fresh.length === page.length && page.length === POLL_PAGE) {
          page = await fetchPage(ctx, brand, MAX_PAGE);
          fresh = seen.unseen(page);
          if (fresh.length === page.length && page.length === MAX_PAGE) ctx.out.error(`more than ${MAX_PAGE} events since the last poll: older ones were skipped`);
        }
        if (failing) ctx.out.error('audit log reachable again');
        failing = false;
        for (const { key, event } of fresh) {
          seen.add(key);
          print(event);
        }
      } catch (err) {
        if (ctx.signal.aborted) break;
        if (!transient(err)) throw err;
        if (!failing) ctx.out.error(`${err instanceof ApiError ? `error ${err.code ?? err.http}: ${err.apiMessage}` : (err as Error).message}; still trying`);
        failing = true;
      }
    }
    return 0;
  },
};
