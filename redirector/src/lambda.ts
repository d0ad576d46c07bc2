import { systemClock } from '@revtrail/shared';
import { createContext, startContext, type AppDeps } from './app-context';
import { loadLambdaConfig } from './config';
import { asSent, directRedirect, uncachedErrors } from './lambda-redirect';
import { createLogger } from './log';
import { redirectAppServes } from './redirect';
import type { RevtrailApp } from './app-base';
import type { Spill } from './spill/types';
import { DynamoStore } from './store/dynamo';

import type { Context } from 'aws-lambda';
import type pino from 'pino';
import type { LambdaResponse, PromiseHandler } from '@fastify/aws-lambda';

type Proxy = PromiseHandler<unknown, LambdaResponse>;
type Handler = (event: unknown, context: Context) => Promise<LambdaResponse>;

export { asSent, uncachedErrors } from './lambda-redirect';

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
 * The handler's context with its DynamoDB and SQS clients, made while Lambda starts the instance (see `proxy`
 * below). A click is answered once it is in the table, else in the spill queue, else in this function's log.
 *
 * Redirects (GET|HEAD of a link's path on a function URL event) are answered without Fastify
 * (lambda-redirect.ts: the track route's own code, redirect.ts, given the facts Fastify gave it). Every other
 * request goes to a Fastify app loaded (a chunk of the bundle with Fastify) and built on its first request,
 * which waits for it once: the domain's own pages (/p.js, /health, /robots.txt, /) to the redirect app
 * (app-base.ts), the rest (the sync API, the pixel's collect, the webhooks, the opt-out page) to buildApp's
 * app with every route (app.ts). All on one context.
 */
export async function createProxy(log: pino.Logger = createLogger()): Promise<Handler> {
  const config = await loadLambdaConfig();
  const store = new DynamoStore({
    tableName: config.tableName,
    retentionDays: config.retentionDays,
    clientConfig: { maxAttempts: 2, requestHandler: DYNAMODB_TIMEOUTS },
  });
  // The first table read starts now, beside the context's build: it opens the connection (TLS on AWS), so the
  // first click's write does not pay for the handshake inside its 150 ms budget. The feeds' markers it reads
  // spare that write a read of its feed's first (store/feed-partitions.ts).
  const appends = store.prepareAppends();
  const spill = config.spillQueueUrl ? lazySqsSpill(config.spillQueueUrl) : null;
  const deps: AppDeps = { store, config, log, clock: systemClock, events: { mode: 'inline', spill } };
  const ctx = createContext(deps);
  // Reads the stored settings and preloads the links, in the background.
  startContext(ctx);
  startup.appReadyMs = performance.now();
  startup.cpuMs.appReady = cpuMs();
  // Waiting for the first reads (bounded) keeps them out of the first click's budget.
  const warmUp = Promise.all([ctx.retention.refresh(), appends]).catch(() => undefined);
  await Promise.race([warmUp, new Promise((r) => setTimeout(r, WARM_UP_MS).unref())]);

  const pages = lazyApp(() => import('./app-base').then(({ buildRedirectApp }) => buildRedirectApp(ctx)));
  const full = lazyApp(() => import('./app').then(({ buildAppOn }) => buildAppOn(ctx)));
  return async (event, context) => {
    const direct = directRedirect(ctx, event);
    if (direct !== null) {
      // As @fastify/aws-lambda set it: the answer does not wait for timers or sockets left open.
      if (context) context.callbackWaitsForEmptyEventLoop = false;
      return direct as LambdaResponse | Promise<LambdaResponse>;
    }
    // A function URL event's path (before asSent appends the query to it); any other event: the full app.
    const path = (event as { rawPath?: unknown } | null)?.rawPath;
    const served = typeof path === 'string' && redirectAppServes(path.split('?', 1)[0]!);
    return (await (served ? pages() : full()))(asSent(event), context);
  };
}

/** A Fastify app behind @fastify/aws-lambda, loaded and built on its first request (again after a failure). */
function lazyApp(build: () => Promise<RevtrailApp>): () => Promise<Proxy> {
  let made: Promise<Proxy> | null = null;
  return () =>
    (made ??= Promise.all([build(), import('@fastify/aws-lambda')])
      .then(async ([app, { default: awsLambdaFastify }]) => {
        const proxy = awsLambdaFastify(app, proxyOptions()) as Proxy;
        await app.ready();
        return proxy;
      })
      .catch((e: unknown) => {
        made = null; // the next request tries again
        throw e;
      }));
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
  return uncachedErrors(await proxy(event, context));
}
