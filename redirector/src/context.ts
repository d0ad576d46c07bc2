import type { Clock } from '@revtrail/shared';
import type { Config } from './config';
import type { LinkCache } from './link-cache';
import type { Logger } from './log';
import type { PixelAsset } from './pixel/asset';
import type { Journal } from './journal/journal';
import type { EventRecorder } from './recorder';
import type { ErasureFilter } from './store/erasures';
import type { OriginRefusalCounter } from './store/origin-refusals';
import type { AllowedOrigins, RetentionSetting } from './store/settings';
import type { Store } from './store/types';
import type { ClientFacts, DuplicateDetector } from './visitor';
import type { TelegramEndpoint } from './telegram/endpoint';
import type { StripeWebhookEndpoint } from './webhook/endpoint';

/** What every route of the app is given. */
export interface AppContext {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  links: LinkCache;
  recorder: EventRecorder;
  duplicates: DuplicateDetector;
  pixel: PixelAsset;
  /** The erased people, checked before events are stored after the fact (journal ingest). */
  erasures: ErasureFilter;
  /** The retention in force: the deployment's, or the one set through the sync API. */
  retention: RetentionSetting;
  /** The sites whose pixel may send events: the deployment's and those allowed from the app. */
  pixelOrigins: AllowedOrigins;
  /** Pixel events refused for their site, counted per origin. */
  refusedOrigins: OriginRefusalCounter;
  /** The local journal (null on Lambda): erasure scrubs its quarantine. */
  journal: Journal | null;
  /** Makes deletions final in the store's files after an erasure (the local embedded store); null on AWS. */
  compactStore: (() => Promise<void>) | null;
  /** The Stripe webhook endpoint: its signing secrets and counters. */
  stripeWebhook: StripeWebhookEndpoint;
  /** The Telegram bot's endpoint: its settings, start tokens and counters. */
  telegram: TelegramEndpoint;
  /** The day's keyed hash of the visitor's IP, site and user agent; computed once per request. */
  ipHashOf(req: ClientFacts): string | null;
}

export const VISITOR_COOKIE = 'rt_vid';
export const API_VERSION = 1;
