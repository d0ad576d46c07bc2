import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Adds to the number attributes of one counters item and sets others, in one UpdateItem: ADD makes the
 * counts of every instance (Lambda's many) sum instead of overwrite. Attribute names are the caller's own
 * identifiers, never input. Nothing is written when there is nothing to add or set.
 */
export async function updateCounters(
  d: { doc: DynamoDBDocumentClient; table: string },
  key: { pk: string; sk: string },
  add: Record<string, number>,
  set: Record<string, unknown>,
): Promise<void> {
  const adds: string[] = [];
  const sets: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, n] of Object.entries(add)) {
    if (n <= 0) continue;
    adds.push(`${name} :${name}`);
    values[`:${name}`] = n;
  }
  for (const [name, v] of Object.entries(set)) {
    sets.push(`${name} = :${name}`);
    values[`:${name}`] = v;
  }
  if (adds.length === 0 && sets.length === 0) return;
  await d.doc.send(
    new UpdateCommand({
      TableName: d.table,
      Key: key,
      UpdateExpression: [sets.length > 0 ? `SET ${sets.join(', ')}` : '', adds.length > 0 ? `ADD ${adds.join(', ')}` : ''].join(' ').trim(),
      ExpressionAttributeValues: values,
    }),
  );
}
