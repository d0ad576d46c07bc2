import { CLICK_ID_KEYS, type ClickIdKey, type ClickIds, type Utm } from '../tracking-params';
import { isPlainObject, parsed, readObject, type Parsed } from '../validate';

/**
 * Default channel grouping: how a touchpoint that has no link (a pageview landing with UTMs, click ids or a
 * referrer) gets a channel. The grouping is an ordered list of rules kept as data so the user can edit it
 * (settings.channelRules); the first rule that matches names the channel, and nothing matching is Direct.
 *
 * A rule names a channel and up to four conditions; every condition it names must hold (AND), and a
 * condition holds when any of its values does (OR):
 * - `utmSource`, `utmMedium`: patterns compared with the parameter, case-insensitive; `*` stands for any
 *   run of characters ("paid*" matches "paid_social"); a lone "*" means "present at all".
 * - `referrerHost`: patterns compared with the referrer's host and with every suffix of it that starts
 *   after a dot, so "google.*" matches "www.google.de" and "t.co" matches "t.co" only.
 * - `clickId`: ad click id parameters (gclid, fbclid, ...) of which one must be present.
 */
export interface ChannelRule {
  channel: string;
  utmSource?: string[];
  utmMedium?: string[];
  referrerHost?: string[];
  clickId?: ClickIdKey[];
}

/** What a touchpoint offers the grouping. */
export interface ChannelInput {
  utm: Utm;
  clickIds: ClickIds;
  referrerHost: string | null;
}

export const DIRECT = 'Direct';
export const CHANNELS = ['Paid social', 'Paid search', 'Organic search', 'Social', 'Email', 'Referral', DIRECT] as const;

const SEARCH_ENGINES = ['google.*', 'bing.com', 'duckduckgo.com', 'yahoo.*', 'yandex.*', 'baidu.com', 'ecosia.org', 'search.brave.com', 'qwant.com', 'startpage.com', 'naver.com', 'seznam.cz'];
const SEARCH_SOURCES = ['google', 'bing', 'duckduckgo', 'yahoo', 'yandex', 'baidu', 'ecosia', 'brave', 'qwant', 'startpage', 'naver', 'seznam'];
const SOCIAL_HOSTS = ['facebook.com', 'fb.com', 'fb.me', 'instagram.com', 'l.instagram.com', 'twitter.com', 'x.com', 't.co', 'linkedin.com', 'lnkd.in', 'reddit.com', 'youtube.com', 'youtu.be', 'tiktok.com', 'pinterest.*', 'threads.net', 'bsky.app', 'mastodon.social', 'news.ycombinator.com', 'snapchat.com', 'telegram.org', 't.me', 'whatsapp.com', 'discord.com', 'tumblr.com', 'quora.com'];
const SOCIAL_SOURCES = ['facebook', 'fb', 'meta', 'instagram', 'ig', 'twitter', 'x', 'linkedin', 'reddit', 'youtube', 'tiktok', 'pinterest', 'threads', 'bluesky', 'mastodon', 'hackernews', 'snapchat', 'telegram', 'whatsapp', 'discord', 'tumblr', 'quora'];
const PAID_MEDIUMS = ['cpc', 'ppc', 'cpm', 'cpv', 'paid*', 'retargeting', 'display', 'banner', 'ads', 'ad'];
const PAID_SOCIAL_MEDIUMS = ['paidsocial', 'paid_social', 'paid-social', 'paid social', 'social_paid', 'social-paid', 'sponsored'];
const SOCIAL_MEDIUMS = ['social', 'social-network', 'social-media', 'social_network', 'social_media', 'sm', 'social network', 'social media'];
const EMAIL_VALUES = ['email', 'e-mail', 'e_mail', 'e mail', 'newsletter', 'mail'];

/**
 * The shipped grouping, in order. Ad click ids are decisive for the networks that add them only to paid
 * clicks (Google, Microsoft, TikTok, LinkedIn); Meta adds fbclid to organic link clicks too, so fbclid
 * means paid only with a paid medium and is organic social otherwise.
 */
export const DEFAULT_CHANNEL_RULES: readonly ChannelRule[] = [
  { channel: 'Paid search', clickId: ['gclid', 'gbraid', 'wbraid', 'msclkid'] },
  { channel: 'Paid social', clickId: ['ttclid', 'li_fat_id'] },
  { channel: 'Paid social', clickId: ['fbclid'], utmMedium: PAID_MEDIUMS },
  { channel: 'Paid social', utmMedium: PAID_SOCIAL_MEDIUMS },
  { channel: 'Paid social', utmSource: SOCIAL_SOURCES, utmMedium: PAID_MEDIUMS },
  { channel: 'Paid search', utmMedium: PAID_MEDIUMS },
  { channel: 'Email', utmMedium: EMAIL_VALUES },
  { channel: 'Email', utmSource: EMAIL_VALUES },
  { channel: 'Organic search', utmMedium: ['organic'] },
  { channel: 'Social', clickId: ['fbclid'] },
  { channel: 'Social', utmMedium: SOCIAL_MEDIUMS },
  { channel: 'Social', utmSource: SOCIAL_SOURCES },
  { channel: 'Organic search', utmSource: SEARCH_SOURCES },
  { channel: 'Organic search', referrerHost: SEARCH_ENGINES },
  { channel: 'Social', referrerHost: SOCIAL_HOSTS },
  { channel: 'Referral', utmMedium: ['referral', 'affiliate', 'partner'] },
  { channel: 'Referral', utmSource: ['*'] },
  { channel: 'Referral', referrerHost: ['*'] },
];

const globRegex = (pattern: string): RegExp =>
  new RegExp(`^${pattern.toLowerCase().split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

function valueMatcher(patterns: readonly string[]): (value: string | undefined) => boolean {
  const exact = new Set(patterns.filter((p) => !p.includes('*')).map((p) => p.toLowerCase()));
  const globs = patterns.filter((p) => p.includes('*')).map(globRegex);
  return (value) => {
    if (value === undefined || value === '') return false;
    const v = value.trim().toLowerCase();
    return exact.has(v) || globs.some((g) => g.test(v));
  };
}

function hostMatcher(patterns: readonly string[]): (host: string | null) => boolean {
  const value = valueMatcher(patterns);
  return (host) => {
    if (!host) return false;
    let h = host.toLowerCase().replace(/\.$/, '');
    for (;;) {
      if (value(h)) return true;
      const dot = h.indexOf('.');
      if (dot < 0) return false;
      h = h.slice(dot + 1);
    }
  };
}

/** The rules compiled once into a function; call it per touchpoint. */
export function channelGrouper(rules: readonly ChannelRule[] = DEFAULT_CHANNEL_RULES): (input: ChannelInput) => string {
  const compiled = rules.map((r) => {
    const tests: ((i: ChannelInput) => boolean)[] = [];
    if (r.clickId) {
      const keys = r.clickId;
      tests.push((i) => keys.some((k) => typeof i.clickIds[k] === 'string' && i.clickIds[k] !== ''));
    }
    if (r.utmSource) {
      const m = valueMatcher(r.utmSource);
      tests.push((i) => m(i.utm.utm_source));
    }
    if (r.utmMedium) {
      const m = valueMatcher(r.utmMedium);
      tests.push((i) => m(i.utm.utm_medium));
    }
    if (r.referrerHost) {
      const m = hostMatcher(r.referrerHost);
      tests.push((i) => m(i.referrerHost));
    }
    return { channel: r.channel, tests };
  });
  return (input) => compiled.find((r) => r.tests.length > 0 && r.tests.every((t) => t(input)))?.channel ?? DIRECT;
}

/** Direct is the absence of a source, whatever the rules call their channels. */
export const isDirectChannel = (channel: string): boolean => channel.trim().toLowerCase() === DIRECT.toLowerCase();

const RULE_FIELDS = ['channel', 'utmSource', 'utmMedium', 'referrerHost', 'clickId'] as const;
export const MAX_CHANNEL_RULES = 200;
const MAX_PATTERNS = 200;
const MAX_PATTERN_LENGTH = 200;

function readPatterns(obj: Record<string, unknown>, key: string, at: string, problems: string[]): string[] | undefined {
  const raw = obj[key];
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_PATTERNS) {
    problems.push(`${at}.${key}: must be a list of 1 to ${MAX_PATTERNS} strings`);
    return undefined;
  }
  const out: string[] = [];
  for (const v of raw) {
    if (typeof v !== 'string' || v.trim() === '' || v.length > MAX_PATTERN_LENGTH) {
      problems.push(`${at}.${key}: every value is a non-empty string of at most ${MAX_PATTERN_LENGTH} characters`);
      return undefined;
    }
    out.push(v.trim());
  }
  return out;
}

/** Validates a user-edited rule list (settings.channelRules): shape, known click ids, one condition at least. */
export function parseChannelRules(value: unknown): Parsed<ChannelRule[]> {
  const problems: string[] = [];
  if (!Array.isArray(value) || value.length > MAX_CHANNEL_RULES) {
    return parsed([], [`channelRules: must be a list of at most ${MAX_CHANNEL_RULES} rules`]);
  }
  const rules: ChannelRule[] = [];
  value.forEach((raw, index) => {
    const at = `channelRules[${index}]`;
    const before = problems.length;
    const obj = readObject(raw, RULE_FIELDS, problems, at);
    if (!isPlainObject(raw)) return;
    const channel = typeof obj.channel === 'string' ? obj.channel.trim() : '';
    if (channel === '' || channel.length > 64) problems.push(`${at}.channel: 1 to 64 characters`);
    const rule: ChannelRule = { channel };
    const utmSource = readPatterns(obj, 'utmSource', at, problems);
    const utmMedium = readPatterns(obj, 'utmMedium', at, problems);
    const referrerHost = readPatterns(obj, 'referrerHost', at, problems);
    const clickId = readPatterns(obj, 'clickId', at, problems);
    if (utmSource) rule.utmSource = utmSource;
    if (utmMedium) rule.utmMedium = utmMedium;
    if (referrerHost) rule.referrerHost = referrerHost;
    if (clickId) {
      const unknown = clickId.filter((k) => !(CLICK_ID_KEYS as readonly string[]).includes(k));
      if (unknown.length > 0) problems.push(`${at}.clickId: unknown ${unknown.join(', ')} (known: ${CLICK_ID_KEYS.join(', ')})`);
      else rule.clickId = clickId as ClickIdKey[];
    }
    if (problems.length === before && !utmSource && !utmMedium && !referrerHost && !clickId) {
      problems.push(`${at}: needs at least one of utmSource, utmMedium, referrerHost, clickId`);
    }
    rules.push(rule);
  });
  return parsed(rules, problems);
}
