import { randomUUID } from 'node:crypto';
import { HOUR_MS, SECOND_MS, type Clock } from '@revtrail/shared';
import type { CoreLogger } from '../context';
import type { Db } from '../db/open';
import { GRAPH_TIMEOUT_MS, sendToGraph, type GraphConnection, type GraphOutcome } from './client';
import { STALE_REASON } from './outbox';
import { claimDue, markFailed, markRetry, markSent, outboxHasWork, skipStale, type ClaimedEvent } from './outbox-repo';
import { EVENT_MAX_AGE_MS, GRAPH_API_VERSION, MAX_BATCH, outgoing } from './payload';
import { getMetaSettings, pauseMetaSending } from './repo';

export interface SendOptions {
  fetch: typeof fetch;
  clock: Clock;
  log: CoreLogger;
  token: string;
  timeoutMs?: number;
  batchSize?: number;
  /** Requests one call makes at most; what is left waits for the next call. */
  maxRequests?: number;
  /** How long a claim holds before a send it belongs to counts as interrupted (far above the 1.5 s timeout). */
  leaseMs?: number;
  /** 0..1; the jitter of the backoff. */
  random?: () => number;
}

export interface SendReport {
  sent: number;
  /** Events sent back to wait for a later try (timeouts, 5xx, Meta's transient codes), with when. */
  retrying: number;
  failed: number;
  /** Waiting events found too old and marked skipped. */
  stale: number;
  requests: number;
  /** Why sending is held (Meta refused the token), or null. */
  paused: string | null;
}

export const LEASE_MS = 60 * SECOND_MS;
const BACKOFF_BASE_MS = 30 * SECOND_MS;
const BACKOFF_MAX_MS = HOUR_MS;
const RETAKEN_REASON = 'Sent again after a send was interrupted: Meta keeps the first of events with the same event_id and event_name within 48 hours.';

/** 30 s, 1 min, 2 min, ... up to an hour, each with ±25% jitter so workspaces do not retry in step. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.75 + random() * 0.5));
}

/** Meta's words and its error code (which Meta's documentation lists), for the screen and the terminal alike. */
const describe = (o: Exclude<GraphOutcome, { kind: 'ok' }>) => {
  const code = o.code !== null ? ` (code ${o.code}${o.subcode !== null ? `, subcode ${o.subcode}` : ''})` : '';
  return `${o.userMessage ?? o.message}${code}`;
};

const answerOf = (o: GraphOutcome) =>
  o.kind === 'ok'
    ? { status: o.status, events_received: o.eventsReceived, messages: o.messages, fbtrace_id: o.fbtraceId }
    : { status: o.status, error: { code: o.code, error_subcode: o.subcode, message: o.message, error_user_msg: o.userMessage, fbtrace_id: o.fbtraceId } };

/**
 * Sends the outbox's due events in requests of at most 1,000. Each event's state is its own row, taken by a
 * claim before its request and settled by the answer, so an event is sent once: sent, failed (Meta refused it:
 * its error_user_msg is kept), skipped (too old), or back to pending with a backoff (a timeout at 1.5 s, 5xx,
 * codes 1, 2, 4, 17, 613). A request Meta refuses with more than one event in it is split in two, and so on, so
 * one bad event does not take the others down. A refused token holds every event until Meta is connected again.
 */
export async function sendDue(db: Db, opts: SendOptions): Promise<SendReport> {
  const report: SendReport = { sent: 0, retrying: 0, failed: 0, stale: 0, requests: 0, paused: null };
  const settings = getMetaSettings(db);
  if (!settings.enabled || !settings.pixelId) return report;
  if (settings.pausedReason) return { ...report, paused: settings.pausedReason };
  const conn: GraphConnection = { base: settings.graphBase, pixelId: settings.pixelId, token: opts.token, testEventCode: settings.testEventCode };
  const leaseMs = opts.leaseMs ?? LEASE_MS;
  const random = opts.random ?? Math.random;
  const maxRequests = opts.maxRequests ?? 20;
  const now = opts.clock.now();
  if (!outboxHasWork(db, { now, leaseEnd: now - leaseMs, before: now - EVENT_MAX_AGE_MS })) return report;
  report.stale = skipStale(db, now - EVENT_MAX_AGE_MS, now - leaseMs, STALE_REASON);

  const send = async (events: ClaimedEvent[], claim: string): Promise<void> => {
    report.requests += 1;
    const outcome = await sendToGraph(opts.fetch, conn, events.map((e) => outgoing(e.payload, e.em, e.userAgent)), opts.timeoutMs ?? GRAPH_TIMEOUT_MS);
    const at = opts.clock.now();
    const ids = events.map((e) => e.eventId);
    const answer = answerOf(outcome);
    switch (outcome.kind) {
      case 'ok': {
        const retaken = events.filter((e) => e.retaken).map((e) => e.eventId);
        report.sent += markSent(db, { ids: ids.filter((id) => !retaken.includes(id)), claim, at, version: GRAPH_API_VERSION, answer, reason: null });
        report.sent += markSent(db, { ids: retaken, claim, at, version: GRAPH_API_VERSION, answer, reason: RETAKEN_REASON });
        return;
      }
      case 'retry': {
        const attempts = Math.max(...events.map((e) => e.attempts));
        const next = at + backoffMs(attempts, random);
        report.retrying += markRetry(db, { ids, claim, next, answer, reason: `Will try again at ${new Date(next).toISOString()}: ${describe(outcome)}` });
        opts.log.warn({ events: ids.length, code: outcome.code, status: outcome.status, message: outcome.message }, 'meta: send will be retried');
        return;
      }
      case 'token': {
        // Kept and shown by the app and the CLI alike: it names no screen and no command.
        const reason = `Meta refused the access token: ${describe(outcome)}. Create a new one in Events Manager and connect Meta again with it; events wait until then.`;
        markRetry(db, { ids, claim, next: null, answer, reason });
        pauseMetaSending(db, reason);
        report.paused = reason;
        return;
      }
      case 'refused': {
        if (events.length > 1) {
          const half = Math.ceil(events.length / 2);
          await send(events.slice(0, half), claim);
          if (report.paused === null) await send(events.slice(half), claim);
          else markRetry(db, { ids: events.slice(half).map((e) => e.eventId), claim, next: null, answer: null, reason: report.paused });
          return;
        }
        report.failed += markFailed(db, { ids, claim, version: GRAPH_API_VERSION, answer, reason: `Meta refused it: ${describe(outcome)}` });
        opts.log.warn({ code: outcome.code, subcode: outcome.subcode, status: outcome.status }, 'meta: event refused');
      }
    }
  };

  while (report.requests < maxRequests && report.paused === null) {
    const claim = randomUUID();
    const events = claimDue(db, { now: opts.clock.now(), leaseMs, limit: Math.min(opts.batchSize ?? MAX_BATCH, MAX_BATCH), claim });
    if (events.length === 0) break;
    await send(events, claim);
  }
  return report;
}
