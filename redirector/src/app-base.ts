// The app's plumbing, shared by buildApp (app.ts: every route) and the Lambda's redirect app (lambda.ts:
// redirects and the domain's own pages alone, built at a cold start): the context both serve from, Fastify
// with the hooks, cookie and error handling every route relies on. No route group beyond those two is
// imported here, so the Lambda's bundle loads the others (app.ts and its routes) in a chunk of their own, on
// the first request that needs one.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import type pino from 'pino';
import { SLUG_MAX_LENGTH, type Clock } from '@revtrail/shared';
import type { Config } from './config';
import type { AppContext } from './context';
import { sendError, STATUS_OF } from './http-errors';
import { destinationRules } from './destinations';
import { LinkCache } from './link-cache';
import { loadPixelAsset, pixelSettings, type PixelAsset } from './pixel/asset';
import { EventRecorder } from './recorder';
import { registerPublicRoutes } from './routes/public';
import { registerTrackRoutes } from './routes/track';
import type { Journal } from './journal/journal';
import type { Spill } from './spill/types';
import { ErasureFilter, erasureFiltered } from './store/erasures';
import { OriginRefusalCounter } from './store/origin-refusals';
import { AllowedOrigins, dynamoClientOf, RetentionSetting, SettingsTable } from './store/settings';
import type { Store } from './store/types';
import { DuplicateDetector, IpHasher, vetForwarding } from './visitor';
import { TelegramEndpoint, type TelegramSettingsKeeping } from './telegram/endpoint';
import { StripeWebhookEndpoint, type WebhookSecretsKeeping } from './webhook/endpoint';

export interface AppDeps {
  store: Store;
  config: Config;
  log: pino.Logger;
  clock: Clock;
  /**
   * How events are kept: `inline` with a spill for what the store does not take in time (Lambda, where
   * nothing runs after a response; null: no queue, the log is the last resort); `journal` to the local
   * journal file, ingested in the background.
   */
  events: { mode: 'inline'; spill: Spill | null } | { mode: 'journal'; journal: Journal };
  pixel?: PixelAsset;
  /**
   * Makes deletions final in the store's own files, run after an erasure: the local embedded store compacts
   * (LevelDB keeps deleted bytes until then). Absent on AWS, where DynamoDB manages its storage.
   */
  compactStore?: () => Promise<void>;
  /**
   * Where Stripe webhook signing secrets set through the sync API are kept (a local redirector: the desktop's
   * secret store or secrets.json), or why they cannot be set here. Absent: they are set where the deployment
   * is configured (an SST secret on AWS, the REVTRAIL_STRIPE_WEBHOOK_SECRET setting).
   */
  stripeWebhookSecrets?: WebhookSecretsKeeping;
  /** The same for the Telegram bot's settings (REVTRAIL_TELEGRAM_* or SST secrets when absent). */
  telegramSettings?: TelegramSettingsKeeping;
}

export type RevtrailApp = FastifyInstance & { revtrail: AppContext };

/**
 * Fastify's schema compilers, refused. Given none, Fastify's constructor requires @fastify/ajv-compiler (ajv)
 * and @fastify/fast-json-stringify-compiler at every start, for JSON schemas no route here declares (each
 * validates its input by hand): ~45 ms of a Lambda cold start and ~280 KB of its bundle, which leaves them
 * out (sst.config.ts, REDIRECTOR_FUNCTION.nodejs.esbuild.external). A route with a schema fails the start.
 */
const NO_SCHEMA_COMPILERS = {
  buildValidator: (): never => {
    throw new Error('A route declares a JSON schema, but the redirector loads no schema compilers (app-base.ts, NO_SCHEMA_COMPILERS): validate its input in the handler, as the other routes do.');
  },
  buildSerializer: (): never => {
    throw new Error('A route declares a response schema, but the redirector loads no schema compilers (app-base.ts, NO_SCHEMA_COMPILERS): send plain objects, as the other routes do.');
  },
};

/** What every route is served from: one per process, shared by the apps built on it. */
export function createContext(deps: AppDeps): AppContext {
  const { config, store, clock, log } = deps;
  const ipHasher = new IpHasher(config.ipSaltSeed);
  const erasures = new ErasureFilter({ store, log, now: () => clock.now() });
  // The journal's events reach the store after the fact, so they pass the erasure filter first.
  const events = deps.events.mode === 'journal' ? { ...deps.events, store: erasureFiltered(store, erasures) } : { ...deps.events, store };
  const ipHashes = new WeakMap<FastifyRequest, string | null>();
  const settingsTable = new SettingsTable(dynamoClientOf(store), config.tableName);
  // The pixel's gzip and brotli forms are made on its first request: a redirect never serves it.
  let pixel = deps.pixel;
  return {
    config,
    store,
    clock,
    log,
    links: new LinkCache({
      store,
      clock,
      log,
      ttlMs: config.linkCacheTtlMs,
      lookupBudgetMs: Math.max(200, config.clickWriteBudgetMs * 2),
      destinations: () => destinationRules(config),
    }),
    recorder: new EventRecorder({ log, budgetMs: config.clickWriteBudgetMs, ...events }),
    duplicates: new DuplicateDetector(config.duplicateWindowMs),
    get pixel() {
      return (pixel ??= loadPixelAsset({ settings: pixelSettings(config) }));
    },
    erasures,
    retention: new RetentionSetting(store, config.retentionDays, log, () => clock.now()),
    pixelOrigins: new AllowedOrigins({ table: settingsTable, deployment: config.allowedOrigins, log, now: () => clock.now() }),
    refusedOrigins: new OriginRefusalCounter({ table: settingsTable, log, now: () => clock.now() }),
    journal: deps.events.mode === 'journal' ? deps.events.journal : null,
    compactStore: deps.compactStore ?? null,
    stripeWebhook: new StripeWebhookEndpoint({ config, store, log, now: () => clock.now(), keeping: deps.stripeWebhookSecrets ?? null }),
    telegram: new TelegramEndpoint({ config, store, log, now: () => clock.now(), keeping: deps.telegramSettings ?? null }),
    ipHashOf: (req) => {
      let hash = ipHashes.get(req);
      if (hash === undefined) {
        hash = ipHasher.hash(req.ip, req.hostname, req.headers['user-agent'], clock.now());
        ipHashes.set(req, hash);
      }
      return hash;
    },
  };
}

/** Reads a context starts in the background, once per context (a store down must not stop the start). */
export function startContext(ctx: AppContext): void {
  // The retention set through the sync API.
  ctx.retention.refreshIfStale();
  ctx.pixelOrigins.refreshIfStale();
  // Links load in the background: the first redirects may look a link up, none waits for the whole list.
  ctx.links.preload().catch((e: unknown) => ctx.log.warn({ err: (e as Error).message }, 'link preload failed; links load on demand'));
}

/** Fastify on `ctx` with what every route relies on: the forwarding vetted first, cookies, the error replies. No routes. */
export async function baseApp(ctx: AppContext): Promise<RevtrailApp> {
  const { config, log } = ctx;
  const app: FastifyInstance = Fastify({
    // ctx.log is AppDeps.log, a pino logger, typed down to what the routes call.
    loggerInstance: log as unknown as FastifyBaseLogger,
    // No per-request log lines: they would hold visitors' IPs and URLs, and cost time on every redirect.
    logController: new LogController({ disableRequestLogging: true }),
    // A child logger per request costs more than the rest of a redirect; errors are logged with context.
    childLoggerFactory: (logger) => logger,
    // One hop: the X-Forwarded-* headers vetForwarding (below) left, which only this deployment could have set.
    trustProxy: (_address: string, hop: number) => hop === 0,
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: SLUG_MAX_LENGTH + 1 },
    return503OnClosing: true,
    schemaController: { compilersFactory: NO_SCHEMA_COMPILERS },
  });
  app.decorate('revtrail', ctx);
  // First of all hooks, before any rate limit or route reads who the client is.
  app.addHook('onRequest', (req, _reply, done) => {
    vetForwarding(req.raw.headers, config);
    ctx.retention.refreshIfStale();
    done();
  });

  await app.register(cookie);

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      req.log.error({ err: error, url: req.routeOptions.url }, 'request failed');
      return sendError(reply, 'internal', 'Something went wrong on the tracking server. It has been logged.');
    }
    if (status === 429) return reply.code(429).send({ error: { code: 'rate_limited', message: error.message } });
    const code = (Object.keys(STATUS_OF) as (keyof typeof STATUS_OF)[]).find((k) => STATUS_OF[k] === status) ?? 'invalid_input';
    return reply.code(status).send({ error: { code, message: error.message } });
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, 'not_found', 'Nothing here.'));
  return app as unknown as RevtrailApp;
}

/**
 * The Lambda's cold-start app: redirects (every method on /:slug) and the domain's own pages (/p.js, /health,
 * /robots.txt, /). Each answers here as in buildApp's app; redirectAppServes says which requests it gets.
 */
export async function buildRedirectApp(ctx: AppContext): Promise<RevtrailApp> {
  const app = await baseApp(ctx);
  registerPublicRoutes(app, ctx);
  registerTrackRoutes(app, ctx);
  return app;
}

/**
 * Single-segment paths that are not links and that only buildApp's app serves (routes/privacy.ts,
 * routes/same-origin.ts PROXY_CHECK_PATH). test/redirect-app.test.ts checks this list against its routes.
 */
export const OTHER_ROOT_PATHS: readonly string[] = ['/optout', '/proxy-check'];

/**
 * Whether the redirect app answers this path as buildApp's app would: one segment of the characters a slug
 * or a page name is made of, and not one of OTHER_ROOT_PATHS. Anything else (the sync API, collect, webhooks,
 * an encoded or odd path) goes to the full app.
 */
export function redirectAppServes(path: string): boolean {
  return /^\/[A-Za-z0-9._~-]*$/.test(path) && !OTHER_ROOT_PATHS.includes(path);
}
