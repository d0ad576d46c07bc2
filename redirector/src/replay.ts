import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { loadLambdaConfig } from './config';
import { DynamoStore } from './store/dynamo';
import type { EventRecord } from './store/types';

let store: Promise<DynamoStore> | null = null;

/** Subscriber of the spill queue: writes spilled events into the table; failed messages are retried. */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const s = await (store ??= loadLambdaConfig().then((c) => new DynamoStore({ tableName: c.tableName, retentionDays: c.retentionDays })));
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const message of event.Records) {
    try {
      const records = JSON.parse(message.body) as EventRecord[];
      await s.putEvents(records);
    } catch {
      failures.push({ itemIdentifier: message.messageId });
    }
  }
  return { batchItemFailures: failures };
}
