import awsLambdaFastify from '@fastify/aws-lambda';
import { systemClock } from '@revtrail/shared';
import { buildRedirectApp, createContext, redirectAppServes, startContext, type AppDeps } from './app-base';
import { loadLambdaConfig } from './config';
import { createLogger } from './log';
import type { Spill } from './spill/types';
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
 * @fastify/aws-lambda's options, a new object for each app (the library writes its defaults into the one it
 * is given). Comma-splitting of query values would cut UTM values such as "spring,sale" apart.
 */
const proxyOptions = () => ({ parseCommaSeparatedQueryParams: false, callbackWaitsForEmptyEventLoop: false });

/**
 * The apps with their DynamoDB and SQS clients, built while Lambda starts the instance (see `proxy` below). A
 * click is answered once it is in the table, else in the spill queue, else in this function's log.
 *
 * Two Fastify apps on one context (app-base.ts): the redirect app, built at the start, answers redirects and
 * the domain's own pages; every other request (the sync API, the pixel's collect, the webhooks, the opt-out
 * page) goes to buildApp's app with every route, loaded (its chunk of the bundle: app.ts and those routes) and
 * built on the first such request, which waits for it once.
 */
export async function createProxy(log: pino.Logger = createLogger()): Promise<Proxy> {
  const config = await loadLambdaConfig();
  const store = new DynamoStore({
    tableName: config.tableName,
    retentionDays: config.retentionDays,
    clientConfig: { maxAttempts: 2, requestHandler: DYNAMODB_TIMEOUTS },
  });
  // The first table read starts now, beside the app's build: it opens the connection (TLS on AWS), so the
  // first click's write does not pay for the handshake inside its 150 ms budget. The feeds' markers it reads
  // spare that write a read of its feed's first (store/feed-partitions.ts).
  const appends = store.prepareAppends();
  const spill = config.spillQueueUrl ? lazySqsSpill(config.spillQueueUrl) : null;
  const deps: AppDeps = { store, config, log, clock: systemClock, events: { mode: 'inline', spill } };
  const ctx = createContext(deps);
  const redirects = await buildRedirectApp(ctx);
  const redirectProxy = awsLambdaFastify(redirects, proxyOptions()) as Proxy;
  await redirects.ready();
  // Reads the stored settings and preloads the links, in the background.
  startContext(ctx);
  startup.appReadyMs = performance.now();
  startup.cpuMs.appReady = cpuMs();
  // Waiting for the first reads (bounded) keeps them out of the first click's budget.
  const warmUp = Promise.all([ctx.retention.refresh(), appends]).catch(() => undefined);
  await Promise.race([warmUp, new Promise((r) => setTimeout(r, WARM_UP_MS).unref())]);

  let full: Promise<Proxy> | null = null;
  const fullProxy = () =>
    (full ??= import('./app')
      .then(async ({ buildAppOn }) => {
        const app = await buildAppOn(ctx);
        const proxy = awsLambdaFastify(app, proxyOptions()) as Proxy;
        await app.ready();
        return proxy;
      })
      .catch((e: unknown) => {
        full = null; // the next request tries again
        throw e;
      }));
  return async (event, context) => {
    // A function URL event's path, before asSent (below) appended the query to it; any other event: the full app.
    const path = (event as { rawPath?: unknown } | null)?.rawPath;
    const served = typeof path === 'string' && redirectAppServes(path.split('?', 1)[0]!);
    return served ? redirectProxy(event, context) : (await fullProxy())(event, context);
  };
}

/**
 * The spill queue, its SQS client loaded (a chunk of the bundle) on the first click the table did not take in
 * time: most instances never spill. That click's spill budget includes the load (a few ms) and the connection.
 */
function lazySqsSpill(queueUrl: string): Spill {
  let sqs: Promise<Spill> | null = null;
  return {
    put: async (records, opts) => {
      const spill = await (sqs ??= import('./spill/sqs').then(
        ({ SqsSpill, spillClient }) => new SqsSpill(queueUrl, spillClient(SQS_TIMEOUT_MS)),
        (e: unknown) => {
          sqs = null; // the next spill loads it again; this click goes to the log
          throw e;
        },
      ));
      return spill.put(records, opts);
    },
  };
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
export const startup = { modulesLoadedMs: performance.now(), appReadyMs: 0, readyMs: 0, cpuMs: { modulesLoaded: cpuMs(), appReady: 0, ready: 0 } };

/** The process's CPU time so far (user + system), ms: beside the wall times above, for the bench. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

// Built at module load: Lambda runs this top-level await while it initialises the instance (the ESM
// bundle SST builds, `lambda.mjs`), before the first event, so no click waits for it. A configuration
// error fails the instance's start, and the function's log says what to fix.
const proxy = await createProxy();
startup.readyMs = performance.now();
startup.cpuMs.ready = cpuMs();

/** Lambda function URL events (payload 2.0), reached directly or through the Router's CloudFront. */
export async function handler(event: unknown, context: Context): Promise<LambdaResponse> {
  return uncachedErrors(await proxy(asSent(event), context));
}
