// A sign-up and login load over service processes, for the fault and crash tests. Several
// concurrent workers loop over flows: a sign-up (token/generate with a password → otp/generate
// → the OTP read from the admin outbox → otp/validate) and, every few flows, a password login
// of a user created beforehand. Every request's answer is recorded (which instance, when,
// HTTP status and business code), every sign-up answered with success is remembered with its
// password, and a flow stops at its first unsuccessful step (the next flow starts afresh).
// `pick` chooses the instance of every single request, so one flow may hop between instances.
import type { Instance, Res } from './instances.ts';
import { is1599, isOk, newPerson, outboxOtp, step, type Person } from './flows.ts';

export type Kind = 'ok' | 'unavailable' | 'other' | 'network';

export interface Outcome {
  step: string;
  on: string;
  started: number;
  ended: number;
  kind: Kind;
  status: number | null;
  code: number | null;
  detail: string;
}

export interface Account {
  person: Person;
  password: string;
  /** When the flow that created it started / got its success. */
  started: number;
  ended: number;
  /** Instances that answered each step. */
  path: string[];
}

export interface LoadOptions {
  brand: string;
  workers: number;
  /** The instance for the next request (called per request). */
  pick: () => Instance;
  /** Users that exist already, logged in with their password every `loginEvery`-th flow. */
  logins?: Account[];
  loginEvery?: number;
}

const classify = (r: Res): Kind => (isOk(r) ? 'ok' : is1599(r) ? 'unavailable' : 'other');

let serial = 0;

export class Load {
  readonly outcomes: Outcome[] = [];
  /** Sign-ups whose otp/validate answered success. */
  readonly signedUp: Account[] = [];
  /** Sign-ups whose otp/validate failed without a definite refusal (503, network): may or may not exist. */
  readonly uncertain: Account[] = [];
  loginsOk = 0;
  private stopping = false;
  private running: Promise<void>[] = [];

  constructor(private readonly opts: LoadOptions) {}

  start(): this {
    this.running = Array.from({ length: this.opts.workers }, (_, i) => this.worker(i));
    return this;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** Outcomes of requests started at or after `from` and ended before `to`. */
  between(from: number, to: number): Outcome[] {
    return this.outcomes.filter((o) => o.started >= from && o.ended <= to);
  }

  /** Sign-ups that started at or after `t` and succeeded. */
  signUpsStartedAfter(t: number): Account[] {
    return this.signedUp.filter((a) => a.started >= t);
  }

  private async worker(index: number): Promise<void> {
    let n = 0;
    const every = this.opts.loginEvery ?? 3;
    while (!this.stopping) {
      n++;
      const logins = this.opts.logins ?? [];
      if (logins.length > 0 && n % every === 0) await this.login(logins[(index + n) % logins.length]);
      else await this.signUp(index, n);
    }
  }

  /** One request, recorded. Returns the response, or null on a network error. */
  private async send(name: string, fn: (inst: Instance) => Promise<Res>, path: string[]): Promise<Res | null> {
    const inst = this.opts.pick();
    path.push(inst.name);
    const started = Date.now();
    try {
      const r = await fn(inst);
      const kind = classify(r);
      this.outcomes.push({
        step: name,
        on: inst.name,
        started,
        ended: Date.now(),
        kind,
        status: r.status,
        code: typeof r.body?.status?.code === 'number' ? r.body.status.code : null,
        detail: kind === 'ok' ? '' : r.raw.slice(0, 300),
      });
      return r;
    } catch (err) {
      this.outcomes.push({ step: name, on: inst.name, started, ended: Date.now(), kind: 'network', status: null, code: null, detail: err instanceof Error ? `${err.name}: ${(err.cause as Error | undefined)?.message ?? err.message}` : String(err) });
      return null;
    }
  }

  private async signUp(index: number, n: number): Promise<void> {
    const { brand } = this.opts;
    const person = newPerson((index + n) % 2 === 0 ? 'mobile' : 'web');
    const password = `Load-Passw0rd-${++serial}-${index}`;
    const path: string[] = [];
    const started = Date.now();
    const gen = await this.send('token/generate', (i) => step(i, person, 'token/generate', brand, { password, confirmPassword: password }), path);
    if (!gen || !isOk(gen)) return;
    const sessionId = gen.body.user.sessionId as string;
    const send = await this.send('otp/generate', (i) => step(i, person, 'otp/generate', brand, { sessionId }), path);
    if (!send || !isOk(send)) return;
    const got: { otp: string | null } = { otp: null };
    const box = await this.send(
      'admin outbox',
      async (i) => {
        const r = await outboxOtp(i, brand, person);
        got.otp = r.otp;
        return r.res;
      },
      path,
    );
    const otp = got.otp;
    if (!box || !isOk(box) || otp === null) return;
    const val = await this.send('otp/validate', (i) => step(i, person, 'otp/validate', brand, { sessionId, otp }), path);
    if (val && isOk(val)) this.signedUp.push({ person, password, started, ended: Date.now(), path });
    else if (!val || is1599(val)) this.uncertain.push({ person, password, started, ended: Date.now(), path });
  }

  private async login(account: Account): Promise<void> {
    const { brand } = this.opts;
    const path: string[] = [];
    const gen = await this.send('token/generate (login)', (i) => step(i, account.person, 'token/generate', brand), path);
    if (!gen || !isOk(gen)) return;
    const sessionId = gen.body.user.sessionId as string;
    const r = await this.send('password/validate', (i) => step(i, account.person, 'password/validate', brand, { sessionId, password: account.password }), path);
    if (r && isOk(r)) this.loginsOk++;
  }
}

/** Counts by kind, and the distinct non-ok answers, for a report line. */
export function summarise(outcomes: Outcome[]): { total: number; ok: number; unavailable: number; other: number; network: number } {
  const s = { total: outcomes.length, ok: 0, unavailable: 0, other: 0, network: 0 };
  for (const o of outcomes) s[o.kind]++;
  return s;
}

export const describeOutcome = (o: Outcome) => `${o.step} on ${o.on}: ${o.kind} ${o.status ?? ''} ${o.code ?? ''} ${o.detail}`.trim();
