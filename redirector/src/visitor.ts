import { createHmac } from 'node:crypto';
import { UAParser } from 'ua-parser-js';
import { isbot } from 'isbot';
import { utcDay, type BotReason, type DeviceType } from '@revtrail/shared';

/** Fetchers that unfurl a pasted link into a preview card: a preview is not a visit. */
const LINK_PREVIEW_RE =
  /(facebookexternalhit|facebot|twitterbot|slackbot|slack-imgproxy|discordbot|telegrambot|whatsapp\/|linkedinbot|skypeuripreview|pinterestbot|redditbot|embedly|iframely|vkshare|mastodon|bluesky|cardyb|google-pagerenderer|bitlybot|kakaotalk-scrap|microsoft preview|quora link preview|yahoo link preview)/i;

export interface Agent {
  device: DeviceType;
  browser: string | null;
  os: string | null;
  bot: boolean;
  botReason: BotReason | null;
}

interface ParsedAgent {
  device: DeviceType;
  browser: string | null;
  os: string | null;
  preview: boolean;
  crawler: boolean;
}

/** Parsing a user agent costs tens of microseconds; most traffic shares a few hundred of them. */
const parsedAgents = new Map<string, ParsedAgent>();
const PARSED_AGENTS_MAX = 2000;

function parseAgent(agent: string): ParsedAgent {
  const cached = parsedAgents.get(agent);
  if (cached) return cached;
  const parsed = new UAParser(agent).getResult();
  const type = parsed.device.type;
  const result: ParsedAgent = {
    device: type === 'mobile' || type === 'wearable' ? 'mobile' : type === 'tablet' ? 'tablet' : type === undefined ? (agent ? 'desktop' : 'other') : 'other',
    browser: parsed.browser.name ?? null,
    os: parsed.os.name ?? null,
    preview: LINK_PREVIEW_RE.test(agent),
    crawler: agent === '' || isbot(agent),
  };
  if (parsedAgents.size >= PARSED_AGENTS_MAX) parsedAgents.clear();
  parsedAgents.set(agent, result);
  return result;
}

export function classifyAgent(ua: string | undefined, method: string, purpose: string | undefined): Agent {
  const parsed = parseAgent(ua ?? '');
  let botReason: BotReason | null = null;
  if (method === 'HEAD') botReason = 'head_request';
  else if (parsed.preview || (purpose !== undefined && /prefetch|prerender|preview/i.test(purpose))) botReason = 'link_preview';
  else if (parsed.crawler) botReason = 'user_agent';
  return { device: parsed.device, browser: parsed.browser, os: parsed.os, bot: botReason !== null, botReason };
}

/**
 * Keyed IP hash: HMAC-SHA256 over site + IP + user agent with a salt derived for the UTC day from a
 * secret seed. The raw IP is never stored; the same visitor hashes differently tomorrow.
 */
export class IpHasher {
  private day = '';
  private salt: Buffer = Buffer.alloc(0);

  constructor(private readonly seed: string) {}

  hash(ip: string | undefined, site: string, ua: string | undefined, at: number): string | null {
    if (!ip) return null;
    const day = utcDay(at);
    if (day !== this.day) {
      this.salt = createHmac('sha256', this.seed).update(`ip-salt:${day}`).digest();
      this.day = day;
    }
    return createHmac('sha256', this.salt).update(`${site}\n${ip}\n${ua ?? ''}`).digest('hex').slice(0, 32);
  }
}

/** A referrer as kept: host and origin + path (query and fragment dropped: they often carry personal data). */
export function parseReferrer(raw: string | undefined): { referrerHost: string | null; referrerUrl: string | null } {
  if (!raw || raw.length > 2048) return { referrerHost: null, referrerUrl: null };
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { referrerHost: null, referrerUrl: null };
    return { referrerHost: url.hostname, referrerUrl: `${url.origin}${url.pathname}`.slice(0, 1024) };
  } catch {
    return { referrerHost: null, referrerUrl: null };
  }
}

/**
 * The visitor's IP, from what the client cannot forge: CloudFront's viewer address when CloudFront is in
 * front, else (behind a trusted proxy such as a Lambda function URL) the last X-Forwarded-For hop, the one
 * AWS appended, else the socket. Never the leftmost X-Forwarded-For entry, which the client writes.
 */
export function clientIp(headers: Record<string, string | string[] | undefined>, socketIp: string | undefined, trustProxy: boolean): string | undefined {
  if (!trustProxy) return socketIp;
  const viewer = headers['cloudfront-viewer-address'];
  if (typeof viewer === 'string' && viewer.includes(':')) return viewer.slice(0, viewer.lastIndexOf(':'));
  const forwarded = headers['x-forwarded-for'];
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((h) => h.trim()).filter(Boolean);
  return hops.at(-1) ?? socketIp;
}

/** Same visitor, same link, within the window: remembered per instance (bounded), see docs/table.md. */
export class DuplicateDetector {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly max = 100_000,
  ) {}

  check(visitorId: string, slug: string, at: number): boolean {
    if (this.windowMs === 0) return false;
    const key = `${visitorId} ${slug}`;
    const last = this.seen.get(key);
    this.seen.delete(key);
    this.seen.set(key, at);
    if (this.seen.size > this.max) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    return last !== undefined && at - last < this.windowMs;
  }
}
