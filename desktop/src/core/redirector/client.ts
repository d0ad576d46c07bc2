import type { Click, Erasure, FeedPage, Identity, Link, LinkInput, Pageview } from '@revtrail/shared';

export type RedirectorFeed = 'clicks' | 'pageviews' | 'identities' | 'erasures';
export interface FeedItems {
  clicks: Click;
  pageviews: Pageview;
  identities: Identity;
  erasures: Erasure;
}

export interface RedirectorStatus {
  apiVersion: number;
  now: number;
  store: 'up' | 'down';
  retentionDays: number;
  attributionWindowDays: number;
}

/** Why a call to the redirector failed, in the terms the sync acts on. Never carries the token. */
export class RedirectorError extends Error {
  constructor(
    /** unauthorized: stop and ask for a new token; unavailable: retry later; rejected: a bug or bad input. */
    readonly kind: 'unauthorized' | 'unavailable' | 'rejected',
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RedirectorError';
  }
}

/** The redirector's sync API (README, "Sync API"), over HTTP with the bearer token. */
export class RedirectorClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  status(): Promise<RedirectorStatus> {
    return this.call('GET', '/api/v1/status');
  }

  async emailHashKey(): Promise<string> {
    return (await this.call<{ emailHashKey: string }>('GET', '/api/v1/keys')).emailHashKey;
  }

  async links(): Promise<Link[]> {
    return (await this.call<{ items: Link[] }>('GET', '/api/v1/links')).items;
  }

  async putLink(slug: string, input: LinkInput): Promise<Link> {
    return (await this.call<{ link: Link }>('PUT', `/api/v1/links/${encodeURIComponent(slug)}`, input)).link;
  }

  feed<K extends RedirectorFeed>(feed: K, cursor: string | null, limit: number): Promise<FeedPage<FeedItems[K]>> {
    const q = new URLSearchParams({ limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return this.call('GET', `/api/v1/${feed}?${q}`);
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.base}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
    } catch (e) {
      throw new RedirectorError('unavailable', `The redirector at ${this.base} did not answer (${(e as Error).message}).`);
    }
    if (res.ok) return (await res.json()) as T;
    const detail = await res.json().then(
      (j: unknown) => (j as { error?: { message?: string } }).error?.message ?? '',
      () => '',
    );
    if (res.status === 401) {
      throw new RedirectorError('unauthorized', `The redirector at ${this.base} refused the sync token: paste the current one (revtrail connect redirector).`, 401);
    }
    if (res.status === 429 || res.status >= 500) {
      const retryAfter = Number(res.headers.get('retry-after'));
      throw new RedirectorError('unavailable', `The redirector answered ${res.status}${detail ? `: ${detail}` : ''}.`, res.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
    }
    throw new RedirectorError('rejected', `The redirector refused ${method} ${path.split('?')[0]}: ${res.status}${detail ? ` ${detail}` : ''}.`, res.status);
  }
}
