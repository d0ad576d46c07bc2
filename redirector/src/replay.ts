import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadLambdaConfig } from './config';
import { readEventRecord } from './journal/record';
import { DynamoStore } from './store/dynamo';
import type { EventRecord } from './store/types';

let store: Promise<DynamoStore> | null = null;

/**
 * Subscriber of the spill queue: writes spilled events into the table; failed messages are retried, then
 * kept in the dead-letter queue. A spilled write may have landed after its budget: events already in the
 * table are skipped, so a click is never stored twice.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const s = await (store ??= loadLambdaConfig().then((c) => new DynamoStore({ tableName: c.tableName, retentionDays: c.retentionDays })));
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const message of event.Records) {
    try {
      await s.putEventsOnce(spilledRecords(message.body));
    } catch {
      failures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures: failures };
}

/** The events of one spill message (a JSON array of `{kind, item}`); throws on anything else. */
export function spilledRecords(body: string): EventRecord[] {
  const value: unknown = JSON.parse(body);
  if (!Array.isArray(value)) throw new Error('a spill message is a JSON array of events');
  return value.map((v) => {
    const r = readEventRecord(v);
    if (!r.ok) throw new Error(`not an event: ${r.problem}`);
    return r.record;
  });
}
