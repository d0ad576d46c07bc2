import type { DestinationRules } from '@revtrail/shared';
import type { Config } from './config';

/**
 * What a destination must satisfy on this redirector: never itself (its public URL, and the address a
 * request reached it by, which on Lambda may be the function URL), and private addresses only where the
 * setting allows them. Read at call time: a local redirector learns its public URL once it listens.
 */
export function destinationRules(config: Config, requestOrigin?: string): DestinationRules {
  const self = [config.publicUrl, requestOrigin].filter((u): u is string => Boolean(u));
  return { self, allowPrivate: config.allowPrivateDestinations };
}
