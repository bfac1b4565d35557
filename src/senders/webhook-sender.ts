// The `webhook` provider (spec §6): an HTTP POST of `{brand, channel, to, text}` (+ `subject`
// for EMAIL) to the deployment's endpoint, which hands the message to an SMS/WhatsApp/Zalo/
// email gateway. Wire format and receiver example: README, "Deliver OTPs".
//
// Signature: `X-Auth-Engine-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`
// with `X-Auth-Engine-Timestamp: <unix seconds>`, so a receiver can refuse forged and replayed
// requests. Retries send the same body bytes and the same `X-Auth-Engine-Delivery` id (the
// receiver de-duplicates on it), re-signed with a fresh timestamp: a retry after a slow
// attempt must not fall outside the receiver's timestamp window.
//
// Bounded: at most `retries + 1` attempts of at most `timeoutMs` each, with exponential
// backoff between them (retry n waits between half and all of 200 ms·2^(n-1), jittered so
// many instances retrying a recovering gateway do not hit it in step); env.ts checks at startup that the worst case
// fits well inside AUTH_REQUEST_TIMEOUT_MS. Only a 2xx is success. A network error, a timeout,
// a 5xx or a 429 is retried; any other status (4xx, and 3xx: redirects are not followed, the
// OTP must not go to a host nobody configured) fails at once.
import { createHmac, randomUUID } from 'node:crypto';
import type { OtpSender } from '../ports/otp-sender.ts';
import { DeliveryError, errorCode, maskDestination } from './delivery-error.ts';

export const WEBHOOK_BACKOFF_BASE_MS = 200;

export interface DeliveryLogger {
  warn(obj: object, msg: string): void;
}

export interface WebhookOptions {
  url: string;
  /** HMAC key; never logged, never in an error. */
  secret: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  backoffBaseMs?: number;
  /** Wall-clock milliseconds for the timestamp header (the receiver compares it with its own clock). */
  now?: () => number;
  logger?: DeliveryLogger;
}

/** The signature header value for one attempt. */
export function signWebhook(secret: string, timestamp: string, rawBody: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

/** Longest a send can take: every attempt timing out, every backoff at its maximum. */
export function webhookWorstCaseMs(timeoutMs: number, retries: number, backoffBaseMs = WEBHOOK_BACKOFF_BASE_MS): number {
  return (retries + 1) * timeoutMs + backoffBaseMs * (2 ** retries - 1);
}

/** Delay before retry number `n` (1-based): between half and all of base·2^(n-1). */
const backoff = (base: number, n: number) => Math.round(base * 2 ** (n - 1) * (0.5 + Math.random() / 2));
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Attempt = { ok: true } | { ok: false; retryable: boolean; reason: string; status: number | null };

export function webhookSender(o: WebhookOptions): OtpSender {
  const now = o.now ?? Date.now;
  const base = o.backoffBaseMs ?? WEBHOOK_BACKOFF_BASE_MS;

  async function attempt(body: string, deliveryId: string): Promise<Attempt> {
    const timestamp = String(Math.floor(now() / 1000));
    try {
      const res = await fetch(o.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(o.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'auth-engine-webhook/1',
          'x-auth-engine-timestamp': timestamp,
          'x-auth-engine-signature': signWebhook(o.secret, timestamp, body),
          'x-auth-engine-delivery': deliveryId,
        },
      });
      // The answer's body is not read (nothing in it matters); cancelling frees the connection.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true };
      return { ok: false, retryable: res.status >= 500 || res.status === 429, reason: `http_${res.status}`, status: res.status };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { ok: false, retryable: true, reason: timedOut ? 'timeout' : errorCode(err, 'network_error'), status: null };
    }
  }

  return {
    canDeliver: () => true,
    async send(msg) {
      // Exactly the spec's fields (+ subject for EMAIL): the code is inside `text`, never a field of its own.
      const payload: Record<string, string> = { brand: msg.brand, channel: msg.channel, to: msg.to, text: msg.text };
      if (msg.subject !== null) payload.subject = msg.subject;
      const body = JSON.stringify(payload);
      const deliveryId = randomUUID();
      for (let n = 1; ; n++) {
        const r = await attempt(body, deliveryId);
        if (r.ok) return;
        const last = !r.retryable || n > o.retries;
        o.logger?.warn(
          { provider: 'webhook', brand: msg.brand, channel: msg.channel, to: maskDestination(msg.to), deliveryId, attempt: n, status: r.status, reason: r.reason, willRetry: !last },
          'otp webhook attempt failed',
        );
        if (last) throw new DeliveryError('webhook', r.reason, n);
        await sleep(backoff(base, n));
      }
    },
  };
}
