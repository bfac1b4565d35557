// One POST to the service and its envelope (spec §1.2): a success body, an AuthError for a §9
// failure, an AuthNetworkError for everything that is not a contract answer.
import { AuthError, AuthNetworkError, isAuthErrorCode } from './errors.js';

/** The part of `fetch` the client uses; inject your own for tests, proxies or old runtimes. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface Transport {
  post(path: string, body: Record<string, unknown>, query?: Record<string, string | undefined>): Promise<Record<string, unknown>>;
}

export function createTransport(opts: { baseUrl: string; fetch?: FetchLike; timeoutMs: number }): Transport {
  const base = opts.baseUrl.replace(/\/+$/, '');
  // Looked up per call and called unbound-safe: a detached `window.fetch` throws "Illegal invocation".
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));

  return {
    async post(path, body, query) {
      const params = Object.entries(query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
      const url = `${base}${path}${params.length ? `?${params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : ''}`;
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, opts.timeoutMs);
      let status: number;
      let text: string;
      let retryAfter: string | null;
      try {
        const res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(body),
          signal: controller.signal,
        });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        text = await res.text();
      } catch (err) {
        if (timedOut) throw new AuthNetworkError('timeout', `no answer from ${path} within ${opts.timeoutMs} ms`, { cause: err });
        throw new AuthNetworkError('network', `request to ${path} failed`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
      return readEnvelope(path, status, text, retryAfter);
    },
  };
}

function readEnvelope(path: string, httpStatus: number, text: string, retryAfter: string | null): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  const st = body?.status as { success?: unknown; code?: unknown; message?: unknown } | undefined;
  if (body && st && st.success === true && httpStatus === 200) return body;
  if (st && st.success === false && isAuthErrorCode(st.code)) {
    const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : undefined;
    throw new AuthError(st.code, { message: typeof st.message === 'string' ? st.message : undefined, httpStatus, retryAfterSeconds: seconds });
  }
  // A proxy page, a wrong baseUrl (404), an internal error (500): not something the app can branch on.
  throw new AuthNetworkError('bad-response', `unexpected answer from ${path} (HTTP ${httpStatus})`, { httpStatus });
}
