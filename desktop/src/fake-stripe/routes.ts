/**
 * The read endpoints: for each resource its path, the filters Stripe's list endpoint takes, and whether
 * objects can be retrieved by id. Lists answer `{ object: 'list', data, has_more, url }` newest first
 * with Stripe's limit, cursor and `created` rules; unknown parameters are refused as Stripe refuses them.
 */
import type Stripe from 'stripe';
import type { AccountData } from './account';
import type { Collection, CreatedRange, PageRequest, PageResult } from './collection';
import { stripeErrors, type Reply } from './errors';
import type { Resource } from './permissions';
import { arrayParam, objectParam, stringParam, type Query } from './query';
import { parseExpand, renderOne, type ExpandPath, type RenderContext } from './render';
import { refOf } from './objects';
import type { StripeObject } from './versions';

/** Stripe keeps events for 30 days: older ones are neither listed nor retrievable. */
export const EVENT_RETENTION_SECONDS = 30 * 86_400;

type Parsed<T> = { ok: true; value: T } | { ok: false; reply: Reply };

interface ResourceSpec<T extends StripeObject> {
  resource: Resource;
  path: string;
  /** As in Stripe's "No such charge: 'ch_...'". */
  noun: string;
  retrievable: boolean;
  /** List parameters besides limit, cursors, created and expand. */
  params: readonly string[];
  collection(account: AccountData): Collection<T>;
  /** Builds the list filter from the query; invalid values answer 400. */
  filter(q: Query): Parsed<(item: T) => boolean>;
}

const everything: Parsed<() => boolean> = { ok: true, value: () => true };

/** A filter on plain string parameters, each compared with a field read from the object. */
function byFields<T>(q: Query, fields: Record<string, (item: T) => string | null | undefined>): Parsed<(item: T) => boolean> {
  const checks: ((item: T) => boolean)[] = [];
  for (const [name, read] of Object.entries(fields)) {
    const wanted = stringParam(q, name);
    if (wanted === null) return { ok: false, reply: stripeErrors.invalidParam(name, `Invalid string: ${name}`) };
    if (wanted !== undefined) checks.push((item) => read(item) === wanted);
  }
  return { ok: true, value: (item) => checks.every((check) => check(item)) };
}

const charges: ResourceSpec<Stripe.Charge> = {
  resource: 'charges',
  path: '/v1/charges',
  noun: 'charge',
  retrievable: true,
  params: ['customer', 'payment_intent', 'transfer_group'],
  collection: (a) => a.charges,
  filter: (q) =>
    byFields<Stripe.Charge>(q, {
      customer: (c) => refOf(c.customer),
      payment_intent: (c) => refOf(c.payment_intent),
      transfer_group: (c) => c.transfer_group,
    }),
};

const refunds: ResourceSpec<Stripe.Refund> = {
  resource: 'refunds',
  path: '/v1/refunds',
  noun: 'refund',
  retrievable: true,
  params: ['charge', 'payment_intent'],
  collection: (a) => a.refunds,
  filter: (q) =>
    byFields<Stripe.Refund>(q, { charge: (r) => refOf(r.charge), payment_intent: (r) => refOf(r.payment_intent) }),
};

const disputes: ResourceSpec<Stripe.Dispute> = {
  resource: 'disputes',
  path: '/v1/disputes',
  noun: 'dispute',
  retrievable: true,
  params: ['charge', 'payment_intent'],
  collection: (a) => a.disputes,
  filter: (q) =>
    byFields<Stripe.Dispute>(q, { charge: (d) => refOf(d.charge), payment_intent: (d) => refOf(d.payment_intent) }),
};

const customers: ResourceSpec<Stripe.Customer> = {
  resource: 'customers',
  path: '/v1/customers',
  noun: 'customer',
  retrievable: true,
  params: ['email'],
  collection: (a) => a.customers,
  filter: (q) => byFields<Stripe.Customer>(q, { email: (c) => c.email }),
};

const SUBSCRIPTION_STATUSES = new Set([
  'active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid',
]);

const subscriptions: ResourceSpec<Stripe.Subscription> = {
  resource: 'subscriptions',
  path: '/v1/subscriptions',
  noun: 'subscription',
  retrievable: true,
  params: ['customer', 'price', 'status', 'collection_method'],
  collection: (a) => a.subscriptions,
  filter: (q) => {
    const fields = byFields<Stripe.Subscription>(q, {
      customer: (s) => refOf(s.customer),
      collection_method: (s) => s.collection_method,
    });
    if (!fields.ok) return fields;
    const price = stringParam(q, 'price');
    const status = stringParam(q, 'status');
    if (price === null) return { ok: false, reply: stripeErrors.invalidParam('price', 'Invalid string: price') };
    if (status === null || (status !== undefined && !SUBSCRIPTION_STATUSES.has(status))) {
      return { ok: false, reply: stripeErrors.invalidParam('status', `Invalid status: must be one of ${[...SUBSCRIPTION_STATUSES].join(', ')}`) };
    }
    // Stripe's default leaves canceled subscriptions out; status=all brings them back.
    const statusMatches = (s: Stripe.Subscription): boolean =>
      status === undefined
        ? s.status !== 'canceled'
        : status === 'all' || (status === 'ended' ? s.status === 'canceled' || s.status === 'incomplete_expired' : s.status === status);
    return {
      ok: true,
      value: (s) =>
        fields.value(s) && statusMatches(s) && (price === undefined || s.items.data.some((item) => item.price.id === price)),
    };
  },
};

const invoices: ResourceSpec<Stripe.Invoice> = {
  resource: 'invoices',
  path: '/v1/invoices',
  noun: 'invoice',
  retrievable: true,
  params: ['customer', 'subscription', 'status', 'collection_method'],
  collection: (a) => a.invoices,
  filter: (q) =>
    byFields<Stripe.Invoice>(q, {
      customer: (i) => refOf(i.customer),
      subscription: (i) => {
        const sub = i.parent?.subscription_details?.subscription;
        return sub === undefined ? null : refOf(sub);
      },
      status: (i) => i.status,
      collection_method: (i) => i.collection_method,
    }),
};

const invoicePayments: ResourceSpec<Stripe.InvoicePayment> = {
  resource: 'invoice_payments',
  path: '/v1/invoice_payments',
  noun: 'invoice_payment',
  retrievable: true,
  params: ['invoice', 'payment', 'status'],
  collection: (a) => a.invoicePayments,
  filter: (q) => {
    const fields = byFields<Stripe.InvoicePayment>(q, { invoice: (p) => refOf(p.invoice), status: (p) => p.status });
    if (!fields.ok) return fields;
    const payment = objectParam(q, 'payment');
    if (payment === null) return { ok: false, reply: stripeErrors.invalidParam('payment', 'Invalid object: payment') };
    if (payment === undefined) return fields;
    const type = stringParam(payment, 'type');
    if (type !== 'payment_intent' && type !== 'payment_record') {
      return { ok: false, reply: stripeErrors.invalidParam('payment[type]', 'Missing required param: payment[type].') };
    }
    const byPayment = byFields<Stripe.InvoicePayment>(payment, {
      type: (p) => p.payment.type,
      payment_intent: (p) => refOf(p.payment.payment_intent ?? null),
      payment_record: (p) => refOf(p.payment.payment_record ?? null),
    });
    if (!byPayment.ok) return byPayment;
    return { ok: true, value: (p) => fields.value(p) && byPayment.value(p) };
  },
};

const balanceTransactions: ResourceSpec<Stripe.BalanceTransaction> = {
  resource: 'balance_transactions',
  path: '/v1/balance_transactions',
  noun: 'balance transaction',
  retrievable: true,
  params: ['type', 'source', 'currency', 'payout'],
  collection: (a) => a.balanceTransactions,
  filter: (q) =>
    byFields<Stripe.BalanceTransaction>(q, {
      type: (b) => b.type,
      source: (b) => (b.source === null ? null : refOf(b.source)),
      currency: (b) => b.currency,
      // The fake has no payouts: a payout filter matches nothing.
      payout: () => null,
    }),
};

const paymentIntents: ResourceSpec<Stripe.PaymentIntent> = {
  resource: 'payment_intents',
  path: '/v1/payment_intents',
  noun: 'payment_intent',
  retrievable: true,
  params: ['customer'],
  collection: (a) => a.paymentIntents,
  filter: (q) => byFields<Stripe.PaymentIntent>(q, { customer: (p) => refOf(p.customer) }),
};

const events: ResourceSpec<Stripe.Event> = {
  resource: 'events',
  path: '/v1/events',
  noun: 'event',
  retrievable: true,
  params: ['type', 'types', 'delivery_success'],
  collection: (a) => a.events,
  filter: (q) => {
    const type = stringParam(q, 'type');
    const types = arrayParam(q, 'types');
    if (type === null) return { ok: false, reply: stripeErrors.invalidParam('type', 'Invalid string: type') };
    if (types === null) return { ok: false, reply: stripeErrors.invalidParam('types', 'Invalid array: types') };
    if (type !== undefined && types.length > 0) {
      return { ok: false, reply: stripeErrors.invalidParam('types', 'You may pass either type or types, but not both.') };
    }
    const patterns = type !== undefined ? [type] : types;
    if (patterns.length === 0) return everything;
    // `charge.*` matches every charge event, as Stripe's wildcard does.
    const matchers = patterns.map((p) => (p.endsWith('*') ? (t: string) => t.startsWith(p.slice(0, -1)) : (t: string) => t === p));
    return { ok: true, value: (e) => matchers.some((m) => m(e.type)) };
  },
};

// The secret is not stored on the object: only the create answer carries it (webhook-endpoints.ts).
const webhookEndpoints: ResourceSpec<Stripe.WebhookEndpoint> = {
  resource: 'webhook_endpoints',
  path: '/v1/webhook_endpoints',
  noun: 'webhook endpoint',
  retrievable: true,
  params: [],
  collection: (a) => a.webhookEndpoints,
  filter: () => everything,
};

/** A resource spec with its object type sealed inside, so specs of different kinds share one table. */
interface Endpoint {
  resource: Resource;
  path: string;
  noun: string;
  retrievable: boolean;
  params: readonly string[];
  get(account: AccountData, id: string): StripeObject | undefined;
  page(account: AccountData, q: Query, req: PageRequest): Parsed<PageResult<StripeObject>>;
}

function endpoint<T extends StripeObject>(spec: ResourceSpec<T>): Endpoint {
  return {
    resource: spec.resource,
    path: spec.path,
    noun: spec.noun,
    retrievable: spec.retrievable,
    params: spec.params,
    get: (account, id) => spec.collection(account).get(id),
    page: (account, q, req) => {
      const filter = spec.filter(q);
      return filter.ok ? { ok: true, value: spec.collection(account).page(req, filter.value) } : filter;
    },
  };
}

const ENDPOINTS: readonly Endpoint[] = [
  endpoint(charges),
  endpoint(refunds),
  endpoint(disputes),
  endpoint(customers),
  endpoint(subscriptions),
  endpoint(invoices),
  endpoint(invoicePayments),
  endpoint(balanceTransactions),
  endpoint(paymentIntents),
  endpoint(events),
  endpoint(webhookEndpoints),
];

export interface RouteMatch {
  resource: Resource;
  spec: Endpoint;
  /** The object id of a retrieve; absent for a list. */
  id?: string;
}

export function matchRoute(path: string): RouteMatch | undefined {
  const m = /^(\/v1\/[a-z_]+)(?:\/([^/]+))?\/?$/.exec(path);
  if (!m) return undefined;
  const spec = ENDPOINTS.find((s) => s.path === m[1]);
  if (!spec) return undefined;
  if (m[2] === undefined) return { resource: spec.resource, spec };
  if (!spec.retrievable) return undefined;
  try {
    return { resource: spec.resource, spec, id: decodeURIComponent(m[2]) };
  } catch {
    return undefined;
  }
}

const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'created', 'expand'];

export function handleRead(route: RouteMatch, q: Query, ctx: RenderContext, now: number): Reply {
  const expandValues = arrayParam(q, 'expand');
  if (expandValues === null) return stripeErrors.invalidParam('expand', 'Invalid array: expand');
  const expand = parseExpand(expandValues);
  const window = route.resource === 'events' ? { gte: now - EVENT_RETENTION_SECONDS } : undefined;
  return route.id === undefined ? list(route, q, ctx, expand, window) : retrieve(route, route.id, q, ctx, expand, window);
}

function retrieve(
  route: RouteMatch,
  id: string,
  q: Query,
  ctx: RenderContext,
  expand: ExpandPath[],
  window: CreatedRange | undefined,
): Reply {
  const unknown = Object.keys(q).find((name) => name !== 'expand');
  if (unknown !== undefined) return stripeErrors.invalidParam(unknown, `Received unknown parameter: ${unknown}`);
  const object = route.spec.get(ctx.account, id);
  if (!object || (window?.gte !== undefined && object.created < window.gte)) {
    return stripeErrors.resourceMissing(route.spec.noun, id, 'id');
  }
  const rendered = renderOne(object, ctx, expand);
  return rendered.ok ? { status: 200, body: rendered.value } : rendered.reply;
}

function list(
  route: RouteMatch,
  q: Query,
  ctx: RenderContext,
  expand: ExpandPath[],
  window: CreatedRange | undefined,
): Reply {
  const unknown = Object.keys(q).find((name) => !LIST_PARAMS.includes(name) && !route.spec.params.includes(name));
  if (unknown !== undefined) return stripeErrors.invalidParam(unknown, `Received unknown parameter: ${unknown}`);
  const limit = parseLimit(q);
  if (!limit.ok) return limit.reply;
  const created = parseCreated(q);
  if (!created.ok) return created.reply;
  const cursors: Partial<Record<'starting_after' | 'ending_before', string>> = {};
  for (const name of ['starting_after', 'ending_before'] as const) {
    const value = stringParam(q, name);
    if (value === null) return stripeErrors.invalidParam(name, `Invalid string: ${name}`);
    if (value !== undefined && value !== '') cursors[name] = value;
  }
  const itemPaths: ExpandPath[] = [];
  for (const path of expand) {
    if (path.segments[0] !== 'data' || path.segments.length < 2) return stripeErrors.notExpandable(path.segments.join('.'), path.param);
    itemPaths.push({ segments: path.segments.slice(1), param: path.param });
  }
  const result = route.spec.page(ctx.account, q, {
    limit: limit.value,
    startingAfter: cursors.starting_after,
    endingBefore: cursors.ending_before,
    created: intersect(created.value, window),
  });
  if (!result.ok) return result.reply;
  const page = result.value;
  if (!page.ok) return stripeErrors.resourceMissing(route.spec.noun, page.missingCursor.id, page.missingCursor.param, 400);
  const data: Record<string, unknown>[] = [];
  for (const object of page.data) {
    const rendered = renderOne(object, ctx, itemPaths);
    if (!rendered.ok) return rendered.reply;
    data.push(rendered.value);
  }
  const body = { object: 'list', data, has_more: page.hasMore, url: route.spec.path } satisfies Stripe.ApiList<unknown>;
  return { status: 200, body };
}

function parseLimit(q: Query): Parsed<number> {
  const raw = stringParam(q, 'limit');
  if (raw === undefined) return { ok: true, value: 10 };
  if (raw === null || !/^-?\d+$/.test(raw)) return { ok: false, reply: stripeErrors.invalidInteger('limit', String(raw)) };
  const value = Number(raw);
  if (value < 1) return { ok: false, reply: stripeErrors.integerOutOfRange('limit', 'min', 1, value) };
  if (value > 100) return { ok: false, reply: stripeErrors.integerOutOfRange('limit', 'max', 100, value) };
  return { ok: true, value };
}

function parseCreated(q: Query): Parsed<CreatedRange | undefined> {
  const raw = q.created;
  if (raw === undefined) return { ok: true, value: undefined };
  if (typeof raw === 'string') {
    if (!/^\d+$/.test(raw)) return { ok: false, reply: stripeErrors.invalidInteger('created', raw) };
    return { ok: true, value: { gte: Number(raw), lte: Number(raw) } };
  }
  if (Array.isArray(raw)) return { ok: false, reply: stripeErrors.invalidParam('created', 'Invalid object: created') };
  const range: CreatedRange = {};
  for (const [op, value] of Object.entries(raw)) {
    if (op !== 'gt' && op !== 'gte' && op !== 'lt' && op !== 'lte') {
      return { ok: false, reply: stripeErrors.invalidParam(`created[${op}]`, `Received unknown parameter: created[${op}]`) };
    }
    if (typeof value !== 'string' || !/^\d+$/.test(value)) {
      return { ok: false, reply: stripeErrors.invalidInteger(`created[${op}]`, String(value)) };
    }
    range[op] = Number(value);
  }
  return { ok: true, value: range };
}

function intersect(a: CreatedRange | undefined, b: CreatedRange | undefined): CreatedRange | undefined {
  if (!a) return b;
  if (!b) return a;
  const gte = Math.max(a.gte ?? -Infinity, a.gt === undefined ? -Infinity : a.gt + 1, b.gte ?? -Infinity, b.gt === undefined ? -Infinity : b.gt + 1);
  const lte = Math.min(a.lte ?? Infinity, a.lt === undefined ? Infinity : a.lt - 1, b.lte ?? Infinity, b.lt === undefined ? Infinity : b.lt - 1);
  return { ...(gte === -Infinity ? {} : { gte }), ...(lte === Infinity ? {} : { lte }) };
}
