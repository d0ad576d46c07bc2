import { err, type AppErrorCode, type Result } from '@revtrail/shared';
import Stripe from 'stripe';
import type { ResourceFailure } from '../sync-state/repo';
import { STRIPE_API_VERSION } from './client';
import type { PermissionCheck } from './permissions';
import type { StripeObjectType } from './repo';

/** What a Stripe pull reads and checkpoints on its own, and reports on its own in status. */
export type StripeResource = 'events' | StripeObjectType;

export type StripeFailureCode = 'not_found' | 'permission_missing' | 'unavailable' | 'rate_limited' | 'rejected';

const NOUN: Record<StripeResource, string> = {
  events: 'events',
  customers: 'customers',
  charges: 'charges',
  refunds: 'refunds',
  disputes: 'disputes',
  subscriptions: 'subscriptions',
  invoices: 'invoices',
  invoice_payments: 'invoice payments',
};

/** What is missing from reports while a resource cannot be read; what was read before stays. */
const UNTIL_THEN: Record<StripeResource, string> = {
  events:
    'changes to objects read before (a refund failing, a dispute closing, a subscription ending) are found instead by reading again everything still open, which costs more requests',
  customers: 'charges of customers not read yet match visitors only by their billing or receipt email',
  charges: 'new payments, and changes to payments, are not in reports yet',
  refunds: 'new refunds are not subtracted from revenue yet',
  disputes: 'new disputes are not subtracted from revenue yet',
  subscriptions: 'new and ended subscriptions are not shown yet',
  invoices: 'new invoices are not read, so first payments and renewals of their subscriptions cannot be told apart yet',
  invoice_payments:
    'charges are linked to their invoices only where the charge names its invoice itself, and a subscription renewal without that link counts as a new sale instead of inheriting its first payment\'s credit',
};

const pathOf = (resource: StripeResource) => `/v1/${resource}`;

/** Stripe shows keys masked (rk_live_****1234), but a message is never trusted to: no key reaches the user. */
export function withoutSecrets(text: string): string {
  return text.replace(/\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9*]+/g, '[key]').replace(/\bwhsec_[A-Za-z0-9*]+/g, '[secret]');
}

/**
 * Failures after which nothing else can be read either: the key is invalid or revoked (401), or it may not
 * read the connected account at all. Anything that is not a Stripe answer (a bug, an abort) also stops.
 */
export function stopsEverything(e: unknown): boolean {
  return !(e instanceof Stripe.errors.StripeError) || e instanceof Stripe.errors.StripeAuthenticationError || e.code === 'account_invalid';
}

/** Whether a 404 says the object is gone (Stripe's resource_missing), not that the server lacks the endpoint. */
export const isGone = (e: unknown) => e instanceof Stripe.errors.StripeInvalidRequestError && e.statusCode === 404 && e.code === 'resource_missing';

/** A resource whose read failed with `e` (after the sync's retries), as the user is told it; never holds a secret. */
export function stripeFailure(resource: StripeResource, e: Stripe.errors.StripeError, attempts: number): ResourceFailure {
  const noun = NOUN[resource];
  const effect = `Until then ${UNTIL_THEN[resource]}; the rest of the sync went on.`;
  const tries = attempts > 1 ? ` (${attempts} tries)` : '';
  const failure = (code: StripeFailureCode, message: string): ResourceFailure => ({ source: 'stripe', resource, code, message: withoutSecrets(message) });
  if (e instanceof Stripe.errors.StripePermissionError) {
    return failure('permission_missing', `The Stripe key may not read ${noun}. ${effect} ${grantStep(noun)}`);
  }
  if (e.statusCode === 404 && e.code !== 'resource_missing') {
    // Stripe adds resources without a new API version (https://docs.stripe.com/upgrades, "Adding new API
    // resources" is backward-compatible), and every request pins STRIPE_API_VERSION: the account's own version
    // is not the cause. A server without the endpoint is an older or partial Stripe-compatible one.
    return failure(
      'not_found',
      `The Stripe server does not offer ${noun} (GET ${pathOf(resource)} answered 404 "Unrecognized request URL"): it is older than ` +
        `the API version Revtrail reads (${STRIPE_API_VERSION}) or only partly Stripe-compatible. ${effect} ` +
        'Update that server (Stripe itself offers it); the next sync then reads what was missed.',
    );
  }
  if (e instanceof Stripe.errors.StripeConnectionError) {
    return failure('unavailable', `Stripe did not answer in time while reading ${noun}${tries}. ${effect} What was read is kept; sync again later.`);
  }
  if (e.statusCode === 429) {
    return failure('rate_limited', `Stripe kept answering "too many requests" while reading ${noun}${tries}. ${effect} What was read is kept; sync again in a few minutes.`);
  }
  if ((e.statusCode ?? 0) >= 500) {
    return failure('unavailable', `Stripe answered ${e.statusCode} while reading ${noun}${tries}. ${effect} What was read is kept; sync again later.`);
  }
  return failure(
    'rejected',
    `Stripe refused the request for ${noun} (${e.statusCode ?? 'no status'}: ${e.message}). ${effect} If it happens again, report it with this message.`,
  );
}

/** A resource left out because the key lacks its Read permission (found by the permission probes). */
export function permissionFailure(resource: StripeResource, check: PermissionCheck): ResourceFailure {
  const noun = NOUN[resource];
  return {
    source: 'stripe',
    resource,
    code: 'permission_missing',
    message: `The Stripe key lacks Read on ${check.label} (${check.permission}), so ${noun} are not read. Until then ${UNTIL_THEN[resource]}. ${grantStep(check.label)}`,
  };
}

function grantStep(what: string): string {
  return `Give the restricted key Read on ${what} in the Stripe Dashboard (Developers → API keys → the key → Edit), then sync again.`;
}

const APP_CODE: Record<StripeFailureCode, AppErrorCode> = {
  not_found: 'not_found',
  permission_missing: 'permission_missing',
  unavailable: 'unavailable',
  rate_limited: 'rate_limited',
  rejected: 'invalid_input',
};

/**
 * A pull that read nothing at all, as one error: the first failure that is not a permission sets the code
 * (waiting or upgrading helps there; a permission is the user's own choice), each message follows.
 */
export function nothingRead(skipped: ResourceFailure[]): Result<never> {
  const lead = skipped.find((s) => s.code !== 'permission_missing') ?? skipped[0];
  const code = lead ? (APP_CODE[lead.code as StripeFailureCode] ?? 'unavailable') : 'unavailable';
  return err(code, `Nothing could be read from Stripe. ${skipped.map((s) => s.message).join(' ')}`, { skipped });
}
