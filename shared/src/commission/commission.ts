/**
 * The commission a charge earns under a partner's terms, and how much of it a refund or a lost dispute
 * takes back. Integer math only; a take-back is computed from the running total so that any sequence of
 * partial refunds adding up to the whole charge takes back exactly the whole commission, never more.
 */
import { DAY_MS } from '../time';
import { applyBasisPoints } from '../money';
import type { Duration, ProgramRules } from './terms';

export interface ChargeFacts {
  /** The captured amount the commission is on. */
  amountMinor: number;
  currency: string;
  at: number;
  /** 0 for the customer's first charge, 1 for the second, ... */
  index: number;
  /** When the customer's first charge was made: durations in months count from it. */
  firstAt: number;
}

export type CommissionDecision =
  | { earns: true; baseMinor: number; amountMinor: number; availableAt: number }
  | { earns: false; reason: string };

/** The instant `months` calendar months after `at` (UTC), clamped to the month's last day (Jan 31 + 1 month = Feb 28/29). */
export function addMonthsUtc(at: number, months: number): number {
  const d = new Date(at);
  const day = d.getUTCDate();
  const target = new Date(at);
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.getTime();
}

/** Whether a charge falls within the commission's duration, counted from the customer's first charge. */
export function withinDuration(duration: Duration, charge: Pick<ChargeFacts, 'index' | 'at' | 'firstAt'>): boolean {
  switch (duration.kind) {
    case 'lifetime':
      return true;
    case 'one_time':
      return charge.index === 0;
    case 'charges':
      return charge.index < (duration.count ?? 0);
    case 'months':
      return charge.at < addMonthsUtc(charge.firstAt, duration.count ?? 0);
  }
}

/** The commission of one charge under `terms` (the program with the partner's overrides applied). */
export function commissionFor(terms: ProgramRules, charge: ChargeFacts): CommissionDecision {
  if (!Number.isSafeInteger(charge.amountMinor) || charge.amountMinor <= 0) return { earns: false, reason: 'nothing was captured' };
  if (!withinDuration(terms.duration, charge)) return { earns: false, reason: 'after the commission duration' };
  const currency = charge.currency.toUpperCase();
  let amountMinor: number;
  if (terms.rate.kind === 'percent') {
    amountMinor = applyBasisPoints(charge.amountMinor, terms.rate.basisPoints);
  } else {
    const flat = terms.rate.amounts[currency];
    if (flat === undefined) return { earns: false, reason: `the flat commission names no amount in ${currency}` };
    // A flat commission never exceeds the sale it is paid on.
    amountMinor = Math.min(flat, charge.amountMinor);
  }
  if (amountMinor <= 0) return { earns: false, reason: 'the commission rounds to zero' };
  return { earns: true, baseMinor: charge.amountMinor, amountMinor, availableAt: charge.at + terms.holdingDays * DAY_MS };
}

/** `amountMinor * part / whole`, rounded half away from zero, exact for any safe integers. */
export function proRata(amountMinor: number, part: number, whole: number): number {
  if (whole <= 0) throw new RangeError(`not a positive whole: ${whole}`);
  const product = BigInt(amountMinor) * BigInt(part);
  const negative = product < 0n;
  const abs = negative ? -product : product;
  const w = BigInt(whole);
  const q = (abs * 2n + w) / (2n * w);
  return Number(negative ? -q : q);
}

export interface TakeBackState {
  /** The commission as earned (positive). */
  commissionMinor: number;
  /** The charge's captured amount the commission was on. */
  chargeMinor: number;
  /** Charge money refunded or lost to disputes so far, as already taken into account. */
  countedMinor: number;
  /** Commission already taken back (positive magnitude). */
  takenMinor: number;
}

/**
 * What a new refund (or lost dispute) of `lostMinor` of the charge takes back: a negative amount (or 0),
 * and the running totals after it. The running share is capped at the whole charge, so the commission is
 * never taken back more than once over.
 */
export function takeBack(state: TakeBackState, lostMinor: number): { amountMinor: number; countedMinor: number; takenMinor: number } {
  const countedMinor = Math.min(state.chargeMinor, state.countedMinor + Math.max(0, lostMinor));
  const target = proRata(state.commissionMinor, countedMinor, state.chargeMinor);
  const takenMinor = Math.max(state.takenMinor, Math.min(target, state.commissionMinor));
  return { amountMinor: state.takenMinor - takenMinor, countedMinor, takenMinor };
}
