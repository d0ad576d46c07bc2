/**
 * Stripe webhook events as the redirector keeps them: hints that an object changed, never the object
 * itself. The desktop reads each named object by id with its own restricted key, so a webhook can only
 * ever say "look at this id".
 */

/** Stripe object types (the `object` field of an event's `data.object`) the desktop's sync keeps. */
export const HINTED_STRIPE_OBJECTS = ['charge', 'refund', 'dispute', 'customer', 'subscription', 'invoice', 'invoice_payment'] as const;
export type HintedStripeObject = (typeof HINTED_STRIPE_OBJECTS)[number];

export const isHintedStripeObject = (v: unknown): v is HintedStripeObject => typeof v === 'string' && (HINTED_STRIPE_OBJECTS as readonly string[]).includes(v);

/**
 * The event types to select when adding the endpoint in Stripe's dashboard: exactly those whose object the
 * sync keeps (https://docs.stripe.com/api/events/types). Events of other types that still name such an
 * object are kept too; the rest are acknowledged and dropped.
 */
export const STRIPE_WEBHOOK_EVENT_TYPES = [
  'charge.succeeded',
  'charge.updated',
  'charge.refunded',
  'charge.captured',
  'charge.failed',
  'charge.refund.updated',
  'charge.dispute.created',
  'charge.dispute.updated',
  'charge.dispute.closed',
  'charge.dispute.funds_withdrawn',
  'charge.dispute.funds_reinstated',
  'refund.created',
  'refund.updated',
  'refund.failed',
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.created',
  'invoice.finalized',
  'invoice.paid',
  'invoice.payment_succeeded',
  'invoice.updated',
  'invoice.voided',
  'invoice.marked_uncollectible',
  'invoice_payment.paid',
] as const;

/** A Stripe object id as webhooks name them: a lowercase prefix, `_`, letters and digits (`ch_3Mt...`, `inpay_1...`). */
export const STRIPE_OBJECT_ID_RE = /^[a-z][a-z0-9]{0,19}_[A-Za-z0-9]{1,250}$/;
export const isStripeObjectId = (v: unknown): v is string => typeof v === 'string' && STRIPE_OBJECT_ID_RE.test(v);

/** `POST /api/v1/stripe-hints/erase {objectIds}` takes at most this many ids a call; it answers `{deleted}`. */
export const STRIPE_HINT_ERASE_MAX = 1000;

/** Where the redirector answers Stripe's webhook deliveries. */
export const STRIPE_WEBHOOK_PATH = '/webhooks/stripe';

/** One verified webhook event, as the `stripe-hints` feed serves it. No personal data from the payload. */
export interface StripeHint {
  /** The feed item's id (time-sortable, like every feed's). */
  id: string;
  /** When the redirector received and stored it. */
  at: number;
  /** Stripe's event id (`evt_...`): a redelivery of the same id is acknowledged and stored once. */
  eventId: string;
  /** Stripe's event type, e.g. `charge.refunded`. */
  eventType: string;
  /** The `object` field of `data.object`, e.g. `refund`. */
  objectType: HintedStripeObject;
  /** The id of `data.object`, e.g. `re_...`. */
  objectId: string;
  /** The event's `created`, in epoch ms. */
  createdAt: number;
  /** Stripe's `livemode`. */
  livemode: boolean;
  /** Connect: the connected account (`acct_...`) the event came from, or null. */
  account: string | null;
}

/** Why a delivery to the webhook endpoint was refused (nothing stored). */
export const WEBHOOK_REFUSALS = ['no_secret', 'unsigned', 'bad_signature', 'stale', 'too_large', 'not_an_event'] as const;
export type WebhookRefusal = (typeof WEBHOOK_REFUSALS)[number];

/** `GET /api/v1/webhooks/stripe`: how the endpoint is set up and what it has received. */
export interface StripeWebhookStatus {
  /** The endpoint's full URL on the public address, or null when the redirector has none. */
  url: string | null;
  path: string;
  eventTypes: readonly string[];
  /** How many signing secrets are set (0, 1, or 2 during a rotation). Never the secrets. */
  secrets: number;
  /** Why the configured secret was set aside (not a `whsec_` value, more than two), in words to show; null when none. */
  secretProblem: string | null;
  /** Whether `PUT /api/v1/webhooks/stripe/secrets` can change them (a local redirector), or a deploy must (AWS). */
  settable: boolean;
  /** On AWS, the command that sets the secret (without its value); null locally. */
  setCommand: string | null;
  lastReceivedAt: number | null;
  /** Verified events stored, redeliveries of a stored id, verified events of an object the sync does not keep. */
  received: number;
  duplicates: number;
  ignored: number;
  refused: Record<WebhookRefusal, number>;
  lastRefused: { at: number; reason: WebhookRefusal } | null;
}
