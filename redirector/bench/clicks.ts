import type { LocalRedirector } from '../src/local';

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
}

interface FeedPage {
  items: { id: string }[];
  cursor: string;
  hasMore: boolean;
}

/** Waits until every click recorded so far is in the table, spilled ones included. */
async function drain(r: LocalRedirector): Promise<{ recorder: ClickAccount['recorder']; replayed: number }> {
  await r.app.revtrail.recorder.flush();
  let replayed = 0;
  // The journal is ingested in the background (by the maintenance timer too): go until none waits.
  for (let round = 0; (await r.spill.pending()).length > 0; round++) {
    if (round === 20) throw new Error('the journal still holds clicks after 20 ingests');
    replayed += await r.replaySpill();
  }
  return { recorder: r.app.revtrail.recorder.stats, replayed };
}

/** Pages through GET /api/v1/clicks as the desktop's sync does. */
async function countFeed(url: string, auth: Record<string, string>): Promise<{ stored: number; repeated: number }> {
  const ids = new Set<string>();
  let repeated = 0;
  let cursor = '';
  for (;;) {
    const res = await fetch(`${url}/api/v1/clicks?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { headers: auth });
    if (!res.ok) throw new Error(`GET /api/v1/clicks answered ${res.status}: ${await res.text()}`);
    const page = (await res.json()) as FeedPage;
    for (const { id } of page.items) {
      if (ids.has(id)) repeated += 1;
      ids.add(id);
    }
    if (!page.hasMore) return { stored: ids.size, repeated };
    if (page.cursor === cursor) throw new Error('the clicks feed returned the same cursor twice');
    cursor = page.cursor;
  }
}

export async function accountClicks(r: LocalRedirector, auth: Record<string, string>): Promise<ClickAccount> {
  const t0 = performance.now();
  const { recorder, replayed } = await drain(r);
  const t1 = performance.now();
  const { stored, repeated } = await countFeed(r.url, auth);
  return { stored, repeated, recorder, replayed, drainMs: t1 - t0, countMs: performance.now() - t1 };
}
