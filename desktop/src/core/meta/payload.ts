import { createHash } from 'node:crypto';
import { DAY_MS, MINUTE_MS, formatMinor, toEpochSeconds } from '@revtrail/shared';

/**
 * The Conversions API event as Meta documents it, built from what the desktop holds. Sources (Meta's public
 * documentation):
 *   server event parameters      https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/server-event
 *   customer information         https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
 *   fbc and fbp                  https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/fbp-and-fbc
 *   main body (data, test code)  https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/main-body
 */

/** The Graph API version every request names; pinned so a change of Meta's default never changes what is sent. */
export const GRAPH_API_VERSION = 'v25.0';
export const GRAPH_BASE = 'https://graph.facebook.com';
/** "data: ... A maximum of 1000 events" (main body parameters). */
export const MAX_BATCH = 1000;
/**
 * "The event_time can be up to 7 days before you send an event ... If any event_time in data is greater than 7
 * days in the past, we return an error for the entire request" (server event parameters). Ten minutes short of
 * it, so an event is never in a request that reaches Meta after its seventh day.
 */
export const EVENT_MAX_AGE_MS = 7 * DAY_MS - 10 * MINUTE_MS;
/** The user agent of a click is kept at most this long (the bound: an event older than it is not sent). */
export const USER_AGENT_KEPT_MS = 7 * DAY_MS;

export interface MetaUserData {
  em?: string[];
  external_id?: string[];
  fbc?: string;
  fbp?: string;
  client_user_agent?: string;
}

export interface MetaEvent {
  event_name: 'Purchase';
  event_time: number;
  event_id: string;
  action_source: 'website';
  event_source_url: string;
  user_data: MetaUserData;
  custom_data: { value: number; currency: string };
}

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * em: "Trim any leading and trailing spaces. Convert all characters to lowercase", then SHA-256, lowercase hex
 * (customer information parameters). Meta's form, not Revtrail's join key (shared/email.ts drops plus tags and
 * Gmail dots, which Meta's matching does not). null for what is not an address.
 */
export function metaEmailHash(raw: string | null | undefined): string | null {
  const email = (raw ?? '').trim().toLowerCase();
  if (email.length === 0 || email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return null;
  return sha256Hex(email);
}

/** external_id: the visitor id, hashed as Meta recommends ("Hashing recommended"). */
export const externalId = (visitorId: string): string => sha256Hex(visitorId);

// The click id as Meta's fbc format carries it: base64url text, kept byte for byte.
const FBCLID_RE = /^[\w-]{1,500}$/;

/**
 * fbc from a click's fbclid: "fb.1.<creationTime>.<fbclid>", subdomainIndex 1 for a value made on a server, the
 * creation time being when the click was seen. null for an fbclid Meta's format cannot carry.
 */
export function fbcFromClick(fbclid: string, clickAt: number): string | null {
  return FBCLID_RE.test(fbclid) ? `fb.1.${Math.floor(clickAt)}.${fbclid}` : null;
}

export interface PurchaseFacts {
  /** The PaymentIntent id, or the charge id when the charge has none: a browser pixel's eventID should be the same. */
  eventId: string;
  /** When the charge was made (epoch ms). */
  at: number;
  amountMinor: number;
  currency: string;
  sourceUrl: string;
  fbc: string | null;
  fbp: string | null;
  visitorId: string | null;
}

/**
 * The Purchase event without em and client_user_agent: those are kept apart until the event is sent (and
 * deleted then), so what is stored after sending names no email hash and no user agent.
 */
export function purchaseEvent(f: PurchaseFacts): MetaEvent {
  const user: MetaUserData = {};
  if (f.visitorId) user.external_id = [externalId(f.visitorId)];
  if (f.fbc) user.fbc = f.fbc;
  if (f.fbp) user.fbp = f.fbp;
  return {
    event_name: 'Purchase',
    event_time: toEpochSeconds(f.at),
    event_id: f.eventId,
    action_source: 'website',
    event_source_url: f.sourceUrl,
    user_data: user,
    // "value ... currency": the charge's own amount in its own currency, in major units (12345 USD -> 123.45).
    custom_data: { value: Number(formatMinor(f.amountMinor, f.currency)), currency: f.currency.toUpperCase() },
  };
}

/** The event as it goes out: the stored one with em and client_user_agent added back, when there are any. */
export function outgoing(event: MetaEvent, em: string | null, userAgent: string | null): MetaEvent {
  if (!em && !userAgent) return event;
  const user: MetaUserData = { ...event.user_data };
  if (em) user.em = [em];
  if (userAgent) user.client_user_agent = userAgent;
  return { ...event, user_data: user };
}

/** Whether Meta would refuse the event (and its whole request) for its age, sent at `now`. */
export const tooOld = (at: number, now: number): boolean => now - at > EVENT_MAX_AGE_MS;

export function batches<T>(items: readonly T[], size = MAX_BATCH): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('batch size must be a positive integer');
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
