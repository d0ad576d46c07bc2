import awsLambdaFastify from '@fastify/aws-lambda';
import { systemClock } from '@revtrail/shared';
import { buildApp } from './app';
import { loadLambdaConfig } from './config';
import { createLogger } from './log';
import { SqsSpill } from './spill/sqs';
import { DynamoStore } from './store/dynamo';

import type { Context } from 'aws-lambda';
import type pino from 'pino';
import type { LambdaResponse, PromiseHandler } from '@fastify/aws-lambda';

type Proxy = PromiseHandler<unknown, LambdaResponse>;
let proxy: Promise<Proxy> | null = null;

/**
 * Builds the app once per Lambda instance; config errors surface in the log of the first request. A
 * click is answered once it is in the table, else in the spill queue, else in this function's log.
 */
export async function createProxy(log: pino.Logger = createLogger()): Promise<Proxy> {
  const config = await loadLambdaConfig();
  const store = new DynamoStore({ tableName: config.tableName, retentionDays: config.retentionDays, clientConfig: { maxAttempts: 2 } });
  const spill = config.spillQueueUrl ? new SqsSpill(config.spillQueueUrl) : null;
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
