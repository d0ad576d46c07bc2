/**
 * Emails never leave a visitor's browser or Stripe raw into Revtrail's storage: both sides keep only
 * hashEmail(normalizeEmail(email), key), a keyed HMAC-SHA256 that the redirector and the desktop compute
 * identically, so the hash is the join key between a pixel identify and a Stripe customer.
 */

/** Providers known to deliver "name+tag@" to "name@": the tag is dropped so both spellings join. */
const PLUS_TAG_DOMAINS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com',
  'icloud.com', 'me.com', 'mac.com', 'fastmail.com', 'protonmail.com', 'proton.me', 'pm.me',
]);
/** Gmail ignores dots in the local part. */
const DOTLESS_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

export const EMAIL_MAX_LENGTH = 254;

/**
 * Canonical form of an email address, or null when it is not one.
 * Trim, Unicode NFKC, lowercase; googlemail.com -> gmail.com; plus tags dropped and Gmail dots removed
 * for the providers that ignore them.
 */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().normalize('NFKC').toLowerCase();
  if (email.length === 0 || email.length > EMAIL_MAX_LENGTH) return null;
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return null;
  let local = email.slice(0, at);
  let domain = email.slice(at + 1);
  if (/\s/.test(email) || local.includes('@') || !domain.includes('.') || domain.startsWith('.') || domain.endsWith('.')) {
    return null;
  }
  if (domain === 'googlemail.com') domain = 'gmail.com';
  if (PLUS_TAG_DOMAINS.has(domain)) {
    const plus = local.indexOf('+');
    if (plus > 0) local = local.slice(0, plus);
  }
  if (DOTLESS_DOMAINS.has(domain)) local = local.replace(/\./g, '');
  if (local.length === 0) return null;
  return `${local}@${domain}`;
}

const encoder = new TextEncoder();

// The last key imported: a sync hashes thousands of emails under one key, and importing it each time
// doubled the cost of a hash.
type HmacKey = ReturnType<typeof globalThis.crypto.subtle.importKey>;
let lastKey: { raw: string; key: HmacKey } | null = null;
function hmacKey(raw: string): HmacKey {
  if (lastKey?.raw !== raw) {
    lastKey = { raw, key: globalThis.crypto.subtle.importKey('raw', encoder.encode(raw), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']) };
  }
  return lastKey.key;
}

/** HMAC-SHA256 of the normalised email under the deployment's email-hash key, as lowercase hex. */
export async function hashEmail(normalizedEmail: string, key: string): Promise<string> {
  if (key.length < 16) throw new RangeError('email-hash key is too short');
  const cryptoKey = await hmacKey(key);
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(normalizedEmail)));
  let hex = '';
  for (const b of mac) hex += b.toString(16).padStart(2, '0');
  return hex;
}

export const EMAIL_HASH_RE = /^[0-9a-f]{64}$/;
