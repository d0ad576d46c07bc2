import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { EventRecord } from '../store/types';
import type { Spill } from './types';

/**
 * The spill's SQS client. The recorder gives each put its budget (an abort signal, and a race), so a slow
 * queue cannot hold the visitor; these socket limits also end the request itself, so an abandoned send
 * neither lingers into the function's 5 s timeout nor holds a connection the next click needs.
 */
export function spillClient(timeoutMs = 1000): SQSClient {
  return new SQSClient({ maxAttempts: 2, requestHandler: { connectionTimeout: timeoutMs, requestTimeout: timeoutMs } });
}

/** AWS spill: an SQS queue whose subscriber (replay.ts) writes the events into the table once it answers. */
export class SqsSpill implements Spill {
  constructor(
    private readonly queueUrl: string,
    private readonly client: SQSClient = spillClient(),
  ) {}

  async put(records: EventRecord[], opts?: { signal?: AbortSignal }): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(records) }), { abortSignal: opts?.signal });
  }
}
