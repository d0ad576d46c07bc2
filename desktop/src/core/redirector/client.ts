import type { Click, Erasure, FeedPage, Identity, LegacyErasure, Link, LinkInput, Pageview, StripeHint, StripeWebhookStatus } from '@revtrail/shared';
import { shownAddress } from './address';

export type RedirectorFeed = 'clicks' | 'pageviews' | 'identities' | 'erasures' | 'stripe-hints';
export interface FeedItems {
  clicks: Click;
  pageviews: Pageview;
  identities: Identity;
  /** Erasures by digest; a redirector older than digests sends the raw identifiers. */
  erasures: Erasure | LegacyErasure;
  /** Stripe webhook events as ids to read: never the object itself. */
  'stripe-hints': StripeHint;
}

export interface RedirectorStatus {
  apiVersion: number;
  now: number;
  store: 'up' | 'down';
  retentionDays: number;
  attributionWindowDays: number;
}

/** What the cloud holds about one person: item counts by kind, and the visitor ids bound to them. */
export interface CloudPerson {
  counts: Record<string, number>;
  visitorIds?: string[];
}

export interface RedirectorSettings {
  retentionDays: number;
  [setting: string]: unknown;
}

/**
 * Why a call to the redirector failed, in the terms the sync acts on:
 * - unauthorized: the token was refused; stop and ask for the current one.
 * - unavailable: no answer, a timeout, 429 or 5xx; try again later.
 * - rejected: the redirector refused what was sent (its own JSON error, 400/409/413/422...); sending the
 *   same again would be refused again.
 * - missing: the redirector answered 404 with its own error: it lacks this endpoint (it is older).
 * - foreign: the answer is not a Revtrail redirector's (a web page, a proxy's 403): a wrong address, or
 *   something in the way.
 * The message never carries the token, userinfo or a query string.
 */
export type RedirectorErrorKind = 'unauthorized' | 'unavailable' | 'rejected' | 'missing' | 'foreign';

export class RedirectorError extends Error {
  constructor(
    readonly kind: RedirectorErrorKind,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    /** The redirector's own words for a refusal, without our framing. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'RedirectorError';
  }
}

const CHECK_URL = 'Check the URL: it is your tracking domain, e.g. https://go.brand.com.';

/** The redirector's sync API (README, "Sync API"), over HTTP with the bearer token. */
export class RedirectorClient {
  private readonly base: string;
  /** The address as messages show it: never with userinfo, a query or a fragment. */
  private readonly shown: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.shown = shownAddress(this.base);
  }

  status(): Promise<RedirectorStatus> {
    return this.call('GET', '/api/v1/status', undefined, (v) => typeof (v as Partial<RedirectorStatus>).apiVersion === 'number');
  }

  async emailHashKey(): Promise<string> {
    return (await this.call<{ emailHashKey: string }>('GET', '/api/v1/keys', undefined, (v) => typeof (v as { emailHashKey?: unknown }).emailHashKey === 'string')).emailHashKey;
  }

  async links(): Promise<Link[]> {
    return (await this.call<{ items: Link[] }>('GET', '/api/v1/links', undefined, (v) => Array.isArray((v as { items?: unknown }).items))).items;
  }

  async putLink(slug: string, input: LinkInput): Promise<Link> {
    const isLink = (v: unknown) => typeof (v as { link?: { slug?: unknown } }).link?.slug === 'string';
    return (await this.call<{ link: Link }>('PUT', `/api/v1/links/${encodeURIComponent(slug)}`, input, isLink)).link;
  }

  feed<K extends RedirectorFeed>(feed: K, cursor: string | null, limit: number): Promise<FeedPage<FeedItems[K]>> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    const isPage = (v: unknown) => {
      const p = v as Partial<FeedPage<unknown>>;
      return Array.isArray(p.items) && typeof p.cursor === 'string' && typeof p.hasMore === 'boolean';
    };
    return this.call('GET', `/api/v1/${feed}?${q}`, undefined, isPage);
  }

  /** What the redirector holds about a visitor or an email hash (privacy requests). */
  people(query: { visitorId: string } | { emailHash: string }): Promise<CloudPerson> {
    const q = new URLSearchParams(query);
    return this.call('GET', `/api/v1/people?${q}`, undefined, (v) => typeof (v as { counts?: unknown } | null)?.counts === 'object');
  }

  /** Erases a visitor, or every visitor bound to an email hash, from the redirector's store. */
  erase(body: { visitorId: string } | { emailHash: string }): Promise<{ visitors: number; items: number }> {
    return this.call('POST', '/api/v1/erase', body, (v) => typeof (v as { items?: unknown } | null)?.items === 'number');
  }

  /** Forgets the Stripe webhook hints naming any of these objects (an erased customer's), at most 1000 ids. */
  eraseStripeHints(objectIds: string[]): Promise<{ deleted: number }> {
    return this.call('POST', '/api/v1/stripe-hints/erase', { objectIds }, (v) => typeof (v as { deleted?: unknown } | null)?.deleted === 'number');
  }

  /** How the Stripe webhook endpoint is set up, and what it has received and refused. */
  webhookStatus(): Promise<StripeWebhookStatus> {
    return this.call('GET', '/api/v1/webhooks/stripe', undefined, isWebhookStatus);
  }

  /**
   * Sets the endpoint's signing secrets (two while Stripe rolls one); a redirector on AWS answers 409 (its
   * secrets are set by a deploy). The secrets travel in the body only, and no message repeats them.
   */
  putWebhookSecrets(secrets: string[]): Promise<StripeWebhookStatus> {
    return this.call('PUT', '/api/v1/webhooks/stripe/secrets', { secrets }, isWebhookStatus);
  }

  /**
   * Whether the public webhook endpoint is this redirector's: a POST without Stripe's signature must be
   * refused with 400 in the redirector's own error shape. Sends no token (Stripe sends none either).
   */
  async probeWebhookEndpoint(url: string): Promise<{ answered: 'ours' | 'foreign' | 'missing' | 'none'; status: number | null; message: string }> {
    const shown = shownAddress(url);
    let res: Response;
    let text: string;
    try {
      res = await (this.opts.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
      text = await res.text();
    } catch (e) {
      return { answered: 'none', status: null, message: `Nothing answered at ${shown} (${noAnswerReason(e)}): Stripe could not deliver there either.` };
    }
    const detail = redirectorErrorMessage(parseJson(text));
    if (res.status === 400 && detail !== null) return { answered: 'ours', status: 400, message: `${shown} answers as the redirector's webhook endpoint (it refuses an unsigned event, as it should).` };
    // Without a signing secret the endpoint refuses every delivery with 503, so that Stripe retries until one is set.
    if (res.status === 503 && detail !== null) {
      return { answered: 'ours', status: 503, message: `${shown} answers as the redirector's webhook endpoint, which has no signing secret yet: it refuses deliveries (Stripe retries them) until the secret is set.` };
    }
    if (res.status === 404 && detail !== null) {
      return { answered: 'missing', status: 404, message: `The redirector at ${shown} has no webhook endpoint yet: it is older than this Revtrail. Deploy the current version.` };
    }
    return { answered: 'foreign', status: res.status, message: `${shown} answered with ${res.status} and ${describeBody(res, parseJson(text))}, not as the redirector's webhook endpoint: check the address, and that nothing in front of it (a proxy or firewall) blocks Stripe.` };
  }

  /** The deployment's settings the desktop may read and change (retention). */
  settings(): Promise<RedirectorSettings> {
    return this.call('GET', '/api/v1/settings', undefined, (v) => typeof (v as { retentionDays?: unknown } | null)?.retentionDays === 'number');
  }

  putSettings(change: Partial<RedirectorSettings>): Promise<RedirectorSettings> {
    return this.call('PUT', '/api/v1/settings', change, (v) => typeof (v as { retentionDays?: unknown } | null)?.retentionDays === 'number');
  }

  private async call<T>(method: string, path: string, body: unknown, shaped: (v: unknown) => boolean): Promise<T> {
    const what = `${method} ${path.split('?')[0]}`;
    let res: Response;
    let text: string;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
      text = await res.text();
    } catch (e) {
      throw new RedirectorError('unavailable', `The redirector at ${this.shown} did not answer ${what} (${noAnswerReason(e)}).`);
    }
    const json = parseJson(text);
    const detail = redirectorErrorMessage(json);
    if (res.status === 401) {
      throw new RedirectorError('unauthorized', `The redirector at ${this.shown} refused the sync token: paste the current one (revtrail connect redirector).`, 401);
    }
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new RedirectorError(
        'unavailable',
        `The redirector at ${this.shown} answered ${what} with ${res.status}${detail ? `: ${detail}` : ''}.`,
        res.status,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
      );
    }
    if (res.ok) {
      if (json !== undefined && shaped(json)) return json as T;
      throw new RedirectorError('foreign', `${this.shown} answered ${what} with ${describeBody(res, json)}: that address is not a Revtrail redirector. ${CHECK_URL}`, res.status);
    }
    // Only the redirector's own error shape counts as its answer; a 403 never comes from its sync API.
    if (detail === null || res.status === 403) {
      throw new RedirectorError(
        'foreign',
        `${this.shown} answered ${what} with ${res.status} and ${describeBody(res, json)}: that address is not a Revtrail redirector, or something in front of it (a proxy or firewall) blocks this request. ${CHECK_URL}`,
        res.status,
      );
    }
    if (res.status === 404) {
      throw new RedirectorError('missing', `The redirector at ${this.shown} has no ${path.split('?')[0]} (it answered 404): it is older than this Revtrail. Update the redirector (deploy the current version) to sync this.`, 404);
    }
    const reason = /[.!?]$/.test(detail) ? detail : `${detail}.`;
    throw new RedirectorError('rejected', `The redirector refused ${what}: ${res.status} ${reason}`, res.status, undefined, reason);
  }
}

function isWebhookStatus(v: unknown): boolean {
  const s = v as Partial<StripeWebhookStatus> | null;
  return typeof s?.path === 'string' && Array.isArray(s.eventTypes) && typeof s.secrets === 'number' && typeof s.refused === 'object' && s.refused !== null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The message of the redirector's error shape `{ error: { code, message } }`, or null for anything else. */
function redirectorErrorMessage(json: unknown): string | null {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | null | undefined)?.error;
  return typeof error?.code === 'string' && typeof error.message === 'string' ? error.message : null;
}

/** What came back, in words; never the body itself (it may be anyone's page). */
function describeBody(res: Response, json: unknown): string {
  const type = res.headers.get('content-type') ?? '';
  if (/html/i.test(type)) return 'a web page';
  if (json !== undefined) return 'JSON that is not a Revtrail redirector\'s';
  return type ? `${type.split(';')[0]} that is not JSON` : 'an answer that is not JSON';
}

/** Why no answer came, without the fetch error's own text (it may quote the address it was given). */
function noAnswerReason(e: unknown): string {
  const err = e as { name?: string; cause?: { code?: unknown } };
  if (err.name === 'TimeoutError') return 'no answer in time';
  if (err.name === 'AbortError') return 'stopped';
  return typeof err.cause?.code === 'string' ? err.cause.code : 'no connection';
}
