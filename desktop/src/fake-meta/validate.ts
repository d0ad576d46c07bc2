/**
 * What the fake Graph API checks in a Conversions API request, each rule from Meta's public documentation:
 *   main body        https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/main-body
 *                    (data: at most 1,000 events; "one bad event rejects the batch"; test_event_code)
 *   server event     https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/server-event
 *                    (event_name, event_time in seconds and "up to 7 days before you send", action_source values,
 *                    event_source_url for website events)
 *   customer info    https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/customer-information-parameters
 *                    (em SHA-256 "Hashing required"; client_user_agent, fbc, fbp "Do not hash"; "at least one")
 *   fbc and fbp      https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/fbp-and-fbc
 *   custom data      https://developers.facebook.com/docs/marketing-api/conversions-api/parameters/custom-data
 *                    (value and currency, which a Purchase needs)
 * Meta answers a bad parameter with error code 100 (OAuthException, "Invalid parameter"); the wording of
 * error_user_title and error_user_msg here is the fake's own, and it gives no error_subcode (Meta's subcodes
 * for these cases are not documented together anywhere it could be checked against).
 */

export const ACTION_SOURCES = ['email', 'website', 'app', 'phone_call', 'chat', 'physical_store', 'system_generated', 'business_messaging', 'other'] as const;
export const MAX_EVENTS = 1000;
const SEVEN_DAYS_S = 7 * 86_400;
/** Fields that must be SHA-256 hex (the "Hashing required" ones). */
const HASHED = ['em', 'ph', 'fn', 'ln', 'ge', 'db', 'ct', 'st', 'zp', 'country'] as const;
const UNHASHED = ['client_ip_address', 'client_user_agent', 'fbc', 'fbp', 'subscription_id', 'fb_login_id', 'lead_id', 'external_id', 'page_id', 'ctwa_clid'] as const;
const SHA256_RE = /^[0-9a-f]{64}$/;
const FBC_RE = /^fb\.\d\.\d{13}\.[^.\s]+(\.[^.\s]+)?$/;
const FBP_RE = /^fb\.\d\.\d{13}\.\d+(\.[^.\s]+)?$/;

export interface Invalid {
  /** Index of the event in `data`, or null for the request as a whole. */
  index: number | null;
  title: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (v: unknown): string[] | null => (typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null);

/** The first problem of the request (Meta refuses the whole batch for one), or null; `warnings` collects what Meta only advises. */
export function checkEvents(data: unknown, nowS: number, warnings: string[]): Invalid | null {
  if (!Array.isArray(data)) return { index: null, title: 'Invalid data', message: 'data must be a JSON array of events.' };
  if (data.length === 0) return { index: null, title: 'No events', message: 'data must hold at least one event.' };
  if (data.length > MAX_EVENTS) return { index: null, title: 'Too many events', message: `data holds ${data.length} events; a request takes at most ${MAX_EVENTS}.` };
  for (const [i, e] of data.entries()) {
    const bad = (title: string, message: string): Invalid => ({ index: i, title, message: `Event ${i}: ${message}` });
    if (!isObject(e)) return bad('Invalid event', 'must be an object.');
    if (typeof e.event_name !== 'string' || e.event_name.length === 0) return bad('Missing event_name', 'event_name is required.');
    if (typeof e.event_time !== 'number' || !Number.isInteger(e.event_time)) return bad('Invalid event_time', 'event_time must be a Unix timestamp in seconds.');
    // A value in milliseconds is some 50,000 years ahead.
    if (e.event_time > nowS + 7 * 86_400) return bad('Invalid event_time', 'event_time is in the future: send it in seconds, not milliseconds.');
    if (e.event_time < nowS - SEVEN_DAYS_S) return bad('Event Timestamp Too Old', 'event_time is more than 7 days before this request.');
    if (typeof e.action_source !== 'string' || !(ACTION_SOURCES as readonly string[]).includes(e.action_source)) {
      return bad('Invalid action_source', `action_source must be one of ${ACTION_SOURCES.join(', ')}.`);
    }
    if (e.event_id !== undefined && (typeof e.event_id !== 'string' || e.event_id.length === 0)) return bad('Invalid event_id', 'event_id must be a non-empty string.');
    if (e.action_source === 'website') {
      if (typeof e.event_source_url !== 'string' || !URL.canParse(e.event_source_url) || !/^https?:$/.test(new URL(e.event_source_url).protocol)) {
        return bad('Missing event_source_url', 'website events need event_source_url, the page address.');
      }
    }
    const user = e.user_data;
    if (!isObject(user)) return bad('Missing user_data', 'user_data is required.');
    const known = [...HASHED, ...UNHASHED] as readonly string[];
    if (!Object.keys(user).some((k) => known.includes(k))) return bad('Missing customer information', 'user_data needs at least one customer information parameter.');
    for (const k of HASHED) {
      if (user[k] === undefined) continue;
      const values = strings(user[k]);
      if (!values || values.some((v) => !SHA256_RE.test(v))) return bad('Unhashed customer information', `user_data.${k} must be SHA-256 hashes as lowercase hex.`);
    }
    if (user.external_id !== undefined && !strings(user.external_id)) return bad('Invalid external_id', 'user_data.external_id must be a string or a list of strings.');
    if (user.fbc !== undefined && (typeof user.fbc !== 'string' || !FBC_RE.test(user.fbc))) return bad('Invalid fbc', 'user_data.fbc must read fb.<subdomain index>.<creation time in ms>.<fbclid>.');
    if (user.fbp !== undefined && (typeof user.fbp !== 'string' || !FBP_RE.test(user.fbp))) return bad('Invalid fbp', 'user_data.fbp must read fb.<subdomain index>.<creation time in ms>.<random number>.');
    if (user.client_user_agent !== undefined && typeof user.client_user_agent !== 'string') return bad('Invalid client_user_agent', 'user_data.client_user_agent must be a string.');
    if (e.action_source === 'website' && user.client_user_agent === undefined) {
      warnings.push(`Event ${i}: no client_user_agent (Meta documents it as required for website events; such an event may not be used for optimisation).`);
    }
    if (e.event_name === 'Purchase') {
      const custom = e.custom_data;
      if (!isObject(custom) || typeof custom.value !== 'number' || !Number.isFinite(custom.value) || typeof custom.currency !== 'string' || !/^[A-Za-z]{3}$/.test(custom.currency)) {
        return bad('Missing value or currency', 'a Purchase needs custom_data.value (a number) and custom_data.currency (ISO 4217).');
      }
    }
  }
  return null;
}
