import { hashEmail, normalizeEmail, type Clock } from '@revtrail/shared';
import Stripe from 'stripe';
import type { Db } from '../db/open';
import { STRIPE_API_VERSION } from './client';
import { checkPermissions, type Permission, type PermissionCheck } from './permissions';
import {
  getCheckpoint,
  setCheckpoint,
  upsertCharges,
  upsertCustomers,
  upsertDisputes,
  upsertInvoices,
  upsertRefunds,
  upsertSubscriptions,
  type ChargeRow,
  type StripeObjectType,
  type UpsertCounts,
} from './repo';

export interface StripeProgress {
  feed: StripeObjectType;
  received: number;
  /** Rows new here or (charges) changed, so far. */
  changed: number;
  done: boolean;
}

export interface StripePullResult {
  apiVersion: string;
  counts: Record<StripeObjectType, UpsertCounts>;
  /** Permissions the key lacks, and what that leaves out (e.g. fee and net without Balance). */
  missing: (PermissionCheck & { effect: string })[];
}

export interface StripePullOptions {
  emailHashKey: string;
  clock: Clock;
  onProgress?: (p: StripeProgress) => void;
  /** 1..100 (Stripe's limit). */
  pageSize?: number;
  /** Charges, refunds and disputes created this recently are read again on every pull (30 days). */
  reReadMs?: number;
  /** Retries of a 429, 5xx or network failure per request, with exponential backoff and jitter. */
  retries?: number;
  retryBaseMs?: number;
  signal?: AbortSignal;
}

const DAY_MS = 86_400_000;
/** Types whose objects change after they are created in ways a later pull must see (refunds, disputes). */
const RE_READ = new Set<StripeObjectType>(['charges', 'refunds', 'disputes']);
const sec = (ms: number) => Math.floor(ms / 1000);
const ms = (seconds: number) => seconds * 1000;
const idOf = (ref: string | { id: string } | null | undefined) => (ref === null || ref === undefined ? null : typeof ref === 'string' ? ref : ref.id);

interface ListParams {
  limit: number;
  created: { gte: number };
  starting_after?: string;
}
interface TypeSpec {
  type: StripeObjectType;
  needs: Permission;
  list(stripe: Stripe, params: ListParams, perms: Record<Permission, PermissionCheck>): Promise<{ data: unknown[]; has_more: boolean }>;
  write(db: Db, items: unknown[], hash: (email: string | null | undefined) => Promise<string | null>): Promise<() => UpsertCounts>;
}

// Customers first: a charge without a billing email takes its customer's email hash.
const TYPES: TypeSpec[] = [
  {
    type: 'customers',
    needs: 'customers',
    list: (s, p) => s.customers.list(p),
    async write(db, items, hash) {
      const rows = await Promise.all(
        (items as Stripe.Customer[]).map(async (c) => ({ id: c.id, createdAt: ms(c.created), emailHash: await hash(c.email) })),
      );
      return () => upsertCustomers(db, rows);
    },
  },
  {
    type: 'charges',
    needs: 'charges',
    list: (s, p, perms) => s.charges.list({ ...p, ...(perms.balance.ok ? { expand: ['data.balance_transaction'] } : {}) }),
    async write(db, items, hash) {
      const rows = await Promise.all((items as Stripe.Charge[]).map((c) => chargeRow(c, hash)));
      return () => upsertCharges(db, rows);
    },
  },
  {
    type: 'refunds',
    needs: 'refunds',
    list: (s, p) => s.refunds.list(p),
    async write(db, items) {
      const rows = (items as Stripe.Refund[]).map((r) => ({
        id: r.id,
        createdAt: ms(r.created),
        chargeId: idOf(r.charge),
        amountMinor: r.amount,
        currency: r.currency.toUpperCase(),
        status: r.status,
        reason: r.reason,
      }));
      return () => upsertRefunds(db, rows);
    },
  },
  {
    type: 'disputes',
    needs: 'disputes',
    list: (s, p) => s.disputes.list(p),
    async write(db, items) {
      const rows = (items as Stripe.Dispute[]).map((d) => ({
        id: d.id,
        createdAt: ms(d.created),
        chargeId: idOf(d.charge)!,
        amountMinor: d.amount,
        currency: d.currency.toUpperCase(),
        status: d.status,
        reason: d.reason,
      }));
      return () => upsertDisputes(db, rows);
    },
  },
  {
    type: 'subscriptions',
    needs: 'subscriptions',
    list: (s, p) => s.subscriptions.list({ ...p, status: 'all' }),
    async write(db, items) {
      const rows = (items as Stripe.Subscription[]).map((s) => ({
        id: s.id,
        createdAt: ms(s.created),
        customerId: idOf(s.customer)!,
        status: s.status,
        currency: s.currency.toUpperCase(),
        canceledAt: s.canceled_at === null ? null : ms(s.canceled_at),
        metadataJson: JSON.stringify(s.metadata ?? {}),
      }));
      return () => upsertSubscriptions(db, rows);
    },
  },
  {
    type: 'invoices',
    needs: 'invoices',
    list: (s, p) => s.invoices.list(p),
    async write(db, items) {
      const rows = (items as Stripe.Invoice[]).map((i) => ({
        id: i.id!,
        createdAt: ms(i.created),
        customerId: idOf(i.customer),
        // Before 2025-03-31 (basil) the invoice named its subscription directly; basil moved it under parent.
        subscriptionId: idOf(i.parent?.subscription_details?.subscription) ?? idOf((i as { subscription?: string | { id: string } | null }).subscription),
        billingReason: i.billing_reason,
        status: i.status,
        currency: i.currency.toUpperCase(),
        amountPaidMinor: i.amount_paid,
        totalMinor: i.total,
      }));
      return () => upsertInvoices(db, rows);
    },
  },
];

const EFFECT: Record<Permission, string> = {
  charges: 'charges are not read',
  refunds: 'refunds are not read',
  customers: 'customers are not read (charges then fall back to billing and receipt emails)',
  payment_intents: 'nothing yet; later versions read PaymentIntents',
  subscriptions: 'subscriptions are not read',
  invoices: 'invoices are not read, so first payments and renewals cannot be told apart',
  disputes: 'disputes are not read',
  events: 'nothing yet; later versions read events as hints',
  balance: 'fees and net amounts are left empty',
};

async function chargeRow(c: Stripe.Charge, hash: (email: string | null | undefined) => Promise<string | null>): Promise<ChargeRow> {
  const bt = typeof c.balance_transaction === 'object' && c.balance_transaction !== null ? c.balance_transaction : null;
  const vid = c.metadata?.revtrail_vid ?? (c as { client_reference_id?: string | null }).client_reference_id;
  const invoice = (c as { invoice?: string | { id: string } | null }).invoice;
  return {
    id: c.id,
    createdAt: ms(c.created),
    status: c.status,
    amountMinor: c.amount,
    amountCapturedMinor: c.amount_captured,
    amountRefundedMinor: c.amount_refunded,
    refunded: c.refunded,
    disputed: c.disputed,
    currency: c.currency.toUpperCase(),
    customerId: idOf(c.customer),
    paymentIntentId: idOf(c.payment_intent),
    invoiceId: idOf(invoice),
    billingEmailHash: await hash(c.billing_details?.email),
    receiptEmailHash: await hash(c.receipt_email),
    visitorId: typeof vid === 'string' && vid.length > 0 ? vid : null,
    metadataJson: JSON.stringify(c.metadata ?? {}),
    feeMinor: bt?.fee ?? null,
    netMinor: bt?.net ?? null,
    settlementCurrency: bt ? bt.currency.toUpperCase() : null,
    exchangeRate: bt?.exchange_rate ?? null,
  };
}

/**
 * Pulls the workspace's Stripe objects into its database.
 *
 * Checkpoints. Stripe lists newest first, so a pass over `created >= gte` walks from the newest object
 * down with `starting_after`. Each page is written in one transaction with the checkpoint: the pass's top
 * (the newest `created` on its first page) and the last id written, so a killed pull resumes after the
 * last committed page. Only when the pass reaches its end does `gte` move up to that top; objects created
 * meanwhile are at or above it and come in the next pass. `gte` (not `gt`) re-reads the top second,
 * which the upserts make harmless. Charges, refunds and disputes are also read from `now - reReadMs` on
 * every pass: a refund or dispute changes an old charge without creating one (refunds and disputes are
 * listed by their own `created` too), a refund can fail and a dispute close after they were read.
 *
 * Throws a Stripe error when it cannot go on: 401 (key invalid or revoked) at once, without retries; a
 * 429, 5xx or network failure after its retries. Whatever was committed stays.
 */
export async function pullStripe(db: Db, stripe: Stripe, opts: StripePullOptions): Promise<StripePullResult> {
  const limit = opts.pageSize ?? 100;
  const retry = <T>(call: () => Promise<T>) => withStripeRetry(call, opts);
  const perms = await checkPermissions(stripe, retry);
  const hash = async (email: string | null | undefined) => {
    const normal = email ? normalizeEmail(email) : null;
    return normal ? hashEmail(normal, opts.emailHashKey) : null;
  };
  const empty = () => ({ added: 0, updated: 0 });
  const result: StripePullResult = {
    apiVersion: STRIPE_API_VERSION,
    counts: { customers: empty(), charges: empty(), refunds: empty(), disputes: empty(), subscriptions: empty(), invoices: empty() },
    missing: (Object.keys(perms) as Permission[]).filter((p) => !perms[p].ok).map((p) => ({ ...perms[p], effect: EFFECT[p] })),
  };

  for (const spec of TYPES) {
    if (!perms[spec.needs].ok) continue;
    const counts = result.counts[spec.type];
    let received = 0;
    for (;;) {
      opts.signal?.throwIfAborted();
      const cp = getCheckpoint(db, spec.type);
      const gte = RE_READ.has(spec.type) ? Math.min(cp.createdGte, sec(opts.clock.now() - (opts.reReadMs ?? 30 * DAY_MS))) : cp.createdGte;
      const params: ListParams = { limit, created: { gte }, ...(cp.passAfter ? { starting_after: cp.passAfter } : {}) };
      let page: { data: unknown[]; has_more: boolean };
      try {
        page = await retry(() => spec.list(stripe, params, perms));
      } catch (e) {
        // The object the pass stopped at is gone (a deleted customer): start the pass again from the top.
        if (cp.passAfter && e instanceof Stripe.errors.StripeInvalidRequestError && e.param === 'starting_after') {
          setCheckpoint(db, spec.type, { ...cp, passTop: null, passAfter: null }, STRIPE_API_VERSION, opts.clock.now());
          continue;
        }
        throw e;
      }
      const items = page.data as { id: string; created: number }[];
      const write = await spec.write(db, items, hash);
      db.transaction(() => {
        const n = write();
        counts.added += n.added;
        counts.updated += n.updated;
        const top = cp.passTop ?? items[0]?.created ?? null;
        const next = page.has_more
          ? { createdGte: cp.createdGte, passTop: top, passAfter: items.at(-1)!.id }
          : { createdGte: Math.max(cp.createdGte, top ?? 0), passTop: null, passAfter: null };
        setCheckpoint(db, spec.type, next, STRIPE_API_VERSION, opts.clock.now());
      })();
      received += items.length;
      opts.onProgress?.({ feed: spec.type, received, changed: counts.added + counts.updated, done: !page.has_more });
      if (!page.has_more) break;
    }
  }
  return result;
}

/** Whether a failure is worth waiting for: rate limits, Stripe's own 5xx, the network. Never a 4xx. */
function transient(e: unknown): e is Stripe.errors.StripeError {
  if (!(e instanceof Stripe.errors.StripeError)) return false;
  return e instanceof Stripe.errors.StripeConnectionError || e.statusCode === 429 || (e.statusCode ?? 0) >= 500;
}

/**
 * Our own backoff: the client runs with maxNetworkRetries 0 because it retries a 429 only when Stripe sends
 * `Stripe-Should-Retry: true`. Exponential with jitter over its upper half; a Retry-After sets the least wait.
 */
export async function withStripeRetry<T>(call: () => Promise<T>, opts: Pick<StripePullOptions, 'retries' | 'retryBaseMs' | 'signal'>): Promise<T> {
  const retries = opts.retries ?? 6;
  const base = opts.retryBaseMs ?? 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!transient(e) || attempt >= retries) throw e;
      const header = e.headers?.['retry-after'];
      const retryAfterMs = Number(header) * 1000;
      const backoff = Math.min(base * 2 ** attempt, 60_000);
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const wait = header !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs + jittered / 4 : jittered;
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, wait);
        opts.signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(t);
            reject(opts.signal!.reason);
          },
          { once: true },
        );
      });
    }
  }
}
