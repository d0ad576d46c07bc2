import { createHmac } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { UAParser } from 'ua-parser-js';
import { isbot } from 'isbot';
import { DAY_MS, utcDay, type BotReason, type DeviceType } from '@revtrail/shared';
import { secretMatches } from './secret-match';

/**
 * Who a request says the client is, as Fastify's request gives it (a FastifyRequest is one) and as the Lambda's
 * direct redirect path works it out (lambda-redirect.ts): the vetted headers, cookies, address, host, scheme.
 */
export interface ClientFacts {
  headers: IncomingHttpHeaders;
  cookies: Record<string, string | undefined>;
  ip: string;
  /** The host without its port. */
  hostname: string;
  protocol: string;
}

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
  private salt: Buffer = Buffer.alloc(0);
  /** The day's instant bounds, so most calls skip formatting a date. */
  private dayStart = 0;
  private dayEnd = 0;
  /**
   * Hashes computed today, by site + IP + UA: a visitor's repeat requests skip the HMAC. In memory only,
   * bounded (least recently used goes first), and emptied with the salt at the UTC day's rotation, so
   * yesterday's hashes (and the IPs keying them) never outlive yesterday's salt.
   */
  private readonly today = new Map<string, string>();

  constructor(
    private readonly seed: string,
    private readonly cacheMax = 4096,
  ) {}

  hash(ip: string | undefined, site: string, ua: string | undefined, at: number): string | null {
    if (!ip) return null;
    if (at < this.dayStart || at >= this.dayEnd) {
      this.salt = createHmac('sha256', this.seed).update(`ip-salt:${utcDay(at)}`).digest();
      this.dayStart = at - (at % DAY_MS);
      this.dayEnd = this.dayStart + DAY_MS;
      this.today.clear();
    }
    const key = `${site}\n${ip}\n${ua ?? ''}`;
    const cached = this.today.get(key);
    if (cached !== undefined) {
      // Re-inserted: Map keeps insertion order, so the first key is the least recently used.
      this.today.delete(key);
      this.today.set(key, cached);
      return cached;
    }
    const hashed = createHmac('sha256', this.salt).update(key).digest('hex').slice(0, 32);
    if (this.today.size >= this.cacheMax) {
      const oldest = this.today.keys().next().value;
      if (oldest !== undefined) this.today.delete(oldest);
    }
    this.today.set(key, hashed);
    return hashed;
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

/** The header this deployment's CloudFront adds to every request it forwards (sst.config.ts sets it). */
export const ORIGIN_PROOF_HEADER = 'x-revtrail-origin-proof';

/**
 * Same-origin mode (docs/same-origin.md): the merchant's own site forwards one path prefix here and sets these
 * headers on every request it forwards, replacing any the visitor sent. Headers of our own, not X-Forwarded-*:
 * CloudFront in front of the redirector appends to X-Forwarded-For and SST's Router overwrites X-Forwarded-Host
 * with its own host, so those no longer say what the merchant's proxy saw.
 */
export const PROXY_HEADERS = {
  /** REVTRAIL_PROXY_SECRET: proves the request came through the merchant's proxy. */
  proof: 'x-revtrail-proxy-proof',
  /** The Host the visitor asked the merchant's site for (brand.com, with its port when not the default). */
  host: 'x-revtrail-host',
  /** The visitor's address as the merchant's proxy saw it. */
  clientIp: 'x-revtrail-client-ip',
  /** http or https: how the visitor reached the merchant's site (https when left out). */
  proto: 'x-revtrail-proto',
  /** The visitor's ISO country code where the proxy knows it (Cloudflare, Vercel, Netlify); empty otherwise. */
  country: 'x-revtrail-country',
} as const;

/** Headers that say who the viewer is; only this deployment's CloudFront, AWS's own front door or a proven proxy may set them. */
const FORWARDING_HEADERS = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'cloudfront-viewer-address', 'cloudfront-viewer-country'];
/** Every header vetForwarding removes before putting back what it vouches for (built once, not per request). */
const VETTED_HEADERS: readonly string[] = [...FORWARDING_HEADERS, ...Object.values(PROXY_HEADERS)];
const COUNTRY_RE = /^[A-Z]{2}$/;
/** A host name or IP literal with an optional port: what a Host header may hold. */
const HOST_RE = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** A header's value when it holds one (a string, not empty). */
function said(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** CloudFront-Viewer-Address is "ip:port" (IPv6 unbracketed: "2001:db8::7:51234"). */
function viewerAddress(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const ip = value.slice(0, value.lastIndexOf(':'));
  return isIP(ip) ? ip : undefined;
}

/**
 * What a request's proxy proof said: `valid`, `invalid` (a wrong or repeated value), `missing`, or
 * `not-configured` (this redirector has no REVTRAIL_PROXY_SECRET, so no proxy is believed).
 */
export type ProxyProof = 'valid' | 'invalid' | 'missing' | 'not-configured';

/** How a request came in, as vetForwarding found it. */
export interface Forwarding {
  proxy: ProxyProof;
  /** With a valid proof: whether the proxy gave the visitor's address (`forwarded`), none, or something not an address. */
  clientAddress: 'forwarded' | 'missing' | 'invalid' | null;
}

const forwardings = new WeakMap<IncomingHttpHeaders, Forwarding>();

/** What vetForwarding found for these (vetted) headers; `missing` proof if it never saw them. */
export function forwardingOf(headers: IncomingHttpHeaders): Forwarding {
  return forwardings.get(headers) ?? { proxy: 'missing', clientAddress: null };
}

/** The request came through the merchant's own site with a valid proxy proof: same-origin mode. */
export const throughMerchantProxy = (headers: IncomingHttpHeaders): boolean => forwardingOf(headers).proxy === 'valid';

export interface ForwardingTrust {
  /** CloudFront's origin proof (REVTRAIL_ORIGIN_SECRET). */
  originSecret: string | null;
  /** The merchant proxy's proof (REVTRAIL_PROXY_SECRET). */
  proxySecret: string | null;
  /** Every request reached us over HTTPS (on Lambda), so the protocol is https without asking. */
  httpsOnly: boolean;
}

/**
 * Leaves on a request only the forwarding headers this deployment can vouch for, so that Fastify's
 * req.ip, req.host and req.protocol, and the viewer country, are nothing a client can choose.
 * - With the merchant proxy's proof (same-origin mode), compared in constant time: the visitor's address,
 *   host, protocol and country are the proxy's x-revtrail-* headers. The proxy is the nearest to the visitor,
 *   so it wins over CloudFront's viewer headers, which then describe the proxy, not the visitor.
 * - Else with CloudFront's origin proof: its viewer address, country and X-Forwarded-Host (SST's Router
 *   copies the viewer's Host there).
 * - Else the request speaks for itself: the socket's address, its Host header, no country.
 * The proof headers and the proxy's headers are removed once read; the verdict is kept for forwardingOf.
 */
export function vetForwarding(headers: IncomingHttpHeaders, trust: ForwardingTrust): Forwarding {
  const origin = headers[ORIGIN_PROOF_HEADER];
  const originProven = trust.originSecret !== null && typeof origin === 'string' && secretMatches(origin, trust.originSecret);
  const presented = headers[PROXY_HEADERS.proof];
  const proxy: ProxyProof =
    trust.proxySecret === null ? 'not-configured' : presented === undefined ? 'missing' : typeof presented === 'string' && secretMatches(presented, trust.proxySecret) ? 'valid' : 'invalid';

  let ip: string | undefined;
  let host: string | undefined;
  let country: string | undefined;
  let proto: 'http' | 'https' | undefined;
  let clientAddress: Forwarding['clientAddress'] = null;
  if (proxy === 'valid') {
    const given = said(headers, PROXY_HEADERS.clientIp)?.trim();
    ip = given !== undefined && isIP(given) ? given : undefined;
    clientAddress = given === undefined ? 'missing' : ip ? 'forwarded' : 'invalid';
    host = said(headers, PROXY_HEADERS.host);
    country = said(headers, PROXY_HEADERS.country)?.toUpperCase();
    proto = said(headers, PROXY_HEADERS.proto) === 'http' ? 'http' : 'https';
  } else if (originProven) {
    ip = viewerAddress(headers['cloudfront-viewer-address']);
    host = said(headers, 'x-forwarded-host');
    country = said(headers, 'cloudfront-viewer-country');
    proto = 'https';
  }
  // Only headers that are there: most requests carry none, and a read is cheaper than a delete.
  if (headers[ORIGIN_PROOF_HEADER] !== undefined) delete headers[ORIGIN_PROOF_HEADER];
  for (const name of VETTED_HEADERS) if (headers[name] !== undefined) delete headers[name];
  if (ip) headers['x-forwarded-for'] = ip;
  if (country !== undefined && COUNTRY_RE.test(country)) headers['cloudfront-viewer-country'] = country;
  if (host !== undefined && host.length <= 261 && HOST_RE.test(host)) headers['x-forwarded-host'] = host;
  // The visitor's own scheme decides the cookie's Secure flag: the proxy's word wins over how it reached us.
  if (proto ?? trust.httpsOnly) headers['x-forwarded-proto'] = proto ?? 'https';
  const verdict = { proxy, clientAddress };
  forwardings.set(headers, verdict);
  return verdict;
}

/**
 * Same visitor, same link, within the window: remembered per instance (bounded), see docs/table.md. Two
 * generations of at most max/2 keys each: when the newer fills it becomes the older and the older is let go,
 * so a click costs one Map.set instead of an LRU's delete of the oldest key on every new one.
 */
export class DuplicateDetector {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly max = 100_000,
  ) {}

  check(visitorId: string, slug: string, at: number): boolean {
    if (this.windowMs === 0) return false;
    const key = `${visitorId} ${slug}`;
    const last = this.current.get(key) ?? this.previous.get(key);
    this.add(key, at);
    return last !== undefined && at - last < this.windowMs;
  }

  /** A visitor id never seen before (minted for this click): remembered, never a duplicate. Returns false. */
  remember(visitorId: string, slug: string, at: number): false {
    if (this.windowMs !== 0) this.add(`${visitorId} ${slug}`, at);
    return false;
  }

  private add(key: string, at: number): void {
    this.current.set(key, at);
    if (this.current.size >= this.max / 2) {
      this.previous = this.current;
      this.current = new Map();
    }
  }
}

/**
 * The rate-limit bucket of a client address: an IPv4 address alone, an IPv6 address by its /64 prefix (one
 * subscriber is handed a whole /64 and could rotate through it), an IPv4-mapped IPv6 address as its IPv4.
 * Only ever an in-memory key; never stored or logged.
 */
export function rateLimitKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
