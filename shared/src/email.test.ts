import { describe, expect, it } from 'vitest';
import { EMAIL_HASH_RE, hashEmail, normalizeEmail } from './email';

describe('normalizeEmail', () => {
  it.each([
    ['  John.Smith+promo@GMail.com ', 'johnsmith@gmail.com'],
    ['j.o.h.n@googlemail.com', 'john@gmail.com'],
    ['Ana+news@outlook.com', 'ana@outlook.com'],
    ['ana.b+news@example.com', 'ana.b+news@example.com'],
    ['ÉMILE@Exemple.FR', 'émile@exemple.fr'],
    ['ｆｕｌｌ@example.com', 'full@example.com'],
  ])('%s -> %s', (raw, expected) => {
    expect(normalizeEmail(raw)).toBe(expected);
  });

  it.each(['', 'no-at-sign', '@example.com', 'a@', 'a@b', 'a b@example.com', 'a@@example.com', `${'x'.repeat(250)}@example.com`])(
    'rejects %j',
    (raw) => {
      expect(normalizeEmail(raw)).toBeNull();
    },
  );
});

describe('hashEmail', () => {
  it('is HMAC-SHA256 hex under the key (golden value computed with node:crypto)', async () => {
    const hash = await hashEmail('john@gmail.com', 'revtrail-test-key-0123456789');
    expect(hash).toBe('4cbda42a36ca27e414de4d73f1af55ce117aa19748fd99f1d147bb75f79c4b19');
    expect(hash).toMatch(EMAIL_HASH_RE);
  });

  it('differs per key and joins spellings of the same address', async () => {
    const key = 'revtrail-test-key-0123456789';
    const a = await hashEmail(normalizeEmail('John.Smith+x@gmail.com')!, key);
    const b = await hashEmail(normalizeEmail('johnsmith@GMAIL.com')!, key);
    const other = await hashEmail(normalizeEmail('johnsmith@gmail.com')!, 'another-key-0123456789');
    expect(a).toBe(b);
    expect(other).not.toBe(a);
    // Back to the first key: the same hash again, whatever was imported in between.
    expect(await hashEmail(normalizeEmail('johnsmith@gmail.com')!, key)).toBe(a);
  });

  it('refuses a short key', async () => {
    await expect(hashEmail('a@b.co', 'short')).rejects.toThrow(/too short/);
  });
});
