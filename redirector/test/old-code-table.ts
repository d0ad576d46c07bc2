import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { decodeTime } from 'ulid';
import { DAY_MS, newSortKey, toEpochSeconds, utcDay, type Click, type Identity, type StripeHint } from '@revtrail/shared';

let tables = 0;
const doc = (c: DynamoDBClient) => DynamoDBDocumentClient.from(c, { marshallOptions: { removeUndefinedValues: true } });

/**
 * A table as the code before the split and the keys-only index made and wrote it (git 6abad31, store/dynamo.ts): the same CreateTable
 * (both indexes projecting everything), META created, feed items in `<prefix>#<day>` with no FEEDS marker.
 */
export class OldCodeTable {
  readonly name = `old_${process.pid}_${tables++}`;
  constructor(
    private readonly c: DynamoDBClient,
    private readonly retentionMs = 90 * DAY_MS,
  ) {}

  async create(now: number): Promise<void> {
    const gsi = (name: string, pk: string, sk: string) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: pk, KeyType: 'HASH' as const },
        { AttributeName: sk, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    });
    await this.c.send(
      new CreateTableCommand({
        TableName: this.name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((a) => ({ AttributeName: a, AttributeType: 'S' as const })),
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [gsi('byVisitor', 'gsi1pk', 'gsi1sk'), gsi('byEmail', 'gsi2pk', 'gsi2sk')],
      }),
    );
    // As the old ensureTable did: an item written while the table is CREATING is refused.
    for (let i = 0; (await this.c.send(new DescribeTableCommand({ TableName: this.name }))).Table?.TableStatus !== 'ACTIVE'; i++) {
      if (i > 200) throw new Error(`table ${this.name} did not become ACTIVE`);
      await new Promise((r) => setTimeout(r, 25));
    }
    await doc(this.c).send(new PutCommand({ TableName: this.name, Item: { pk: 'META', sk: 'created', at: now } }));
  }

  /** The old putEvents' item for a click appended at `now`. */
  async putClick(item: Click, now: number): Promise<string> {
    const seq = newSortKey(now);
    await doc(this.c).send(
      new PutCommand({
        TableName: this.name,
        Item: { pk: `C#${utcDay(now)}`, sk: seq, e: item, expiresAt: toEpochSeconds(now + this.retentionMs), gsi1pk: `V#${item.visitorId}`, gsi1sk: seq },
      }),
    );
    return seq;
  }

  /** The old putEvents' item for an identity appended at `now`. */
  async putIdentity(item: Identity, now: number): Promise<void> {
    const seq = newSortKey(now);
    await doc(this.c).send(
      new PutCommand({
        TableName: this.name,
        Item: {
          pk: `I#${utcDay(now)}`,
          sk: seq,
          e: item,
          expiresAt: toEpochSeconds(now + this.retentionMs),
          ...{ gsi1pk: `V#${item.visitorId}`, gsi1sk: seq, gsi2pk: `E#${item.emailHash}`, gsi2sk: seq },
        },
      }),
    );
  }

  /** The old webhook route's two items for a hint kept at `now`. */
  async putHint(input: Omit<StripeHint, 'id' | 'at'>, now: number): Promise<StripeHint> {
    const hint: StripeHint = { id: newSortKey(now), at: now, ...input };
    const d = doc(this.c);
    await d.send(
      new PutCommand({
        TableName: this.name,
        Item: { pk: `W#${utcDay(input.createdAt)}`, sk: input.eventId, hint, expiresAt: toEpochSeconds(now + 30 * DAY_MS), gsi2pk: `O#${hint.objectId}`, gsi2sk: hint.eventId },
      }),
    );
    await d.send(
      new PutCommand({
        TableName: this.name,
        Item: { pk: `H#${utcDay(decodeTime(hint.id))}`, sk: hint.id, e: hint, expiresAt: toEpochSeconds(now + this.retentionMs), gsi2pk: `O#${hint.objectId}`, gsi2sk: hint.id },
      }),
    );
    return hint;
  }
}
