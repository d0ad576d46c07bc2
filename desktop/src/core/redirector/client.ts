import type {
  Click,
  Erasure,
  FeedPage,
  Identity,
  LegacyErasure,
  Link,
  LinkInput,
  Pageview,
  StripeHint,
  StripeWebhookStatus,
  TelegramPayment,
  TelegramSettingsInput,
  TelegramStart,
  TelegramWebhookStatus,
} from '@revtrail/shared';
import type { CoreLogger } from '../context';
import { stepFor, type NextStep, type Surface } from '../surface';
import { shownAddress } from './address';

export type RedirectorFeed = 'clicks' | 'pageviews' | 'identities' | 'erasures' | 'stripe-hints' | 'telegram-starts' | 'telegram-payments';
export interface FeedItems {
  clicks: Click;
  pageviews: Pageview;
  identities: Identity;
  /** Erasures by digest; a redirector older than digests sends the raw identifiers. */
  erasures: Erasure | LegacyErasure;
  /** Stripe webhook events as ids to read: never the object itself. */
  'stripe-hints': StripeHint;
  /** A Telegram bot's /start bound to a visitor, by a keyed hash of the user id. */
  'telegram-starts': TelegramStart;
  /** A payment to the bot or its refund, in its currency (XTR: Stars). */
  'telegram-payments': TelegramPayment;
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
 * The message never carries the token, userinfo or a query string. In the app it says what was being done
 * in the user's words, never the HTTP method, path or status: those go to the log (the CLI's message keeps
 * them, for the terminal's readers).
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
const CHECK_ADDRESS = 'Check the redirector address on the Set up screen: it is your tracking domain, e.g. https://go.brand.com.';

/** Why no answer came, in words (the error code goes to the log). */
function noAnswerWords(e: unknown): string {
  const err = e as { name?: string; cause?: { code?: unknown } };
  if (err.name === 'TimeoutError') return 'no answer in time';
  if (err.name === 'AbortError') return 'stopped';
  const code = typeof err.cause?.code === 'string' ? err.cause.code : '';
  if (code === 'ECONNREFUSED') return 'nothing answers at that address: is the redirector running?';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'that address is not found: check it, and that this computer is online';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection broke';
  if (/CERT|TLS|SSL/.test(code)) return 'its certificate is not valid';
  return 'no connection';
}

/** The redirector's sync API (README, "Sync API"), over HTTP with the bearer token. */
export class RedirectorClient {
  private readonly base: string;
  /** The address as messages show it: never with userinfo, a query or a fragment. */
  private readonly shown: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly opts: { fetch?: typeof fetch; timeoutMs?: number; surface?: Surface; log?: CoreLogger } = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
    this.shown = shownAddress(this.base);
  }

  status(): Promise<RedirectorStatus> {
    return this.call('GET', '/api/v1/status', undefined, (v) => typeof (v as Partial<RedirectorStatus>).apiVersion === 'number', 'say how it is');
  }

  async emailHashKey(): Promise<string> {
    return (await this.call<{ emailHashKey: string }>('GET', '/api/v1/keys', undefined, (v) => typeof (v as { emailHashKey?: unknown }).emailHashKey === 'string', 'give its email-hash key')).emailHashKey;
  }

  async links(): Promise<Link[]> {
    return (await this.call<{ items: Link[] }>('GET', '/api/v1/links', undefined, (v) => Array.isArray((v as { items?: unknown }).items), 'list the links')).items;
  }

  async putLink(slug: string, input: LinkInput): Promise<Link> {
    const isLink = (v: unknown) => typeof (v as { link?: { slug?: unknown } }).link?.slug === 'string';
    return (await this.call<{ link: Link }>('PUT', `/api/v1/links/${encodeURIComponent(slug)}`, input, isLink, `save link ${slug}`)).link;
  }

  feed<K extends RedirectorFeed>(feed: K, cursor: string | null, limit: number): Promise<FeedPage<FeedItems[K]>> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    const isPage = (v: unknown) => {
      const p = v as Partial<FeedPage<unknown>>;
      return Array.isArray(p.items) && typeof p.cursor === 'string' && typeof p.hasMore === 'boolean';
    };
    return this.call('GET', `/api/v1/${feed}?${q}`, undefined, isPage, `send new ${FEED_WORDS[feed]}`);
  }

  /** What the redirector holds about a visitor or an email hash (privacy requests). */
  people(query: { visitorId: string } | { emailHash: string }): Promise<CloudPerson> {
    const q = new URLSearchParams(query);
    return this.call('GET', `/api/v1/people?${q}`, undefined, (v) => typeof (v as { counts?: unknown } | null)?.counts === 'object', 'say what it holds about this person');
  }

  /** Erases a visitor, or every visitor bound to an email hash, from the redirector's store. */
  erase(body: { visitorId: string } | { emailHash: string }): Promise<{ visitors: number; items: number }> {
    return this.call('POST', '/api/v1/erase', body, (v) => typeof (v as { items?: unknown } | null)?.items === 'number', 'erase this person');
  }

  /** Forgets the Stripe webhook hints naming any of these objects (an erased customer's), at most 1000 ids. */
  eraseStripeHints(objectIds: string[]): Promise<{ deleted: number }> {
    return this.call('POST', '/api/v1/stripe-hints/erase', { objectIds }, (v) => typeof (v as { deleted?: unknown } | null)?.deleted === 'number', "forget this person's Stripe webhook events");
  }

  /** How the Stripe webhook endpoint is set up, and what it has received and refused. */
  webhookStatus(): Promise<StripeWebhookStatus> {
    return this.call('GET', '/api/v1/webhooks/stripe', undefined, isWebhookStatus, 'say how its Stripe webhook endpoint is set up');
  }

  /**
   * Sets the endpoint's signing secrets (two while Stripe rolls one); a redirector on AWS answers 409 (its
   * secrets are set by a deploy). The secrets travel in the body only, and no message repeats them.
   */
  putWebhookSecrets(secrets: string[]): Promise<StripeWebhookStatus> {
    return this.call('PUT', '/api/v1/webhooks/stripe/secrets', { secrets }, isWebhookStatus, 'take the webhook signing secret');
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
    const sent = this.opts.surface === 'app' ? `with ${bodyWords(res, parseJson(text))}` : `with ${res.status} and ${describeBody(res, parseJson(text))}`;
    return { answered: 'foreign', status: res.status, message: `${shown} answered ${sent}, not as the redirector's webhook endpoint: check the address, and that nothing in front of it (a proxy or firewall) blocks Stripe.` };
  }

  /** How the Telegram endpoint is set up (the bot's id, a fingerprint of the secret, the forward host) and its counts. */
  telegramStatus(): Promise<TelegramWebhookStatus> {
    return this.call('GET', '/api/v1/webhooks/telegram', undefined, isTelegramStatus, 'say how its Telegram endpoint is set up');
  }

  /** Sets the bot's token, the webhook's secret token and the previous webhook (a local redirector; one on AWS answers 409). */
  putTelegramSettings(settings: TelegramSettingsInput): Promise<TelegramWebhookStatus> {
    return this.call('PUT', '/api/v1/webhooks/telegram/settings', settings, isTelegramStatus, 'take the Telegram bot');
  }

  /** What the redirector holds of a Telegram user (by keyed hash): counts, and the visitors their starts bound. */
  telegramPerson(userHash: string): Promise<CloudPerson> {
    const q = new URLSearchParams({ userHash });
    return this.call('GET', `/api/v1/telegram/people?${q}`, undefined, (v) => typeof (v as { counts?: unknown } | null)?.counts === 'object', 'say what it holds about this Telegram user');
  }

  /** Erases a Telegram user (their starts and the visitors those bound; payments stay without them). */
  eraseTelegram(userHash: string): Promise<{ starts: number; payments: number; visitors: number; items: number }> {
    return this.call('POST', '/api/v1/telegram/erase', { userHash }, (v) => typeof (v as { items?: unknown } | null)?.items === 'number', 'erase this Telegram user');
  }

  /** The deployment's settings the desktop may read and change (retention). */
  settings(): Promise<RedirectorSettings> {
    return this.call('GET', '/api/v1/settings', undefined, (v) => typeof (v as { retentionDays?: unknown } | null)?.retentionDays === 'number', 'give its settings');
  }

  putSettings(change: Partial<RedirectorSettings>): Promise<RedirectorSettings> {
    return this.call('PUT', '/api/v1/settings', change, (v) => typeof (v as { retentionDays?: unknown } | null)?.retentionDays === 'number', 'save its settings');
  }

  /**
   * One request. `act` is what the redirector was asked to do, in the app's words ("save link spring"); a
   * failure is logged with the method, path and status, which only the CLI's message repeats.
   */
  private async call<T>(method: string, path: string, body: unknown, shaped: (v: unknown) => boolean, act: string): Promise<T> {
    const what = `${method} ${path.split('?')[0]}`;
    const fail = (kind: RedirectorErrorKind, message: NextStep, status?: number, more: { retryAfterMs?: number; detail?: string; reason?: string; body?: string } = {}) => {
      this.opts.log?.info({ redirector: this.shown, request: what, status: status ?? null, kind, reason: more.reason ?? more.detail ?? null, body: more.body ?? null }, 'redirector request failed');
      return new RedirectorError(kind, stepFor(this.opts.surface ?? 'cli', message), status, more.retryAfterMs, more.detail);
    };
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
      throw fail(
        'unavailable',
        {
          app: `The redirector at ${this.shown} did not answer when asked to ${act} (${noAnswerWords(e)}). Try again in a few minutes.`,
          cli: `The redirector at ${this.shown} did not answer ${what} (${noAnswerReason(e)}).`,
        },
        undefined,
        { reason: noAnswerReason(e) },
      );
    }
    const json = parseJson(text);
    const detail = redirectorErrorMessage(json);
    const sent = { body: describeBody(res, json) };
    if (res.status === 401) {
      throw fail(
        'unauthorized',
        {
          app: `The redirector at ${this.shown} refused the sync token: paste its current sync token on the Set up screen.`,
          cli: `The redirector at ${this.shown} refused the sync token: paste the current one (revtrail connect redirector).`,
        },
        401,
      );
    }
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const retryAfter = Number(res.headers.get('retry-after'));
      const why = res.status === 429 ? 'it is busy' : res.status === 408 ? 'it took too long' : 'it had a problem of its own';
      throw fail(
        'unavailable',
        {
          app: `The redirector at ${this.shown} could not ${act} now (${why}${detail ? `: ${detail.replace(/[.!?]+$/, '')}` : ''}). Try again in a few minutes.`,
          cli: `The redirector at ${this.shown} answered ${what} with ${res.status}${detail ? `: ${detail}` : ''}.`,
        },
        res.status,
        { retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined, reason: detail ?? undefined },
      );
    }
    if (res.ok) {
      if (json !== undefined && shaped(json)) return json as T;
      throw fail(
        'foreign',
        {
          app: `${this.shown} answered, but not as a Revtrail redirector, when asked to ${act} (it sent ${bodyWords(res, json)}). ${CHECK_ADDRESS}`,
          cli: `${this.shown} answered ${what} with ${describeBody(res, json)}: that address is not a Revtrail redirector. ${CHECK_URL}`,
        },
        res.status,
        sent,
      );
    }
    // Only the redirector's own error shape counts as its answer; a 403 never comes from its sync API.
    if (detail === null || res.status === 403) {
      throw fail(
        'foreign',
        {
          app: `${this.shown} did not answer as a Revtrail redirector when asked to ${act} (it sent ${bodyWords(res, json)}): that address is not a redirector's, or something in front of it (a proxy or firewall) blocks Revtrail. ${CHECK_ADDRESS}`,
          cli: `${this.shown} answered ${what} with ${res.status} and ${describeBody(res, json)}: that address is not a Revtrail redirector, or something in front of it (a proxy or firewall) blocks this request. ${CHECK_URL}`,
        },
        res.status,
        sent,
      );
    }
    if (res.status === 404) {
      throw fail(
        'missing',
        {
          app: `The redirector at ${this.shown} cannot ${act} yet: it is older than this Revtrail. Update the redirector (deploy the current version), then try again.`,
          cli: `The redirector at ${this.shown} has no ${path.split('?')[0]} (it answered 404): it is older than this Revtrail. Update the redirector (deploy the current version) to sync this.`,
        },
        404,
      );
    }
    const reason = /[.!?]$/.test(detail) ? detail : `${detail}.`;
    throw fail(
      'rejected',
      { app: `The redirector at ${this.shown} refused to ${act}: ${reason}`, cli: `The redirector refused ${what}: ${res.status} ${reason}` },
      res.status,
      { detail: reason },
    );
  }
}

/** The feeds as the app's messages name them. */
const FEED_WORDS: Record<RedirectorFeed, string> = {
  clicks: 'clicks',
  pageviews: 'pageviews',
  identities: 'sign-ups',
  erasures: 'erasures',
  'stripe-hints': 'Stripe webhook events',
  'telegram-starts': 'Telegram bot starts',
  'telegram-payments': 'Telegram payments',
};

function isTelegramStatus(v: unknown): boolean {
  const s = v as Partial<TelegramWebhookStatus> | null;
  return typeof s?.path === 'string' && typeof s.secretSet === 'boolean' && typeof s.settable === 'boolean' && typeof s.counts === 'object' && s.counts !== null;
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

/** What came back, as the app says it: a web page, or something Revtrail does not read. */
function bodyWords(res: Response, json: unknown): string {
  return /html/i.test(res.headers.get('content-type') ?? '') ? 'a web page' : json !== undefined ? "another service's answer" : 'an answer Revtrail cannot read';
}

/** Why no answer came, without the fetch error's own text (it may quote the address it was given). */
export function noAnswerReason(e: unknown): string {
  const err = e as { name?: string; cause?: { code?: unknown } };
  if (err.name === 'TimeoutError') return 'no answer in time';
  if (err.name === 'AbortError') return 'stopped';
  return typeof err.cause?.code === 'string' ? err.cause.code : 'no connection';
}
