import type { Config } from './config';
import type { ClientFacts } from './visitor';

/** Set by /optout: this browser objects to tracking on the tracking domain. Only /optout?undo removes it. */
export const OPTOUT_COOKIE = 'rt_optout';
/**
 * `0`: the site withdrew consent through the pixel (revtrail('consent', false)); removed when the pixel
 * next posts with consent given. The pixel keeps its own copy, `1` or `0`, in the site's cookies.
 */
export const CONSENT_COOKIE = 'rt_consent';
/** Browsers cap a cookie's lifetime at 400 days (RFC 6265bis, Chrome): an objection lasts that long. */
export const OBJECTION_MAX_AGE_S = 400 * 86_400;

export type Objection = 'optout' | 'gpc' | 'withdrawn';

/** Why this request must not be tracked, or null: the /optout cookie, Global Privacy Control, a withdrawn consent. */
export function objectionOf(req: Pick<ClientFacts, 'cookies' | 'headers'>, config: Config): Objection | null {
  if (req.cookies[OPTOUT_COOKIE] === '1') return 'optout';
  // Sec-GPC's only defined value is "1" (Global Privacy Control, section 3.1).
  if (config.honorGpc && req.headers['sec-gpc'] === '1') return 'gpc';
  if (config.consent !== 'off' && req.cookies[CONSENT_COOKIE] === '0') return 'withdrawn';
  return null;
}
