import awsLambdaFastify from '@fastify/aws-lambda';
import { systemClock } from '@revtrail/shared';
import { buildApp } from './app';
import { loadLambdaConfig } from './config';
import { createLogger } from './log';
import { SqsSpill } from './spill/sqs';
import type { Spill } from './spill/types';
import { DynamoStore } from './store/dynamo';

import type { Context } from 'aws-lambda';
import type { LambdaResponse, PromiseHandler } from '@fastify/aws-lambda';

type Proxy = PromiseHandler<unknown, LambdaResponse>;
let proxy: Promise<Proxy> | null = null;

/** Builds the app once per Lambda instance; config errors surface in the log of the first request. */
export async function createProxy(): Promise<Proxy> {
  const log = createLogger();
  const config = await loadLambdaConfig();
  const store = new DynamoStore({ tableName: config.tableName, retentionDays: config.retentionDays, clientConfig: { maxAttempts: 2 } });
  const spill: Spill = config.spillQueueUrl
    ? new SqsSpill(config.spillQueueUrl, log)
    : {
        put: async (records) => {
          log.error({ spill: records }, 'no spill queue configured: events kept in this log line');
        },
      };
  const app = await buildApp({ store, config, log, clock: systemClock, events: { mode: 'inline', spill } });
  // Comma-splitting of query values would cut UTM values such as "spring,sale" apart.
  const proxy = awsLambdaFastify(app, { parseCommaSeparatedQueryParams: false, callbackWaitsForEmptyEventLoop: false }) as Proxy;
  await app.ready();
  return proxy;
}

/** API Gateway HTTP API (v2), Lambda function URL, or CloudFront via a function URL: all one event shape. */
export async function handler(event: unknown, context: Context): Promise<LambdaResponse> {
  const p = await (proxy ??= createProxy());
  return p(event, context);
}
