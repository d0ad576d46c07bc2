/**
 * Readers for the affiliate handlers' arguments: every problem named, collected into one answer.
 */
import { isCurrencyCode, normalizeEmail, parsed, readObject, readString, type Parsed } from '@revtrail/shared';
import { parseOverride, PAYOUT_METHODS, type OverrideInput, type PartnerOverride, type PayoutMethod, type WiseDetails } from '@revtrail/shared/commission/index';
import { PARTNER_STATUSES, type PartnerStatus } from './types';

/** Partner ids are what links carry, and PayPal's customer id column (30 characters, no spaces) carries them. */
export const PARTNER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,29}$/;

const emailCheck = (v: string) => (normalizeEmail(v) === null ? 'not an email address' : null);

export interface PartnerFields {
  id?: string;
  name?: string;
  email?: string;
  paypalEmail?: string | null;
  wise?: WiseDetails | null;
  country?: string | null;
  method?: PayoutMethod;
  program?: string;
  status?: PartnerStatus;
  ownVisitorIds?: string[];
  override?: PartnerOverride | null;
}

/** What partners.add and partners.update take. */
export type PartnerInput = Omit<PartnerFields, 'wise' | 'override'> & {
  wise?: { email: string; name?: string | null; receiverType?: 'PERSON' | 'INSTITUTION'; currency?: string | null } | null;
  /** Over the program: rate, duration, minimums; null drops it. */
  override?: OverrideInput | null;
};

export const PARTNER_FIELDS = ['id', 'name', 'email', 'paypalEmail', 'wise', 'country', 'method', 'program', 'status', 'ownVisitorIds', 'override'] as const;

function readWise(value: unknown, problems: string[]): WiseDetails | null | undefined {
  if (value === undefined || value === null) return value;
  const obj = readObject(value, ['email', 'name', 'receiverType', 'currency'], problems, 'wise');
  const email = readString(obj, 'email', { required: true, trim: true, max: 254, check: emailCheck }, problems);
  const name = readString(obj, 'name', { nullable: true, trim: true, min: 1, max: 200 }, problems);
  const type = obj.receiverType;
  if (type !== undefined && type !== 'PERSON' && type !== 'INSTITUTION') problems.push('wise.receiverType: PERSON or INSTITUTION');
  const currency = obj.currency;
  if (currency !== undefined && currency !== null && !isCurrencyCode(currency)) problems.push('wise.currency: a currency code such as EUR');
  if (!email) return undefined;
  return {
    email,
    name: name ?? null,
    receiverType: type === 'INSTITUTION' ? 'INSTITUTION' : 'PERSON',
    currency: typeof currency === 'string' ? currency.toUpperCase() : null,
  };
}

/** The fields of partners.add (`creating`: name and email required) or partners.update (all optional). */
export function readPartnerFields(obj: Record<string, unknown>, creating: boolean): Parsed<PartnerFields> {
  const problems: string[] = [];
  const f: PartnerFields = {};
  const id = readString(obj, 'id', { trim: true, max: 30, check: (v) => (PARTNER_ID_RE.test(v) ? null : '1 to 30 letters, digits, _ or -, starting with a letter or digit (the partner id its links carry)') }, problems);
  if (id) f.id = id;
  const name = readString(obj, 'name', { required: creating, trim: true, min: 1, max: 120 }, problems);
  if (name) f.name = name;
  const email = readString(obj, 'email', { required: creating, trim: true, max: 254, check: emailCheck }, problems);
  if (email) f.email = email;
  const paypal = readString(obj, 'paypalEmail', { nullable: true, trim: true, max: 254, check: emailCheck }, problems);
  if (paypal !== undefined) f.paypalEmail = paypal;
  const wise = readWise(obj.wise, problems);
  if (wise !== undefined) f.wise = wise;
  const country = readString(obj, 'country', { nullable: true, trim: true, max: 2, check: (v) => (/^[A-Za-z]{2}$/.test(v) ? null : 'a two-letter country code such as DE') }, problems);
  if (country !== undefined) f.country = country === null ? null : country.toUpperCase();
  if (obj.method !== undefined) {
    if (!(PAYOUT_METHODS as readonly unknown[]).includes(obj.method)) problems.push(`method: one of ${PAYOUT_METHODS.join(', ')}`);
    else f.method = obj.method as PayoutMethod;
  }
  const program = readString(obj, 'program', { trim: true, min: 1, max: 120 }, problems);
  if (program) f.program = program;
  if (obj.status !== undefined) {
    if (!(PARTNER_STATUSES as readonly unknown[]).includes(obj.status)) problems.push(`status: one of ${PARTNER_STATUSES.join(', ')}`);
    else f.status = obj.status as PartnerStatus;
  }
  if (obj.ownVisitorIds !== undefined) {
    const v = obj.ownVisitorIds;
    if (!Array.isArray(v) || v.length > 100 || !v.every((x) => typeof x === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(x))) {
      problems.push('ownVisitorIds: a list of at most 100 visitor ids');
    } else {
      f.ownVisitorIds = [...new Set(v as string[])];
    }
  }
  if (obj.override === null) f.override = null;
  else if (obj.override !== undefined) {
    const o = parseOverride(obj.override);
    if (!o.ok) problems.push(...o.problems);
    else f.override = Object.keys(o.value).length ? o.value : null;
  }
  return parsed(f, problems);
}

/** The method a new partner is paid by when none is named: PayPal if it has a PayPal email, else Wise, else by hand. */
export const defaultMethod = (f: PartnerFields): PayoutMethod => (f.paypalEmail ? 'paypal' : f.wise ? 'wise' : 'manual');
