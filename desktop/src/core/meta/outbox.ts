import { DAY_MS, type ClickIds } from '@revtrail/shared';
import type { Db } from '../db/open';
import { browserSignals, candidateCharges, chargeJourney, clickUserAgent, insertOutboxEvents, type CandidateCharge, type NewOutboxEvent } from './outbox-repo';
import { fbcFromClick, metaEmailHash, purchaseEvent, tooOld } from './payload';
import { getMetaSettings } from './repo';

export const STALE_REASON = 'Not sent: the charge is more than 7 days old, and Meta refuses such an event (with every other event of its request).';

export interface FillOptions {
  now: number;
  /** The charge's email as Stripe has it now (billing, receipt, or its customer's); read only while forwarding is on. */
  emailOf?: (chargeId: string) => Promise<string | null>;
  onEmailError?: (chargeId: string, e: unknown) => void;
}

export interface FillResult {
  queued: number;
  /** Charges found already more than 7 days old: recorded as skipped, never sent. */
  tooOld: number;
}

/**
 * Puts a Purchase event in the outbox for each attributed charge whose journey carries Meta's click id (an
 * fbclid on a click or landing) or a _fbc/_fbp cookie the pixel read, from 7 days before forwarding was turned
 * on. Each charge becomes an event once, whatever comes later; one already too old is recorded as skipped, with
 * the reason, and nothing of the person is looked up for it. Nothing is done while forwarding is off.
 */
export async function fillOutbox(db: Db, opts: FillOptions): Promise<FillResult> {
  const settings = getMetaSettings(db);
  if (!settings.enabled || settings.enabledAt === null) return { queued: 0, tooOld: 0 };
  const events: NewOutboxEvent[] = [];
  for (const charge of candidateCharges(db, settings.enabledAt - 7 * DAY_MS)) {
    const e = eventOf(db, charge, opts.now);
    if (!e) continue;
    if (e.state === 'pending' && opts.emailOf) {
      try {
        e.em = metaEmailHash(await opts.emailOf(charge.id));
      } catch (err) {
        // Sent without em: fbc, fbp and external_id still match it; the lookup is not tried again.
        opts.onEmailError?.(charge.id, err);
      }
    }
    events.push(e);
  }
  if (events.length > 0) insertOutboxEvents(db, events);
  return { queued: events.filter((e) => e.state === 'pending').length, tooOld: events.filter((e) => e.state === 'skipped').length };
}

/** The charge's event, or null when nothing of Meta's is in its journey. */
function eventOf(db: Db, charge: CandidateCharge, now: number): NewOutboxEvent | null {
  const journey = chargeJourney(db, charge.id).filter((t) => t.at <= charge.at);
  const visitors = [...new Set([...(charge.visitorId ? [charge.visitorId] : []), ...journey.map((t) => t.visitorId)])];
  const signals = browserSignals(db, visitors, charge.at);
  // The newest sign of a Meta ad click wins: a click or landing with an fbclid (fbc made from it, its time the
  // click's), or the _fbc cookie the pixel read (sent unchanged: it holds Meta's own click time).
  let fbc: { value: string; at: number } | null = signals.fbc;
  for (const t of journey) {
    const fbclid = (JSON.parse(t.clickIdsJson) as ClickIds).fbclid;
    const value = fbclid ? fbcFromClick(fbclid, t.at) : null;
    if (value && (!fbc || t.at > fbc.at)) fbc = { value, at: t.at };
  }
  if (!fbc && !signals.fbp) return null;
  const last = journey.at(-1);
  const sourceUrl = signals.page ?? last?.url ?? null;
  if (!sourceUrl) return null;
  const stale = tooOld(charge.at, now);
  const payload = purchaseEvent({
    eventId: charge.paymentIntentId ?? charge.id,
    at: charge.at,
    amountMinor: charge.amountMinor,
    currency: charge.currency,
    sourceUrl,
    fbc: fbc?.value ?? null,
    fbp: signals.fbp,
    visitorId: charge.visitorId ?? last?.visitorId ?? null,
  });
  return {
    eventId: payload.event_id,
    chargeId: charge.id,
    visitorIds: visitors,
    eventTime: charge.at,
    queuedAt: now,
    state: stale ? 'skipped' : 'pending',
    payload,
    em: null,
    userAgent: stale ? null : clickUserAgent(db, journey.filter((t) => t.kind === 'click').map((t) => t.id)),
    reason: stale ? STALE_REASON : null,
  };
}
