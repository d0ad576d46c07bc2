import { isFbc, isFbp, type Click, type Pageview } from '@revtrail/shared';
import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

// SQL of the Meta forwarding: its connection row, the signals kept for it while it is on (click user agents,
// the pixel's _fbc/_fbp), and their deletion. The outbox's statements are in outbox-repo.ts.

export interface MetaSettings {
  enabled: boolean;
  pixelId: string | null;
  testEventCode: string | null;
  graphBase: string;
  enabledAt: number | null;
  pausedReason: string | null;
  updatedAt: number;
}

interface SettingsRow {
  enabled: number;
  pixel_id: string | null;
  test_event_code: string | null;
  graph_base: string;
  enabled_at: number | null;
  paused_reason: string | null;
  updated_at: number;
}

const IN = (param: string) => `(SELECT value FROM json_each(@${param}))`;

const stmts = statementsPerDb((db: Db) => ({
  settings: db.prepare<[], SettingsRow>(`SELECT enabled, pixel_id, test_event_code, graph_base, enabled_at, paused_reason, updated_at FROM meta_settings WHERE id = 1`),
  on: db.prepare<[], number>(`SELECT enabled FROM meta_settings WHERE id = 1`).pluck(),
  connect: db.prepare(
    `UPDATE meta_settings SET pixel_id = @pixelId, test_event_code = @testEventCode, graph_base = @graphBase, paused_reason = NULL, updated_at = @at WHERE id = 1`,
  ),
  // A new connection may be what held events back (a refused token): they are due again at once.
  release: db.prepare(`UPDATE meta_events SET next_attempt_at = NULL WHERE state = 'pending'`),
  enable: db.prepare(`UPDATE meta_settings SET enabled = 1, enabled_at = @at, updated_at = @at WHERE id = 1`),
  disable: db.prepare(`UPDATE meta_settings SET enabled = 0, updated_at = @at WHERE id = 1`),
  pause: db.prepare(`UPDATE meta_settings SET paused_reason = @reason WHERE id = 1`),
  agent: db.prepare(`INSERT INTO meta_click_agents (click_id, visitor_id, at, user_agent) VALUES (@id, @visitorId, @at, @userAgent) ON CONFLICT (click_id) DO NOTHING`),
  browser: db.prepare(`INSERT INTO meta_browser_ids (pageview_id, visitor_id, at, fbc, fbp) VALUES (@id, @visitorId, @at, @fbc, @fbp) ON CONFLICT (pageview_id) DO NOTHING`),
  purgeAgents: db.prepare(`DELETE FROM meta_click_agents WHERE at < ?`),
  purgeBrowsers: db.prepare(`DELETE FROM meta_browser_ids WHERE at < ?`),
  // Settled events only: one still waiting is skipped for its age by the sender first, and so settled.
  purgeEvents: db.prepare(`DELETE FROM meta_events WHERE queued_at < ? AND state IN ('sent', 'skipped', 'failed')`),
  anyOld: db
    .prepare<{ agents: number; browsers: number; events: number }, number>(
      `SELECT EXISTS (SELECT 1 FROM meta_click_agents WHERE at < @agents) OR EXISTS (SELECT 1 FROM meta_browser_ids WHERE at < @browsers)
         OR EXISTS (SELECT 1 FROM meta_events WHERE queued_at < @events AND state IN ('sent', 'skipped', 'failed'))`,
    )
    .pluck(),
  wipe: [
    db.prepare(`DELETE FROM meta_click_agents`),
    db.prepare(`DELETE FROM meta_browser_ids`),
    db.prepare(
      `UPDATE meta_events SET state = 'skipped', claim = NULL, next_attempt_at = NULL,
         reason = 'Forwarding to Meta was turned off before this event was sent.' WHERE state IN ('pending', 'sending')`,
    ),
    db.prepare(`UPDATE meta_events SET em = NULL, user_agent = NULL WHERE em IS NOT NULL OR user_agent IS NOT NULL`),
  ],
  erase: [
    db.prepare(`DELETE FROM meta_events WHERE charge_id IN ${IN('charges')} OR EXISTS (SELECT 1 FROM json_each(visitor_ids_json) WHERE value IN ${IN('visitors')})`),
    db.prepare(`DELETE FROM meta_click_agents WHERE visitor_id IN ${IN('visitors')}`),
    db.prepare(`DELETE FROM meta_browser_ids WHERE visitor_id IN ${IN('visitors')}`),
  ],
}));

export function getMetaSettings(db: Db): MetaSettings {
  const r = stmts(db).settings.get()!;
  return {
    enabled: r.enabled === 1,
    pixelId: r.pixel_id,
    testEventCode: r.test_event_code,
    graphBase: r.graph_base,
    enabledAt: r.enabled_at,
    pausedReason: r.paused_reason,
    updatedAt: r.updated_at,
  };
}

export function saveMetaConnection(db: Db, c: { pixelId: string; testEventCode: string | null; graphBase: string; at: number }): void {
  const s = stmts(db);
  db.transaction(() => {
    s.connect.run(c);
    s.release.run();
  })();
}

/** Turns forwarding on or off. Off deletes every signal kept for Meta and skips what was not sent yet. */
export function setMetaForwarding(db: Db, on: boolean, at: number): void {
  const s = stmts(db);
  db.transaction(() => {
    if (on) s.enable.run({ at });
    else {
      s.disable.run({ at });
      for (const w of s.wipe) w.run();
    }
  })();
}

export function pauseMetaSending(db: Db, reason: string): void {
  stmts(db).pause.run({ reason });
}

/**
 * Keeps, while forwarding is on, what Meta's events need from the redirector's feeds: the user agent of a click
 * that carried an fbclid (the redirector records it only under REVTRAIL_META) and the _fbc/_fbp cookies the
 * pixel read with a pageview. Called by the feed inserts, in their transaction, after their erasure checks:
 * `null` when forwarding is off, so a pull pays one lookup per page for it.
 */
export function metaSignalKeeper(db: Db): { clicks(clicks: readonly Click[]): void; pageviews(pageviews: readonly Pageview[]): void } | null {
  const s = stmts(db);
  if (s.on.get() !== 1) return null;
  return {
    clicks(clicks) {
      for (const c of clicks) {
        if (c.visitorId && c.clickIds.fbclid && typeof c.userAgent === 'string' && c.userAgent.length > 0) {
          s.agent.run({ id: c.id, visitorId: c.visitorId, at: c.at, userAgent: c.userAgent.slice(0, 1024) });
        }
      }
    },
    pageviews(pageviews) {
      for (const p of pageviews) {
        const fbc = isFbc(p.fbc) ? p.fbc : null;
        const fbp = isFbp(p.fbp) ? p.fbp : null;
        if (fbc || fbp) s.browser.run({ id: p.id, visitorId: p.visitorId, at: p.at, fbc, fbp });
      }
    },
  };
}

/**
 * Deletes user agents, browser ids and settled outbox events older than their bounds. It runs every minute: a
 * read says first whether there is anything to delete, so that it takes no write lock while a sync's ledger
 * rebuild holds one for seconds (the wait would end in SQLITE_BUSY).
 */
export function purgeMeta(db: Db, before: { agents: number; browsers: number; events: number }): { agents: number; browsers: number; events: number } {
  const s = stmts(db);
  if (s.anyOld.get(before) !== 1) return { agents: 0, browsers: 0, events: 0 };
  return { agents: s.purgeAgents.run(before.agents).changes, browsers: s.purgeBrowsers.run(before.browsers).changes, events: s.purgeEvents.run(before.events).changes };
}

/** An erasure's share here: every event, user agent and browser id of these visitors or charges. */
export function eraseMetaOf(db: Db, ids: { visitors: Iterable<string>; charges: Iterable<string> }): number {
  const p = { visitors: JSON.stringify([...ids.visitors]), charges: JSON.stringify([...ids.charges]) };
  let n = 0;
  for (const e of stmts(db).erase) n += e.run(p).changes;
  return n;
}
