import type { FastifyRequest } from 'fastify';
import type { Clock } from '@revtrail/shared';
import type { Config } from './config';
import type { LinkCache } from './link-cache';
import type { Logger } from './log';
import type { PixelAsset } from './pixel/asset';
import type { EventRecorder } from './recorder';
import type { Store } from './store/types';
import type { DuplicateDetector } from './visitor';

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
  /** The day's keyed hash of the visitor's IP, site and user agent; computed once per request. */
  ipHashOf(req: FastifyRequest): string | null;
}

export const VISITOR_COOKIE = 'rt_vid';
export const API_VERSION = 1;
