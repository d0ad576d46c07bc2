import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DAY_MS, type Click, seededRandom } from '@revtrail/shared';
import { addDays, zoneRange } from '@revtrail/shared/attribution/index';
import { migrate } from '../db/migrate';
import { MIGRATIONS } from '../db/migrations';
import type { Db } from '../db/open';
import { erasePerson, linkIdentifiers, type PersonIds } from '../privacy/person-repo';
import { purgeEventsBefore } from '../privacy/retention-repo';
import { applyErasures, insertClicks } from '../redirector/repo';
import { clickDaysPlan, clickDaysState } from './click-days-repo';
import { ensureClickDays } from './click-days';
import { campaignsReport, channelsReport, dashboardReport, linksReport, partnersReport, seriesReport, summaryReport, type ReportRange, type ReportSource } from './reports';
import { channelsReportPlan, type ReportFilter } from './reports-repo';
import { saveSettings, getSettings } from './settings-repo';
import { fixedRates } from './testing/fx';
import { factClick, factsDb, t } from './testing/facts';

// The per-day rollups against counting the clicks: the same clicks and (for these few thousand visitors, below the
// sketches' exact range) the same visitors, in every report that counts them, through inserts, erasures, the
// retention purge, a zone change and a database from before the rollups.

const LINKS = [
  { slug: 'news', channel: 'Newsletter', campaign: 'spring', partnerId: null },
  { slug: 'news-2', channel: 'Newsletter', campaign: null, partnerId: null },
  { slug: 'ann', channel: 'Affiliate', campaign: 'spring', partnerId: 'ann' },
  { slug: 'bob', channel: 'Affiliate', campaign: null, partnerId: 'bob' },
  { slug: 'ads', channel: 'Paid social', campaign: 'launch', partnerId: null },
];
const START = t('2025-03-01');
const SPAN_DAYS = 80;

/** Clicks over 80 days from 2025-03-01 (two DST changes in New York and Berlin): bots, repeats, anonymous visitors. */
function randomClicks(n: number, seed: number, idFrom = 0): Click[] {
  const rand = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const link = LINKS[Math.floor(rand() * LINKS.length)]!;
    const r = rand();
    // A link's channel changed once: its clicks carry the channel of when they happened.
    const at = START + Math.floor(rand() * SPAN_DAYS * DAY_MS);
    const channel = link.slug === 'news-2' && at > t('2025-04-15') ? 'Email' : link.channel;
    return factClick({
      id: `c${(idFrom + i).toString().padStart(7, '0')}`,
      at,
      visitorId: r < 0.05 ? null : `v${Math.floor(rand() * n * 0.4)}`,
      ...link,
      channel,
      bot: r > 0.95,
      botReason: r > 0.95 ? 'user_agent' : null,
      duplicate: r > 0.9 && r <= 0.95,
    });
  });
}

/** Inserts in pages of random sizes, some clicks twice (pulls are at least once). */
function sync(db: Db, clicks: Click[], seed: number): void {
  const rand = seededRandom(seed);
  for (let i = 0; i < clicks.length; ) {
    const size = 1 + Math.floor(rand() * 300);
    insertClicks(db, clicks.slice(i, i + size));
    if (rand() < 0.2) insertClicks(db, clicks.slice(Math.max(0, i - 50), i + 10));
    i += size;
  }
}

const src = (db: Db, clickDays: boolean): ReportSource => ({ db, ledgerCurrency: 'USD', fx: () => fixedRates({}), clickDays });
const range = (from: string, to: string, timeZone: string, filter: ReportFilter | null = null): ReportRange => ({
  from,
  to,
  timeZone,
  model: 'last_click',
  currency: 'USD',
  filter,
  ...zoneRange(from, to, timeZone),
});

/** The clicks and visitors of every report that counts them, without how they were counted. */
function traffic(db: Db, r: ReportRange, clickDays: boolean) {
  const s = src(db, clickDays);
  const rows = <T extends { clicks: number; uniqueVisitors: number }>(xs: T[], key: (x: T) => string | null) =>
    xs.map((x) => [key(x), x.clicks, x.uniqueVisitors]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  const summary = summaryReport(s, r);
  return {
    channels: rows(channelsReport(s, r).rows, (x) => x.channel),
    links: rows(linksReport(s, r).rows, (x) => `${x.slug} ${x.channel}`),
    campaigns: rows(campaignsReport(s, r).rows, (x) => x.campaign),
    partners: rows(partnersReport(s, r).rows, (x) => x.partnerId),
    series: seriesReport(s, r).points.map((p) => [p.from, p.clicks, p.visitors]),
    weeks: seriesReport(s, r, 'week').points.map((p) => [p.from, p.clicks, p.visitors]),
    summary: [summary.current.clicks, summary.current.visitors],
  };
}

const FILTERS: (ReportFilter | null)[] = [
  null,
  { by: 'channel', value: 'Affiliate' },
  { by: 'link', value: 'news-2' },
  { by: 'campaign', value: 'spring' },
  { by: 'campaign', value: null },
  { by: 'partner', value: 'ann' },
  { by: 'partner', value: null },
];

function expectSame(db: Db, timeZone: string, seed: number, ranges = 6): void {
  const rand = seededRandom(seed);
  for (let i = 0; i < ranges; i++) {
    const from = addDays('2025-03-01', Math.floor(rand() * (SPAN_DAYS - 5)) - 3);
    const to = addDays(from, Math.floor(rand() * 40));
    const filter = FILTERS[i % FILTERS.length]!;
    const r = range(from, to, timeZone, filter);
    const rolled = traffic(db, r, true);
    expect(channelsReport(src(db, true), r).traffic?.visitors, 'the rollups answered').toBe('estimate');
    expect(rolled, `${from}..${to} in ${timeZone}, filter ${JSON.stringify(filter)}`).toEqual(traffic(db, r, false));
    // The dashboard's one call, its range's cells read and merged once for all six: each report as asked alone.
    const s = src(db, true);
    expect(dashboardReport(s, r), `dashboard ${from}..${to} in ${timeZone}`).toEqual({
      summary: summaryReport(s, r),
      series: seriesReport(s, r),
      channels: channelsReport(s, r),
      links: linksReport(s, r),
      campaigns: campaignsReport(s, r),
      partners: partnersReport(s, r),
    });
  }
}

function withZone(db: Db, timeZone: string): void {
  saveSettings(db, { ...getSettings(db), timeZone, channelRules: null }, 0);
  ensureClickDays(db, timeZone);
}

const erase = (db: Db, visitor: string) =>
  erasePerson(db, linkIdentifiers(db, { visitors: new Set([visitor]), emails: new Set(), customers: new Set() } as unknown as PersonIds), t('2025-06-01'));

describe('click rollups', () => {
  it('are kept as clicks are synced, equal to counting the clicks in every report, filter and zone', () => {
    const db = factsDb();
    // A new workspace counts its days from the first click on, in the reports' zone.
    expect(clickDaysState(db)).toEqual({ time_zone: 'UTC', live_from: null, purged_before: 0 });
    sync(db, randomClicks(6000, 1), 2);
    expectSame(db, 'UTC', 3);
    for (const zone of ['America/New_York', 'Asia/Kathmandu', 'Europe/Berlin']) {
      withZone(db, zone);
      sync(db, randomClicks(500, zone.length, 10_000 * zone.length), 4);
      expectSame(db, zone, 5);
    }
  });

  it('answer a report in another zone than theirs by counting the clicks', () => {
    const db = factsDb();
    sync(db, randomClicks(1000, 6), 7);
    const r = range('2025-03-10', '2025-04-10', 'Asia/Tokyo');
    expect(channelsReport(src(db, true), r).traffic).toEqual({ visitors: 'exact', visitorsFrom: null });
    expect(traffic(db, r, true)).toEqual(traffic(db, r, false));
  });

  it('leave out an erased visitor at once, in the days of every click of theirs', () => {
    const db = factsDb();
    withZone(db, 'Europe/Berlin');
    const clicks = randomClicks(3000, 8);
    sync(db, clicks, 9);
    const victims = [...new Set(clicks.filter((c) => !c.bot && !c.duplicate && c.visitorId).map((c) => c.visitorId!))].slice(0, 40);
    for (const v of victims.slice(0, 20)) erase(db, v);
    // The redirector's erasure feed, legacy (raw ids) form, in the sync's transaction.
    db.transaction(() => applyErasures(db, victims.slice(20).map((v, i) => ({ id: `e${i}`, at: t('2025-06-01'), visitorId: v, emailHash: null }))))();
    expect(db.prepare(`SELECT count(*) AS n FROM clicks WHERE visitor_id IN (SELECT value FROM json_each(?))`).get(JSON.stringify(victims))).toEqual({ n: 0 });
    expect(db.prepare(`SELECT count(*) AS n FROM click_days_recount`).get()).toEqual({ n: 0 });
    expectSame(db, 'Europe/Berlin', 10);
    // A deletion nobody recounted (code that forgot to): the reports count the clicks until it is.
    db.prepare(`DELETE FROM clicks WHERE id = (SELECT id FROM clicks WHERE bot = 0 AND duplicate = 0 LIMIT 1)`).run();
    const r = range('2025-03-01', '2025-05-19', 'Europe/Berlin');
    expect(channelsReport(src(db, true), r).traffic?.visitors).toBe('exact');
    ensureClickDays(db, 'Europe/Berlin');
    expect(channelsReport(src(db, true), r).traffic?.visitors).toBe('estimate');
    expect(traffic(db, r, true)).toEqual(traffic(db, r, false));
    // The sketches are those of the clicks left, as if counted from scratch.
    const kept = db.prepare(`SELECT * FROM click_days ORDER BY day, slug, channel, campaign, partner_id`).all();
    db.prepare(`UPDATE click_days_state SET time_zone = NULL`).run();
    ensureClickDays(db, 'Europe/Berlin');
    expect(db.prepare(`SELECT * FROM click_days ORDER BY day, slug, channel, campaign, partner_id`).all()).toEqual(kept);
  });

  it('keep the purged days as click counts without visitors, and stay exact after it', () => {
    const db = factsDb();
    withZone(db, 'America/New_York');
    const clicks = randomClicks(4000, 11);
    sync(db, clicks, 12);
    const all = range('2025-03-01', '2025-05-19', 'America/New_York');
    const before = traffic(db, all, false);
    const beforeLive = range('2025-03-03', '2025-04-10', 'America/New_York');
    const [clicksBeforeLive] = traffic(db, beforeLive, false).summary;
    // The purge cuts through April 10th in New York: the 10th and before keep their counts and lose their visitors.
    const cutoff = t('2025-04-10T15:00');
    purgeEventsBefore(db, cutoff);
    expect(clickDaysState(db)).toMatchObject({ live_from: '2025-04-11', purged_before: cutoff });
    expect(db.prepare(`SELECT count(*) AS n FROM click_days WHERE day <= '2025-04-10' AND visitors IS NOT NULL`).get()).toEqual({ n: 0 });
    expect(db.prepare(`SELECT count(*) AS n FROM click_days WHERE day > '2025-04-10' AND visitors IS NULL`).get()).toEqual({ n: 0 });
    // Every click is still counted, per channel and per day; the visitors only from the 11th, and said so.
    const after = channelsReport(src(db, true), all);
    expect(after.traffic).toEqual({ visitors: 'estimate', visitorsFrom: '2025-04-11' });
    expect(after.rows.map((r) => [r.channel, r.clicks]).sort()).toEqual(before.channels.map(([k, n]) => [k, n]).sort());
    expect(seriesReport(src(db, true), all).points.map((p) => p.clicks)).toEqual(before.series.map((p) => p[1]));
    const live = range('2025-04-11', '2025-05-19', 'America/New_York');
    expect(traffic(db, live, true)).toEqual(traffic(db, live, false));
    expect(summaryReport(src(db, true), all).current.conversionRate).toBeNull();
    // The period before the live range is all history: its clicks as they were, no visitors, and why.
    const previous = summaryReport(src(db, true), live).previous;
    expect(summaryReport(src(db, true), live).previousRange).toEqual({ from: beforeLive.from, to: beforeLive.to });
    expect(previous).toMatchObject({ clicks: clicksBeforeLive, visitors: 0, conversionRate: null });
    expect(summaryReport(src(db, true), live).traffic.previous).toEqual({ visitors: 'estimate', visitorsFrom: '2025-04-11' });
    // An erasure after the purge recounts the live days; the history keeps its counts (they name no one).
    const history = db.prepare(`SELECT day, slug, clicks FROM click_days WHERE visitors IS NULL ORDER BY day, slug, channel, campaign, partner_id`).all();
    const late = clicks.filter((c) => c.at > cutoff + 2 * DAY_MS && c.visitorId && !c.bot && !c.duplicate).slice(0, 10);
    for (const c of late) erase(db, c.visitorId!);
    expect(traffic(db, live, true)).toEqual(traffic(db, live, false));
    expect(db.prepare(`SELECT day, slug, clicks FROM click_days WHERE visitors IS NULL ORDER BY day, slug, channel, campaign, partner_id`).all()).toEqual(history);
    // A later zone keeps the history as it was counted and counts the rest again: not a click lost or doubled.
    const clicksIn = (timeZone: string) => channelsReport(src(db, true), range('2025-02-20', '2025-05-30', timeZone)).rows.reduce((n, x) => n + x.clicks, 0);
    const total = clicksIn('America/New_York');
    withZone(db, 'Asia/Kathmandu');
    expect(clicksIn('Asia/Kathmandu')).toBe(total);
    const state = clickDaysState(db);
    expect(state.time_zone).toBe('Asia/Kathmandu');
    const liveKtm = range(state.live_from!, '2025-05-19', 'Asia/Kathmandu');
    expect(traffic(db, liveKtm, true)).toEqual(traffic(db, liveKtm, false));
  });

  it('are counted for a database that held clicks before them, once its ledger is built', () => {
    const db = new Database(':memory:');
    const rollups = MIGRATIONS.find((m) => m.name === 'click-days-batch-members')!.version;
    const before = MIGRATIONS.filter((m) => m.version < rollups);
    migrate(db, before);
    const add = db.prepare(
      `INSERT INTO clicks (id, slug, at, visitor_id, device, click_ids_json, utm_json, bot, duplicate, channel, campaign, partner_id)
       VALUES (@id, @slug, @at, @visitorId, 'desktop', '{}', '{}', @bot, @duplicate, @channel, @campaign, @partnerId)`,
    );
    for (const c of randomClicks(2000, 13)) add.run({ ...c, bot: c.bot ? 1 : 0, duplicate: c.duplicate ? 1 : 0 });
    migrate(db);
    expect(clickDaysState(db)).toEqual({ time_zone: null, live_from: null, purged_before: 0 });
    const r = range('2025-03-05', '2025-04-20', 'UTC');
    // Not counted yet: the reports count the clicks.
    expect(channelsReport(src(db, true), r).traffic?.visitors).toBe('exact');
    expect(ensureClickDays(db, 'UTC')).toBe(true);
    expect(ensureClickDays(db, 'UTC')).toBe(false);
    expectSame(db, 'UTC', 14);
  });

  it('is what the channels report reads, through its key', () => {
    const db = factsDb();
    expect(clickDaysPlan(db).join(' | ')).toMatch(/^SEARCH click_days USING PRIMARY KEY \(day>\? AND day<\?\)$/);
    // The clicks' own plan stays for other zones.
    expect(channelsReportPlan(db).join(' | ')).toContain('clicks_report');
  });
});
