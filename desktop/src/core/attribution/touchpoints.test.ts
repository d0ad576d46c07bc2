import { describe, expect, it } from 'vitest';
import { DAY_MS } from '@revtrail/shared';
import { channelGrouper } from '@revtrail/shared/attribution/index';
import { customerTouchpoints, touchpointsFromRows } from './touchpoints';
import { allBoundTouchRows, bindAllCustomers, unbindAllCustomers, type TouchRow } from './touchpoints-repo';
import { addCharge, addClick, addCustomer, addIdentity, addPageview, addSubscription, factsDb, t } from './testing/facts';

function journey() {
  const db = factsDb();
  addCustomer(db, 'cus_1', 'hash-ann');
  // Visitor A paid with its id passed into Stripe; visitor B is the same person on a phone (identified by email).
  addCharge(db, { id: 'ch_1', createdAt: t('2025-03-20T12:00'), amountMinor: 5000, currency: 'USD', customerId: 'cus_1', visitorId: 'vis-A' });
  addIdentity(db, { id: 'id-1', visitorId: 'vis-B', emailHash: 'hash-ann' });
  addClick(db, { id: 'c1', at: t('2025-02-01T10:00'), visitorId: 'vis-A', slug: 'old', channel: 'Newsletter' });
  addClick(db, { id: 'c2', at: t('2025-03-01T10:00'), visitorId: 'vis-B', slug: 'ig-bio', channel: 'Social', partnerId: 'p1', campaign: 'spring' });
  addClick(db, { id: 'c3', at: t('2025-03-02T10:00'), visitorId: 'vis-A', slug: 'bot', channel: 'Social', bot: true, botReason: 'user_agent' });
  addClick(db, { id: 'c4', at: t('2025-03-02T10:01'), visitorId: 'vis-A', slug: 'dup', channel: 'Social', duplicate: true });
  addClick(db, { id: 'c5', at: t('2025-03-25T10:00'), visitorId: 'vis-A', slug: 'after', channel: 'Social' });
  // Someone else's click never shows up, nor an anonymous one (no visitor: an objection to tracking).
  addClick(db, { id: 'c6', at: t('2025-03-05T10:00'), visitorId: 'vis-Z', channel: 'Social' });
  addClick(db, { id: 'c-anon', at: t('2025-03-06T10:00'), visitorId: null, channel: 'Social' });
  return db;
}

describe('customerTouchpoints', () => {
  it('binds the visitor Stripe names and the visitors identified by the customer’s email, drops bots, duplicates and later clicks', () => {
    const db = journey();
    const tps = customerTouchpoints(db, { customerId: 'cus_1', until: t('2025-03-20T12:00') });
    expect(tps.map((x) => x.id)).toEqual(['c1', 'c2']);
    expect(tps[1]).toEqual({ id: 'c2', kind: 'click', at: t('2025-03-01T10:00'), visitorId: 'vis-B', channel: 'Social', slug: 'ig-bio', campaign: 'spring', partnerId: 'p1', direct: false });
  });

  it('limits to the window before the conversion', () => {
    const db = journey();
    expect(customerTouchpoints(db, { customerId: 'cus_1', until: t('2025-03-20T12:00'), windowMs: 30 * DAY_MS }).map((x) => x.id)).toEqual(['c2']);
  });

  it('joins by email hashes or visitor ids alone', () => {
    const db = journey();
    expect(customerTouchpoints(db, { emailHashes: ['hash-ann'], until: t('2025-03-20T12:00') }).map((x) => x.id)).toEqual(['c1', 'c2']);
    expect(customerTouchpoints(db, { visitorIds: ['vis-B'], until: t('2025-03-20T12:00') }).map((x) => x.id)).toEqual(['c2']);
    expect(customerTouchpoints(db, { emailHashes: ['hash-nobody'], until: t('2025-03-20T12:00') })).toEqual([]);
  });

  it('keeps pageviews with a source, groups their channel, and drops the landing of a click', () => {
    const db = factsDb();
    addClick(db, { id: 'c1', at: t('2025-03-01T10:00'), visitorId: 'v', channel: 'Newsletter', utm: { utm_medium: 'email' } });
    // The redirect's landing: same visitor, a second later, the link's UTMs.
    addPageview(db, { id: 'p1', at: t('2025-03-01T10:00') + 1000, visitorId: 'v', utm: { utm_source: 'news', utm_medium: 'email' } });
    // No source: not a touchpoint.
    addPageview(db, { id: 'p2', at: t('2025-03-01T10:05'), visitorId: 'v' });
    // A new ad click id ten minutes later is a touchpoint of its own.
    addPageview(db, { id: 'p3', at: t('2025-03-01T10:10'), visitorId: 'v', clickIds: { gclid: 'g-1' } });
    // Same UTMs but an hour later: a new visit.
    addPageview(db, { id: 'p4', at: t('2025-03-01T11:00'), visitorId: 'v', utm: { utm_source: 'news', utm_medium: 'email', utm_campaign: 'spring' } });
    addPageview(db, { id: 'p5', at: t('2025-03-02T11:00'), visitorId: 'v', referrerHost: 'www.google.de', utm: { utm_campaign: 'x' } });
    const tps = customerTouchpoints(db, { visitorIds: ['v'], until: t('2025-03-03') });
    expect(tps.map((x) => [x.id, x.kind, x.channel, x.campaign])).toEqual([
      ['c1', 'click', 'Newsletter', null],
      ['p3', 'pageview', 'Paid search', null],
      ['p4', 'pageview', 'Email', 'spring'],
      ['p5', 'pageview', 'Organic search', 'x'],
    ]);
  });

  it('recognises a landing whose click lies just before the window', () => {
    const db = factsDb();
    addClick(db, { id: 'c1', at: t('2025-03-01T09:59'), visitorId: 'v', channel: 'Newsletter' });
    addPageview(db, { id: 'p1', at: t('2025-03-01T10:01'), visitorId: 'v', utm: { utm_medium: 'email' } });
    expect(customerTouchpoints(db, { visitorIds: ['v'], until: t('2025-03-01T12:00'), windowMs: 2 * 3_600_000 })).toEqual([]);
  });

  it('uses the workspace’s rules unless given some, and marks Direct touchpoints', () => {
    const db = factsDb();
    addPageview(db, { id: 'p1', at: t('2025-03-01T10:00'), visitorId: 'v', utm: { utm_source: 'partnerco' } });
    addClick(db, { id: 'c1', at: t('2025-03-01T08:00'), visitorId: 'v', channel: 'Direct' });
    const until = t('2025-03-02');
    expect(customerTouchpoints(db, { visitorIds: ['v'], until }).map((x) => [x.id, x.channel, x.direct])).toEqual([
      ['c1', 'Direct', true],
      ['p1', 'Referral', false],
    ]);
    const rules = [{ channel: 'Partners', utmSource: ['partner*'] }];
    expect(customerTouchpoints(db, { visitorIds: ['v'], until, rules }).map((x) => x.channel)).toEqual(['Direct', 'Partners']);
  });

  it('binds every customer at once (the rebuild’s way) exactly as one customer at a time', () => {
    const db = journey();
    // A guest (no Stripe customer) known by email only, and a customer whose subscription carries the visitor id.
    addCharge(db, { id: 'ch_guest', createdAt: t('2025-03-21'), amountMinor: 100, currency: 'USD', billingEmailHash: 'hash-guest' });
    addIdentity(db, { id: 'id-2', visitorId: 'vis-Z', emailHash: 'hash-guest' });
    addSubscription(db, 'sub_2', 'cus_2', t('2025-03-22'), 'USD', { revtrail_vid: 'vis-S' });
    addCharge(db, { id: 'ch_2', createdAt: t('2025-03-22'), amountMinor: 100, currency: 'USD', customerId: 'cus_2' });
    addClick(db, { id: 'c7', at: t('2025-03-21T10:00'), visitorId: 'vis-S', channel: 'Podcast' });
    // Pageviews with a source: read after the clicks unless the rows are ordered by customer.
    addPageview(db, { id: 'p1', at: t('2025-03-03T10:00'), visitorId: 'vis-A', utm: { utm_source: 'google', utm_medium: 'cpc' } });
    addPageview(db, { id: 'p2', at: t('2025-03-21T12:00'), visitorId: 'vis-S', utm: { utm_source: 'newsletter', utm_medium: 'email' } });
    const until = Number.MAX_SAFE_INTEGER;
    const group = channelGrouper();
    bindAllCustomers(db);
    const rows = new Map<string, TouchRow[]>();
    const order: string[] = [];
    for (const r of allBoundTouchRows(db, until)) {
      rows.set(r.customer_key, [...(rows.get(r.customer_key) ?? []), r]);
      if (order.at(-1) !== r.customer_key) order.push(r.customer_key);
    }
    unbindAllCustomers(db);
    // One customer after another (clicks and pageviews together): the rebuild makes each customer's touchpoints
    // as soon as its rows are read.
    expect(order).toEqual([...new Set(order)]);
    const bulk = new Map([...rows].map(([k, list]) => [k, touchpointsFromRows(list, group, 0)]));
    expect([...bulk.keys()].sort()).toEqual(['cus_1', 'cus_2', 'email:hash-guest']);
    expect(bulk.get('cus_2')).toEqual(customerTouchpoints(db, { customerId: 'cus_2', until }));
    expect(bulk.get('cus_2')!.map((x) => x.id)).toEqual(['c7', 'p2']);
    expect(bulk.get('cus_1')).toEqual(customerTouchpoints(db, { customerId: 'cus_1', until }));
    expect(bulk.get('email:hash-guest')).toEqual(customerTouchpoints(db, { emailHashes: ['hash-guest'], until }));
    expect(bulk.get('email:hash-guest')!.map((x) => x.id)).toEqual(['c6']);
  });
});
