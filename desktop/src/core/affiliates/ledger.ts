/**
 * Derives the commission ledger from the Stripe facts: binds new customers to partners, writes a
 * commission per eligible charge, reversals and clawbacks for refunds and lost disputes, holds for open
 * disputes, and approves what has passed its holding period. Every write is keyed (dedupe keys on lines
 * and on Stripe-caused transitions), so running it after every sync, or twice, changes nothing twice.
 */
import { DAY_MS, hashEmail, newSortKey, normalizeEmail } from '@revtrail/shared';
import { commissionFor, effectiveTerms, takeBack, type ProgramRules } from '@revtrail/shared/commission/index';
import { customerTouchpoints } from '../attribution/touchpoints';
import type { CoreContext } from '../context';
import type { Db } from '../db/open';
import type { Workspace } from '../workspaces/registry';
import {
  approveDueLines,
  boundCharges,
  disputesOnCommissions,
  getLine,
  inBatch,
  insertBinding,
  insertLine,
  lineDone,
  lineState,
  listPartners,
  listPrograms,
  pendingRefunds,
  takenSoFar,
  transition,
  transitionDone,
  unboundCustomers,
  visitorsOfEmails,
  type BoundChargeRow,
} from './repo';
import type { Partner, Program } from './types';

export interface LedgerRunResult {
  bound: number;
  commissions: number;
  flagged: number;
  reversals: number;
  clawbacks: number;
  held: number;
  released: number;
  reversed: number;
  approved: number;
}

export interface LedgerOptions {
  now: number;
  /** Each partner's own email hashes (payout, PayPal and Wise emails) under the workspace key. */
  partnerEmailHashes: ReadonlyMap<string, readonly string[]>;
}

/** Disputes in these states hold the commission; inquiries (warning_*) move no money and hold nothing. */
const OPEN_DISPUTE = new Set(['needs_response', 'under_review']);

const zero = (): LedgerRunResult => ({ bound: 0, commissions: 0, flagged: 0, reversals: 0, clawbacks: 0, held: 0, released: 0, reversed: 0, approved: 0 });

/** The partner's own email hashes, for the self-referral check (empty without the workspace's email-hash key). */
export async function partnerEmailHashes(partners: readonly Partner[], key: string | null): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!key) return out;
  for (const p of partners) {
    const emails = [p.email, p.paypalEmail, p.wise?.email].map((e) => (e ? normalizeEmail(e) : null)).filter((e): e is string => e !== null);
    out.set(p.id, await Promise.all([...new Set(emails)].map((e) => hashEmail(e, key))));
  }
  return out;
}

/** The ledger after a sync: reads the workspace's email-hash key for the self-referral check, then runs. */
export async function syncAffiliateLedger(ctx: CoreContext, ws: Workspace): Promise<LedgerRunResult> {
  const db = ctx.db(ws);
  const hashes = await partnerEmailHashes(listPartners(db), await ctx.secret(ws, 'email_hash_key'));
  return runAffiliateLedger(db, { now: ctx.clock.now(), partnerEmailHashes: hashes });
}

/** One ledger pass in one transaction. */
export function runAffiliateLedger(db: Db, opts: LedgerOptions): LedgerRunResult {
  const programs = new Map(listPrograms(db).map((p) => [p.id, p]));
  if (programs.size === 0) return zero();
  const partners = new Map(listPartners(db).map((p) => [p.id, p]));
  const result = zero();
  db.transaction(() => {
    bindCustomers(db, programs, partners, opts.now, result);
    writeCommissions(db, programs, partners, opts, result);
    applyRefunds(db, opts.now, result);
    applyDisputes(db, opts.now, result);
    result.approved += approveDue(db, opts.now);
  })();
  return result;
}

/**
 * Binds each paying customer not bound yet to the partner whose click brought it: among partner clicks in
 * the partner program's cookie window before the customer's first charge, the earliest (first click wins,
 * the default) or, when every candidate's program says so, the latest. Bound once, for good.
 */
function bindCustomers(db: Db, programs: Map<string, Program>, partners: Map<string, Partner>, now: number, result: LedgerRunResult): void {
  const bindable = [...partners.values()].filter((p) => p.status !== 'closed' && programs.has(p.programId));
  if (bindable.length === 0) return;
  const cookieMs = (p: Partner) => programs.get(p.programId)!.rules.cookieDays * DAY_MS;
  const windowMs = Math.max(...bindable.map(cookieMs));
  for (const c of unboundCustomers(db, windowMs)) {
    const touchpoints = customerTouchpoints(db, { customerId: c.customerId, emailHashes: c.emailHashes, visitorIds: c.visitorIds, until: c.firstChargeAt, windowMs });
    const candidates = touchpoints.flatMap((t) => {
      const partner = t.partnerId === null ? undefined : partners.get(t.partnerId);
      if (!partner || partner.status === 'closed' || !programs.has(partner.programId)) return [];
      return t.at >= c.firstChargeAt - cookieMs(partner) ? [{ t, partner }] : [];
    });
    if (candidates.length === 0) continue;
    const lastClick = candidates.every(({ partner }) => programs.get(partner.programId)!.rules.binding === 'last_click');
    const { t, partner } = lastClick ? candidates[candidates.length - 1]! : candidates[0]!;
    const bound = insertBinding(db, {
      customerKey: c.customerKey,
      partnerId: partner.id,
      programId: partner.programId,
      rule: lastClick ? 'last_click' : 'first_click',
      touchpointId: t.id,
      touchpointAt: t.at,
      visitorId: t.visitorId,
      firstChargeId: c.firstChargeId,
      firstChargeAt: c.firstChargeAt,
      boundAt: now,
    });
    if (bound) result.bound += 1;
  }
}

/** Why a charge is the partner buying through its own link, or null. */
function selfReferral(charge: BoundChargeRow, ownEmails: readonly string[], ownVisitors: ReadonlySet<string>): string | null {
  if ((charge.email_hash && ownEmails.includes(charge.email_hash)) || (charge.customer_email_hash && ownEmails.includes(charge.customer_email_hash))) {
    return "the buyer's email is the partner's own";
  }
  if ((charge.visitor_id && ownVisitors.has(charge.visitor_id)) || (charge.touch_visitor_id && ownVisitors.has(charge.touch_visitor_id))) {
    return "the buyer's browser (visitor id) is the partner's own";
  }
  return null;
}

function writeCommissions(db: Db, programs: Map<string, Program>, partners: Map<string, Partner>, opts: LedgerOptions, result: LedgerRunResult): void {
  const ownVisitors = new Map<string, Set<string>>();
  const visitorsOf = (p: Partner) => {
    let set = ownVisitors.get(p.id);
    if (!set) ownVisitors.set(p.id, (set = new Set([...p.ownVisitorIds, ...visitorsOfEmails(db, opts.partnerEmailHashes.get(p.id) ?? [])])));
    return set;
  };
  let customer = '';
  let index = 0;
  for (const ch of boundCharges(db)) {
    if (ch.customer_key !== customer) {
      customer = ch.customer_key;
      index = 0;
    } else {
      index += 1;
    }
    if (ch.done) continue;
    const partner = partners.get(ch.partner_id);
    const program = programs.get(ch.program_id);
    if (!partner || !program || partner.status === 'closed' || ch.created_at < program.startsAt) continue;
    const terms: ProgramRules = effectiveTerms(program.rules, partner.override);
    const decision = commissionFor(terms, { amountMinor: ch.amount_captured_minor, currency: ch.currency, at: ch.created_at, index, firstAt: ch.first_charge_at });
    if (!decision.earns) continue;
    const flagged = selfReferral(ch, opts.partnerEmailHashes.get(partner.id) ?? [], visitorsOf(partner));
    const added = insertLine(db, {
      id: newSortKey(ch.created_at),
      kind: 'commission',
      cause: 'charge',
      dedupeKey: `commission:${ch.id}`,
      partnerId: partner.id,
      programId: program.id,
      customerKey: ch.customer_key,
      chargeId: ch.id,
      touchpointId: ch.touchpoint_id,
      sourceId: ch.id,
      commissionId: null,
      terms,
      baseMinor: decision.baseMinor,
      amountMinor: decision.amountMinor,
      currency: ch.currency.toUpperCase(),
      occurredAt: ch.created_at,
      availableAt: decision.availableAt,
      selfReferral: flagged,
      createdAt: opts.now,
    });
    if (added) result[flagged ? 'flagged' : 'commissions'] += 1;
  }
}

/**
 * Takes back `lostMinor` of a commission's charge: a reversal while the commission is in no payout
 * batch, a clawback (owed at once, netted against the next payout) once it is. Returns whether the
 * commission is now taken back in full.
 */
function takeBackLine(db: Db, commissionId: string, source: { id: string; at: number; cause: 'refund' | 'dispute'; lostMinor: number }, now: number, result: LedgerRunResult): boolean {
  const c = getLine(db, commissionId)!;
  const before = takenSoFar(db, commissionId);
  const next = takeBack({ commissionMinor: c.amountMinor, chargeMinor: c.baseMinor, ...before }, source.lostMinor);
  const batched = inBatch(db, commissionId);
  const kind = batched ? 'clawback' : 'reversal';
  const added = insertLine(db, {
    id: newSortKey(source.at),
    kind,
    cause: source.cause,
    dedupeKey: `takeback:${source.id}`,
    partnerId: c.partnerId,
    programId: c.programId,
    customerKey: c.customerKey,
    chargeId: c.chargeId,
    touchpointId: c.touchpointId,
    sourceId: source.id,
    commissionId,
    terms: c.terms,
    baseMinor: next.countedMinor - before.countedMinor,
    amountMinor: next.amountMinor,
    currency: c.currency,
    occurredAt: source.at,
    availableAt: batched ? source.at : c.availableAt,
    selfReferral: null,
    createdAt: now,
  });
  if (added) result[kind === 'clawback' ? 'clawbacks' : 'reversals'] += 1;
  return !batched && next.takenMinor >= c.amountMinor;
}

function applyRefunds(db: Db, now: number, result: LedgerRunResult): void {
  for (const r of pendingRefunds(db)) {
    const commission = getLine(db, r.commission_id)!;
    // On gross, refunds leave the commission alone (a lost dispute still takes it back).
    if (commission.terms.basis === 'gross') continue;
    const whole = takeBackLine(db, r.commission_id, { id: r.id, at: r.created_at, cause: 'refund', lostMinor: r.amount_minor }, now, result);
    if (whole && transition(db, r.commission_id, 'reverse', now, { causeId: r.id })) result.reversed += 1;
  }
}

/**
 * An open dispute holds a commission that is in no batch yet; won (or closed without loss) releases it;
 * lost takes the disputed share back and, when that is all of it, reverses it. Once a commission is in a
 * batch its fate is fixed: only a loss reaches it, as a clawback.
 */
function applyDisputes(db: Db, now: number, result: LedgerRunResult): void {
  for (const d of disputesOnCommissions(db)) {
    const held = transitionDone(db, `hold:${d.id}`);
    const released = transitionDone(db, `release:${d.id}`);
    if (OPEN_DISPUTE.has(d.status)) {
      if (!held && !inBatch(db, d.commission_id) && transition(db, d.commission_id, 'hold', now, { causeId: d.id, dedupeKey: `hold:${d.id}` })) result.held += 1;
      continue;
    }
    if (d.status === 'lost' && !lineDone(db, `takeback:${d.id}`)) {
      // Seen only once closed: dated at its opening, as the attribution ledger does.
      const at = held ? now : d.created_at;
      const whole = takeBackLine(db, d.commission_id, { id: d.id, at, cause: 'dispute', lostMinor: d.amount_minor }, now, result);
      if (whole && transition(db, d.commission_id, 'reverse', now, { causeId: d.id, dedupeKey: `reverse:${d.id}` })) {
        result.reversed += 1;
        continue;
      }
    }
    if (held && !released && lineState(db, d.commission_id) === 'held') {
      if (transition(db, d.commission_id, 'release', now, { causeId: d.id, dedupeKey: `release:${d.id}` })) result.released += 1;
    }
  }
}

/** Pending lines whose holding period is over become approved (payable). */
export function approveDue(db: Db, now: number): number {
  return db.transaction(() => approveDueLines(db, now))();
}
