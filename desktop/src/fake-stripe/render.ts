/**
 * Turns stored objects into what a request sees: the shape of the requested API version, then
 * `expand[]` paths replaced by the objects they name. Expanding needs read access to the expanded
 * object's resource too (a key without Balance read cannot expand balance_transaction), as Stripe
 * requires. Events carry their object in the API version of the event, whatever the request's.
 */
import type Stripe from 'stripe';
import type { AccountData } from './account';
import { stripeErrors, type Reply } from './errors';
import { requiredPermission, type Resource } from './permissions';
import { inVersion, type StripeObject } from './versions';

export interface RenderContext {
  account: AccountData;
  apiVersion: string;
  canRead(resource: Resource): boolean;
  /** The request's key and account, for the wording of a 403. */
  key: string;
}

/** Fields holding an id that `expand[]` may replace by the object. */
const EXPANDABLE = new Set([
  'balance_transaction',
  'failure_balance_transaction',
  'charge',
  'customer',
  'invoice',
  'latest_charge',
  'latest_invoice',
  'payment_intent',
  'source',
  'subscription',
]);

/** `expand` values split into paths; each path keeps its parameter name for error messages. */
export interface ExpandPath {
  segments: string[];
  param: string;
}

export function parseExpand(values: string[]): ExpandPath[] {
  return values.map((value, i) => ({ segments: value.split('.'), param: `expand[${i}]` }));
}

export function renderOne(
  object: StripeObject,
  ctx: RenderContext,
  expand: readonly ExpandPath[],
): { ok: true; value: Record<string, unknown> } | { ok: false; reply: Reply } {
  const shaped = shape(object, ctx);
  for (const path of expand) {
    const failure = expandInto(shaped, path.segments, path, ctx);
    if (failure) return { ok: false, reply: failure };
  }
  return { ok: true, value: shaped };
}

/** The object in the request's version (an event's payload stays in the event's own version). */
function shape(object: StripeObject, ctx: RenderContext): Record<string, unknown> {
  if (object.object === 'event') return renderEvent(object, ctx.account);
  return { ...inVersion(object, ctx.apiVersion, ctx.account) };
}

/**
 * An event as the API and webhooks show it. A webhook endpoint pinned to an API version (`apiVersion`)
 * gets the event rendered in that version instead of the event's own, as Stripe does.
 */
export function renderEvent(event: Stripe.Event, account: AccountData, apiVersion?: string): Record<string, unknown> {
  const payload = event.data.object as StripeObject;
  const version = apiVersion ?? event.api_version ?? account.defaultApiVersion;
  const pinned = apiVersion === undefined ? {} : { api_version: apiVersion };
  return { ...event, ...pinned, data: { ...event.data, object: inVersion(payload, version, account) } };
}

function expandInto(target: Record<string, unknown>, segments: string[], path: ExpandPath, ctx: RenderContext): Reply | null {
  const [field, ...rest] = segments;
  if (field === undefined) return null;
  const value = target[field];
  if (value === null) return null;
  if (typeof value === 'string') {
    if (!EXPANDABLE.has(field)) return stripeErrors.notExpandable(field, path.param);
    const found = ctx.account.find(value);
    if (!found) return null;
    if (!ctx.canRead(found.resource)) {
      return stripeErrors.missingPermission(ctx.key, ctx.account.id, requiredPermission(found.resource, 'read'));
    }
    const child = shape(found.object, ctx);
    target[field] = child;
    return expandInto(child, rest, path, ctx);
  }
  if (typeof value === 'object' && value !== undefined && !Array.isArray(value) && rest.length > 0) {
    const copy = { ...(value as Record<string, unknown>) };
    target[field] = copy;
    return expandInto(copy, rest, path, ctx);
  }
  if (typeof value === 'object' && value !== undefined && !Array.isArray(value) && EXPANDABLE.has(field)) return null;
  return stripeErrors.notExpandable(field, path.param);
}
