import type { Click, Erasure, Identity, LegacyErasure, Link, LinkInput, Pageview } from '@revtrail/shared';
import type { Db } from '../db/open';
import { addToClickDays, settleClickDays } from '../attribution/click-days';
import { flag, statementsPerDb } from '../db/statements';
import { metaSignalKeeper } from '../meta/repo';
import { erasedCheck, erasedDigest, markErased, markErasedDigest } from '../privacy/erased-repo';

// SQL for the redirector's events. Inserts ignore ids already present (pulls are at least once) and
// anything of a visitor or email hash erased before (kept only as digests: privacy/erased-repo.ts). The erasure
// check is its own lookup ahead of a plain INSERT ... VALUES: the single-statement INSERT ... SELECT ... WHERE NOT
// EXISTS form cost SQLite about three times as much per row, most of a large pull's time here (bench/sync.ts). Both
// run in one transaction, so an erasure made while a pull runs is seen by every page written after it.

function statements(db: Db) {
  return {
    click: db.prepare(
      `INSERT INTO clicks (id, slug, at, visitor_id, referrer_host, referrer_url, device, browser, os, country, ip_hash,
         click_ids_json, utm_json, bot, bot_reason, duplicate, channel, campaign, partner_id, telegram_start)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO NOTHING`,
    ),
    pageview: db.prepare(
      `INSERT INTO pageviews (id, at, visitor_id, url, referrer_host, referrer_url, click_ids_json, utm_json, ip_hash)
       VALUES (@id, @at, @visitorId, @url, @referrerHost, @referrerUrl, @clickIds, @utm, @ipHash)
       ON CONFLICT (id) DO NOTHING`,
    ),
    identity: db.prepare(
      `INSERT INTO identities (id, at, visitor_id, email_hash, source) VALUES (@id, @at, @visitorId, @emailHash, @source)
       ON CONFLICT (id) DO NOTHING`,
    ),
    eraseVisitor: [
      db.prepare(`DELETE FROM clicks WHERE visitor_id = ?`),
      db.prepare(`DELETE FROM pageviews WHERE visitor_id = ?`),
      db.prepare(`DELETE FROM identities WHERE visitor_id = ?`),
    ],
    eraseEmail: db.prepare(`DELETE FROM identities WHERE email_hash = ?`),
    visitorIds: db
      .prepare<[], string>(
        `SELECT visitor_id FROM clicks WHERE visitor_id IS NOT NULL UNION SELECT visitor_id FROM pageviews UNION SELECT visitor_id FROM identities`,
      )
      .pluck(),
    emailHashes: db.prepare<[], string>(`SELECT DISTINCT email_hash FROM identities`).pluck(),
    link: db.prepare(
      `INSERT INTO links (slug, destination, channel, campaign, partner_id, utm_json, enabled, created_at, updated_at, telegram_bot)
       VALUES (@slug, @destination, @channel, @campaign, @partnerId, @utm, @enabled, @createdAt, @updatedAt, @telegramBot)
       ON CONFLICT (slug) DO UPDATE SET destination = excluded.destination, channel = excluded.channel,
         campaign = excluded.campaign, partner_id = excluded.partner_id, utm_json = excluded.utm_json,
         enabled = excluded.enabled, updated_at = excluded.updated_at, telegram_bot = excluded.telegram_bot
       WHERE excluded.updated_at >= links.updated_at`,
    ),
    queuePush: db.prepare(
      `INSERT INTO link_pushes (slug, input_json, queued_at) VALUES (?, ?, ?)
       ON CONFLICT (slug) DO UPDATE SET input_json = excluded.input_json, queued_at = excluded.queued_at,
         state = 'queued', attempted_at = NULL, status_code = NULL, reason = NULL`,
    ),
    pushes: db.prepare(`SELECT slug, input_json, queued_at, state, attempted_at, status_code, reason FROM link_pushes ORDER BY queued_at, slug`),
    clearPush: db.prepare(`DELETE FROM link_pushes WHERE slug = ? AND queued_at = ?`),
    notePush: db.prepare<{ slug: string; queuedAt: number; state: LinkPushState; at: number; status: number | null; reason: string }>(
      `UPDATE link_pushes SET state = @state, attempted_at = @at, status_code = @status, reason = @reason WHERE slug = @slug AND queued_at = @queuedAt`,
    ),
    requeuePush: db.prepare(`UPDATE link_pushes SET state = 'queued' WHERE slug = ?`),
    discardPush: db.prepare(`DELETE FROM link_pushes WHERE slug = ?`),
    links: db.prepare(`SELECT * FROM links ORDER BY slug`),
    getCursor: db.prepare(`SELECT cursor FROM sync_cursors WHERE feed = ?`),
    setCursor: db.prepare(
      `INSERT INTO sync_cursors (feed, cursor, updated_at) VALUES (?, ?, ?) ON CONFLICT (feed) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
    ),
  };
}

const stmts = statementsPerDb(statements);

/** Inserts a page of clicks; returns how many were new. */
export function insertClicks(db: Db, clicks: Click[]): number {
  const s = stmts(db);
  return db.transaction(() => {
    const erased = erasedCheck(db);
    const kept: Click[] = [];
    const fresh: Click[] = [];
    for (const c of clicks) {
      if (erased('visitor', c.visitorId)) continue;
      kept.push(c);
      // Positional: a copy of each click as named parameters cost more than the insert's own binding (bench/sync.ts).
      const added = s.click.run(
        c.id,
        c.slug,
        c.at,
        c.visitorId,
        c.referrerHost,
        c.referrerUrl,
        c.device,
        c.browser,
        c.os,
        c.country,
        c.ipHash,
        JSON.stringify(c.clickIds),
        JSON.stringify(c.utm),
        flag(c.bot),
        c.botReason,
        flag(c.duplicate),
        c.channel,
        c.campaign,
        c.partnerId,
        c.telegramStart ?? null,
      ).changes;
      if (added > 0) fresh.push(c);
    }
    metaSignalKeeper(db)?.clicks(kept);
    addToClickDays(db, fresh);
    return fresh.length;
  })();
}

export function insertPageviews(db: Db, pageviews: Pageview[]): number {
  const s = stmts(db);
  return db.transaction(() => {
    const erased = erasedCheck(db);
    const kept: Pageview[] = [];
    let added = 0;
    for (const p of pageviews) {
      if (erased('visitor', p.visitorId)) continue;
      kept.push(p);
      added += s.pageview.run({ ...p, clickIds: JSON.stringify(p.clickIds), utm: JSON.stringify(p.utm) }).changes;
    }
    metaSignalKeeper(db)?.pageviews(kept);
    return added;
  })();
}

export function insertIdentities(db: Db, identities: Identity[]): number {
  const s = stmts(db);
  return db.transaction(() => {
    const erased = erasedCheck(db);
    let added = 0;
    for (const i of identities) {
      if (erased('visitor', i.visitorId) || erased('email', i.emailHash)) continue;
      added += s.identity.run(i).changes;
    }
    return added;
  })();
}

/**
 * Records erasures (as digests) and deletes what they name. Returns the rows deleted. The feed names people by
 * digest: the visitor ids and email hashes held here are digested to find theirs, once per page and only when
 * a page brings a digest not recorded yet (one recorded before had its rows deleted then, and every insert since
 * was checked against it). Erasures from redirectors older than digests carry the raw identifiers.
 */
export function applyErasures(db: Db, erasures: (Erasure | LegacyErasure)[]): number {
  const s = stmts(db);
  const visitors = new Set<string>();
  const emails = new Set<string>();
  const fresh = { visitor: new Set<string>(), email: new Set<string>() };
  for (const e of erasures) {
    if ('visitorDigest' in e) {
      if (e.visitorDigest && markErasedDigest(db, 'visitor', e.visitorDigest, e.at)) fresh.visitor.add(e.visitorDigest);
      if (e.emailDigest && markErasedDigest(db, 'email', e.emailDigest, e.at)) fresh.email.add(e.emailDigest);
      continue;
    }
    if (e.visitorId) markErased(db, 'visitor', e.visitorId, e.at);
    if (e.emailHash) markErased(db, 'email', e.emailHash, e.at);
    if (e.visitorId) visitors.add(e.visitorId);
    if (e.emailHash) emails.add(e.emailHash);
  }
  if (fresh.visitor.size > 0) for (const v of s.visitorIds.all()) if (fresh.visitor.has(erasedDigest('visitor', v))) visitors.add(v);
  if (fresh.email.size > 0) for (const h of s.emailHashes.all()) if (fresh.email.has(erasedDigest('email', h))) emails.add(h);
  let deleted = 0;
  for (const v of visitors) for (const del of s.eraseVisitor) deleted += del.run(v).changes;
  for (const h of emails) deleted += s.eraseEmail.run(h).changes;
  settleClickDays(db);
  return deleted;
}

/** Upserts links, keeping the newer of the local and the pulled version. */
export function upsertLinks(db: Db, links: Link[]): void {
  const s = stmts(db).link;
  for (const l of links) s.run({ ...l, utm: JSON.stringify(l.utm), enabled: flag(l.enabled), telegramBot: l.telegramBot ?? null });
}

export function getCursor(db: Db, feed: string): string | null {
  return (stmts(db).getCursor.get(feed) as { cursor: string } | undefined)?.cursor ?? null;
}

export function setCursor(db: Db, feed: string, cursor: string, at: number): void {
  stmts(db).setCursor.run(feed, cursor, at);
}

export type LinkPushState = 'queued' | 'refused';

export interface QueuedLinkPush {
  slug: string;
  input: LinkInput;
  queuedAt: number;
}

/** A local link change not (yet) on the redirector, and why, once a try has failed. */
export interface LinkPush extends QueuedLinkPush {
  /** queued: goes at the next sync; refused: the redirector said no, it waits for the user to retry or discard. */
  state: LinkPushState;
  attemptedAt: number | null;
  /** The HTTP status of the last failed try, when there was an answer. */
  status: number | null;
  reason: string | null;
}

/** Queues a local link change for the redirector; a later edit of the same slug replaces it, refused or not. */
export function queueLinkPush(db: Db, slug: string, input: LinkInput, at: number): void {
  stmts(db).queuePush.run(slug, JSON.stringify(input), at);
}

/** Every local change not on the redirector, queued or refused, oldest first. */
export function listLinkPushes(db: Db): LinkPush[] {
  const rows = stmts(db).pushes.all() as { slug: string; input_json: string; queued_at: number; state: LinkPushState; attempted_at: number | null; status_code: number | null; reason: string | null }[];
  return rows.map((r) => ({
    slug: r.slug,
    input: JSON.parse(r.input_json) as LinkInput,
    queuedAt: r.queued_at,
    state: r.state,
    attemptedAt: r.attempted_at,
    status: r.status_code,
    reason: r.reason,
  }));
}

/** The changes a sync sends: the queued ones; a refused one waits for the user. */
export function pendingLinkPushes(db: Db): LinkPush[] {
  return listLinkPushes(db).filter((p) => p.state === 'queued');
}

/** Removes a push once done, unless the link was edited again meanwhile (then the newer edit stays). */
export function clearLinkPush(db: Db, push: QueuedLinkPush): void {
  stmts(db).clearPush.run(push.slug, push.queuedAt);
}

/**
 * Records how a try of this push ended without it going through: `refused` (kept for the user) or still
 * `queued` (for the next sync). A newer edit of the slug made meanwhile is left as it is.
 */
export function notePushAttempt(db: Db, push: QueuedLinkPush, outcome: { state: LinkPushState; at: number; status: number | null; reason: string }): void {
  stmts(db).notePush.run({ slug: push.slug, queuedAt: push.queuedAt, ...outcome });
}

/** The user asks for a refused (or waiting) change to be sent again; false when there is none for the slug. */
export function requeueLinkPush(db: Db, slug: string): boolean {
  return stmts(db).requeuePush.run(slug).changes > 0;
}

/** The user gives up a local change; the link stays as the redirector has it. False when there is none. */
export function discardLinkPush(db: Db, slug: string): boolean {
  return stmts(db).discardPush.run(slug).changes > 0;
}

interface LinkRow {
  slug: string;
  destination: string;
  channel: string;
  campaign: string | null;
  partner_id: string | null;
  utm_json: string;
  enabled: number;
  created_at: number;
  updated_at: number;
  telegram_bot: string | null;
}

export function listLinks(db: Db): Link[] {
  return (stmts(db).links.all() as LinkRow[]).map((r) => ({
    slug: r.slug,
    destination: r.destination,
    channel: r.channel,
    campaign: r.campaign,
    partnerId: r.partner_id,
    utm: JSON.parse(r.utm_json) as Link['utm'],
    enabled: r.enabled === 1,
    ...(r.telegram_bot ? { telegramBot: r.telegram_bot } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}
