import {
  CLICK_ID_KEYS,
  EMAIL_HASH_RE,
  UTM_KEYS,
  isEventId,
  isPlainObject,
  isVisitorId,
  type DeviceType,
  type BotReason,
} from '@revtrail/shared';
import type { EventRecord } from '../store/types';

const DEVICES: readonly DeviceType[] = ['desktop', 'mobile', 'tablet', 'other'];
const BOT_REASONS: readonly BotReason[] = ['user_agent', 'head_request', 'link_preview'];
const KINDS = ['clicks', 'pageviews', 'identities'] as const;
/** Longer than any value the routes write (URLs are capped at 2,048, tracking values at 500). */
const TEXT_MAX = 8192;

type Check = (v: unknown) => boolean;
const text: Check = (v) => typeof v === 'string' && v.length <= TEXT_MAX;
const textOrNull: Check = (v) => v === null || text(v);
const time: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const bool: Check = (v) => typeof v === 'boolean';
const oneOf = (values: readonly unknown[]): Check => (v) => values.includes(v);
const orNull = (c: Check): Check => (v) => v === null || c(v);
const params = (keys: readonly string[]): Check => (v) => isPlainObject(v) && Object.entries(v).every(([k, x]) => keys.includes(k) && text(x));

/** Field checks of each event kind, after shared/src/wire/events.ts (Click, Pageview, Identity). */
const SHAPES: Record<EventRecord['kind'], Record<string, Check>> = {
  clicks: {
    id: isEventId,
    slug: text,
    at: time,
    visitorId: orNull(isVisitorId),
    referrerHost: textOrNull,
    referrerUrl: textOrNull,
    device: oneOf(DEVICES),
    browser: textOrNull,
    os: textOrNull,
    country: textOrNull,
    ipHash: textOrNull,
    clickIds: params(CLICK_ID_KEYS),
    utm: params(UTM_KEYS),
    bot: bool,
    botReason: orNull(oneOf(BOT_REASONS)),
    duplicate: bool,
    channel: text,
    campaign: textOrNull,
    partnerId: textOrNull,
  },
  pageviews: {
    id: isEventId,
    at: time,
    visitorId: isVisitorId,
    url: text,
    referrerHost: textOrNull,
    referrerUrl: textOrNull,
    clickIds: params(CLICK_ID_KEYS),
    utm: params(UTM_KEYS),
    ipHash: textOrNull,
  },
  identities: {
    id: isEventId,
    at: time,
    visitorId: isVisitorId,
    emailHash: (v) => typeof v === 'string' && EMAIL_HASH_RE.test(v),
    source: oneOf(['api', 'form']),
  },
};

/**
 * Reads an event as the routes write it (`{kind, item}`), from a journal line, a spill message or a log
 * line. Returns the problem in words when it is not one, so the line can be set aside with its reason.
 * Fields beyond the wire type are let through: a field added to Click must not send real clicks to quarantine.
 */
export function readEventRecord(value: unknown): { ok: true; record: EventRecord } | { ok: false; problem: string } {
  if (!isPlainObject(value)) return { ok: false, problem: 'not a JSON object' };
  const kind = KINDS.find((k) => k === value.kind);
  if (!kind) return { ok: false, problem: `kind must be one of ${KINDS.join(', ')}` };
  const item = value.item;
  if (!isPlainObject(item)) return { ok: false, problem: 'item must be an object' };
  const shape = SHAPES[kind];
  for (const [field, check] of Object.entries(shape)) {
    if (!check(item[field])) return { ok: false, problem: `item.${field} is missing or not a valid ${kind.slice(0, -1)} ${field}` };
  }
  return { ok: true, record: { kind, item } as unknown as EventRecord };
}
