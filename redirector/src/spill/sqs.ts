import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventRecord } from '../store/types';
import type { Spill } from './types';

/** AWS spill: an SQS queue whose subscriber (replay.ts) writes the events into the table once it answers. */
export class SqsSpill implements Spill {
  constructor(
    private readonly queueUrl: string,
    private readonly client: SQSClient = new SQSClient({ maxAttempts: 2 }),
  ) {}

  async put(records: EventRecord[], opts?: { signal?: AbortSignal }): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(records) }), { abortSignal: opts?.signal });
  }
}
