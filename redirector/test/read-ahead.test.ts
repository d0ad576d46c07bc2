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

function pullAll(ahead: FeedReadAhead, kind: FeedKind, limit: number, between?: (page: number) => unknown): Promise<string[]> {
  return pullFrom(ahead, kind, null, limit, between);
}

async function pullFrom(ahead: FeedReadAhead, kind: FeedKind, from: string | null, limit: number, between?: (page: number) => unknown): Promise<string[]> {
  const items: string[] = [];
  let cursor = from;
  for (let n = 0; ; n++) {
    const page: FeedPage<string> = await ahead.page(kind, cursor, limit);
    items.push(...page.items);
    cursor = page.cursor;
    await between?.(n);
    if (!page.hasMore) return items;
  }
}

/** Lets every read ahead that can start and end do so. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('feed pages read ahead', () => {
  it('reads the next pages in order, one read at a time, up to its depth and none past the end', async () => {
    const f = feed(20);
    let running = 0;
    let most = 0;
    const read = async (kind: FeedKind, cursor: string | null, limit: number) => {
      most = Math.max(most, ++running);
      await settle();
      running -= 1;
      return f.read(kind, cursor, limit);
    };
    const ahead = new FeedReadAhead(read, () => 0, 3);
    const first = await ahead.page('clicks', null, 2);
    await settle();
    await settle();
    await settle();
    // The page asked for, then three ahead of it; no more until one of them is taken.
    expect(f.reads).toEqual(['clicks:-:2', 'clicks:2:2', 'clicks:4:2', 'clicks:6:2']);
    const second = await ahead.page('clicks', first.cursor, 2);
    expect(second.items.map((i) => JSON.parse(i).n)).toEqual([2, 3]);
    await settle();
    expect(f.reads.slice(4)).toEqual(['clicks:8:2']);
    const rest = await pullFrom(ahead, 'clicks', second.cursor, 2);
    expect(rest.map((i) => JSON.parse(i).n)).toEqual(Array.from({ length: 16 }, (_, i) => i + 4));
    await settle();
    // Each page read once, the last one's end is the end: nothing read past it.
    expect(f.reads).toEqual(Array.from({ length: 10 }, (_, i) => `clicks:${i === 0 ? '-' : i * 2}:2`));
    expect(most).toBe(1);
    ahead.clear();
  });

  it('serves pages read ahead only to the requests for their cursor and size', async () => {
    const f = feed(10);
    const ahead = new FeedReadAhead(f.read, () => 0, 1);
    await ahead.page('clicks', null, 3); // reads 0-2, and 3-5 ahead
    await settle();
    expect((await ahead.page('clicks', '3', 2)).items).toHaveLength(2); // another size: read again
    await settle();
    await ahead.page('clicks', '0', 2); // another cursor: read again
    await settle();
    await ahead.page('pageviews', null, 2); // another feed has its own
    await settle();
    expect(f.reads).toEqual(['clicks:-:3', 'clicks:3:3', 'clicks:3:2', 'clicks:5:2', 'clicks:0:2', 'clicks:2:2', 'pageviews:-:2', 'pageviews:2:2']);
    ahead.clear();
  });

  it('reads pages again when an erasure began after their reads ahead started', async () => {
    const f = feed(6);
    let generation = 0;
    const ahead = new FeedReadAhead(f.read, () => generation, 4);
    const items = await pullAll(ahead, 'clicks', 2, async (n) => {
      if (n === 0) {
        await settle(); // pages 2-3 and 4-5 read ahead
        generation += 1; // then an erasure: those reads may hold the person
        f.bump();
      }
    });
    // Both read ahead before the erasure and again after it; each served its second read.
    expect(f.reads).toEqual(['clicks:-:2', 'clicks:2:2', 'clicks:4:2', 'clicks:2:2', 'clicks:4:2']);
    expect(items.map((i) => JSON.parse(i).v)).toEqual([0, 0, 1, 1, 1, 1]);
    ahead.clear();
  });

  it('reads a page again when its read ahead failed, and the request still gets it and the rest', async () => {
    const f = feed(6, { failAt: '2' });
    const ahead = new FeedReadAhead(f.read, () => 0, 4);
    const items = await pullAll(ahead, 'clicks', 2, settle);
    expect(items.map((i) => JSON.parse(i).n)).toEqual([0, 1, 2, 3, 4, 5]);
    // The failed read ends the pages ahead; they go on from the page its request read.
    expect(f.reads).toEqual(['clicks:-:2', 'clicks:2:2', 'clicks:2:2', 'clicks:4:2']);
    ahead.clear();
  });

  it('starts nothing more once cleared', async () => {
    const f = feed(100);
    const slow = async (kind: FeedKind, cursor: string | null, limit: number) => {
      f.reads.push(`started ${cursor ?? '-'}`);
      await settle();
      return f.read(kind, cursor, limit);
    };
    const ahead = new FeedReadAhead(slow, () => 0, 4);
    await ahead.page('clicks', null, 2);
    ahead.clear(); // while the first page ahead is read
    await settle();
    await settle();
    expect(f.reads).toEqual(['started -', 'clicks:-:2', 'started 2', 'clicks:2:2']);
  });
});
