import { isSlug, RESERVED_SLUGS, SLUG_MAX_LENGTH } from '@revtrail/shared/ids';
import { plural } from './format';

/** The slug rules as the link form shows them beside the field (the redirector's, from shared/ids.ts). */
export const SLUG_RULES = `Letters, digits, - and _, up to ${SLUG_MAX_LENGTH}, starting with a letter or digit. Not ${[...RESERVED_SLUGS].join(', ')}: the redirector uses those.`;

/** What is wrong with a slug, in the form's words; null when it is fine. */
export function slugAdvice(slug: string): string | null {
  if (slug === '') return 'Give the link a slug: the part after your domain, e.g. spring-sale.';
  if (isSlug(slug)) return null;
  if (RESERVED_SLUGS.has(slug.toLowerCase())) return `"${slug}" is a path the redirector uses itself: pick another slug.`;
  if (slug.length > SLUG_MAX_LENGTH) return `This slug is ${plural(slug.length, 'character')} long: ${SLUG_MAX_LENGTH} at most.`;
  const bad = [...new Set(slug.replace(/[A-Za-z0-9_-]/g, ''))];
  if (bad.length > 0) return `A slug holds only letters, digits, - and _, not ${bad.map((c) => (c === ' ' ? 'spaces' : `"${c}"`)).join(', ')}.`;
  return 'A slug starts with a letter or digit.';
}
