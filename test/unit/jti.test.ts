// Token ids: UUIDv7 shape with the issue time in µs, random bits from a pooled CSPRNG draw
// (jti.ts) — across several refills of the pool every id is well-formed and distinct.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MonotonicMicros, jtiFor, jtiMicros } from '../../src/crypto/jti.ts';

test('jtiFor: well-formed, carries its time, distinct across pool refills', () => {
  const clock = new MonotonicMicros();
  const now = Date.UTC(2025, 0, 15, 12, 0, 0);
  const seen = new Set<string>();
  const variants = new Set<string>();
  let last = 0;
  for (let i = 0; i < 5000; i++) {
    const micros = clock.next(now);
    const jti = jtiFor(micros);
    assert.match(jti, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(jtiMicros(jti), micros);
    assert.ok(micros > last);
    last = micros;
    seen.add(jti);
    variants.add(jti[19] as string);
    seen.add(jti.slice(19)); // the random part alone must not repeat either
  }
  assert.equal(seen.size, 10000);
  assert.deepEqual([...variants].sort(), ['8', '9', 'a', 'b']);
});
