// The admin API over HTTP (spec §8): bearer token, the §1.2 envelope, and three ways to fail
// that map to the CLI's exit codes: ApiError (1), ConnectionError (3), or the caller's abort.

export type FetchFn = typeof fetch;

/** The server answered with a failure envelope (or something that is not the envelope). */
export class ApiError extends Error {
  constructor(
    readonly http: number,
    readonly code: number | null,
    readonly apiMessage: string,
    readonly detail: string | undefined,
  ) {
    super(`${code ?? 'HTTP ' + http} ${apiMessage}`);
  }
}

/** No answer: refused, unresolvable, reset, or too slow. */
export class ConnectionError extends Error {}

export interface ClientOptions {
  baseUrl: URL;
  token: string;
  timeoutMs: number;
  fetch: FetchFn;
  signal: AbortSignal;
}

type Query = Record<string, string | number | undefined>;
type Body = Record<string, unknown>;

export class AdminClient {
  constructor(private readonly o: ClientOptions) {}

  /** Where the CLI is talking to, for messages: origin and path only, never credentials. */
  get where(): string {
    return `${this.o.baseUrl.origin}${this.o.baseUrl.pathname.replace(/\/$/, '')}`;
  }

  get(path: string, query?: Query): Promise<Body> {
    return this.request('GET', path, query);
  }

  put(path: string, body: unknown): Promise<Body> {
    return this.request('PUT', path, undefined, body);
  }

  post(path: string): Promise<Body> {
    return this.request('POST', path);
  }

  delete(path: string): Promise<Body> {
    return this.request('DELETE', path);
  }

  private async request(method: string, path: string, query?: Query, body?: unknown): Promise<Body> {
    const url = new URL(`${this.o.baseUrl.pathname.replace(/\/$/, '')}/admin/v1/${path}`, this.o.baseUrl);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.o.token}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.o.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([this.o.signal, timeout]),
      });
      text = await res.text();
    } catch (err) {
      if (this.o.signal.aborted) throw err; // the user interrupted: not a connection problem
      if (timeout.aborted) throw new ConnectionError(`no answer from ${this.where} within ${this.o.timeoutMs} ms`);
      throw new ConnectionError(`cannot reach ${this.where}: ${describe(err)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const status = isObject(parsed) && isObject(parsed.status) ? parsed.status : undefined;
    if (status?.success === true && res.ok) return parsed as Body;
    if (status !== undefined && typeof status.code === 'number' && typeof status.message === 'string') {
      const detail = isObject(parsed) && typeof parsed.detail === 'string' ? parsed.detail : undefined;
      throw new ApiError(res.status, status.code, status.message, detail);
    }
    // A proxy's error page or another service on that port: not worth echoing.
    throw new ApiError(res.status, null, `unexpected answer from ${this.where} (not an Auth Engine response)`, undefined);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** fetch hides the useful part ("ECONNREFUSED 127.0.0.1:1") in `cause`. */
function describe(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  const code = (cause as { code?: unknown })?.code;
  if (typeof code === 'string') return code;
  return cause instanceof Error ? cause.message : String(cause);
}

/** One URL path segment (brand, identifier type or value), whatever characters it holds. */
export const seg = (s: string) => encodeURIComponent(s);
