import { describe, expect, it } from 'vitest';
import { isSlug } from '@revtrail/shared/ids';
import { slugAdvice, SLUG_RULES } from './slug-rules';

describe('slug advice', () => {
  it.each([
    ['spring-sale', null],
    ['', 'Give the link a slug: the part after your domain, e.g. spring-sale.'],
    ['-spring', 'A slug starts with a letter or digit.'],
    ['spring sale!', 'A slug holds only letters, digits, - and _, not spaces, "!".'],
    ['früh', 'A slug holds only letters, digits, - and _, not "ü".'],
    ['API', '"API" is a path the redirector uses itself: pick another slug.'],
    ['a'.repeat(65), 'This slug is 65 characters long: 64 at most.'],
  ])('%j', (slug, advice) => {
    expect(slugAdvice(slug)).toBe(advice);
  });

  it('advises against exactly what the redirector refuses', () => {
    for (const slug of ['ok', 'a_b-c', '_x', 'x'.repeat(64), 'p.js', 'favicon.ico', 'é', 'a/b', 'a.b']) {
      expect(slugAdvice(slug) === null).toBe(isSlug(slug));
    }
  });

  it('names the reserved paths in the rules shown beside the field', () => {
    expect(SLUG_RULES).toContain('p.js');
    expect(SLUG_RULES).toContain('up to 64');
  });
});
