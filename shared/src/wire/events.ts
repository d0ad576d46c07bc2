import type { ClickIds, Utm } from '../tracking-params';

export type DeviceType = 'desktop' | 'mobile' | 'tablet' | 'other';
/** Why a click was marked as a bot: still redirected, never attributed. */
export type BotReason = 'user_agent' | 'head_request' | 'link_preview';

/** One visit of a tracking link, as the sync API serves it. */
export interface Click {
  id: string;
  slug: string;
  at: number;
  /**
   * null: an anonymous click, from a visitor who objected (the /optout cookie, Global Privacy Control) or,
   * in opt-in mode, has not consented: counted for the link, bound to no one, no cookie, no IP hash.
   */
  visitorId: string | null;
  referrerHost: string | null;
  referrerUrl: string | null;
  device: DeviceType;
  browser: string | null;
  os: string | null;
  country: string | null;
  ipHash: string | null;
  clickIds: ClickIds;
  utm: Utm;
  bot: boolean;
  botReason: BotReason | null;
  duplicate: boolean;
  /** The link's channel, campaign and partner when the click happened (links change later). */
  channel: string;
  campaign: string | null;
  partnerId: string | null;
  /**
   * The browser's User-Agent header, only on a click that carried an fbclid, from a visitor bound to a visitor
   * id, on a redirector whose deployment turned Meta on (REVTRAIL_META): Meta's Conversions API needs it as
   * client_user_agent for website events. Absent everywhere else.
   */
  userAgent?: string;
  /**
   * On a click of a link that targets a Telegram bot: the SHA-256 digest (hex, 32 characters) of the start
   * token it was redirected with, never the token itself. A bot start carries the same digest, so the desktop
   * can join the two even when the start arrived before the click reached the table.
   */
  telegramStart?: string;
}

/** A page load reported by the pixel. */
export interface Pageview {
  id: string;
  at: number;
  visitorId: string;
  url: string;
  referrerHost: string | null;
  referrerUrl: string | null;
  clickIds: ClickIds;
  utm: Utm;
  ipHash: string | null;
  /** Meta's _fbc and _fbp first-party cookies, as the pixel read them on the page (when the site has them). */
  fbc?: string;
  fbp?: string;
}

export type IdentitySource = 'api' | 'form';

/** A visitor bound to a keyed hash of an email by the pixel's identify(). The email is never stored. */
export interface Identity {
  id: string;
  at: number;
  visitorId: string;
  emailHash: string;
  source: IdentitySource;
}

/**
 * A record that everything of one visitor or email hash was erased, so the desktop erases it too. It names them
 * by digest only (SHA-256, hex, of erasureDigestText): the feed keeps nothing that identifies the person, and
 * the desktop recognises the visitor ids and email hashes it holds, and any that a later sync brings, by the
 * same digest, which is also what its own list of erased people keeps.
 */
export interface Erasure {
  id: string;
  at: number;
  visitorDigest: string | null;
  emailDigest: string | null;
}

/**
 * An erasure as redirectors wrote it before digests, with the raw identifiers: the desktop still reads these
 * until they leave the feed with the rest of the items of their time (the retention window).
 */
export interface LegacyErasure {
  id: string;
  at: number;
  visitorId: string | null;
  emailHash: string | null;
}

/**
 * Whose erasure digest this is: a visitor id, a keyed email hash, a keyed Telegram user hash, or (on the desktop)
 * a Stripe customer id.
 */
export type ErasedKind = 'visitor' | 'email' | 'customer' | 'telegram';

/**
 * The text an erasure digest hashes (SHA-256, hex), domain-separated by kind. Visitor ids are 128 random bits
 * and email hashes keyed HMACs, so the digest cannot be reversed by guessing.
 */
export const erasureDigestText = (kind: ErasedKind, value: string): string => `revtrail-erased\0${kind}\0${value}`;

/** One page of a cursor feed: items in order; pass `cursor` back to continue. */
export interface FeedPage<T> {
  items: T[];
  cursor: string;
  hasMore: boolean;
}
