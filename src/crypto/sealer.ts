// Authenticated encryption (AES-256-GCM) for the one secret we must be able to give back:
// a rotated key's successor, kept sealed so that a client retrying a lost regenerate
// response gets the same successor (R37) without the key ever being stored in clear.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export interface Sealer {
  seal(plain: string): string;
  /** Null when the box was not sealed by us (tampered or from another secret). */
  open(box: string): string | null;
}

export function aesSealer(secret: string): Sealer {
  const key = Buffer.from(hkdfSync('sha256', secret, 'auth-engine', 'key-successor-seal', 32));
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
    },
    open(box) {
      try {
        const raw = Buffer.from(box, 'base64url');
        const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        d.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
      } catch {
        return null;
      }
    },
  };
}
