/**
 * An affiliate program's rules and a partner's overrides of them (REFERENCE.md "Affiliate programs").
 * Money stays integer: a percentage is basis points, a flat commission and a minimum payout are minor
 * units per currency (a partner paid in USD and EUR has a minimum in each; a currency without one has none).
 */
import { formatMinor, isCurrencyCode } from '../money';
import { isPlainObject, parsed, readObject, readString, type Parsed } from '../validate';

export type CommissionBasis = 'gross' | 'net';
export type DurationKind = 'one_time' | 'months' | 'charges' | 'lifetime';
export type BindingRule = 'first_click' | 'last_click';

export const COMMISSION_BASES: readonly CommissionBasis[] = ['gross', 'net'];
export const DURATION_KINDS: readonly DurationKind[] = ['one_time', 'months', 'charges', 'lifetime'];
export const BINDING_RULES: readonly BindingRule[] = ['first_click', 'last_click'];

export type Rate = { kind: 'percent'; basisPoints: number } | { kind: 'flat'; amounts: Readonly<Record<string, number>> };

/** `count` is the number of months or charges; null for one-time and lifetime. */
export interface Duration {
  kind: DurationKind;
  count: number | null;
}

export interface ProgramRules {
  rate: Rate;
  /** gross: refunds leave the commission alone; net: a refund takes its share of the commission back. */
  basis: CommissionBasis;
  duration: Duration;
  /** Days a commission stays pending (the refund window) before it can be paid. */
  holdingDays: number;
  /** Minimum payout per currency, minor units. */
  minimums: Readonly<Record<string, number>>;
  /** How long before a customer's first charge a partner's click may bind it. */
  cookieDays: number;
  binding: BindingRule;
}

/** What a partner may have apart from its program: rate, duration and minimums. */
export interface PartnerOverride {
  rate?: Rate;
  duration?: Duration;
  minimums?: Readonly<Record<string, number>>;
}

export const DEFAULT_HOLDING_DAYS = 30;
export const DEFAULT_COOKIE_DAYS = 30;
/** Cookies never outlive 13 months (REFERENCE.md "Privacy"), so neither does a referral. */
export const MAX_COOKIE_DAYS = 396;
export const MAX_HOLDING_DAYS = 365;
const MAX_DURATION_COUNT = 1200;

/** The program's rules with the partner's overrides applied; minimums merge per currency, the partner's winning. */
export function effectiveTerms(program: ProgramRules, override?: PartnerOverride | null): ProgramRules {
  if (!override) return program;
  return {
    ...program,
    rate: override.rate ?? program.rate,
    duration: override.duration ?? program.duration,
    minimums: { ...program.minimums, ...override.minimums },
  };
}

/** The minimum payout for one currency (0 when the terms name none for it). */
export const minimumFor = (terms: Pick<ProgramRules, 'minimums'>, currency: string): number => terms.minimums[currency.toUpperCase()] ?? 0;

/** "20%", "12.5%" or "5.00 USD / 4.50 EUR flat". */
export function describeRate(rate: Rate): string {
  if (rate.kind === 'percent') return `${rate.basisPoints / 100}%`;
  const amounts = Object.entries(rate.amounts).map(([currency, minor]) => `${formatMinor(minor, currency)} ${currency}`);
  return `${amounts.join(' / ')} flat`;
}

export function describeDuration(d: Duration): string {
  switch (d.kind) {
    case 'one_time':
      return 'first charge only';
    case 'lifetime':
      return 'lifetime';
    case 'months':
      return `${d.count} month${d.count === 1 ? '' : 's'}`;
    case 'charges':
      return `${d.count} charge${d.count === 1 ? '' : 's'}`;
  }
}

// ---- reading untrusted input (RPC arguments) ----

const wholeNumber = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;

function oneOf<T extends string>(obj: Record<string, unknown>, key: string, allowed: readonly T[], problems: string[]): T | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    problems.push(`${key}: one of ${allowed.join(', ')}`);
    return undefined;
  }
  return v as T;
}

function int(obj: Record<string, unknown>, key: string, min: number, max: number, problems: string[]): number | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!wholeNumber(v, min, max)) {
    problems.push(`${key}: a whole number from ${min} to ${max}`);
    return undefined;
  }
  return v;
}

/** `{ USD: 5000, EUR: 4500 }`: currency codes (any case, stored uppercase) to whole minor units. */
function amountsByCurrency(obj: Record<string, unknown>, key: string, min: number, problems: string[]): Record<string, number> | undefined {
  const v = obj[key];
  if (v === undefined) return undefined;
  if (!isPlainObject(v)) {
    problems.push(`${key}: an object of currency code to whole minor units, e.g. {"USD": 5000}`);
    return undefined;
  }
  const out: Record<string, number> = {};
  for (const [currency, minor] of Object.entries(v)) {
    if (!isCurrencyCode(currency)) problems.push(`${key}.${currency}: not a currency code`);
    else if (!wholeNumber(minor, min, Number.MAX_SAFE_INTEGER)) problems.push(`${key}.${currency}: whole minor units, at least ${min}`);
    else out[currency.toUpperCase()] = minor;
  }
  return out;
}

function readDuration(obj: Record<string, unknown>, problems: string[]): Duration | undefined {
  const kind = oneOf(obj, 'duration', DURATION_KINDS, problems);
  const count = int(obj, 'durationCount', 1, MAX_DURATION_COUNT, problems);
  if (kind === undefined) {
    if (count !== undefined) problems.push('durationCount: only with duration "months" or "charges"');
    return undefined;
  }
  if (kind === 'months' || kind === 'charges') {
    if (count === undefined) {
      problems.push(`durationCount: required with duration "${kind}" (how many ${kind})`);
      return undefined;
    }
    return { kind, count };
  }
  if (count !== undefined) problems.push(`durationCount: only with duration "months" or "charges"`);
  return { kind, count: null };
}

function readRate(obj: Record<string, unknown>, problems: string[]): Rate | undefined {
  const bp = int(obj, 'rateBasisPoints', 1, 10_000, problems);
  const flat = amountsByCurrency(obj, 'flat', 1, problems);
  if (bp !== undefined && flat !== undefined) {
    problems.push('rateBasisPoints and flat: give one of them, not both');
    return undefined;
  }
  if (bp !== undefined) return { kind: 'percent', basisPoints: bp };
  if (flat !== undefined) {
    if (Object.keys(flat).length === 0) {
      problems.push('flat: name at least one currency');
      return undefined;
    }
    return { kind: 'flat', amounts: flat };
  }
  return undefined;
}

/** A program's rules as the RPC takes them (parseProgramRules reads and checks them). */
export interface ProgramInput {
  /** 2000 = 20%. */
  rateBasisPoints?: number;
  /** Flat amount per currency, minor units: { USD: 500 }. */
  flat?: Record<string, number>;
  basis?: CommissionBasis;
  duration?: DurationKind;
  durationCount?: number;
  holdingDays?: number;
  minimums?: Record<string, number>;
  cookieDays?: number;
  binding?: BindingRule;
}

export type OverrideInput = Pick<ProgramInput, 'rateBasisPoints' | 'flat' | 'duration' | 'durationCount' | 'minimums'>;

export const PROGRAM_FIELDS = ['rateBasisPoints', 'flat', 'basis', 'duration', 'durationCount', 'holdingDays', 'minimums', 'cookieDays', 'binding'] as const;

/** A program's rules from input: a rate is required (rateBasisPoints 1..10000, or flat per currency); the rest have defaults. */
export function parseProgramRules(obj: Record<string, unknown>, problems: string[] = []): Parsed<ProgramRules> {
  const rate = readRate(obj, problems);
  if (rate === undefined && obj.rateBasisPoints === undefined && obj.flat === undefined) {
    problems.push('rateBasisPoints or flat: required (e.g. rateBasisPoints 2000 for 20%)');
  }
  const rules: ProgramRules = {
    rate: rate ?? { kind: 'percent', basisPoints: 1 },
    basis: oneOf(obj, 'basis', COMMISSION_BASES, problems) ?? 'net',
    duration: readDuration(obj, problems) ?? { kind: 'lifetime', count: null },
    holdingDays: int(obj, 'holdingDays', 0, MAX_HOLDING_DAYS, problems) ?? DEFAULT_HOLDING_DAYS,
    minimums: amountsByCurrency(obj, 'minimums', 0, problems) ?? {},
    cookieDays: int(obj, 'cookieDays', 1, MAX_COOKIE_DAYS, problems) ?? DEFAULT_COOKIE_DAYS,
    binding: oneOf(obj, 'binding', BINDING_RULES, problems) ?? 'first_click',
  };
  return parsed(rules, problems);
}

export const OVERRIDE_FIELDS = ['rateBasisPoints', 'flat', 'duration', 'durationCount', 'minimums'] as const;

/** A partner's override from input: every field optional; an empty object means "no override". */
export function parseOverride(value: unknown, what = 'override'): Parsed<PartnerOverride> {
  const problems: string[] = [];
  const obj = readObject(value, OVERRIDE_FIELDS, problems, what);
  const override: PartnerOverride = {};
  const rate = readRate(obj, problems);
  if (rate) override.rate = rate;
  const duration = readDuration(obj, problems);
  if (duration) override.duration = duration;
  const minimums = amountsByCurrency(obj, 'minimums', 0, problems);
  if (minimums) override.minimums = minimums;
  return parsed(override, problems);
}

/** A program's or partner's name: 1..120 characters, trimmed. */
export function readName(obj: Record<string, unknown>, problems: string[]): string | undefined {
  return readString(obj, 'name', { required: true, trim: true, min: 1, max: 120 }, problems) ?? undefined;
}
