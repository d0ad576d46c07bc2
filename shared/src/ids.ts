import { decodeTime, monotonicFactory, ulid } from 'ulid';

/** Time-sortable id (ULID, 26 chars): clicks, pageviews, identities, ledger rows. */
export type EventId = string & { readonly __brand: 'EventId' };
/** A visitor's id: 16 random bytes in base64url, 22 chars. Lives in the first-party cookie. */
export type VisitorId = string & { readonly __brand: 'VisitorId' };
/** A tracking link's slug, the path segment of https://go.brand.com/<slug>. */
export type Slug = string & { readonly __brand: 'Slug' };

const ULID_RE = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const VISITOR_ID_RE = /^[A-Za-z0-9_-]{22}$/;
export const SLUG_MAX_LENGTH = 64;
const SLUG_RE = /^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,63})$/;

/** Paths the redirector serves itself: no link may take them. */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set([
  'api', 'p.js', 'health', 'healthz', 'favicon.ico', 'robots.txt', 'collect', 'static', 'assets', '_', 'optout', 'proxy-check',
]);

/**
 * Cryptographic random bytes drawn from a pool refilled 4 KB at a time: one getRandomValues call per
 * 4096 bytes instead of one per character, which made ids a measurable share of a redirect's cost.
 */
const pool = new Uint8Array(4096);
let poolAt = pool.length;
function randomByte(): number {
  if (poolAt >= pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}
/** ulid's PRNG contract: a number in [0, 1); a byte / 256 maps evenly onto its 32 symbols. */
const pooledPrng = () => randomByte() / 256;

const factory = monotonicFactory(pooledPrng);

/** A new ULID for an event at `at` (strictly increasing within this process). */
export function newEventId(at: number): EventId {
  return factory(at) as EventId;
}

/**
 * A ULID for `at` that is not monotonic: after the clock steps back it sorts by the new time, not after
 * the last id. For append order, where a late write must never sort (or partition) in the future.
 */
export function newSortKey(at: number): string {
  return ulid(at, pooledPrng);
}

export function isEventId(value: unknown): value is EventId {
  return typeof value === 'string' && ULID_RE.test(value);
}

export function eventIdTime(id: EventId): number {
  return decodeTime(id);
}

export function isVisitorId(value: unknown): value is VisitorId {
  return typeof value === 'string' && VISITOR_ID_RE.test(value);
}

export function newVisitorId(): VisitorId {
  let bin = '';
  for (let i = 0; i < 16; i++) bin += String.fromCharCode(randomByte());
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') as VisitorId;
}

export function isSlug(value: unknown): value is Slug {
  return typeof value === 'string' && SLUG_RE.test(value) && !RESERVED_SLUGS.has(value.toLowerCase());
}

/**
 * Latin letters NFKD leaves whole (they are letters of their own, not a base letter and a mark), spelled
 * as their languages write them without the letter: Polish ł, Danish and Norwegian ø and æ, German ß,
 * Croatian and Vietnamese đ, Icelandic þ and ð, Turkish dotless ı, Maltese ħ, French œ.
 */
const UNDECOMPOSED: Readonly<Record<string, string>> = {
  ł: 'l', Ł: 'L', ø: 'o', Ø: 'O', æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ß: 'ss', ẞ: 'SS', đ: 'd', Đ: 'D', ð: 'd', Ð: 'D',
  þ: 'th', Þ: 'TH', ı: 'i', ħ: 'h', Ħ: 'H', ŀ: 'l', Ŀ: 'L', ŋ: 'n', Ŋ: 'N', ĸ: 'k', ſ: 's', ŧ: 't', Ŧ: 'T',
};
const UNDECOMPOSED_RE = new RegExp(`[${Object.keys(UNDECOMPOSED).join('')}]`, 'gu');

/**
 * An id made from a name, for ids people read and type (a partner's, which its links carry): Latin
 * letters keep their base letter ("Müller Söhne GmbH" -> "muller-sohne-gmbh", "Łukasz z o.o." ->
 * "lukasz-z-o-o"), every other run of characters becomes one "-", and the result is cut to `maxLength`
 * without a trailing "-". ASCII, not Unicode letters: these ids travel in PayPal's 30-character customer
 * id column and in link records the redirector validates as [A-Za-z0-9_-]. A name with nothing Latin in
 * it (Cyrillic, Greek, CJK) gives `fallback`, and the user picks the id.
 */
export function idFromName(name: string, maxLength: number, fallback: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(UNDECOMPOSED_RE, (c) => UNDECOMPOSED[c]!)
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .slice(0, maxLength)
    .replace(/-+$/, '');
  return slug || fallback;
}

/** A partner id from a name, as partners.add derives it when none is given (at most 30: PayPal's customer id column). */
export const partnerIdFromName = (name: string): string => idFromName(name, 30, 'partner');
