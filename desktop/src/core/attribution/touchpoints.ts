import { MINUTE_MS, type ClickIds, type Utm } from '@revtrail/shared';
import { byTimeThenId, channelGrouper, isDirectChannel, type ChannelRule } from '@revtrail/shared/attribution/index';
import type { Db } from '../db/open';
import { getSettings } from './settings-repo';
import { boundTouchRows, type TouchRow } from './touchpoints-repo';

/** A moment a visitor bound to a customer came from somewhere: a link click, or a landing with a source. */
export interface Touchpoint {
  id: string;
  kind: 'click' | 'pageview';
  at: number;
  visitorId: string;
  /** A click's link channel; a pageview's channel from the grouping rules. */
  channel: string;
  slug: string | null;
  campaign: string | null;
  partnerId: string | null;
  /** True when the channel is Direct: the last non-direct model passes over it. */
  direct: boolean;
}

export interface CustomerTouchpointsArgs {
  /** A Stripe customer (cus_...): its charges' visitor ids and email hashes bind visitors. */
  customerId?: string | null;
  /** Keyed email hashes (the customer's emails), joined to the pixel's identities. */
  emailHashes?: readonly string[];
  /** Visitor ids known to belong to the customer. */
  visitorIds?: readonly string[];
  /** The conversion: touchpoints after it do not count. */
  until: number;
  /** How far back from `until` to look; everything before `until` when absent. */
  windowMs?: number;
  /** The channel grouping for pageviews; the workspace's setting when absent. */
  rules?: readonly ChannelRule[];
}

/**
 * A pageview this soon after a click of the same visitor, bringing no click id the click did not have, is
 * that click's landing (the redirect appends the link's UTMs and the click's own parameters), not a second
 * touchpoint: counting it would hand the credit from the link's channel to the grouping's guess.
 */
export const LANDING_MS = 30 * MINUTE_MS;

/**
 * Turns the rows of one customer (in any order) into touchpoints sorted by (at, id): channels for
 * pageviews, landings of clicks dropped, and only those at or after `from` kept (rows before it serve to
 * recognise landings).
 */
export function touchpointsFromRows(rows: readonly TouchRow[], group: (input: { utm: Utm; clickIds: ClickIds; referrerHost: string | null }) => string, from: number): Touchpoint[] {
  const clicksByVisitor = new Map<string, TouchRow[]>();
  for (const r of rows) {
    if (r.kind !== 'click') continue;
    const list = clicksByVisitor.get(r.visitor_id);
    if (list) list.push(r);
    else clicksByVisitor.set(r.visitor_id, [r]);
  }
  const out: Touchpoint[] = [];
  for (const r of rows) {
    if (r.at < from) continue;
    if (r.kind === 'click') {
      const channel = r.channel!;
      out.push({ id: r.id, kind: 'click', at: r.at, visitorId: r.visitor_id, channel, slug: r.slug, campaign: r.campaign, partnerId: r.partner_id, direct: isDirectChannel(channel) });
      continue;
    }
    const clickIds = JSON.parse(r.click_ids_json) as ClickIds;
    if (isLanding(r, clickIds, clicksByVisitor.get(r.visitor_id))) continue;
    const utm = JSON.parse(r.utm_json) as Utm;
    const channel = group({ utm, clickIds, referrerHost: r.referrer_host });
    out.push({ id: r.id, kind: 'pageview', at: r.at, visitorId: r.visitor_id, channel, slug: null, campaign: utm.utm_campaign ?? null, partnerId: null, direct: isDirectChannel(channel) });
  }
  return out.sort(byTimeThenId);
}

function isLanding(pageview: TouchRow, clickIds: ClickIds, clicks: TouchRow[] | undefined): boolean {
  if (!clicks) return false;
  return clicks.some((c) => {
    if (c.at > pageview.at || pageview.at - c.at > LANDING_MS) return false;
    const own = JSON.parse(c.click_ids_json) as ClickIds;
    return (Object.keys(clickIds) as (keyof ClickIds)[]).every((k) => own[k] === clickIds[k]);
  });
}

/**
 * The touchpoints of every visitor bound to a customer (visitor ids from Stripe, the strongest join, and
 * identities joined by email hash), up to `until` and within `windowMs` before it: non-bot, non-duplicate
 * clicks and pageviews carrying click ids or UTMs, sorted by (at, id).
 */
export function customerTouchpoints(db: Db, args: CustomerTouchpointsArgs): Touchpoint[] {
  const from = args.windowMs === undefined ? 0 : args.until - args.windowMs;
  const rows = boundTouchRows(
    db,
    { customerId: args.customerId ?? null, emailHashes: args.emailHashes ?? [], visitorIds: args.visitorIds ?? [] },
    Math.max(0, from - LANDING_MS),
    args.until,
  );
  const group = channelGrouper(args.rules ?? getSettings(db).channelRules);
  return touchpointsFromRows(rows, group, from);
}
