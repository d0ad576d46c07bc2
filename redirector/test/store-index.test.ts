/**
 * The keys-only visitor index (byVisitorKeys, store/dynamo.ts VISITOR_INDEX): what a new table has, what a table
 * made by the earlier code gets at the local redirector's start (the embedded store's UpdateTable,
 * store/dynalite-indexes.ts), and that the reads through it find what they found before: events already
 * stored, a person's data, an erasure's items. Against dynalite through the AWS SDK; one case on disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BillingMode, DescribeTableCommand, GetItemCommand, QueryCommand, UpdateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS, newEventId, type Click, type Identity } from '@revtrail/shared';
import { DynamoStore, OLD_VISITOR_INDEX, VISITOR_INDEX } from '../src/store/dynamo';
import { startEmbeddedDynamo } from '../src/store/embedded';
import { OldCodeTable } from './old-code-table';
import { ManualClock, closeSharedDynamo, sharedDynamo, testClick } from './support';

afterAll(closeSharedDynamo);

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);
const VISITOR = 'IndexedVisitor01234567';
const click = (at: number, content: string, visitorId = VISITOR): Click => testClick(at, content, { visitorId });
const identity = (at: number, visitorId = VISITOR, emailHash = 'a'.repeat(64)): Identity => ({ id: newEventId(at), at, visitorId, emailHash, source: 'form' });

async function indexesOf(c: DynamoDBClient, table: string) {
  const { Table } = await c.send(new DescribeTableCommand({ TableName: table }));
  return Object.fromEntries((Table?.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, { projection: i.Projection?.ProjectionType, status: i.IndexStatus }]));
}

/** A table the earlier code made and wrote: a visitor's clicks and identity, another's click. */
async function oldTable(c: DynamoDBClient) {
  const old = new OldCodeTable(c);
  await old.create(T0 - 3 * DAY_MS);
  const clicks = [click(T0 - 2 * DAY_MS, 'old-1'), click(T0 - DAY_MS, 'old-2'), click(T0 - DAY_MS + 1, 'other', 'OtherIndexedVisitor012')];
  for (const c0 of clicks) await old.putClick(c0, c0.at);
  const bound = identity(T0 - DAY_MS + 2);
  await old.putIdentity(bound, bound.at);
  return { old, clicks, bound };
}

describe('the keys-only visitor index', () => {
  it('is the only visitor index of a new table, projecting keys only', async () => {
    const c = (await sharedDynamo()).client();
    const store = new DynamoStore({ tableName: `index_new_${process.pid}`, retentionDays: 90, client: c, clock: new ManualClock(T0) });
    await store.ensureTable(T0);
    expect(await indexesOf(c, `index_new_${process.pid}`)).toEqual({ [VISITOR_INDEX]: { projection: 'KEYS_ONLY', status: 'ACTIVE' }, byEmail: { projection: 'ALL', status: 'ACTIVE' } });
    await store.putEvents([{ kind: 'clicks', item: click(T0, 'x') }]);
    const entry = await c.send(new QueryCommand({ TableName: `index_new_${process.pid}`, IndexName: VISITOR_INDEX, KeyConditionExpression: 'gsi1pk = :v', ExpressionAttributeValues: { ':v': { S: `V#${VISITOR}` } } }));
    // Its entry holds the keys and nothing of the click.
    expect(Object.keys(entry.Items![0]!).sort()).toEqual(['gsi1pk', 'gsi1sk', 'pk', 'sk']);
  });

  it('is added to a table the earlier code made, filled with its items, and byVisitor dropped; every read through it finds them', async () => {
    const c = (await sharedDynamo()).client();
    const { old, clicks, bound } = await oldTable(c);
    expect(await indexesOf(c, old.name)).toEqual({ [OLD_VISITOR_INDEX]: { projection: 'ALL', status: 'ACTIVE' }, byEmail: { projection: 'ALL', status: 'ACTIVE' } });
    const clock = new ManualClock(T0);
    const store = new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock });
    await store.ensureTable(clock.now());
    expect(await indexesOf(c, old.name)).toEqual({ [VISITOR_INDEX]: { projection: 'KEYS_ONLY', status: 'ACTIVE' }, byEmail: { projection: 'ALL', status: 'ACTIVE' } });
    // Starting again changes nothing.
    await store.ensureTable(clock.now());
    expect(Object.keys(await indexesOf(c, old.name)).sort()).toEqual([VISITOR_INDEX, 'byEmail'].sort());

    // The spill's replay of clicks the earlier code stored: found, not written twice.
    expect(await store.putEventsOnce(clicks.map((item) => ({ kind: 'clicks' as const, item })))).toEqual({ written: 0, present: 3 });
    // A person: the earlier code's identity and clicks, with a new one.
    await store.putEvents([{ kind: 'clicks', item: click(clock.now(), 'new') }]);
    const person = await store.person({ emailHash: bound.emailHash }, null, 10);
    expect(person).toMatchObject({ visitorIds: [VISITOR], counts: { clicks: 3, pageviews: 0, identities: 1 }, identities: [bound] });
    expect(person.clicks.map((x) => x.utm.utm_content)).toEqual(['old-1', 'old-2', 'new']);
    // Paged one at a time, in append order, nothing twice.
    const paged: string[] = [];
    for (let cursor: string | null = null, guard = 0; guard < 10; guard++) {
      const page = await store.person({ visitorId: VISITOR }, cursor, 1);
      paged.push(...page.clicks.map((x) => x.utm.utm_content!));
      cursor = page.cursor;
      if (cursor === null) break;
    }
    expect(paged).toEqual(['old-1', 'old-2', 'new']);
    // The erasure finds every item of the visitor, old and new, and leaves the other visitor's.
    expect(await store.eraseVisitor(VISITOR, clock.now())).toMatchObject({ items: 4 });
    clock.advance(10_000);
    const left = (await store.readFeed('clicks', null, 100, clock.now())).items.map((x) => x.utm.utm_content);
    expect(left).toEqual(['other']);
    expect(await store.person({ visitorId: VISITOR }, null, 10)).toMatchObject({ counts: { clicks: 0, identities: 0 }, clicks: [] });
  });

  it('survives a restart of the embedded store on disk, built once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-index-'));
    try {
      let dynamo = await startEmbeddedDynamo({ path: dir });
      const { old } = await oldTable(dynamo.client());
      const first = new DynamoStore({ tableName: old.name, retentionDays: 90, client: dynamo.client(), clock: new ManualClock(T0) });
      await first.ensureTable(T0);
      await dynamo.close();
      dynamo = await startEmbeddedDynamo({ path: dir });
      const c = dynamo.client();
      expect(await indexesOf(c, old.name)).toEqual({ [VISITOR_INDEX]: { projection: 'KEYS_ONLY', status: 'ACTIVE' }, byEmail: { projection: 'ALL', status: 'ACTIVE' } });
      const again = new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock: new ManualClock(T0) });
      await again.ensureTable(T0);
      expect((await again.person({ visitorId: VISITOR }, null, 10)).counts).toEqual({ clicks: 2, pageviews: 0, identities: 1 });
      await dynamo.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the embedded store's UpdateTable of indexes", () => {
  it('creates or deletes one index a request, as DynamoDB does, refuses what it cannot do, and leaves the rest to dynalite', async () => {
    const c = (await sharedDynamo()).client();
    const { old } = await oldTable(c);
    const create = (name: string) => ({ Create: { IndexName: name, KeySchema: [{ AttributeName: 'gsi1pk', KeyType: 'HASH' as const }], Projection: { ProjectionType: 'KEYS_ONLY' as const } } });
    await expect(c.send(new UpdateTableCommand({ TableName: old.name, GlobalSecondaryIndexUpdates: [create('one'), create('two')] }))).rejects.toMatchObject({ name: 'LimitExceededException' });
    await expect(c.send(new UpdateTableCommand({ TableName: old.name, GlobalSecondaryIndexUpdates: [create('byEmail')] }))).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(c.send(new UpdateTableCommand({ TableName: old.name, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'none' } }] }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(
      c.send(new UpdateTableCommand({ TableName: old.name, GlobalSecondaryIndexUpdates: [{ Create: { IndexName: 'undefinedKey', KeySchema: [{ AttributeName: 'nope', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } } }] })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(c.send(new UpdateTableCommand({ TableName: 'no_such_table', GlobalSecondaryIndexUpdates: [create('x')] }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    // A hash-only index over the existing items: three visitors' entries, keys only.
    await c.send(new UpdateTableCommand({ TableName: old.name, GlobalSecondaryIndexUpdates: [create('hashOnly')] }));
    const out = await c.send(new QueryCommand({ TableName: old.name, IndexName: 'hashOnly', KeyConditionExpression: 'gsi1pk = :v', ExpressionAttributeValues: { ':v': { S: `V#${VISITOR}` } } }));
    expect(out.Items).toHaveLength(3);
    for (const item of out.Items!) expect(Object.keys(item).sort()).toEqual(['gsi1pk', 'pk', 'sk']);
    await c.send(new UpdateTableCommand({ TableName: old.name, GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: 'hashOnly' } }] }));
    await expect(c.send(new QueryCommand({ TableName: old.name, IndexName: 'hashOnly', KeyConditionExpression: 'gsi1pk = :v', ExpressionAttributeValues: { ':v': { S: `V#${VISITOR}` } } }))).rejects.toMatchObject({ name: 'ValidationException' });
    // An update without index changes is dynalite's: on a PAY_PER_REQUEST table it refuses throughput, in its words.
    await expect(c.send(new UpdateTableCommand({ TableName: old.name, ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } }))).rejects.toThrow(/PAY_PER_REQUEST/);
    await c.send(new UpdateTableCommand({ TableName: old.name, BillingMode: BillingMode.PAY_PER_REQUEST }));
  });
});

describe('events as one JSON attribute (j), beside the maps (e) of the earlier code', () => {
  it('writes an event as its JSON text alone, and reads both shapes alike: the feed parsed and as text, a retried write, an erasure by email', async () => {
    const c = (await sharedDynamo()).client();
    const { old, clicks, bound } = await oldTable(c);
    const clock = new ManualClock(T0);
    const store = new DynamoStore({ tableName: old.name, retentionDays: 90, client: c, clock });
    await store.ensureTable(clock.now());
    const fresh = click(clock.now(), 'new');
    const freshIdentity = identity(clock.now(), 'NewShapeVisitor0123456', bound.emailHash);
    await store.putEvents([
      { kind: 'clicks', item: fresh },
      { kind: 'identities', item: freshIdentity },
    ]);
    const raw = await c.send(new QueryCommand({ TableName: old.name, IndexName: VISITOR_INDEX, KeyConditionExpression: 'gsi1pk = :v', ExpressionAttributeValues: { ':v': { S: 'V#NewShapeVisitor0123456' } } }));
    const item = await c.send(new GetItemCommand({ TableName: old.name, Key: { pk: raw.Items![0]!.pk!, sk: raw.Items![0]!.sk! } }));
    // One string attribute, no map: what the feed hands on as it is.
    expect(Object.keys(item.Item!).sort()).toEqual(['expiresAt', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'j', 'pk', 'sk']);
    expect(JSON.parse(item.Item!.j!.S!)).toEqual(freshIdentity);

    clock.advance(10_000);
    const page = await store.readFeed('clicks', null, 100, clock.now());
    expect(page.items).toEqual([...clicks, fresh]);
    const text = await store.readFeedJson('clicks', null, 100, clock.now());
    expect(text).toMatchObject({ cursor: page.cursor, hasMore: false });
    expect(text.items.map((t) => JSON.parse(t) as Click)).toEqual(page.items);
    // Paged: the same cursors in both forms.
    const first = await store.readFeedJson('clicks', null, 2, clock.now());
    expect(first.items.map((t) => JSON.parse(t) as Click)).toEqual(clicks.slice(0, 2));
    expect((await store.readFeed('clicks', first.cursor, 10, clock.now())).items).toEqual([clicks[2], fresh]);

    // A retried write finds the stored event in either shape.
    expect(await store.putEventsOnce([{ kind: 'clicks', item: clicks[0]! }, { kind: 'clicks', item: fresh }])).toEqual({ written: 0, present: 2 });
    // The email's visitors found through both identities; everything of both erased.
    const erased = await store.eraseEmailHash(bound.emailHash, clock.now());
    expect(erased.visitorIds.sort()).toEqual(['NewShapeVisitor0123456', VISITOR].sort());
    clock.advance(10_000);
    expect((await store.readFeed('clicks', null, 100, clock.now())).items.map((x) => x.utm.utm_content)).toEqual(['other']);
    expect((await store.readFeed('identities', null, 100, clock.now())).items).toEqual([]);
  });
});
