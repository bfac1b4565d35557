// OTP generation and keyed hashing. Codes come from the CSPRNG one digit at a time
// (crypto.randomInt is unbiased), so leading zeros occur as often as any other digit.
// Only HMAC-SHA256(secret, sessionId:code) is stored: a plain hash of a 6-digit code falls
// to a million guesses after a database leak; binding the session id means a hash copied
// to another session is useless.
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export function generateOtp(length: number): string {
  let code = '';
  for (let i = 0; i < length; i++) code += String(randomInt(10));
  return code;
}

export interface SecretHasher {
  otpHash(sessionId: string, code: string): string;
  keyHash(key: string): string;
  equal(a: string, b: string): boolean;
}

export function hmacHasher(secret: string): SecretHasher {
  const mac = (label: string, data: string) => createHmac('sha256', secret).update(label).update('\0').update(data).digest('base64url');
  return {
    otpHash: (sessionId, code) => mac('otp', `${sessionId}:${code}`),
    keyHash: (key) => mac('key', key),
    equal(a, b) {
      const x = Buffer.from(a);
      const y = Buffer.from(b);
      return x.length === y.length && timingSafeEqual(x, y);
    },
  };
}
