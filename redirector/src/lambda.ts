import awsLambdaFastify from '@fastify/aws-lambda';
import { systemClock } from '@revtrail/shared';
import { buildApp } from './app';
import { loadLambdaConfig } from './config';
import { createLogger } from './log';
import { spillClient, SqsSpill } from './spill/sqs';
import { DynamoStore } from './store/dynamo';

import type { Context } from 'aws-lambda';
import type pino from 'pino';
import type { LambdaResponse, PromiseHandler } from '@fastify/aws-lambda';

type Proxy = PromiseHandler<unknown, LambdaResponse>;

/**
 * Socket limits of the AWS clients, well inside the function's 5 s timeout. The visitor never waits for
 * them: each call on its path has its own, shorter budget (an abort signal: the link lookup, the click
 * write, the spill). They end what a budget abandoned, so it cannot linger into later invocations.
 */
const DYNAMODB_TIMEOUTS = { connectionTimeout: 1000, requestTimeout: 2000 };
const SQS_TIMEOUT_MS = 1000;
/** How long the instance's start waits for its first table read, which opens the connection and loads the SDK's code paths. */
const WARM_UP_MS = 1000;

/**
 * The app with its DynamoDB and SQS clients, built while Lambda starts the instance (see `proxy` below). A
 * click is answered once it is in the table, else in the spill queue, else in this function's log.
 */
export async function createProxy(log: pino.Logger = createLogger()): Promise<Proxy> {
  const config = await loadLambdaConfig();
  const store = new DynamoStore({
    tableName: config.tableName,
    retentionDays: config.retentionDays,
    clientConfig: { maxAttempts: 2, requestHandler: DYNAMODB_TIMEOUTS },
  });
  const spill = config.spillQueueUrl ? new SqsSpill(config.spillQueueUrl, spillClient(SQS_TIMEOUT_MS)) : null;
  const app = await buildApp({ store, config, log, clock: systemClock, events: { mode: 'inline', spill } });
  // Comma-splitting of query values would cut UTM values such as "spring,sale" apart.
  const proxy = awsLambdaFastify(app, { parseCommaSeparatedQueryParams: false, callbackWaitsForEmptyEventLoop: false }) as Proxy;
  await app.ready();
  startup.appReadyMs = performance.now();
  // buildApp started reading the stored settings; waiting for it (bounded) opens the table's connection
  // now, so the first click's write does not pay for the TLS handshake inside its 150 ms budget. The feeds'
  // markers are read beside it, so that write need not read its feed's first (store/feed-partitions.ts).
  const warmUp = Promise.all([app.revtrail.retention.refresh(), store.prepareAppends()]).catch(() => undefined);
  await Promise.race([warmUp, new Promise((r) => setTimeout(r, WARM_UP_MS).unref())]);
  return proxy;
}

/**
 * The request as the visitor sent it. A function URL (payload 2.0) gives the query twice: `rawQueryString`
 * as sent, and `queryStringParameters` with repeated keys merged into one comma-joined value, which
 * @fastify/aws-lambda would re-encode (`?tag=a&tag=b` became `?tag=a%2Cb`). The raw one wins.
 */
export function asSent(event: unknown): unknown {
  const e = event as { version?: unknown; rawPath?: unknown; rawQueryString?: unknown };
  if (e === null || typeof e !== 'object' || e.version !== '2.0' || typeof e.rawPath !== 'string') return event;
  const query = typeof e.rawQueryString === 'string' && e.rawQueryString !== '' ? `?${e.rawQueryString}` : '';
  return { ...e, rawPath: `${e.rawPath}${query}`, queryStringParameters: undefined };
}

/**
 * No error reply may be cached: CloudFront keeps a 4xx or 5xx for its error-caching TTL (10 s by default) and
 * serves it to every visitor of that link meanwhile. no-store, with the Router's error-caching TTL of 0
 * (sst.config.ts), makes the next request ask the function again.
 */
export function uncachedErrors(res: LambdaResponse): LambdaResponse {
  if (res.statusCode >= 400 && !Object.keys(res.headers ?? {}).some((h) => h.toLowerCase() === 'cache-control')) {
    res.headers = { ...res.headers, 'cache-control': 'no-store' };
  }
  return res;
}

/**
 * Read by bench/ready-probe.mjs: performance.now() (ms since the process started) when this module's own code
 * began, when the app was built (before the first table read), and when the instance was ready.
 */
export const startup = { modulesLoadedMs: performance.now(), appReadyMs: 0, readyMs: 0 };

// Built at module load: Lambda runs this top-level await while it initialises the instance (the ESM
// bundle SST builds, `lambda.mjs`), before the first event, so no click waits for it. A configuration
// error fails the instance's start, and the function's log says what to fix.
const proxy = await createProxy();
startup.readyMs = performance.now();

/** Lambda function URL events (payload 2.0), reached directly or through the Router's CloudFront. */
export async function handler(event: unknown, context: Context): Promise<LambdaResponse> {
  return uncachedErrors(await proxy(asSent(event), context));
}
