import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '@revtrail/shared';
import { factClick } from '../attribution/testing/facts';
import { migrate } from '../db/migrate';
import type { Db } from '../db/open';
import { insertClicks, insertPageviews } from '../redirector/repo';
import { eraseMetaOf, metaSignalKeeper, purgeMeta, setMetaForwarding } from './repo';
import { queueEvents, rowsOf } from './testing/outbox';

// What Meta forwarding keeps, on an in-memory workspace database: only while it is on, and never past its time.
let db: Db;
const now = 1_800_000_000_000;
const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0';
const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
const pageview = (id: string, visitorId: string, at: number, more: Record<string, string> = {}) => ({ id, at, visitorId, url: 'https://brand.com/', referrerHost: null, referrerUrl: null, clickIds: {}, utm: {}, ipHash: null, ...more });

beforeEach(() => {
  db = new Database(':memory:');
  migrate(db);
});
afterEach(() => db.close());

describe('signals kept for Meta', () => {
  it('keeps a click\'s user agent (fbclid clicks only) and a pageview\'s well-formed _fbc/_fbp only while forwarding is on', () => {
    const fb = factClick({ id: 'c1', visitorId: 'V1', at: now, clickIds: { fbclid: 'abc' }, userAgent: UA });
    const plain = factClick({ id: 'c2', visitorId: 'V1', at: now, userAgent: UA });
    const fbc = 'fb.1.1554763741205.abc';
    const fbp = 'fb.1.1596403881668.1116446470';
    expect(metaSignalKeeper(db)).toBeNull();
    insertClicks(db, [fb, plain]);
    insertPageviews(db, [pageview('p1', 'V1', now, { fbc, fbp })]);
    expect([count('meta_click_agents'), count('meta_browser_ids')]).toEqual([0, 0]);

    setMetaForwarding(db, true, now);
    insertClicks(db, [{ ...fb, id: 'c3' }, { ...plain, id: 'c4' }]);
    insertPageviews(db, [pageview('p2', 'V1', now, { fbc, fbp }), pageview('p3', 'V1', now, { fbc: 'fb.1.1.x' }), pageview('p4', 'V1', now)]);
    expect(db.prepare(`SELECT click_id, user_agent FROM meta_click_agents`).all()).toEqual([{ click_id: 'c3', user_agent: UA }]);
    expect(db.prepare(`SELECT pageview_id, fbc, fbp FROM meta_browser_ids`).all()).toEqual([{ pageview_id: 'p2', fbc, fbp }]);

    setMetaForwarding(db, false, now);
    expect([count('meta_click_agents'), count('meta_browser_ids')]).toEqual([0, 0]);
  });

  it('purges user agents, browser ids and settled events past their time, and no waiting event', () => {
    setMetaForwarding(db, true, now);
    insertClicks(db, [factClick({ id: 'old', visitorId: 'V1', at: now - 8 * DAY_MS, clickIds: { fbclid: 'a' }, userAgent: UA }), factClick({ id: 'new', visitorId: 'V1', at: now, clickIds: { fbclid: 'b' }, userAgent: UA })]);
    insertPageviews(db, [pageview('pold', 'V1', now - 40 * DAY_MS, { fbp: 'fb.1.1596403881668.1' }), pageview('pnew', 'V1', now, { fbp: 'fb.1.1596403881668.2' })]);
    queueEvents(db, 2, now - 400 * DAY_MS, { prefix: 'pi_old' });
    db.prepare(`UPDATE meta_events SET state = 'sent' WHERE event_id = 'pi_old000000'`).run();
    expect(purgeMeta(db, { agents: now - 7 * DAY_MS, browsers: now - 30 * DAY_MS, events: now - 365 * DAY_MS })).toEqual({ agents: 1, browsers: 1, events: 1 });
    expect(rowsOf(db).map((r) => r.event_id)).toEqual(['pi_old000001']);
  });

  it('an erasure deletes the events of any of the person\'s visitors or charges, and their signals', () => {
    setMetaForwarding(db, true, now);
    queueEvents(db, 3, now);
    insertClicks(db, [factClick({ id: 'c1', visitorId: 'Visitor000000000000001', at: now, clickIds: { fbclid: 'a' }, userAgent: UA })]);
    expect(eraseMetaOf(db, { visitors: ['Visitor000000000000001'], charges: ['ch_test000002'] })).toBe(3);
    expect(rowsOf(db).map((r) => r.event_id)).toEqual(['pi_test000000']);
    expect(count('meta_click_agents')).toBe(0);
  });
});
