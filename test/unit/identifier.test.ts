import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from '../../src/domain/errors.ts';
import {
  normaliseBrandName,
  normaliseIdentifier,
  parseIdentifierKey,
  parseIdentifierType,
} from '../../src/domain/identifier.ts';

const refused = (fn: () => unknown, code = 1519) =>
  assert.throws(fn, (e: unknown) => e instanceof AuthError && e.code === code);

test('MOBILE loses separators and one leading +', () => {
  assert.equal(normaliseIdentifier('MOBILE', '+91 99999-99993'), '919999999993');
  assert.equal(normaliseIdentifier('MOBILE', '+44 (0)20 7946.0958'), '4402079460958');
  assert.equal(normaliseIdentifier('MOBILE', '(+91) 99999 99993'), '919999999993');
  assert.equal(normaliseIdentifier('MOBILE', '  919999999993 '), '919999999993');
  assert.equal(normaliseIdentifier('MOBILE', '123456'), '123456'); // 6 digits: the minimum
  assert.equal(normaliseIdentifier('MOBILE', '123456789012345'), '123456789012345'); // 15: the maximum
});

test('MOBILE refuses wrong lengths and stray characters', () => {
  refused(() => normaliseIdentifier('MOBILE', '12345')); // 5 digits
  refused(() => normaliseIdentifier('MOBILE', '1234567890123456')); // 16 digits
  refused(() => normaliseIdentifier('MOBILE', '++919999999993')); // only one + goes
  refused(() => normaliseIdentifier('MOBILE', '91999x999993'));
  refused(() => normaliseIdentifier('MOBILE', '९१९९९९९९९९')); // non-ASCII digits
  refused(() => normaliseIdentifier('MOBILE', '91/9999999993'));
  refused(() => normaliseIdentifier('MOBILE', ''));
  refused(() => normaliseIdentifier('MOBILE', 919999999993 as unknown as string));
});

test('EMAIL is trimmed and lower-cased', () => {
  assert.equal(normaliseIdentifier('EMAIL', '  Alice.Smith@Example.COM '), 'alice.smith@example.com');
  assert.equal(normaliseIdentifier('EMAIL', 'a+tag@sub.example.org'), 'a+tag@sub.example.org');
});

test('EMAIL refuses values that are not addresses', () => {
  for (const bad of ['', 'alice', '@example.com', 'alice@', 'alice@example', 'a@b@c.com', 'al ice@example.com',
    'alice@.com', 'alice@example.', 'alice@exa..mple.com', `${'a'.repeat(250)}@b.co`]) {
    refused(() => normaliseIdentifier('EMAIL', bad));
  }
});

test('USERNAME: 3-64 of letters, digits, . _ -, lower-cased', () => {
  assert.equal(normaliseIdentifier('USERNAME', ' Alice_01.x-y '), 'alice_01.x-y');
  assert.equal(normaliseIdentifier('USERNAME', 'abc'), 'abc');
  assert.equal(normaliseIdentifier('USERNAME', 'A'.repeat(64)), 'a'.repeat(64));
  refused(() => normaliseIdentifier('USERNAME', 'ab'));
  refused(() => normaliseIdentifier('USERNAME', 'a'.repeat(65)));
  refused(() => normaliseIdentifier('USERNAME', 'al ice'));
  refused(() => normaliseIdentifier('USERNAME', 'alice@x'));
  refused(() => normaliseIdentifier('USERNAME', 'élise'));
});

test('parseIdentifierType is case-insensitive and null for anything else', () => {
  assert.equal(parseIdentifierType('mobile'), 'MOBILE');
  assert.equal(parseIdentifierType('Email'), 'EMAIL');
  assert.equal(parseIdentifierType('USERNAME'), 'USERNAME');
  for (const bad of ['PHONE', '', ' MOBILE', 1, null, undefined, ['MOBILE']]) assert.equal(parseIdentifierType(bad), null);
});

test('normaliseBrandName upper-cases valid names and refuses others', () => {
  assert.equal(normaliseBrandName('DocDemo'), 'DOCDEMO');
  assert.equal(normaliseBrandName('a.b_c-1'), 'A.B_C-1');
  assert.equal(normaliseBrandName('x'), 'X');
  assert.equal(normaliseBrandName('b'.repeat(64)), 'B'.repeat(64));
  for (const bad of ['', 'b'.repeat(65), 'doc demo', 'doc/demo', ' doc', 'dœc']) refused(() => normaliseBrandName(bad));
});

test('parseIdentifierKey splits TYPE|value and normalises the value', () => {
  assert.deepEqual(parseIdentifierKey('MOBILE|+91 99999-99993'), { type: 'MOBILE', value: '919999999993' });
  assert.deepEqual(parseIdentifierKey('email|Bob@Example.com'), { type: 'EMAIL', value: 'bob@example.com' });
  assert.deepEqual(parseIdentifierKey('USERNAME|Bob'), { type: 'USERNAME', value: 'bob' });
  for (const bad of ['MOBILE', 'PHONE|919999999993', '|919999999993', 'MOBILE|123', 'MOBILE|']) refused(() => parseIdentifierKey(bad));
});
