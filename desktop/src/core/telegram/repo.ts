import type { Statement } from 'better-sqlite3';
import type { TelegramPayment, TelegramStart } from '@revtrail/shared';
import type { ReportFilter } from '../attribution/reports-repo';
import type { Db } from '../db/open';
import { flag, statementsPerDb } from '../db/statements';
import { erasedCheck } from '../privacy/erased-repo';

// SQL of the Telegram bot attribution: the connection row, the starts and payments pulled from the redirector,
// and what attribution and the reports read of them.

export interface TelegramSettings {
  botId: string | null;
  botUsername: string | null;
  apiBase: string;
  webhookUrl: string | null;
  webhookSetAt: number | null;
  forwardHost: string | null;
  connectedAt: number | null;
}

interface SettingsRow {
  bot_id: string | null;
  bot_username: string | null;
  api_base: string;
  webhook_url: string | null;
  webhook_set_at: number | null;
  forward_host: string | null;
  connected_at: number | null;
}

/** A payment as the ledger reads it. */
export interface PaymentFact {
  id: string;
  kind: 'payment' | 'refund';
  paid_at: number;
  user_hash: string | null;
  currency: string;
  amount_minor: number;
  charge_id: string;
  recurring: number;
}

/** Bot starts in a range, by a report's key. */
export interface StartCount {
  key: string | null;
  starts: number;
}

/** What bot starts are counted by: a column of the click that led there. */
export type StartKey = 'channel' | 'slug' | 'campaign' | 'partner_id';
/** A report's filter on the same click columns (reports-repo.ts FilterBy). */
const FILTER_COLUMN: Record<ReportFilter['by'], StartKey> = { channel: 'channel', link: 'slug', campaign: 'campaign', partner: 'partner_id' };

/**
 * Each start with the click that minted its token: the one the redirector named, or (when its click was still
 * on its way to the table then) the click carrying the same token digest. A start whose click is gone (erased,
 * or past retention) has no link to count for.
 */
const STARTS_WITH_CLICKS = `SELECT st.id, st.started_at, coalesce(c1.slug, c2.slug) AS slug, coalesce(c1.channel, c2.channel) AS channel,
    coalesce(c1.campaign, c2.campaign) AS campaign, coalesce(c1.partner_id, c2.partner_id) AS partner_id
  FROM telegram_starts st
  LEFT JOIN clicks c1 ON c1.id = st.click_id
  LEFT JOIN clicks c2 ON st.click_id IS NULL AND c2.telegram_start = st.token_digest
  WHERE st.started_at >= @start AND st.started_at < @end`;

const stmts = statementsPerDb((db: Db) => {
  const lazy = new Map<string, Statement<Record<string, unknown>, StartCount>>();
  const prepared = (sql: string) => {
    let st = lazy.get(sql);
    if (!st) lazy.set(sql, (st = db.prepare<Record<string, unknown>, StartCount>(sql)));
    return st;
  };
  return {
    startsBy: (key: StartKey, filter?: StartKey) =>
      prepared(`SELECT ${key} AS key, count(*) AS starts FROM (${STARTS_WITH_CLICKS}) WHERE slug IS NOT NULL${filter ? ` AND ${filter} IS @fv` : ''} GROUP BY ${key}`),
    settings: db.prepare<[], SettingsRow>(
      `SELECT bot_id, bot_username, api_base, webhook_url, webhook_set_at, forward_host, connected_at FROM telegram_settings WHERE id = 1`,
    ),
    connect: db.prepare(
      `UPDATE telegram_settings SET bot_id = @botId, bot_username = @botUsername, api_base = @apiBase, forward_host = @forwardHost,
         connected_at = @at, webhook_url = NULL, webhook_set_at = NULL, updated_at = @at WHERE id = 1`,
    ),
    webhookSet: db.prepare(`UPDATE telegram_settings SET webhook_url = @url, webhook_set_at = @at, updated_at = @at WHERE id = 1`),
    start: db.prepare(
      `INSERT INTO telegram_starts (id, at, started_at, update_id, user_hash, token_digest, visitor_id, click_id)
       VALUES (@id, @at, @startedAt, @updateId, @userHash, @tokenDigest, @visitorId, @clickId) ON CONFLICT DO NOTHING`,
    ),
    payment: db.prepare(
      `INSERT INTO telegram_payments (id, at, kind, paid_at, update_id, user_hash, currency, amount_minor, charge_id, provider_charge_id, recurring)
       VALUES (@id, @at, @kind, @paidAt, @updateId, @userHash, @currency, @amountMinor, @chargeId, @providerChargeId, @recurring) ON CONFLICT DO NOTHING`,
    ),
    // A payment made through Stripe (the bot's payment provider being Stripe) is a Stripe charge too: the Stripe pull counts it.
    payments: db.prepare<[], PaymentFact>(
      `SELECT id, kind, paid_at, user_hash, currency, amount_minor, charge_id, recurring FROM telegram_payments p
       WHERE p.provider_charge_id IS NULL
         OR NOT EXISTS (SELECT 1 FROM stripe_charges ch WHERE ch.id = p.provider_charge_id OR ch.payment_intent_id = p.provider_charge_id)
       ORDER BY paid_at, id`,
    ),
    counts: db.prepare<[], { starts: number; payments: number; lastStartAt: number | null }>(
      `SELECT (SELECT count(*) FROM telegram_starts) AS starts, (SELECT count(*) FROM telegram_payments) AS payments,
         (SELECT max(started_at) FROM telegram_starts) AS lastStartAt`,
    ),
  };
});

export function getTelegramSettings(db: Db): TelegramSettings {
  const r = stmts(db).settings.get()!;
  return {
    botId: r.bot_id,
    botUsername: r.bot_username,
    apiBase: r.api_base,
    webhookUrl: r.webhook_url,
    webhookSetAt: r.webhook_set_at,
    forwardHost: r.forward_host,
    connectedAt: r.connected_at,
  };
}

export function saveTelegramConnection(db: Db, c: { botId: string; botUsername: string; apiBase: string; forwardHost: string | null; at: number }): void {
  stmts(db).connect.run(c);
}

export function noteWebhookSet(db: Db, url: string, at: number): void {
  stmts(db).webhookSet.run({ url, at });
}

/**
 * Inserts a page of starts; returns how many were new. A start of an erased Telegram user, or bound to an erased
 * visitor, is not brought back (pulls are at least once, and the redirector may still hold it).
 */
export function insertTelegramStarts(db: Db, starts: readonly TelegramStart[]): number {
  const s = stmts(db);
  return db.transaction(() => {
    const erased = erasedCheck(db);
    let added = 0;
    for (const st of starts) {
      if (erased('telegram', st.userHash) || erased('visitor', st.visitorId)) continue;
      added += s.start.run(st).changes;
    }
    return added;
  })();
}

/** Inserts a page of payments; an erased payer's is kept without them (the money is the merchant's record). */
export function insertTelegramPayments(db: Db, payments: readonly TelegramPayment[]): number {
  const s = stmts(db);
  return db.transaction(() => {
    const erased = erasedCheck(db);
    let added = 0;
    for (const p of payments) {
      added += s.payment.run({ ...p, userHash: erased('telegram', p.userHash) ? null : p.userHash, recurring: flag(p.recurring) }).changes;
    }
    return added;
  })();
}

/** The payments attribution credits, in time order (those the Stripe pull counts already left out). */
export const telegramPaymentFacts = (db: Db): PaymentFact[] => stmts(db).payments.all();

/** Bot starts whose Start was pressed in [start, end), by the channel, link, campaign or partner of the click that led there. */
export const startsBy = (db: Db, key: StartKey, start: number, end: number, filter?: ReportFilter | null): StartCount[] =>
  stmts(db)
    .startsBy(key, filter ? FILTER_COLUMN[filter.by] : undefined)
    .all({ start, end, ...(filter ? { fv: filter.value } : {}) });

export const telegramCounts = (db: Db) => stmts(db).counts.get()!;

/**
 * The customer key of a Telegram payer in the ledger: the user's hash, or the payment's own charge for a payment
 * kept without its payer (erased). touchpoints-repo.ts binds `telegram:<hash>` to the visitors the user's starts bound.
 */
export const telegramCustomerKey = (p: { user_hash: string | null; charge_id: string }): string => (p.user_hash ? `telegram:${p.user_hash}` : `telegram-charge:${p.charge_id}`);
