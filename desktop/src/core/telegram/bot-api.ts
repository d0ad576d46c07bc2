import { isPlainObject } from '@revtrail/shared';

/** Telegram's Bot API, where the desktop talks to it by default. */
export const TELEGRAM_API_BASE = 'https://api.telegram.org';

/**
 * Why a Bot API call failed, in the terms connect acts on:
 * - unauthorized: Telegram refused the bot token (401): it was mistyped or revoked in BotFather.
 * - refused: Telegram answered `ok: false` for this request (a bad webhook URL, ...): its description says why.
 * - unavailable: no answer, a timeout, 429 or 5xx: try again later.
 * - foreign: the answer is not the Bot API's (a web page, a proxy): a wrong API address.
 * The message never holds the token (it is in the request's path, which no message or log repeats).
 */
export class TelegramApiError extends Error {
  constructor(
    readonly kind: 'unauthorized' | 'refused' | 'unavailable' | 'foreign',
    message: string,
    readonly status: number | null = null,
    readonly description: string | null = null,
  ) {
    super(message);
    this.name = 'TelegramApiError';
  }
}

/** getMe's User (https://core.telegram.org/bots/api#user), the fields connect reads. */
export interface BotUser {
  id: number;
  is_bot: boolean;
  username?: string;
  first_name: string;
}

/** getWebhookInfo's WebhookInfo (https://core.telegram.org/bots/api#webhookinfo). */
export interface WebhookInfo {
  url: string;
  has_custom_certificate: boolean;
  pending_update_count: number;
  ip_address?: string;
  last_error_date?: number;
  last_error_message?: string;
  last_synchronization_error_date?: number;
  max_connections?: number;
  allowed_updates?: string[];
}

/** setWebhook's parameters (https://core.telegram.org/bots/api#setwebhook) that Revtrail sends. */
export interface SetWebhookParams {
  url: string;
  secret_token?: string;
  allowed_updates?: string[];
  drop_pending_updates?: boolean;
  max_connections?: number;
}

/**
 * The Bot API over HTTPS (https://core.telegram.org/bots/api#making-requests): `POST <base>/bot<token>/<method>`
 * with a JSON body; every answer is `{ok, result}` or `{ok: false, error_code, description, parameters?}`.
 */
export class TelegramBotApi {
  private readonly base: string;

  constructor(
    base: string,
    private readonly token: string,
    private readonly opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  getMe(): Promise<BotUser> {
    return this.call('getMe', {}, (v) => isPlainObject(v) && typeof v.id === 'number' && typeof v.is_bot === 'boolean') as Promise<BotUser>;
  }

  getWebhookInfo(): Promise<WebhookInfo> {
    return this.call('getWebhookInfo', {}, (v) => isPlainObject(v) && typeof v.url === 'string' && typeof v.pending_update_count === 'number') as Promise<WebhookInfo>;
  }

  async setWebhook(params: SetWebhookParams): Promise<void> {
    await this.call('setWebhook', params, (v) => v === true);
  }

  async deleteWebhook(dropPendingUpdates = false): Promise<void> {
    await this.call('deleteWebhook', { drop_pending_updates: dropPendingUpdates }, (v) => v === true);
  }

  private async call(method: string, body: object, shaped: (result: unknown) => boolean): Promise<unknown> {
    const host = new URL(this.base).host;
    let res: Response;
    let text: string;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.base}/bot${this.token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 15_000),
      });
      text = await res.text();
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? 'no answer in time' : 'no connection';
      throw new TelegramApiError('unavailable', `Telegram's Bot API at ${host} did not answer (${why}): check this computer is online, then try again.`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!isPlainObject(json) || typeof json.ok !== 'boolean') {
      throw new TelegramApiError('foreign', `${host} did not answer as Telegram's Bot API (it sent ${/html/i.test(res.headers.get('content-type') ?? '') ? 'a web page' : 'something else'}): check the Bot API address.`, res.status);
    }
    const description = typeof json.description === 'string' ? json.description : null;
    if (json.ok && shaped(json.result)) return json.result;
    if (json.ok) throw new TelegramApiError('foreign', `${host} answered ${method} in a shape the Bot API does not use: check the Bot API address.`, res.status);
    if (res.status === 401 || json.error_code === 401) {
      throw new TelegramApiError('unauthorized', 'Telegram refused the bot token: copy it again from BotFather (/mybots → the bot → API Token).', 401, description);
    }
    if (res.status === 429 || res.status >= 500) {
      throw new TelegramApiError('unavailable', `Telegram could not answer ${method} now${description ? ` (${description})` : ''}: try again in a minute.`, res.status, description);
    }
    throw new TelegramApiError('refused', `Telegram refused ${method}: ${description ?? `error ${res.status}`}.`, res.status, description);
  }
}
