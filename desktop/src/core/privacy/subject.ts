import { err, isVisitorId, normalizeEmail, ok, TELEGRAM_USER_ID_TEXT_RE, type Result } from '@revtrail/shared';
import type { SubjectKind } from './erased-repo';

/** A request names a person by exactly one identifier. */
export interface SubjectArgs {
  workspace?: string;
  email?: string;
  visitor?: string;
  customer?: string;
  /** A Telegram user id (digits): found by its keyed hash, never kept. */
  telegram?: string;
}

export type Subject =
  | { kind: 'email'; email: string }
  | { kind: 'visitor'; visitorId: string }
  | { kind: 'customer'; customerId: string }
  | { kind: 'telegram'; userId: string };

const CUSTOMER_RE = /^cus_[A-Za-z0-9]{4,64}$/;

/** Reads which person a request is about; a malformed identifier gets a message saying what one looks like. */
export function readSubject(args: SubjectArgs): Result<Subject> {
  const given = (['email', 'visitor', 'customer', 'telegram'] as const).filter((k) => args[k] !== undefined && args[k] !== null && args[k] !== '');
  if (given.length !== 1) {
    return err('invalid_input', 'Name the person by exactly one of: an email address, a visitor id, a Stripe customer id (cus_…), or a Telegram user id.');
  }
  const kind = given[0]!;
  const value = args[kind];
  if (typeof value !== 'string') return err('invalid_input', `${kind}: text expected.`);
  const trimmed = value.trim();
  if (kind === 'email') {
    const email = normalizeEmail(trimmed);
    return email
      ? ok({ kind, email })
      : err('invalid_input', 'That is not an email address: it needs a name, one @ and a domain, like name@example.com. Check it for typos.');
  }
  if (kind === 'visitor') {
    return isVisitorId(trimmed)
      ? ok({ kind, visitorId: trimmed })
      : err('invalid_input', 'A visitor id is 22 characters of letters, digits, - and _ (the rt_vid cookie, or revtrail_vid in Stripe metadata).');
  }
  if (kind === 'telegram') {
    return TELEGRAM_USER_ID_TEXT_RE.test(trimmed)
      ? ok({ kind, userId: trimmed })
      : err('invalid_input', 'A Telegram user id is a number, like 724365116: the person\'s numeric id, not their @username.');
  }
  return CUSTOMER_RE.test(trimmed)
    ? ok({ kind, customerId: trimmed })
    : err('invalid_input', "A Stripe customer id is cus_ followed by letters and digits, like cus_Q1w2E3r4T5y6: copy it from the customer's page in Stripe.");
}

export const scopeOf = (s: Subject): SubjectKind => s.kind;
