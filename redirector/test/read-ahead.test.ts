import { describe, expect, it } from 'vitest';
import type { FeedPage } from '@revtrail/shared';
import { FeedReadAhead } from '../src/feeds/read-ahead';
import type { FeedKind } from '../src/store/types';

/** A feed of `total` items in order, read `limit` at a time; every read is logged as `kind:cursor:limit`. */
function feed(total: number, opts: { failAt?: string } = {}) {
  const reads: string[] = [];
  let version = 0;
  const read = async (kind: FeedKind, cursor: string | null, limit: number): Promise<FeedPage<string>> => {
    reads.push(`${kind}:${cursor ?? '-'}:${limit}`);
    if (cursor !== null && cursor === opts.failAt) {
      opts.failAt = undefined; // fails once
      throw new Error('store down');
    }
    const from = cursor === null ? 0 : Number(cursor);
    const to = Math.min(total, from + limit);
    const items = Array.from({ length: to - from }, (_, i) => `{"n":${from + i},"v":${version}}`);
    return { items, cursor: String(to), hasMore: to < total };
  };
  return { reads, read, bump: () => (version += 1) };
}

async function pullAll(ahead: FeedReadAhead, kind: FeedKind, limit: number, between?: (page: number) => void): Promise<string[]> {
  const items: string[] = [];
  let cursor: string | null = null;
  for (let n = 0; ; n++) {
    const page: FeedPage<string> = await ahead.page(kind, cursor, limit);
    items.push(...page.items);
    cursor = page.cursor;
    between?.(n);
    if (!page.hasMore) return items;
  }
}

describe('feed pages read ahead', () => {
  it('reads each next page once, as soon as the one before is answered, and none past the end', async () => {
    const f = feed(7);
    const ahead = new FeedReadAhead(f.read, () => 0);
    const items = await pullAll(ahead, 'clicks', 3);
    expect(items.map((i) => JSON.parse(i).n)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(f.reads).toEqual(['clicks:-:3', 'clicks:3:3', 'clicks:6:3']);
    ahead.clear();
  });

  it('serves a page read ahead only to the request for its cursor and size', async () => {
    const f = feed(10);
    const ahead = new FeedReadAhead(f.read, () => 0);
    await ahead.page('clicks', null, 3); // reads 0-2, and 3-5 ahead
    expect((await ahead.page('clicks', '3', 2)).items).toHaveLength(2); // another size: read again
    await ahead.page('clicks', '0', 2); // another cursor: read again
    await ahead.page('pageviews', null, 2); // another feed has its own
    expect(f.reads).toEqual(['clicks:-:3', 'clicks:3:3', 'clicks:3:2', 'clicks:5:2', 'clicks:0:2', 'clicks:2:2', 'pageviews:-:2', 'pageviews:2:2']);
    ahead.clear();
  });

  it('reads a page again when an erasure began after its read ahead started', async () => {
    const f = feed(6);
    let generation = 0;
    const ahead = new FeedReadAhead(f.read, () => generation);
    const items = await pullAll(ahead, 'clicks', 2, (n) => {
      if (n === 0) {
        generation += 1; // an erasure while page 2 is read ahead: that read may hold the person
        f.bump();
      }
    });
    // Page 2 (cursor 2) read ahead before the erasure and again after it; served the second read.
    expect(f.reads).toEqual(['clicks:-:2', 'clicks:2:2', 'clicks:2:2', 'clicks:4:2']);
    expect(items.map((i) => JSON.parse(i).v)).toEqual([0, 0, 1, 1, 1, 1]);
    ahead.clear();
  });

  it('reads a page again when its read ahead failed, and the request still gets it', async () => {
    const f = feed(6, { failAt: '2' });
    const ahead = new FeedReadAhead(f.read, () => 0);
    const items = await pullAll(ahead, 'clicks', 2);
    expect(items).toHaveLength(6);
    expect(f.reads).toEqual(['clicks:-:2', 'clicks:2:2', 'clicks:2:2', 'clicks:4:2']);
    ahead.clear();
  });
});
