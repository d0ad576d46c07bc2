import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HOUR_MS, START_TOKEN_RE } from '@revtrail/shared';

/**
 * How long a bot link's start token binds: the time between tapping the link and pressing Start in Telegram,
 * which is seconds, or minutes when Telegram has to be installed first. A day covers that with room to spare,
 * where the attribution window (30 days and more) would let a token copied from the t.me address (a screenshot,
 * a forwarded link) bind someone else for a month. The click itself is kept and attributed for the whole window.
 */
export const START_TOKEN_TTL_MS = 24 * HOUR_MS;
/** A token stamped this far after the time it is checked at was not made by this clock: refused. */
const FUTURE_SKEW_MS = 5 * 60_000;
const TOKEN_BYTES = 24;
const MAC_BYTES = 8;

export type TokenVerdict = { ok: true; issuedAt: number; digest: string } | { ok: false; reason: 'bad_token' | 'token_expired' };

/**
 * Start tokens: 24 bytes as 32 base64url characters (inside Telegram's 64 and the 22-43 Revtrail allows): the
 * issue time in seconds (4 bytes), 12 random bytes, and the first 8 bytes of an HMAC of those 16 under a key
 * derived from the deployment's email-hash key. Opaque to everyone else (no visitor id, no email); the MAC lets
 * the webhook refuse a payload it did not make without a table read, and the time lets it refuse a stale one
 * even when its click has not reached the table yet. Single use is the webhook's to enforce (store/telegram.ts).
 */
export class StartTokens {
  private readonly key: Buffer;

  constructor(emailHashKey: string) {
    // Its own key, derived: a start token's MAC must never be usable as an email or Telegram user hash.
    this.key = createHmac('sha256', emailHashKey).update('revtrail-telegram-start-token').digest();
  }

  mint(at: number): { token: string; digest: string } {
    const bytes = Buffer.alloc(TOKEN_BYTES);
    bytes.writeUInt32BE(Math.floor(at / 1000), 0);
    randomBytes(12).copy(bytes, 4);
    this.mac(bytes.subarray(0, 16)).copy(bytes, 16);
    const token = bytes.toString('base64url');
    return { token, digest: tokenDigest(token) };
  }

  /** Whether `token` is one of ours, and still good at `at` (when the user pressed Start). */
  check(token: string, at: number): TokenVerdict {
    if (!START_TOKEN_RE.test(token) || token.length !== 32) return { ok: false, reason: 'bad_token' };
    const bytes = Buffer.from(token, 'base64url');
    if (bytes.length !== TOKEN_BYTES || !timingSafeEqual(this.mac(bytes.subarray(0, 16)), bytes.subarray(16))) return { ok: false, reason: 'bad_token' };
    const issuedAt = bytes.readUInt32BE(0) * 1000;
    if (issuedAt - at > FUTURE_SKEW_MS) return { ok: false, reason: 'bad_token' };
    if (at - issuedAt > START_TOKEN_TTL_MS) return { ok: false, reason: 'token_expired' };
    return { ok: true, issuedAt, digest: tokenDigest(token) };
  }

  private mac(data: Buffer): Buffer {
    return createHmac('sha256', this.key).update('revtrail-telegram-start\0').update(data).digest().subarray(0, MAC_BYTES);
  }
}

/** What the click, the token's table item and the start keep of a token: 128 bits of its SHA-256, as hex. */
export const tokenDigest = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 32);
