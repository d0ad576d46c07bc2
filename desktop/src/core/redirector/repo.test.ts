import { describe, expect, it } from 'vitest';
import type { Click, Identity, Pageview } from '@revtrail/shared';
import { openDatabase, type Db } from '../db/open';
import { erasedDigest } from '../privacy/erased-repo';
import { applyErasures, insertClicks, insertIdentities, insertPageviews } from './repo';

// The event inserts on their own: new ids go in once, and nothing of an erased visitor or email hash comes
// back, whichever feed brings it and in whatever order.
const ERASED = 'ErasedVisitorAAAAAAAAA';
const KEPT = 'KeptVisitorAAAAAAAAAAA';
const ERASED_EMAIL = 'e'.repeat(64);
const KEPT_EMAIL = 'k'.repeat(64);

const click = (id: string, visitorId: string | null): Click => ({
  id,
  slug: 'spring',
  at: 1_000,
  visitorId,
  referrerHost: null,
  referrerUrl: null,
  device: 'desktop',
  browser: 'Chrome',
  os: 'Linux',
  country: null,
  ipHash: null,
  clickIds: { gclid: 'abc' },
  utm: { utm_source: 'nl' },
  bot: false,
  botReason: null,
  duplicate: true,
  channel: 'Newsletter',
  campaign: null,
  partnerId: null,
});
const pageview = (id: string, visitorId: string): Pageview => ({
  id,
  at: 1_000,
  visitorId,
  url: 'https://brand.com/',
  referrerHost: null,
  referrerUrl: null,
  clickIds: {},
  utm: {},
  ipHash: null,
});
const identity = (id: string, visitorId: string, emailHash: string): Identity => ({ id, at: 1_000, visitorId, emailHash, source: 'form' });
const ids = (db: Db, table: string) => (db.prepare(`SELECT id FROM ${table} ORDER BY id`).pluck().all() as string[]);

function erasedDb(): Db {
  const db = openDatabase(':memory:');
  applyErasures(db, [
    { id: 'X1', at: 500, visitorDigest: erasedDigest('visitor', ERASED), emailDigest: null },
    { id: 'X2', at: 500, visitorDigest: null, emailDigest: erasedDigest('email', ERASED_EMAIL) },
  ]);
  return db;
}

describe('event inserts', () => {
  it('keeps clicks of visitors not erased, once, with their fields', () => {
    const db = erasedDb();
    expect(insertClicks(db, [click('C1', KEPT), click('C2', ERASED), click('C3', KEPT)])).toBe(2);
    expect(insertClicks(db, [click('C1', KEPT), click('C4', ERASED), click('C5', KEPT)])).toBe(1);
    expect(ids(db, 'clicks')).toEqual(['C1', 'C3', 'C5']);
    expect(db.prepare(`SELECT click_ids_json, utm_json, bot, duplicate FROM clicks WHERE id = 'C1'`).get()).toEqual({
      click_ids_json: '{"gclid":"abc"}',
      utm_json: '{"utm_source":"nl"}',
      bot: 0,
      duplicate: 1,
    });
  });

  it('keeps an anonymous click (an objecting visitor\'s: no visitor id) with a NULL visitor, whatever was erased', () => {
    const db = erasedDb();
    expect(insertClicks(db, [click('C9', null)])).toBe(1);
    expect(db.prepare(`SELECT visitor_id FROM clicks WHERE id = 'C9'`).get()).toEqual({ visitor_id: null });
  });

  it('keeps pageviews of visitors not erased, once', () => {
    const db = erasedDb();
    expect(insertPageviews(db, [pageview('P1', ERASED), pageview('P2', KEPT), pageview('P2', KEPT)])).toBe(1);
    expect(ids(db, 'pageviews')).toEqual(['P2']);
  });

  it('keeps identities unless their visitor or their email hash was erased', () => {
    const db = erasedDb();
    const added = insertIdentities(db, [
      identity('I1', KEPT, KEPT_EMAIL),
      identity('I2', ERASED, KEPT_EMAIL),
      identity('I3', KEPT, ERASED_EMAIL),
      identity('I1', KEPT, KEPT_EMAIL),
    ]);
    expect(added).toBe(1);
    expect(ids(db, 'identities')).toEqual(['I1']);
  });

  it('deletes what a later erasure names by digest, and only that, then refuses it when it is pulled again', () => {
    const db = openDatabase(':memory:');
    insertClicks(db, [click('C1', ERASED), click('C2', KEPT)]);
    insertPageviews(db, [pageview('P1', ERASED)]);
    insertIdentities(db, [identity('I1', ERASED, KEPT_EMAIL), identity('I2', KEPT, ERASED_EMAIL), identity('I3', KEPT, KEPT_EMAIL)]);
    const erasures = [
      { id: 'X1', at: 2_000, visitorDigest: erasedDigest('visitor', ERASED), emailDigest: null },
      { id: 'X2', at: 2_000, visitorDigest: null, emailDigest: erasedDigest('email', ERASED_EMAIL) },
    ];
    expect(applyErasures(db, erasures)).toBe(4);
    expect([ids(db, 'clicks'), ids(db, 'pageviews'), ids(db, 'identities')]).toEqual([['C2'], [], ['I3']]);
    // A re-pull of the same erasures finds them recorded and has nothing left to delete.
    expect(applyErasures(db, erasures)).toBe(0);
    expect(insertClicks(db, [click('C1', ERASED)]) + insertIdentities(db, [identity('I2', KEPT, ERASED_EMAIL)])).toBe(0);
  });

  it('takes in what a later erasure from an older redirector names (raw ids), then deletes it and refuses it when it is pulled again', () => {
    const db = openDatabase(':memory:');
    expect(insertClicks(db, [click('C1', ERASED)])).toBe(1);
    expect(applyErasures(db, [{ id: 'X1', at: 2_000, visitorId: ERASED, emailHash: null }])).toBe(1);
    expect(insertClicks(db, [click('C1', ERASED)])).toBe(0);
    expect(ids(db, 'clicks')).toEqual([]);
  });
});
