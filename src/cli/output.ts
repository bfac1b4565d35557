// Everything the CLI writes goes through here, so the admin token cannot reach a terminal or a
// log file even if some message (a server answer, a library error) happened to contain it.

export interface Sink {
  write(chunk: string): unknown;
}

const REDACTED = '[redacted]';
/** Shorter strings would also match ordinary text; real admin tokens are at least 32 characters. */
const MIN_SECRET_LENGTH = 8;

export class Output {
  private secrets: string[] = [];

  constructor(
    private readonly out: Sink,
    private readonly err: Sink,
  ) {}

  /** Registers a value that must never be written (the admin token). */
  hide(secret: string | undefined): void {
    if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) this.secrets.push(secret);
  }

  stdout(text: string): void {
    this.out.write(this.redact(text));
  }

  /** One diagnostic line on stderr, prefixed with the program name. */
  error(message: string): void {
    this.err.write(this.redact(`auth-engine: ${message}\n`));
  }

  /** Raw stderr text (help after a usage error). */
  stderr(text: string): void {
    this.err.write(this.redact(text));
  }

  private redact(text: string): string {
    let t = text;
    for (const s of this.secrets) t = t.split(s).join(REDACTED);
    return t;
  }
}
