import type Stripe from 'stripe';
import { isHintedStripeObject, isPlainObject, isStripeObjectId, parsed, readBoolean, readString, type Parsed } from '@revtrail/shared';
import type { StripeHintInput } from '../store/types';

/** Stripe's own libraries' default: a delivery signed more than five minutes before it arrived is refused. */
export const SIGNATURE_TOLERANCE_S = 300;

type Webhooks = typeof Stripe.webhooks;
let loading: Promise<Webhooks> | null = null;

/**
 * The stripe package, loaded on the first delivery: it is a quarter of a megabyte of code that a redirect never
 * needs, so no cold start evaluates it before a webhook arrives.
 */
function stripeWebhooks(): Promise<Webhooks> {
  loading ??= import('stripe').then(
    (m) => m.default.webhooks,
    (e: unknown) => {
      loading = null;
      throw e;
    },
  );
  return loading;
}

const passes = (check: () => unknown): boolean => {
  try {
    check();
    return true;
  } catch {
    return false;
  }
};

export type SignatureVerdict = { ok: true } | { ok: false; reason: 'unsigned' | 'bad_signature' | 'stale' };

/**
 * Checks the `Stripe-Signature` header over the raw body with each secret in turn (two while one is rolled),
 * through the stripe package: HMAC-SHA256 of `<t>.<body>`, compared in constant time (its Node platform uses
 * crypto.timingSafeEqual), `t` no older than SIGNATURE_TOLERANCE_S at `now`.
 */
export async function verifySignature(body: Buffer, header: string | undefined, secrets: readonly string[], now: number): Promise<SignatureVerdict> {
  if (!header) return { ok: false, reason: 'unsigned' };
  const { signature } = await stripeWebhooks();
  if (!signature) throw new Error('the stripe package came without its webhook signature helper');
  let stale = false;
  for (const secret of secrets) {
    if (passes(() => signature.verifyHeader(body, header, secret, SIGNATURE_TOLERANCE_S, undefined, now))) return { ok: true };
    // Tolerance 0 skips the time check (the package's rule): passing then means signed with this secret, too long ago.
    if (passes(() => signature.verifyHeader(body, header, secret, 0, undefined, now))) stale = true;
  }
  return { ok: false, reason: stale ? 'stale' : 'bad_signature' };
}

const EVENT_ID_RE = /^evt_[A-Za-z0-9]{1,250}$/;
const EVENT_TYPE_RE = /^[a-z0-9_]+(?:\.[a-z0-9_]+)+$/;
const ACCOUNT_RE = /^acct_[A-Za-z0-9]{1,250}$/;
/** Seconds: later than this is not a time Stripe writes (year 5138), and would make no sane partition key. */
const CREATED_MAX_S = 1e11;

export interface ReadEvent {
  type: string;
  /** `data.object.object`, when a string. */
  objectType: string | null;
  /** The hint to keep, or null: an event whose object the desktop's sync does not read (acknowledged, dropped). */
  hint: StripeHintInput | null;
}

/**
 * A verified body read as a Stripe event (Stripe's OpenAPI `event`: id, object, type, created, livemode,
 * data.object; `account` for Connect). Only what names the object is kept: none of the payload's fields.
 */
export function readEvent(body: Buffer): Parsed<ReadEvent> {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, problems: ['the body is not JSON'] };
  }
  if (!isPlainObject(json)) return { ok: false, problems: ['the body is not a JSON object'] };
  const problems: string[] = [];
  if (json.object !== 'event') problems.push('object: must be "event"');
  const id = readString(json, 'id', { required: true, max: 255, check: (v) => (EVENT_ID_RE.test(v) ? null : 'must be an event id (evt_...)') }, problems);
  const type = readString(json, 'type', { required: true, max: 100, check: (v) => (EVENT_TYPE_RE.test(v) ? null : 'must be an event type such as charge.refunded') }, problems);
  const created = json.created;
  if (typeof created !== 'number' || !Number.isInteger(created) || created <= 0 || created > CREATED_MAX_S) problems.push('created: must be a time in seconds');
  const livemode = readBoolean(json, 'livemode', problems);
  if (livemode === undefined && json.livemode === undefined) problems.push('livemode: required');
  const account = readString(json, 'account', { max: 255, nullable: true, check: (v) => (ACCOUNT_RE.test(v) ? null : 'must be an account id (acct_...)') }, problems);
  const object = isPlainObject(json.data) && isPlainObject(json.data.object) ? json.data.object : null;
  if (!object) problems.push('data.object: must be an object');
  if (problems.length > 0 || !object) return { ok: false, problems };

  const objectType = typeof object.object === 'string' ? object.object : null;
  if (!isHintedStripeObject(objectType)) return parsed({ type: type!, objectType, hint: null }, problems);
  if (!isStripeObjectId(object.id)) problems.push(`data.object.id: must be the ${objectType}'s id`);
  return parsed(
    {
      type: type!,
      objectType,
      hint: {
        eventId: id!,
        eventType: type!,
        objectType,
        objectId: object.id as string,
        createdAt: (created as number) * 1000,
        livemode: livemode!,
        account: account ?? null,
      },
    },
    problems,
  );
}
