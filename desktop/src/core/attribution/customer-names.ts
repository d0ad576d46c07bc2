import type Stripe from 'stripe';
import type { Clock } from '@revtrail/shared';

/** A customer as Stripe names them; null fields: Stripe has none (or the customer was deleted there). */
export interface CustomerName {
  name: string | null;
  email: string | null;
}

/** How long a name read from Stripe is kept in this process's memory: never on disk, never in a log. */
export const NAME_MEMORY_MS = 10 * 60_000;
/** At most this many customers are read per request (one screen's worth), this many at a time. */
export const MAX_NAMES_PER_REQUEST = 200;
const CONCURRENCY = 4;

/**
 * Names and emails of Stripe customers, read when a screen shows them (the workspace allows it: data_settings
 * customer_names) and remembered in memory for NAME_MEMORY_MS, per workspace, so paging back and forth does
 * not ask Stripe again. Revtrail stores neither: its database keeps only the email's keyed hash.
 */
export class CustomerNames {
  private readonly memory = new Map<string, Map<string, { at: number; value: CustomerName }>>();

  constructor(private readonly clock: Clock) {}

  /** Forgets a workspace's names (the allowance was switched off, or someone was erased). */
  forget(workspaceId: string): void {
    this.memory.delete(workspaceId);
  }

  async read(workspaceId: string, stripe: Stripe, ids: readonly string[]): Promise<Record<string, CustomerName>> {
    const now = this.clock.now();
    let known = this.memory.get(workspaceId);
    if (!known) this.memory.set(workspaceId, (known = new Map()));
    for (const [id, v] of known) if (now - v.at >= NAME_MEMORY_MS) known.delete(id);
    const out: Record<string, CustomerName> = {};
    const missing = [...new Set(ids)].filter((id) => {
      const hit = known.get(id);
      if (hit) out[id] = hit.value;
      return !hit;
    });
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        const id = missing[next++]!;
        const value = await retrieve(stripe, id);
        known.set(id, { at: now, value });
        out[id] = value;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, missing.length) }, worker));
    return out;
  }
}

/** One customer; a customer deleted in Stripe, or gone from it, has no name. */
async function retrieve(stripe: Stripe, id: string): Promise<CustomerName> {
  try {
    const c = await stripe.customers.retrieve(id);
    if ('deleted' in c && c.deleted) return { name: null, email: null };
    return { name: (c as Stripe.Customer).name ?? null, email: (c as Stripe.Customer).email ?? null };
  } catch (e) {
    if ((e as { code?: string }).code === 'resource_missing') return { name: null, email: null };
    throw e;
  }
}
