import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { newSortKey, systemClock } from '@revtrail/shared';
import type { LocalRedirector } from '../src/local';
import { DynamoStore } from '../src/store/dynamo';

/** Items written straight through the SDK for the store's ceiling, and 25-item BatchWriteItem requests in flight at once. */
const CEILING_ITEMS = 20_000;
const CEILING_CONCURRENCY = [1, 4] as const;

export interface ClickAccount {
  /** Distinct click ids in the sync feed. */
  stored: number;
  /** Ids the feed returned more than once (should be 0). */
  repeated: number;
  /** Recorder counters once the queue was drained, before the spill replay. */
  recorder: { stored: number; spilled: number; queued: number };
  /** Events moved from the spill file into the table by replaySpill(). */
  replayed: number;
  drainMs: number;
  countMs: number;
  /** Events ingested from the journal per second after the load (replayed / drainMs). */
  drainPerSecond: number;
  /** What the embedded store itself accepts: the same clicks, as the same items, batched straight through the SDK. */
  ceiling: StoreCeiling;
}

export interface StoreCeiling {
  items: number;
  /** Items per second with 1 and with 4 BatchWriteItem requests of 25 in flight. */
  perSecond: Record<string, number>;
  /** The better of them: the reference the drain is judged against. */
  best: number;
}

interface FeedPage {
  items: ({ id: string; visitorId: string | null } & Record<string, unknown>)[];
  cursor: string;
  hasMore: boolean;
}

/** Waits until every click recorded so far is in the table, spilled ones included. */
async function drain(r: LocalRedirector): Promise<{ recorder: ClickAccount['recorder']; replayed: number }> {
  await r.app.revtrail.recorder.flush();
  // Counted by the recorder, not by what replaySpill returns: the maintenance timer's pass, already running,
  // ingests most of it (replaySpill waits for that pass, then runs a later one, and returns only the later one's).
  const before = r.app.revtrail.recorder.stats.stored;
  // The journal is ingested in the background (by the maintenance timer too): go until none waits.
  for (let round = 0; (await r.spill.pending()).length > 0; round++) {
    if (round === 20) throw new Error('the journal still holds clicks after 20 ingests');
    await r.replaySpill();
  }
  const recorder = r.app.revtrail.recorder.stats;
  return { recorder, replayed: recorder.stored - before };
}

/** Pages through GET /api/v1/clicks as the desktop's sync does. */
async function countFeed(url: string, auth: Record<string, string>, keep: FeedPage['items']): Promise<{ stored: number; repeated: number }> {
  const ids = new Set<string>();
  let repeated = 0;
  let cursor = '';
  for (;;) {
    const res = await fetch(`${url}/api/v1/clicks?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: auth });
    if (!res.ok) throw new Error(`GET /api/v1/clicks answered ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as FeedPage;
    for (const item of page.items) {
      if (ids.has(item.id)) repeated += 1;
      ids.add(item.id);
      if (keep.length < CEILING_ITEMS) keep.push(item);
    }
    if (!page.hasMore) return { stored: ids.size, repeated };
    if (page.cursor === cursor) throw new Error('the clicks feed returned the same cursor twice');
    cursor = page.cursor;
  }
}

/**
 * The embedded store's own pace for these clicks: a fresh table of the same schema (its indexes too) in the
 * same store process, the items as store/dynamo.ts's feedItem shapes them (partition, append id, event,
 * expiry, visitor index keys), written with BatchWriteItem through the AWS SDK and nothing else: no journal
 * to read, no progress to save, no feed lease.
 */
async function storeCeiling(r: LocalRedirector, clicks: FeedPage['items']): Promise<StoreCeiling> {
  const perSecond: Record<string, number> = {};
  const doc = DynamoDBDocumentClient.from(r.dynamo.client(), { marshallOptions: { removeUndefinedValues: true } });
  try {
    for (const concurrency of CEILING_CONCURRENCY) {
      const table = new DynamoStore({ tableName: `revtrail-ceiling-${concurrency}`, retentionDays: r.config.retentionDays, client: r.dynamo.client(), clock: systemClock });
      await table.ensureTable(Date.now());
      table.client.destroy();
      const now = Date.now();
      const expiresAt = Math.floor(now / 1000) + r.config.retentionDays * 86_400;
      const items = clicks.map((e) => {
        const sk = newSortKey(now);
        return { pk: `F#clicks#${new Date(now).toISOString().slice(0, 10)}#${sk.slice(-1)}`, sk, e, expiresAt, gsi1pk: e.visitorId === null ? `A#${e.id}` : `V#${e.visitorId}`, gsi1sk: sk };
      });
      const batches: Record<string, unknown>[][] = [];
      for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })));
      const t0 = performance.now();
      let next = 0;
      const writer = async () => {
        for (let b = next++; b < batches.length; b = next++) {
          let pending = batches[b]!;
          while (pending.length > 0) {
            const out = await doc.send(new BatchWriteCommand({ RequestItems: { [`revtrail-ceiling-${concurrency}`]: pending } }));
            pending = (out.UnprocessedItems?.[`revtrail-ceiling-${concurrency}`] ?? []) as Record<string, unknown>[];
          }
        }
      };
      await Promise.all(Array.from({ length: concurrency }, writer));
      perSecond[String(concurrency)] = items.length / ((performance.now() - t0) / 1000);
    }
  } finally {
    doc.destroy();
  }
  return { items: clicks.length, perSecond, best: Math.max(...Object.values(perSecond)) };
}

export async function accountClicks(r: LocalRedirector, auth: Record<string, string>): Promise<ClickAccount> {
  const t0 = performance.now();
  const { recorder, replayed } = await drain(r);
  const t1 = performance.now();
  const kept: FeedPage['items'] = [];
  const { stored, repeated } = await countFeed(r.url, auth, kept);
  const countMs = performance.now() - t1;
  const ceiling = await storeCeiling(r, kept);
  return { stored, repeated, recorder, replayed, drainMs: t1 - t0, countMs, drainPerSecond: replayed / ((t1 - t0) / 1000), ceiling };
}
