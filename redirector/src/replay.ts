import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readIntText } from '@revtrail/shared';
import { ConfigError } from './config';
import { readEventRecord } from './journal/record';
import { createLogger } from './log';
import { DynamoStore } from './store/dynamo';
import { ErasureFilter, erasureFiltered } from './store/erasures';
import { RetentionSetting } from './store/settings';
import type { EventRecord } from './store/types';

let store: Promise<{ store: DynamoStore; retention: RetentionSetting }> | null = null;

/**
 * What the replay needs: the linked table and the retention. No secret is linked to this function (it
 * neither hashes nor answers the sync API), so it does not read the redirector's whole configuration.
 */
export async function loadReplayConfig(env: Record<string, string | undefined> = process.env): Promise<{ tableName: string; retentionDays: number }> {
  const { Resource } = (await import('sst/resource')) as unknown as { Resource: { Table?: { name?: unknown } } };
  let tableName: unknown;
  try {
    tableName = Resource.Table?.name;
  } catch {
    // SST's Resource throws for a name that is not linked; reported below.
  }
  const problems: string[] = [];
  if (typeof tableName !== 'string' || tableName === '') problems.push('the table is not linked to the replay function (sst.config.ts links Table to it)');
  const retentionDays = readIntText(env.REVTRAIL_RETENTION_DAYS, 'REVTRAIL_RETENTION_DAYS', 1, 3650, 90, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { tableName: tableName as string, retentionDays };
}

async function open(): Promise<{ store: DynamoStore; retention: RetentionSetting }> {
  const config = await loadReplayConfig();
  const log = createLogger();
  const raw = new DynamoStore({ tableName: config.tableName, retentionDays: config.retentionDays });
  // Spilled events arrive after the fact: an erasure made since must not be undone by them. The erased set
  // is read again after 5 s, so an erasure handled by the redirector a moment ago is seen.
  const erasures = new ErasureFilter({ store: raw, log, refreshMs: 5000 });
  const retention = new RetentionSetting(raw, config.retentionDays, log, Date.now);
  await retention.refresh();
  return { store: erasureFiltered(raw, erasures), retention };
}

/**
 * Subscriber of the spill queue: writes spilled events into the table; failed messages are retried, then
 * kept in the dead-letter queue. A spilled write may have landed after its budget: events already in the
 * table are skipped, so a click is never stored twice; events of people erased since are dropped.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  store ??= open().catch((e: unknown) => {
    store = null;
    throw e;
  });
  const { store: s, retention } = await store;
  retention.refreshIfStale();
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
