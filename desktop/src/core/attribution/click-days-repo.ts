import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/open';
import { preparedOnDemand, statementsPerDb } from '../db/statements';
import type { FilterBy, ReportFilter } from './reports-repo';

// SQL of the per-day click rollups (click_days, migration 0014). campaign and partner_id are '' for none there.

export interface ClickDaysState {
  time_zone: string | null;
  live_from: string | null;
  purged_before: number;
}

/** What a report groups the cells by. */
export type CellGroup = 'channel' | 'slug' | 'campaign' | 'partner' | 'day' | 'all';

/** One (day, link) cell as a report reads it: its group's value (campaign and partner null for none). */
export interface ClickDayRow {
  key: string | null;
  /** The cell's channel when grouped by link (a link's channel in the range), else ''. */
  channel: string;
  clicks: number;
  visitors: Buffer | null;
}

export interface CellKey {
  day: string;
  slug: string;
  channel: string;
  campaign: string | null;
  partnerId: string | null;
}

/** A click as the rollups read it from the clicks table (humans, first clicks of a visit). */
export interface CountedClick {
  at: number;
  slug: string;
  channel: string;
  campaign: string | null;
  partner_id: string | null;
  visitor_id: string | null;
}

const COLUMN: Record<FilterBy, string> = { channel: 'channel', link: 'slug', campaign: 'campaign', partner: 'partner_id' };
const CELL = `day = @day AND slug = @slug AND channel = @channel AND campaign = ifnull(@campaign, '') AND partner_id = ifnull(@partnerId, '')`;
const HUMAN = `bot = 0 AND duplicate = 0`;
// Only the group's column: a report reads thousands of cells, and every value read is one more made in JS.
const GROUP: Record<CellGroup, string> = {
  channel: `channel AS key, '' AS channel`,
  slug: `slug AS key, channel`,
  campaign: `nullif(campaign, '') AS key, '' AS channel`,
  partner: `nullif(partner_id, '') AS key, '' AS channel`,
  day: `day AS key, '' AS channel`,
  all: `NULL AS key, '' AS channel`,
};
const rangeSql = (by: CellGroup, filter?: FilterBy) =>
  `SELECT ${GROUP[by]}, clicks, visitors FROM click_days WHERE day >= @from AND day <= @to${filter ? ` AND ${COLUMN[filter]} = ifnull(@fv, '')` : ''}`;

const stmts = statementsPerDb((db: Db) => {
  const prepared = preparedOnDemand(db);
  return {
    state: db.prepare<[], ClickDaysState>(`SELECT time_zone, live_from, purged_before FROM click_days_state WHERE id = 1`),
    setState: db.prepare<{ timeZone: string | null; liveFrom: string | null }>(`UPDATE click_days_state SET time_zone = @timeZone, live_from = @liveFrom WHERE id = 1`),
    purgedBefore: db.prepare<[number]>(`UPDATE click_days_state SET purged_before = max(purged_before, ?) WHERE id = 1`),
    cell: db.prepare<CellKey, { clicks: number; visitors: Buffer | null }>(`SELECT clicks, visitors FROM click_days WHERE ${CELL}`),
    putCell: db.prepare<CellKey & { clicks: number; visitors: Buffer | null }>(
      `INSERT INTO click_days (day, slug, channel, campaign, partner_id, clicks, visitors)
       VALUES (@day, @slug, @channel, ifnull(@campaign, ''), ifnull(@partnerId, ''), @clicks, @visitors)
       ON CONFLICT (day, slug, channel, campaign, partner_id) DO UPDATE SET clicks = excluded.clicks, visitors = excluded.visitors`,
    ),
    dropCell: db.prepare<CellKey>(`DELETE FROM click_days WHERE ${CELL}`),
    dropLive: db.prepare(`DELETE FROM click_days WHERE visitors IS NOT NULL`),
    forgetVisitors: db.prepare<[string]>(`UPDATE click_days SET visitors = NULL WHERE day < ? AND visitors IS NOT NULL`),
    recounts: db.prepare<[], Omit<CountedClick, 'visitor_id'>>(`SELECT at, slug, channel, campaign, partner_id FROM click_days_recount`),
    pendingRecount: db.prepare<[], { one: number }>(`SELECT 1 AS one FROM click_days_recount LIMIT 1`),
    clearRecounts: db.prepare(`DELETE FROM click_days_recount`),
    // Through clicks_report (channel, at, visitor_id) for humans: the channel's clicks of the day, then the link's.
    cellClicks: db.prepare<CellKey & { start: number; end: number }, { visitor_id: string | null }>(
      `SELECT visitor_id FROM clicks WHERE channel = @channel AND at >= @start AND at < @end AND ${HUMAN}
         AND slug = @slug AND campaign IS @campaign AND partner_id IS @partnerId`,
    ),
    allClicks: db.prepare<[], CountedClick>(`SELECT at, slug, channel, campaign, partner_id, visitor_id FROM clicks WHERE ${HUMAN}`),
    clicksSince: db.prepare<[number], CountedClick>(`SELECT at, slug, channel, campaign, partner_id, visitor_id FROM clicks WHERE at >= ? AND ${HUMAN}`),
    range: (by: CellGroup, filter?: FilterBy) => prepared(rangeSql(by, filter)) as Statement<[object], ClickDayRow>,
    cells: (filter?: FilterBy) =>
      prepared(
        `SELECT day, slug, channel, campaign, partner_id, clicks, visitors FROM click_days WHERE day >= @from AND day <= @to${filter ? ` AND ${COLUMN[filter]} = ifnull(@fv, '')` : ''}`,
      ).raw() as Statement<[object], FullCell>,
  };
});

export const clickDaysState = (db: Db): ClickDaysState => stmts(db).state.get()!;
export const setClickDaysState = (db: Db, timeZone: string | null, liveFrom: string | null): void => void stmts(db).setState.run({ timeZone, liveFrom });
/** Clicks before `at` are being purged: their days keep counting them, and deleting them asks no recount. */
export const notePurgedBefore = (db: Db, at: number): void => void stmts(db).purgedBefore.run(at);

export const getCell = (db: Db, key: CellKey) => stmts(db).cell.get(key) ?? null;
export const putCell = (db: Db, key: CellKey, clicks: number, visitors: Buffer | null): void => void stmts(db).putCell.run({ ...key, clicks, visitors });
export const dropCell = (db: Db, key: CellKey): void => void stmts(db).dropCell.run(key);
/** Deletes every cell with visitors (the live days), leaving the history. */
export const dropLiveCells = (db: Db): void => void stmts(db).dropLive.run();
/** The days before `day` keep their clicks and lose their visitors. */
export const forgetVisitorsBefore = (db: Db, day: string): number => stmts(db).forgetVisitors.run(day).changes;

export const recounts = (db: Db) => stmts(db).recounts.all();
export const recountPending = (db: Db): boolean => stmts(db).pendingRecount.get() !== undefined;
export const clearRecounts = (db: Db): void => void stmts(db).clearRecounts.run();

/** The visitor ids (null: anonymous) of one cell's clicks in [start, end). */
export const cellVisitors = (db: Db, key: CellKey, start: number, end: number): (string | null)[] =>
  stmts(db)
    .cellClicks.all({ ...key, start, end })
    .map((r) => r.visitor_id);

/** The clicks to count, all of them or those from `since` on, one at a time. */
export const clicksToCount = (db: Db, since: number | null): IterableIterator<CountedClick> => (since === null ? stmts(db).allClicks.iterate() : stmts(db).clicksSince.iterate(since));

/** The cells of the days from..to, narrowed by a report's filter, with the value of the group they go in. */
export const clickDayRows = (db: Db, from: string, to: string, by: CellGroup, filter?: ReportFilter | null): ClickDayRow[] =>
  stmts(db)
    .range(by, filter?.by)
    .all({ from, to, ...(filter ? { fv: filter.value } : {}) });

/** A cell with all of its key ('' for no campaign or partner): [day, slug, channel, campaign, partner, clicks, visitors]. */
export type FullCell = [string, string, string, string, string, number, Buffer | null];

/** The cells of the days from..to with their whole key, narrowed by a report's filter: what every grouping of the range is made of. */
export const clickDayCells = (db: Db, from: string, to: string, filter?: ReportFilter | null): FullCell[] =>
  stmts(db)
    .cells(filter?.by)
    .all({ from, to, ...(filter ? { fv: filter.value } : {}) });

/** The query plan of a report's read of the cells, for the test that keeps it on the key. */
export const clickDaysPlan = (db: Db): string[] =>
  (db.prepare(`EXPLAIN QUERY PLAN ${rangeSql('channel')}`).all({ from: '2026-01-01', to: '2026-01-30' }) as { detail: string }[]).map((r) => r.detail);
