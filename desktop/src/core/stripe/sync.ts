import { hashEmail, isHintedStripeObject, normalizeEmail, type Clock } from '@revtrail/shared';
import Stripe from 'stripe';
import type { Db } from '../db/open';
import { keptMetadata } from '../privacy/scrub';
import { getDataSettings } from '../privacy/settings-repo';
import { recordResourceFailure, recordResourceSuccess, type ResourceFailure } from '../sync-state/repo';
import { STRIPE_API_VERSION } from './client';
import { HINTED } from './hints';
import { isGone, permissionFailure, stopsEverything, stripeFailure, type StripeResource } from './failures';
import { checkPermissions, type Permission, type PermissionCheck } from './permissions';
import {
  addHints,
  chargeCreatedAt,
  dropHint,
  dropHintsBefore,
  getCheckpoint,
  lastStripePullAt,
  nextHints,
  unsettledObjects,
  upsertInvoicePayments,
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
  /** An object type's list, the events read as hints, or the objects those hints name read again by id. */
  feed: StripeObjectType | 'events' | 'hints';
  received: number;
  /** Rows new here or (charges) changed, so far. */
  changed: number;
  done: boolean;
}

export interface StripePullResult {
  apiVersion: string;
  counts: Record<StripeObjectType, UpsertCounts>;
  /** Events read since the last pull, and objects read again by id because an event or their state said so. */
  hints: { events: number; reread: number };
  /**
   * False when events could not cover the time since the last pull (no Events permission, or more than 30
   * days away): the pull then re-read everything still open and charges back to 30 days before the last pull.
   */
  eventsCovered: boolean;
  /** Permissions the key lacks, and what that leaves out (e.g. fee and net without Balance). */
  missing: (PermissionCheck & { effect: string })[];
  /** Resources read whole this time (their last pull time moved). */
  pulled: StripeResource[];
  /** Resources that could not be read this time, each with what happened and what to do; the rest went on. */
  skipped: ResourceFailure[];
}

export interface StripePullOptions {
  emailHashKey: string;
  clock: Clock;
  onProgress?: (p: StripeProgress) => void;
  /** 1..100 (Stripe's limit). */
  pageSize?: number;
  /**
   * When events cannot say what changed (no Events permission, or away too long): charges, refunds and
   * disputes created this recently (30 days), and back from the last pull, are listed again.
   */
  reReadMs?: number;
  /** Retries of a 429, 5xx or network failure per request, with exponential backoff and jitter. */
  retries?: number;
  retryBaseMs?: number;
  signal?: AbortSignal;
}

const DAY_MS = 86_400_000;
const DEFAULT_RETRIES = 6;
/** How far back Stripe lists events. */
const EVENTS_KEPT_MS = 30 * DAY_MS;
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
type Hash = (email: string | null | undefined) => Promise<string | null>;
interface WriteContext {
  hash: Hash;
  /** Charges created before this (ms) are not re-listed: a refund or dispute on one asks for it by id. */
  reReadFrom: number;
  /** False during the first backfill of charges, which reads every charge's current state anyway. */
  hintOldCharges: boolean;
  now: number;
  /** The metadata keys the workspace keeps (data_settings): merchants put names and phone numbers in the rest. */
  metadataKeys: readonly string[];
}
interface TypeSpec {
  type: StripeObjectType;
  needs: Permission;
  /** Read with this permission's data when the key has it; a probe Stripe did not answer holds the type back. */
  expands?: Permission;
  list(stripe: Stripe, params: ListParams, perms: Record<Permission, PermissionCheck>): Promise<{ data: unknown[]; has_more: boolean }>;
  retrieve(stripe: Stripe, id: string, perms: Record<Permission, PermissionCheck>): Promise<unknown>;
  write(db: Db, items: unknown[], ctx: WriteContext): Promise<() => UpsertCounts>;
}

/** A new or changed refund or dispute on a charge too old to be re-listed: read that charge again, for its refunded and disputed state. */
function hintOldCharge(db: Db, chargeId: string | null, ctx: WriteContext): void {
  if (!ctx.hintOldCharges || chargeId === null || (chargeCreatedAt(db, chargeId) ?? Infinity) >= ctx.reReadFrom) return;
  addHints(db, [{ type: 'charges', id: chargeId }], ctx.now);
}

// Customers first: a charge without a billing email takes its customer's email hash.
const TYPES: TypeSpec[] = [
  {
    type: 'customers',
    needs: 'customers',
    list: (s, p) => s.customers.list(p),
    retrieve: (s, id) => s.customers.retrieve(id),
    async write(db, items, { hash }) {
      const rows = await Promise.all(
        (items as Stripe.Customer[]).map(async (c) => ({ id: c.id, createdAt: ms(c.created), emailHash: await hash(c.email) })),
      );
      return () => upsertCustomers(db, rows);
    },
  },
  {
    type: 'charges',
    needs: 'charges',
    // Without a fee a charge read now would keep it empty: it is not read again unless it changes.
    expands: 'balance',
    list: (s, p, perms) => s.charges.list({ ...p, ...(perms.balance.ok ? { expand: ['data.balance_transaction'] } : {}) }),
    retrieve: (s, id, perms) => s.charges.retrieve(id, perms.balance.ok ? { expand: ['balance_transaction'] } : {}),
    async write(db, items, { hash, metadataKeys }) {
      const rows = await Promise.all((items as Stripe.Charge[]).map((c) => chargeRow(c, hash, metadataKeys)));
      return () => upsertCharges(db, rows);
    },
  },
  {
    type: 'refunds',
    needs: 'refunds',
    list: (s, p) => s.refunds.list(p),
    retrieve: (s, id) => s.refunds.retrieve(id),
    async write(db, items, ctx) {
      const rows = (items as Stripe.Refund[]).map((r) => ({
        id: r.id,
        createdAt: ms(r.created),
        chargeId: idOf(r.charge),
        amountMinor: r.amount,
        currency: r.currency.toUpperCase(),
        status: r.status,
        reason: r.reason,
      }));
      return () => upsertRefunds(db, rows, (r) => hintOldCharge(db, r.chargeId, ctx));
    },
  },
  {
    type: 'disputes',
    needs: 'disputes',
    list: (s, p) => s.disputes.list(p),
    retrieve: (s, id) => s.disputes.retrieve(id),
    async write(db, items, ctx) {
      const rows = (items as Stripe.Dispute[]).map((d) => ({
        id: d.id,
        createdAt: ms(d.created),
        chargeId: idOf(d.charge)!,
        amountMinor: d.amount,
        currency: d.currency.toUpperCase(),
        status: d.status,
        reason: d.reason,
      }));
      return () => upsertDisputes(db, rows, (d) => hintOldCharge(db, d.chargeId, ctx));
    },
  },
  {
    type: 'subscriptions',
    needs: 'subscriptions',
    list: (s, p) => s.subscriptions.list({ ...p, status: 'all' }),
    retrieve: (s, id) => s.subscriptions.retrieve(id),
    async write(db, items, { metadataKeys }) {
      const rows = (items as Stripe.Subscription[]).map((s) => ({
        id: s.id,
        createdAt: ms(s.created),
        customerId: idOf(s.customer)!,
        status: s.status,
        currency: s.currency.toUpperCase(),
        canceledAt: s.canceled_at === null ? null : ms(s.canceled_at),
        metadataJson: keptMetadata(s.metadata, metadataKeys),
      }));
      return () => upsertSubscriptions(db, rows);
    },
  },
  {
    type: 'invoices',
    needs: 'invoices',
    list: (s, p) => s.invoices.list(p),
    retrieve: (s, id) => s.invoices.retrieve(id),
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
  {
    // Basil and later: which charge paid which invoice (the charge no longer says).
    type: 'invoice_payments',
    needs: 'invoices',
    list: (s, p) => s.invoicePayments.list(p),
    retrieve: (s, id) => s.invoicePayments.retrieve(id),
    async write(db, items) {
      const rows = (items as Stripe.InvoicePayment[]).map((p) => ({
        id: p.id,
        createdAt: ms(p.created),
        invoiceId: idOf(p.invoice)!,
        paymentIntentId: idOf(p.payment.payment_intent),
        chargeId: idOf((p.payment as { charge?: string | { id: string } | null }).charge),
        status: p.status,
        amountPaidMinor: p.amount_paid,
        currency: p.currency.toUpperCase(),
      }));
      return () => upsertInvoicePayments(db, rows);
    },
  },
];
const SPEC = Object.fromEntries(TYPES.map((t) => [t.type, t])) as Record<StripeObjectType, TypeSpec>;

/** The object an event is about, as a hint to read it again; null for kinds the sync does not keep. */
function hintOf(e: Stripe.Event): { type: StripeObjectType; id: string } | null {
  const obj = e.data.object as { object?: string; id?: string };
  const type = isHintedStripeObject(obj.object) ? HINTED[obj.object] : undefined;
  return type && typeof obj.id === 'string' ? { type, id: obj.id } : null;
}

const EFFECT: Record<Permission, string> = {
  charges: 'charges are not read',
  refunds: 'refunds are not read',
  customers: 'customers are not read (charges then fall back to billing and receipt emails)',
  payment_intents: 'nothing yet; later versions read PaymentIntents',
  subscriptions: 'subscriptions are not read',
  invoices: 'invoices are not read, so first payments and renewals cannot be told apart',
  disputes: 'disputes are not read',
  events: 'changes to objects older than 30 days (a refund failing, a dispute closing, a subscription ending) are found by reading again everything still open, which costs more requests',
  balance: 'fees and net amounts are left empty',
};

async function chargeRow(c: Stripe.Charge, hash: Hash, metadataKeys: readonly string[]): Promise<ChargeRow> {
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
    metadataJson: keptMetadata(c.metadata, metadataKeys),
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
 * which the upserts make harmless.
 *
 * Changes to objects already read (a refund on an old charge, a failed refund, a closed dispute, a
 * canceled subscription) come from events: each names its object, which is read again by id (hints).
 * Refunds and disputes are also listed by their own `created`, and a new one asks for its charge again.
 * Where events cannot cover the time since the last pull, charges, refunds and disputes from `reReadMs`
 * before it are listed again and everything still open is read again by id.
 *
 * Each resource (events, each object type with the re-reads its hints ask for) is read on its own. One that
 * fails (an endpoint the server lacks, a permission the key lacks, a timeout, 429 or 5xx after the retries)
 * is recorded in sync_resources with what to do and returned in `skipped`, and the pull goes on with the
 * next; its hints stay for the pull where it comes back. A resource read whole gets its last pull time: the
 * start of this pull, taken before the events are read, because a change made after that may have been
 * missed by the lists (they read newest first from where they started) and is named by the next events,
 * read from the cursor this pull left. A failed pull of a resource moves nothing.
 *
 * Dependencies. Events failing: this pull falls back to re-reading what may still change, as without the
 * Events permission. invoice_payments failing: charges stay unlinked from their invoices (unless the charge
 * names its invoice) until invoice payments are read, whose upsert then links the charges already here.
 * customers failing: a charge of a customer not read yet keeps its billing or receipt email only.
 * charges failing: hints for old charges (from refunds and disputes) wait for the next pull.
 *
 * Throws only when nothing else can be read: 401 (key invalid or revoked) at once, without retries, or a key
 * that may not read the connected account. Whatever was committed stays.
 */
export async function pullStripe(db: Db, stripe: Stripe, opts: StripePullOptions): Promise<StripePullResult> {
  const limit = opts.pageSize ?? 100;
  const retry = <T>(call: () => Promise<T>) => withStripeRetry(call, opts);
  const now = opts.clock.now();
  const unanswered = new Map<Permission, Stripe.errors.StripeError>();
  const perms = await checkPermissions(stripe, retry, unanswered);
  const result: StripePullResult = {
    apiVersion: STRIPE_API_VERSION,
    counts: emptyCounts(),
    hints: { events: 0, reread: 0 },
    eventsCovered: true,
    missing: (Object.keys(perms) as Permission[]).filter((p) => !perms[p].ok && !unanswered.has(p)).map((p) => ({ ...perms[p], effect: EFFECT[p] })),
    pulled: [],
    skipped: [],
  };
  const { failed, fail, failWith } = failureBook(db, now, opts);
  // Resources the probes already rule out: a permission the key lacks, or a probe Stripe did not answer.
  const needs: [StripeResource, Permission[]][] = [['events', ['events']], ...TYPES.map((t): [StripeResource, Permission[]] => [t.type, [t.needs, ...(t.expands ? [t.expands] : [])]])];
  for (const [resource, permissions] of needs) {
    const silent = permissions.find((p) => unanswered.has(p));
    if (silent) failWith(resource, unanswered.get(silent));
    else if (!perms[permissions[0]!].ok) fail(permissionFailure(resource, perms[permissions[0]!]));
  }
  const reReadMs = opts.reReadMs ?? 30 * DAY_MS;
  // The oldest data among what this pull reads decides whether events reach back far enough.
  const lastPullAt = lastStripePullAt(db, needs.map(([r]) => r).filter((r) => !failed.has(r)));
  const ctx = writeContext(db, opts, now, now - reReadMs);

  // Events first: a change made while the lists below are read is then at or after the events checkpoint.
  let events = { covered: false, read: 0 };
  if (!failed.has('events')) {
    try {
      events = await pullEvents(db, stripe, { ...opts, limit, retry, now, lastPullAt });
    } catch (e) {
      failWith('events', e);
    }
  }
  result.hints.events = events.read;
  if (events.covered && lastPullAt !== null) {
    // Events name every object that changed since the last pull, and refunds and disputes come by their own
    // `created`: nothing needs listing again.
    ctx.reReadFrom = now;
  } else if (!events.covered && lastPullAt !== null) {
    // Events cannot say what changed since the last pull: read again whatever may still change, and
    // re-list charges back to 30 days before the last pull (at most a year).
    result.eventsCovered = false;
    ctx.reReadFrom = Math.max(now - 365 * DAY_MS, Math.min(ctx.reReadFrom, lastPullAt - reReadMs));
    db.transaction(() => addHints(db, unsettledObjects(db), now))();
  }

  for (const spec of TYPES) {
    if (failed.has(spec.type)) continue;
    try {
      await listType(db, stripe, spec, perms, ctx, result, { ...opts, limit, retry });
    } catch (e) {
      failWith(spec.type, e);
    }
  }

  result.hints.reread = await readHinted(db, stripe, perms, ctx, result.counts, opts, retry, failed, failWith);
  for (const [resource] of needs) {
    const failure = failed.get(resource);
    if (failure) result.skipped.push(failure);
    else {
      recordResourceSuccess(db, 'stripe', resource, now);
      result.pulled.push(resource);
    }
  }
  return result;
}

export const emptyCounts = (): Record<StripeObjectType, UpsertCounts> => ({
  customers: { added: 0, updated: 0 },
  charges: { added: 0, updated: 0 },
  refunds: { added: 0, updated: 0 },
  disputes: { added: 0, updated: 0 },
  subscriptions: { added: 0, updated: 0 },
  invoices: { added: 0, updated: 0 },
  invoice_payments: { added: 0, updated: 0 },
});

/** How emails are hashed, which old charges a refund asks for again, and the metadata kept. */
function writeContext(db: Db, opts: Pick<StripePullOptions, 'emailHashKey'>, now: number, reReadFrom: number): WriteContext {
  return {
    hash: async (email) => {
      const normal = email ? normalizeEmail(email) : null;
      return normal ? hashEmail(normal, opts.emailHashKey) : null;
    },
    reReadFrom,
    now,
    hintOldCharges: getCheckpoint(db, 'charges').createdGte > 0,
    metadataKeys: getDataSettings(db).metadataKeys,
  };
}

/** The resources that failed this run, each recorded in sync_resources with what to do. */
function failureBook(db: Db, now: number, opts: Pick<StripePullOptions, 'retries'>) {
  const attempts = (opts.retries ?? DEFAULT_RETRIES) + 1;
  const failed = new Map<StripeResource, ResourceFailure>();
  const fail = (failure: ResourceFailure) => {
    failed.set(failure.resource as StripeResource, failure);
    recordResourceFailure(db, failure, now);
  };
  const failWith = (resource: StripeResource, e: unknown) => {
    if (!(e instanceof Stripe.errors.StripeError) || stopsEverything(e)) throw e;
    fail(stripeFailure(resource, e, attempts));
  };
  return { failed, fail, failWith };
}

export interface HintReadOptions extends Pick<StripePullOptions, 'emailHashKey' | 'clock' | 'onProgress' | 'retries' | 'retryBaseMs' | 'signal'> {
  /** What the key may read, as a recent check found it; checked now (nine requests) when absent. */
  permissions?: Record<Permission, PermissionCheck>;
}

export interface HintReadResult {
  counts: Record<StripeObjectType, UpsertCounts>;
  /** Objects read again by id and written (a hint of an object Stripe no longer has writes nothing). */
  reread: number;
  /** Object types that could not be read this time: their hints wait for the next read or pull. */
  skipped: ResourceFailure[];
  permissions: Record<Permission, PermissionCheck>;
}

/**
 * Only the reads by id of what the hints name (a webhook said "look at this id"), without the events and list
 * passes of a pull, and without moving any resource's last pull time: those stay the full pull's. A refund or
 * dispute read here asks for its charge again (its refunded and disputed state), whatever the charge's age,
 * since no list runs to bring it. Types the key may not read keep their hints for the pull that reports that.
 * Throws as a pull does: on a key Stripe refuses, or one that may not read the connected account.
 */
export async function readHintsNow(db: Db, stripe: Stripe, opts: HintReadOptions): Promise<HintReadResult> {
  const retry = <T>(call: () => Promise<T>) => withStripeRetry(call, opts);
  const now = opts.clock.now();
  const perms = opts.permissions ?? (await checkPermissions(stripe, retry));
  const counts = emptyCounts();
  const { failed, failWith } = failureBook(db, now, opts);
  // Held back, not recorded: the full pull records (and explains) a permission the key lacks.
  const held = new Map<StripeResource, ResourceFailure>();
  for (const t of TYPES) {
    if (perms[t.needs].ok) continue;
    held.set(t.type, permissionFailure(t.type, perms[t.needs]));
    failed.set(t.type, held.get(t.type)!);
  }
  const ctx = writeContext(db, opts, now, now);
  const reread = await readHinted(db, stripe, perms, ctx, counts, opts, retry, failed, failWith);
  return { counts, reread, skipped: [...failed.values()].filter((f) => !held.has(f.resource as StripeResource)), permissions: perms };
}

/** One object type's list pass, from its checkpoint; each page written in one transaction with it. */
async function listType(
  db: Db,
  stripe: Stripe,
  spec: TypeSpec,
  perms: Record<Permission, PermissionCheck>,
  ctx: WriteContext,
  result: StripePullResult,
  opts: StripePullOptions & { limit: number; retry: <T>(call: () => Promise<T>) => Promise<T> },
): Promise<void> {
  const counts = result.counts[spec.type];
  let received = 0;
  for (;;) {
    opts.signal?.throwIfAborted();
    const cp = getCheckpoint(db, spec.type);
    const gte = RE_READ.has(spec.type) ? Math.min(cp.createdGte, sec(ctx.reReadFrom)) : cp.createdGte;
    const params: ListParams = { limit: opts.limit, created: { gte }, ...(cp.passAfter ? { starting_after: cp.passAfter } : {}) };
    let page: { data: unknown[]; has_more: boolean };
    try {
      page = await opts.retry(() => spec.list(stripe, params, perms));
    } catch (e) {
      // The object the pass stopped at is gone (a deleted customer): start the pass again from the top.
      if (cp.passAfter && e instanceof Stripe.errors.StripeInvalidRequestError && e.param === 'starting_after') {
        setCheckpoint(db, spec.type, { ...cp, passTop: null, passAfter: null }, STRIPE_API_VERSION, opts.clock.now());
        continue;
      }
      throw e;
    }
    const items = page.data as { id: string; created: number }[];
    const write = await spec.write(db, items, ctx);
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
    if (!page.has_more) return;
  }
}

/**
 * Reads the events newer than the last one read and records the objects they name as hints. The checkpoint
 * keeps the newest event's id (in pass_after) and walks forward with `ending_before`, each page in one
 * transaction with its hints, so nothing is read twice and a killed pull resumes. Without an id (an account
 * that had no events, or an id Stripe no longer keeps) it lists by `created` instead. The first pull only
 * sets the checkpoint: the lists that follow read everything. `covered` says whether the events reach back
 * to the last pull (Stripe keeps 30 days).
 */
async function pullEvents(
  db: Db,
  stripe: Stripe,
  o: StripePullOptions & { limit: number; now: number; lastPullAt: number | null; retry: <T>(call: () => Promise<T>) => Promise<T> },
): Promise<{ covered: boolean; read: number }> {
  const save = (createdGte: number, newestId: string | null) =>
    setCheckpoint(db, 'events', { createdGte, passTop: null, passAfter: newestId }, STRIPE_API_VERSION, o.clock.now());
  const start = getCheckpoint(db, 'events');
  if (start.createdGte === 0 && start.passAfter === null) {
    const newest = (await o.retry(() => stripe.events.list({ limit: 1 }))).data[0];
    save(newest?.created ?? sec(o.now), newest?.id ?? null);
    // Nothing here yet (everything is read now), or events were not readable until now (they cover nothing).
    return { covered: o.lastPullAt === null, read: 0 };
  }
  // Stripe keeps 30 days of events; an hour's margin for one just expiring while the list is read.
  let covered = o.lastPullAt !== null && o.lastPullAt > o.now - EVENTS_KEPT_MS + 3_600_000;
  let read = 0;
  const record = (page: Stripe.ApiList<Stripe.Event>, checkpoint: () => void) => {
    db.transaction(() => {
      addHints(db, page.data.map(hintOf).filter((h) => h !== null), o.now);
      checkpoint();
    })();
    read += page.data.length;
    o.onProgress?.({ feed: 'events', received: read, changed: 0, done: !page.has_more });
  };

  let cursor = start.passAfter;
  while (cursor !== null) {
    o.signal?.throwIfAborted();
    const after: string = cursor;
    let page: Stripe.ApiList<Stripe.Event>;
    try {
      page = await o.retry(() => stripe.events.list({ limit: o.limit, ending_before: after }));
    } catch (e) {
      if (!(e instanceof Stripe.errors.StripeInvalidRequestError && e.param === 'ending_before')) throw e;
      // The last event read is older than Stripe keeps: list what is kept, and say the gap was not covered.
      covered = false;
      save(sec(o.now - EVENTS_KEPT_MS), null);
      break;
    }
    const newest = page.data[0];
    record(page, () => newest && save(newest.created, newest.id));
    if (!page.has_more || !newest) return { covered, read };
    cursor = newest.id;
  }

  // By `created`, newest first; the newest id becomes the cursor once the walk is through.
  const since = getCheckpoint(db, 'events').createdGte;
  let top: Stripe.Event | undefined;
  let startingAfter: string | undefined;
  for (;;) {
    o.signal?.throwIfAborted();
    const page = await o.retry(() => stripe.events.list({ limit: o.limit, created: { gte: since }, ...(startingAfter ? { starting_after: startingAfter } : {}) }));
    top ??= page.data[0];
    const done = !page.has_more;
    record(page, () => done && save(top?.created ?? since, top?.id ?? null));
    if (done) return { covered, read };
    startingAfter = page.data.at(-1)!.id;
  }
}

/**
 * Reads again, by id, every object a hint names; each write and the hint's removal in one transaction. A
 * type that cannot be read this pull keeps its hints for the pull where it comes back, except where nothing
 * of it was read yet (its first list reads everything as it is) and hints older than the events Stripe
 * keeps (a type away that long gets the re-read of everything still open instead: see lastStripePullAt).
 */
async function readHinted(
  db: Db,
  stripe: Stripe,
  perms: Record<Permission, PermissionCheck>,
  ctx: WriteContext,
  counts: Record<StripeObjectType, UpsertCounts>,
  opts: Pick<StripePullOptions, 'onProgress' | 'signal'>,
  retry: <T>(call: () => Promise<T>) => Promise<T>,
  failed: ReadonlyMap<StripeResource, ResourceFailure>,
  failWith: (resource: StripeResource, e: unknown) => void,
): Promise<number> {
  const waiting = () => TYPES.map((t) => t.type).filter((t) => failed.has(t));
  for (const type of waiting()) {
    const cp = getCheckpoint(db, type);
    dropHintsBefore(db, type, cp.createdGte === 0 && cp.passAfter === null ? Infinity : ctx.now - EVENTS_KEPT_MS);
  }
  let reread = 0;
  // A re-read refund hints its charge again; once per pull is enough (both are read as of now).
  const done = new Set<string>();
  for (;;) {
    const batch = nextHints(db, 100, waiting());
    if (batch.length === 0) return reread;
    for (const hint of batch) {
      opts.signal?.throwIfAborted();
      if (failed.has(hint.type)) continue;
      const spec = SPEC[hint.type];
      let obj: unknown = null;
      const key = `${hint.type}/${hint.id}`;
      const fresh = !done.has(key);
      done.add(key);
      if (fresh && spec && perms[spec.needs].ok) {
        try {
          obj = await retry(() => spec.retrieve(stripe, hint.id, perms));
        } catch (e) {
          // Gone (a deleted customer, an object of another account): nothing left to read.
          if (!isGone(e)) {
            failWith(hint.type, e);
            continue;
          }
        }
      }
      const live = obj !== null && !(obj as { deleted?: boolean }).deleted;
      const write = live ? await spec!.write(db, [obj], ctx) : null;
      db.transaction(() => {
        if (write) {
          const n = write();
          counts[hint.type].added += n.added;
          counts[hint.type].updated += n.updated;
        }
        dropHint(db, hint.type, hint.id);
      })();
      if (live) reread += 1;
      opts.onProgress?.({ feed: 'hints', received: reread, changed: reread, done: false });
    }
  }
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
  const retries = opts.retries ?? DEFAULT_RETRIES;
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
