// The context every route serves from (AppDeps -> AppContext), without Fastify: the Lambda answers redirects
// through it directly (redirect.ts, lambda-redirect.ts) and loads Fastify (app-base.ts) only for other requests.
import type pino from 'pino';
import type { Clock } from '@revtrail/shared';
import type { Config } from './config';
import type { AppContext } from './context';
import { destinationRules } from './destinations';
import { LinkCache } from './link-cache';
import { loadPixelAsset, pixelSettings, type PixelAsset } from './pixel/asset';
import { EventRecorder } from './recorder';
import type { Journal } from './journal/journal';
import type { Spill } from './spill/types';
import { ErasureFilter, erasureFiltered } from './store/erasures';
import { OriginRefusalCounter } from './store/origin-refusals';
import { AllowedOrigins, dynamoClientOf, RetentionSetting, SettingsTable } from './store/settings';
import type { Store } from './store/types';
import { DuplicateDetector, IpHasher, type ClientFacts } from './visitor';
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

/** What every route is served from: one per process, shared by the apps built on it. */
export function createContext(deps: AppDeps): AppContext {
  const { config, store, clock, log } = deps;
  const ipHasher = new IpHasher(config.ipSaltSeed);
  const erasures = new ErasureFilter({ store, log, now: () => clock.now() });
  // The journal's events reach the store after the fact, so they pass the erasure filter first.
  const events = deps.events.mode === 'journal' ? { ...deps.events, store: erasureFiltered(store, erasures) } : { ...deps.events, store };
  const ipHashes = new WeakMap<ClientFacts, string | null>();
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
