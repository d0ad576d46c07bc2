import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';
import { outgoing, type MetaEvent } from './payload';

// SQL of the outbox: the charges that may become events, their journeys, and each event's state. An event is
// taken for a send by a claim (state 'sending', a random token, the time) in an immediate transaction, so two
// cores over one folder (the app's and its worker's) never send the same event, and a send interrupted by a
// crash is taken again only once its lease has passed.

export type MetaEventState = 'pending' | 'sending' | 'sent' | 'skipped' | 'failed';

export interface CandidateCharge {
  id: string;
  paymentIntentId: string | null;
  at: number;
  amountMinor: number;
  currency: string;
  visitorId: string | null;
}

export interface JourneyTouch {
  kind: 'click' | 'pageview';
  id: string;
  at: number;
  visitorId: string;
  clickIdsJson: string;
  /** The link's destination for a click, the page for a pageview. */
  url: string | null;
}

export interface NewOutboxEvent {
  eventId: string;
  chargeId: string;
  visitorIds: string[];
  eventTime: number;
  queuedAt: number;
  state: 'pending' | 'skipped';
  payload: MetaEvent;
  em: string | null;
  userAgent: string | null;
  reason: string | null;
}

export interface ClaimedEvent {
  eventId: string;
  eventTime: number;
  payload: MetaEvent;
  em: string | null;
  userAgent: string | null;
  attempts: number;
  /** True when an earlier claim of it ran out (a send interrupted): it may have reached Meta already. */
  retaken: boolean;
}

/** An event as the "Sent to Meta" view shows it: what was (or will be) sent, hashes only, and Meta's answer. */
export interface MetaEventView {
  eventId: string;
  chargeId: string;
  state: MetaEventState;
  eventTime: number;
  queuedAt: number;
  sentAt: number | null;
  attempts: number;
  nextAttemptAt: number | null;
  apiVersion: string | null;
  reason: string | null;
  payload: MetaEvent;
  /** Whether an email hash and a user agent go (or went) with it; both are deleted once sent. */
  emSent: boolean;
  userAgentSent: boolean;
  answer: unknown;
}

interface EventRow {
  event_id: string;
  charge_id: string;
  state: MetaEventState;
  event_time: number;
  queued_at: number;
  sent_at: number | null;
  attempts: number;
  next_attempt_at: number | null;
  api_version: string | null;
  reason: string | null;
  payload_json: string;
  em: string | null;
  user_agent: string | null;
  em_sent: number;
  user_agent_sent: number;
  answer_json: string | null;
  claimed_at: number | null;
}

const IN = (param: string) => `(SELECT value FROM json_each(@${param}))`;
const DONE = `claim = NULL, claimed_at = NULL`;

const stmts = statementsPerDb((db: Db) => ({
  // Succeeded charges credited to at least one touchpoint as a conversion (a one-off or a subscription's first
  // payment: renewals inherit a click too old for Meta), not in the outbox yet.
  candidates: db.prepare<{ since: number }, { id: string; payment_intent_id: string | null; created_at: number; amount_minor: number; currency: string; visitor_id: string | null }>(
    `SELECT c.id, c.payment_intent_id, c.created_at, c.amount_minor, c.currency, c.visitor_id FROM stripe_charges c
     WHERE c.status = 'succeeded' AND c.created_at >= @since
       AND EXISTS (SELECT 1 FROM attribution_ledger l WHERE l.charge_id = c.id AND l.kind = 'charge' AND l.conversion = 1 AND l.touchpoint_id IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM meta_events m WHERE m.charge_id = c.id)
     ORDER BY c.created_at, c.id`,
  ),
  // Every touchpoint any model credits: the linear model credits each one in the window, so this is the journey.
  journey: db.prepare<{ charge: string }, { kind: 'click' | 'pageview'; id: string; at: number; visitor_id: string; click_ids_json: string; url: string | null }>(
    `WITH t AS (SELECT DISTINCT touchpoint_id AS id FROM attribution_ledger WHERE charge_id = @charge AND kind = 'charge' AND touchpoint_id IS NOT NULL)
     SELECT 'click' AS kind, c.id, c.at, c.visitor_id, c.click_ids_json, k.destination AS url
       FROM t JOIN clicks c ON c.id = t.id LEFT JOIN links k ON k.slug = c.slug WHERE c.visitor_id IS NOT NULL
     UNION ALL
     SELECT 'pageview', p.id, p.at, p.visitor_id, p.click_ids_json, p.url FROM t JOIN pageviews p ON p.id = t.id
     ORDER BY 3, 2`,
  ),
  lastFbc: db.prepare<{ visitors: string; until: number }, { fbc: string; at: number }>(
    `SELECT fbc, at FROM meta_browser_ids WHERE visitor_id IN ${IN('visitors')} AND at <= @until AND fbc IS NOT NULL ORDER BY at DESC LIMIT 1`,
  ),
  lastFbp: db.prepare<{ visitors: string; until: number }, string>(
    `SELECT fbp FROM meta_browser_ids WHERE visitor_id IN ${IN('visitors')} AND at <= @until AND fbp IS NOT NULL ORDER BY at DESC LIMIT 1`,
  ).pluck(),
  lastAgent: db.prepare<{ clicks: string }, string>(`SELECT user_agent FROM meta_click_agents WHERE click_id IN ${IN('clicks')} ORDER BY at DESC LIMIT 1`).pluck(),
  lastPage: db.prepare<{ visitors: string; until: number }, string>(
    `SELECT url FROM pageviews WHERE visitor_id IN ${IN('visitors')} AND at <= @until ORDER BY at DESC LIMIT 1`,
  ).pluck(),
  insert: db.prepare(
    `INSERT INTO meta_events (event_id, charge_id, visitor_ids_json, event_time, queued_at, state, payload_json, em, user_agent, reason)
     VALUES (@eventId, @chargeId, @visitorIds, @eventTime, @queuedAt, @state, @payload, @em, @userAgent, @reason)
     ON CONFLICT DO NOTHING`,
  ),
  stale: db.prepare(
    `UPDATE meta_events SET state = 'skipped', em = NULL, user_agent = NULL, next_attempt_at = NULL, ${DONE}, reason = @reason
     WHERE event_time < @before AND (state = 'pending' OR (state = 'sending' AND claimed_at < @leaseEnd))`,
  ),
  due: db.prepare<{ now: number; leaseEnd: number; limit: number }, EventRow>(
    `SELECT * FROM meta_events
     WHERE (state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= @now)) OR (state = 'sending' AND claimed_at < @leaseEnd)
     ORDER BY event_time, event_id LIMIT @limit`,
  ),
  take: db.prepare(`UPDATE meta_events SET state = 'sending', claim = @claim, claimed_at = @now, attempts = attempts + 1 WHERE event_id = @id`),
  sent: db.prepare(
    `UPDATE meta_events SET state = 'sent', sent_at = @at, api_version = @version, answer_json = @answer, reason = @reason,
       em_sent = em IS NOT NULL, user_agent_sent = user_agent IS NOT NULL, em = NULL, user_agent = NULL, next_attempt_at = NULL, ${DONE}
     WHERE event_id IN ${IN('ids')} AND claim = @claim`,
  ),
  retry: db.prepare(
    `UPDATE meta_events SET state = 'pending', next_attempt_at = @next, reason = @reason, answer_json = @answer, ${DONE}
     WHERE event_id IN ${IN('ids')} AND claim = @claim`,
  ),
  failed: db.prepare(
    `UPDATE meta_events SET state = 'failed', api_version = @version, reason = @reason, answer_json = @answer, em = NULL, user_agent = NULL,
       next_attempt_at = NULL, ${DONE}
     WHERE event_id IN ${IN('ids')} AND claim = @claim`,
  ),
  list: db.prepare<{ state: string | null; limit: number }, EventRow>(
    `SELECT * FROM meta_events WHERE @state IS NULL OR state = @state ORDER BY queued_at DESC, event_time DESC LIMIT @limit`,
  ),
  counts: db.prepare<[], { state: MetaEventState; n: number }>(`SELECT state, count(*) AS n FROM meta_events GROUP BY state`),
  nextDue: db.prepare<[], number | null>(`SELECT min(coalesce(next_attempt_at, 0)) FROM meta_events WHERE state = 'pending'`).pluck(),
  anyWork: db
    .prepare<{ now: number; leaseEnd: number; before: number }, number>(
      `SELECT EXISTS (SELECT 1 FROM meta_events WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= @now OR event_time < @before))
         OR EXISTS (SELECT 1 FROM meta_events WHERE state = 'sending' AND claimed_at < @leaseEnd)`,
    )
    .pluck(),
}));

export function candidateCharges(db: Db, since: number): CandidateCharge[] {
  return stmts(db).candidates.all({ since }).map((r) => ({ id: r.id, paymentIntentId: r.payment_intent_id, at: r.created_at, amountMinor: r.amount_minor, currency: r.currency, visitorId: r.visitor_id }));
}

export function chargeJourney(db: Db, chargeId: string): JourneyTouch[] {
  return stmts(db).journey.all({ charge: chargeId }).map((r) => ({ kind: r.kind, id: r.id, at: r.at, visitorId: r.visitor_id, clickIdsJson: r.click_ids_json, url: r.url }));
}

/** The newest _fbc and _fbp the pixel read on these visitors' pages up to `until`, and their newest page. */
export function browserSignals(db: Db, visitors: readonly string[], until: number): { fbc: { value: string; at: number } | null; fbp: string | null; page: string | null } {
  const s = stmts(db);
  const p = { visitors: JSON.stringify(visitors), until };
  const fbc = s.lastFbc.get(p);
  return { fbc: fbc ? { value: fbc.fbc, at: fbc.at } : null, fbp: s.lastFbp.get(p) ?? null, page: s.lastPage.get(p) ?? null };
}

export function clickUserAgent(db: Db, clickIds: readonly string[]): string | null {
  return clickIds.length === 0 ? null : (stmts(db).lastAgent.get({ clicks: JSON.stringify(clickIds) }) ?? null);
}

/** Adds events; one already there (its event or charge id) stays as it is. Returns how many were added. */
export function insertOutboxEvents(db: Db, events: readonly NewOutboxEvent[]): number {
  const s = stmts(db);
  return db.transaction(() => {
    let n = 0;
    for (const e of events) {
      n += s.insert.run({ ...e, visitorIds: JSON.stringify(e.visitorIds), payload: JSON.stringify(e.payload) }).changes;
    }
    return n;
  })();
}

/** Marks skipped, with the reason, every event not sent that has become too old for Meta. */
export function skipStale(db: Db, before: number, leaseEnd: number, reason: string): number {
  return stmts(db).stale.run({ before, leaseEnd, reason }).changes;
}

/** Takes up to `limit` due events for one send (an interrupted send's events too, once its lease is over). */
export function claimDue(db: Db, args: { now: number; leaseMs: number; limit: number; claim: string }): ClaimedEvent[] {
  const s = stmts(db);
  return db
    .transaction(() => {
      const rows = s.due.all({ now: args.now, leaseEnd: args.now - args.leaseMs, limit: args.limit });
      for (const r of rows) s.take.run({ id: r.event_id, claim: args.claim, now: args.now });
      return rows.map((r) => ({
        eventId: r.event_id,
        eventTime: r.event_time,
        payload: JSON.parse(r.payload_json) as MetaEvent,
        em: r.em,
        userAgent: r.user_agent,
        attempts: r.attempts + 1,
        retaken: r.state === 'sending',
      }));
    })
    .immediate();
}

type Settled = { ids: readonly string[]; claim: string; answer: unknown; reason: string | null };

export function markSent(db: Db, a: Settled & { at: number; version: string }): number {
  return stmts(db).sent.run({ ids: JSON.stringify(a.ids), claim: a.claim, at: a.at, version: a.version, answer: JSON.stringify(a.answer), reason: a.reason }).changes;
}

export function markRetry(db: Db, a: Settled & { next: number | null }): number {
  return stmts(db).retry.run({ ids: JSON.stringify(a.ids), claim: a.claim, next: a.next, reason: a.reason, answer: a.answer === null ? null : JSON.stringify(a.answer) }).changes;
}

export function markFailed(db: Db, a: Settled & { version: string }): number {
  return stmts(db).failed.run({ ids: JSON.stringify(a.ids), claim: a.claim, version: a.version, reason: a.reason, answer: JSON.stringify(a.answer) }).changes;
}

export function listOutbox(db: Db, args: { state?: MetaEventState | null; limit: number }): MetaEventView[] {
  return stmts(db)
    .list.all({ state: args.state ?? null, limit: args.limit })
    .map((r) => ({
      eventId: r.event_id,
      chargeId: r.charge_id,
      state: r.state,
      eventTime: r.event_time,
      queuedAt: r.queued_at,
      sentAt: r.sent_at,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      apiVersion: r.api_version,
      reason: r.reason,
      // Until it is sent, the event as it will go, email hash and user agent included; after, as it went minus those.
      payload: outgoing(JSON.parse(r.payload_json) as MetaEvent, r.em, r.user_agent),
      emSent: r.em_sent === 1 || r.em !== null,
      userAgentSent: r.user_agent_sent === 1 || r.user_agent !== null,
      answer: r.answer_json === null ? null : (JSON.parse(r.answer_json) as unknown),
    }));
}

export function outboxCounts(db: Db): Record<MetaEventState, number> {
  const out: Record<MetaEventState, number> = { pending: 0, sending: 0, sent: 0, skipped: 0, failed: 0 };
  for (const r of stmts(db).counts.all()) out[r.state] = r.n;
  return out;
}

/**
 * Whether a send has anything to do: an event due, too old, or left by an interrupted send. A read, so the
 * every-minute send takes no write lock for nothing while a sync's ledger rebuild holds it.
 */
export function outboxHasWork(db: Db, at: { now: number; leaseEnd: number; before: number }): boolean {
  return stmts(db).anyWork.get(at) === 1;
}

/** When the earliest pending event is due (0: now), or null when none waits. */
export function nextDueAt(db: Db): number | null {
  return stmts(db).nextDue.get() ?? null;
}
