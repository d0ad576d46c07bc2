import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../log';
import type { EventRecord } from '../store/types';
import type { Spill } from './types';

/**
 * AWS spill: an SQS queue whose subscriber (replay.ts) writes the events into the table once it answers.
 * Should SQS fail too, the events go to the function's log as the last resort, marked `spill`, so they
 * can be recovered from CloudWatch.
 */
export class SqsSpill implements Spill {
  constructor(
    private readonly queueUrl: string,
    private readonly log: Logger,
    private readonly client: SQSClient = new SQSClient({ maxAttempts: 2 }),
  ) {}

  async put(records: EventRecord[]): Promise<void> {
    try {
      await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(records) }));
    } catch (e) {
      this.log.error({ spill: records, err: (e as Error).message }, 'spill queue unavailable: events kept in this log line');
    }
  }
}
