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

/** A record that everything of one visitor or email hash was erased, so the desktop erases it too. */
export interface Erasure {
  id: string;
  at: number;
  visitorId: string | null;
  emailHash: string | null;
}

/** One page of a cursor feed: items in order; pass `cursor` back to continue. */
export interface FeedPage<T> {
  items: T[];
  cursor: string;
  hasMore: boolean;
}
