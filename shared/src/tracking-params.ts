/** Ad click ids captured verbatim from a tracking link or landing URL (REFERENCE.md). */
export const CLICK_ID_KEYS = ['fbclid', 'gclid', 'gbraid', 'wbraid', 'ttclid', 'msclkid', 'li_fat_id'] as const;
export const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'] as const;

export type ClickIdKey = (typeof CLICK_ID_KEYS)[number];
export type UtmKey = (typeof UTM_KEYS)[number];
export type ClickIds = Partial<Record<ClickIdKey, string>>;
export type Utm = Partial<Record<UtmKey, string>>;

/** Longest value kept for one parameter. Real click ids are far shorter (gclid ~100, fbclid ~200). */
export const TRACKING_VALUE_MAX = 500;

export interface TrackingParams {
  clickIds: ClickIds;
  utm: Utm;
}

export type TrackingParamsResult =
  | { ok: true; value: TrackingParams }
  | { ok: false; key: string; reason: 'too_long' };

/**
 * Reads click ids and UTM parameters from a query string. The first occurrence of a key wins;
 * empty values are ignored; an overlong value is an error for the caller to report.
 */
export function extractTrackingParams(params: URLSearchParams): TrackingParamsResult {
  const clickIds: ClickIds = {};
  const utm: Utm = {};
  for (const key of CLICK_ID_KEYS) {
    const value = params.get(key);
    if (!value) continue;
    if (value.length > TRACKING_VALUE_MAX) return { ok: false, key, reason: 'too_long' };
    clickIds[key] = value;
  }
  for (const key of UTM_KEYS) {
    const value = params.get(key);
    if (!value) continue;
    if (value.length > TRACKING_VALUE_MAX) return { ok: false, key, reason: 'too_long' };
    utm[key] = value;
  }
  return { ok: true, value: { clickIds, utm } };
}
