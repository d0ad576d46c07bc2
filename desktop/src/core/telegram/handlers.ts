import { createHash, randomBytes } from 'node:crypto';
import { err, isBotUsername, isTelegramBotToken, ok, TELEGRAM_SECRET_TOKEN_RE, TELEGRAM_WEBHOOK_PATH, type Result, type TelegramSettingsInput, type TelegramWebhookStatus } from '@revtrail/shared';
import type { CoreContext, SecretKind } from '../context';
import { RedirectorError, type RedirectorClient } from '../redirector/client';
import { redirectorProblem as sharedRedirectorProblem } from '../redirector/problems';
import type { Workspace } from '../workspaces/registry';
import { TELEGRAM_API_BASE, TelegramApiError, TelegramBotApi, type WebhookInfo } from './bot-api';
import { getTelegramSettings, noteWebhookSet, saveTelegramConnection, telegramCounts, type TelegramSettings } from './repo';

/**
 * Where the local redirector's Telegram settings are kept (host.ts gives them to it at its start): the JSON of
 * its TelegramSettings (bot token, secret token, previous webhook), as telegram.connect leaves them.
 */
export const LOCAL_TELEGRAM_SETTINGS = 'local_redirector.telegram';

/** What `telegram.connect` did. */
export interface TelegramConnected {
  bot: { id: string; username: string };
  /** The redirector's endpoint, which Telegram delivers the bot's updates to. */
  webhookUrl: string;
  /** The host of the bot's previous webhook, which every update is forwarded to; null: it had none. */
  forwardHost: string | null;
  /**
   * applied: the redirector took the bot and Telegram delivers to it now. saved_for_local: the local redirector
   * is not running; it takes the bot at its start, then `telegram.activate` points Telegram at it. deploy: a
   * deployed redirector takes its Telegram secrets from its deployment: run `setCommands`, then activate.
   */
  outcome: 'applied' | 'saved_for_local' | 'deploy';
  setCommands: string[] | null;
  message: string;
}

export interface TelegramStatus {
  connected: boolean;
  settings: TelegramSettings;
  /** Telegram's own view of the bot's webhook (null when not connected or Telegram could not be asked: `problem`). */
  telegram: { url: string; pointsHere: boolean; pendingUpdates: number; lastError: { at: number; message: string } | null; allowedUpdates: string[] | null } | null;
  /** The redirector's endpoint: its settings (no secret) and counts; null when it could not be asked (`problem`). */
  redirector: TelegramWebhookStatus | null;
  /** The redirector holds the secret token saved here (the fingerprints match). */
  secretMatches: boolean | null;
  local: { starts: number; payments: number; lastStartAt: number | null };
  problems: string[];
}

export type TelegramHandlers = {
  /**
   * Connects the workspace's Telegram bot: reads it (getMe), generates the webhook's secret token, gives the bot to
   * the redirector (or says the commands for a deployed one) and points the bot's webhook at the redirector's
   * endpoint with that secret. A webhook the bot had before becomes the forward target: every update goes on
   * there, unchanged. `forwardSecretToken`: that webhook's own secret_token, when it had one (Telegram does not
   * say it).
   */
  'telegram.connect': (args: { workspace?: string; botToken: string; apiBase?: string | null; webhookUrl?: string | null; forwardSecretToken?: string | null }) => Promise<Result<TelegramConnected>>;
  /** Points the bot's webhook at the redirector once it holds the bot (after a deploy, or the local redirector's start). */
  'telegram.activate': (args: { workspace?: string; webhookUrl?: string | null }) => Promise<Result<TelegramStatus>>;
  'telegram.status': (args: { workspace?: string }) => Promise<Result<TelegramStatus>>;
  /** The name in the secret store of a saved Telegram secret (the CLI pipes its value into `sst secret set`); never the value. */
  'telegram.secretName': (args: { workspace?: string; which: 'bot-token' | 'secret-token' | 'forward' }) => Promise<Result<{ name: string; set: boolean }>>;
};

export interface TelegramDeps {
  fetch: typeof fetch;
  redirector(ws: Workspace): Promise<RedirectorClient | null>;
  /** The secret store's name of a workspace's secret. */
  secretName(ws: Workspace, kind: SecretKind): string;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
const isLocal = (url: string) => LOOPBACK.test(new URL(url).hostname);
const fingerprint = (secret: string) => createHash('sha256').update(secret).digest('hex').slice(0, 8);
/** The updates Revtrail reads: a /start and the payments are messages. */
const NEEDED_UPDATES = ['message'];
const WHICH: Record<'bot-token' | 'secret-token' | 'forward', SecretKind> = { 'bot-token': 'telegram_bot_token', 'secret-token': 'telegram_secret_token', forward: 'telegram_forward' };

/** Telegram's API over HTTPS, or (for the fake in tests) plain HTTP on this machine only: the bot token travels to it. */
export function checkBotApiBase(raw: unknown): Result<string> {
  if (raw === undefined || raw === null || raw === '') return ok(TELEGRAM_API_BASE);
  const url = typeof raw === 'string' && URL.canParse(raw) ? new URL(raw) : null;
  if (!url || url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    return err('invalid_input', "The Bot API address is an origin such as https://api.telegram.org (no path, query or user).");
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    return err('invalid_input', 'The Bot API address must use https (plain http only to this machine, for a test server).');
  }
  return ok(url.origin);
}

/**
 * The updates to ask for: the bot's earlier choice kept (its previous webhook still gets them through the
 * forward), with `message` added. None given: Telegram's default, every type but a few, which includes messages.
 */
function allowedUpdates(info: WebhookInfo): string[] | undefined {
  const had = info.allowed_updates;
  if (!had || had.length === 0) return undefined;
  return [...new Set([...had, ...NEEDED_UPDATES])];
}

export function createTelegramHandlers(ctx: CoreContext, deps: TelegramDeps): TelegramHandlers {
  const noRedirector = (ws: Workspace) =>
    err('not_found', `Workspace "${ws.name}" has no redirector yet: connect one first ${ctx.step({ app: 'on the Set up screen', cli: 'with `revtrail connect redirector`' })}; the bot's updates go to it.`);
  const fromTelegram = (e: unknown): Result<never> => {
    if (!(e instanceof TelegramApiError)) throw e;
    return err(e.kind === 'unauthorized' ? 'unauthorized' : e.kind === 'unavailable' ? 'unavailable' : 'invalid_input', e.message);
  };
  const redirectorProblem = (e: RedirectorError, ws: Workspace): string =>
    sharedRedirectorProblem(ctx, e, ws.redirectorUrl!, { endpoint: 'Telegram endpoint', refused: 'the bot' });
  const fromRedirector = (e: unknown, ws: Workspace): Result<never> => {
    if (!(e instanceof RedirectorError)) throw e;
    return err(e.kind === 'unauthorized' ? 'unauthorized' : e.kind === 'unavailable' ? 'unavailable' : e.kind === 'missing' ? 'not_found' : 'invalid_input', redirectorProblem(e, ws));
  };
  const setCommands = (status: TelegramWebhookStatus) =>
    status.setCommands ?? ['Set REVTRAIL_TELEGRAM_BOT_TOKEN, REVTRAIL_TELEGRAM_SECRET_TOKEN (and REVTRAIL_TELEGRAM_FORWARD_URL) in the redirector\'s settings, from `revtrail telegram secret bot-token|secret-token|forward`, then restart it.'];

  /** The saved bot, its secret token and forward target, or why there is none. */
  const saved = async (ws: Workspace) => {
    const botToken = await ctx.secret(ws, 'telegram_bot_token');
    const secretToken = await ctx.secret(ws, 'telegram_secret_token');
    const forward = await ctx.secret(ws, 'telegram_forward');
    return botToken && secretToken ? { botToken, secretToken, forward: forward ? (JSON.parse(forward) as TelegramSettingsInput['forward']) : null } : null;
  };

  /** Points the bot's webhook at `url` with the saved secret token; the earlier update types kept. */
  const pointWebhook = async (ws: Workspace, api: TelegramBotApi, url: string, secretToken: string): Promise<void> => {
    const info = await api.getWebhookInfo();
    // drop_pending_updates false: updates waiting for the previous webhook come here, and go on to it.
    await api.setWebhook({ url, secret_token: secretToken, allowed_updates: allowedUpdates(info), drop_pending_updates: false });
    noteWebhookSet(ctx.db(ws), url, ctx.clock.now());
    ctx.log.info({ workspace: ws.id, webhookHost: new URL(url).host }, 'telegram webhook set');
  };

  const status = async (ws: Workspace): Promise<TelegramStatus> => {
    const db = ctx.db(ws);
    const settings = getTelegramSettings(db);
    const counts = telegramCounts(db);
    const problems: string[] = [];
    const out: TelegramStatus = { connected: settings.botId !== null, settings, telegram: null, redirector: null, secretMatches: null, local: counts, problems };
    const secrets = await saved(ws);
    if (!secrets) return out;
    try {
      const info = await new TelegramBotApi(settings.apiBase, secrets.botToken, { fetch: deps.fetch }).getWebhookInfo();
      out.telegram = {
        url: info.url,
        pointsHere: settings.webhookUrl !== null && info.url === settings.webhookUrl,
        pendingUpdates: info.pending_update_count,
        lastError: info.last_error_date ? { at: info.last_error_date * 1000, message: info.last_error_message ?? '' } : null,
        allowedUpdates: info.allowed_updates ?? null,
      };
    } catch (e) {
      if (!(e instanceof TelegramApiError)) throw e;
      problems.push(e.message);
    }
    const client = await deps.redirector(ws);
    if (client) {
      try {
        out.redirector = await client.telegramStatus();
        out.secretMatches = out.redirector.secretFingerprint === fingerprint(secrets.secretToken) && out.redirector.botId === settings.botId;
      } catch (e) {
        if (!(e instanceof RedirectorError)) throw e;
        problems.push(redirectorProblem(e, ws));
      }
    }
    return out;
  };

  return {
    'telegram.connect': async ({ workspace: ref, botToken, apiBase, webhookUrl, forwardSecretToken }) => {
      const found = ctx.resolve(ref);
      if (!found.ok) return found.error;
      const ws = found.workspace;
      const token = typeof botToken === 'string' ? botToken.trim() : '';
      if (!isTelegramBotToken(token)) {
        return err('invalid_input', 'That is not a bot token: BotFather gives one like 123456789:AAE… (digits, a colon, then letters and digits). Copy the whole token from BotFather (/mybots → the bot → API Token).');
      }
      const base = checkBotApiBase(apiBase);
      if (!base.ok) return base;
      if (webhookUrl !== undefined && webhookUrl !== null && !(URL.canParse(webhookUrl) && /^https?:$/.test(new URL(webhookUrl).protocol))) {
        return err('invalid_input', `The webhook address is the redirector's Telegram endpoint as Telegram reaches it, an https address ending in ${TELEGRAM_WEBHOOK_PATH}.`);
      }
      const forwardSecret = forwardSecretToken?.trim() || null;
      if (forwardSecret !== null && !TELEGRAM_SECRET_TOKEN_RE.test(forwardSecret)) {
        return err('invalid_input', "The previous webhook's secret token is 1 to 256 characters of letters, digits, _ and - (what the bot's own server gave setWebhook).");
      }
      if (!ws.redirectorUrl) return noRedirector(ws);
      const client = await deps.redirector(ws);
      if (!client) return noRedirector(ws);

      const api = new TelegramBotApi(base.value, token, { fetch: deps.fetch });
      let info: WebhookInfo;
      let bot: { id: string; username: string };
      try {
        const me = await api.getMe();
        if (!me.is_bot || !isBotUsername(me.username)) return err('invalid_input', 'That token is not a bot\'s: use the token BotFather gave for the bot.');
        bot = { id: String(me.id), username: me.username };
        info = await api.getWebhookInfo();
      } catch (e) {
        return fromTelegram(e);
      }

      let endpoint: TelegramWebhookStatus | null = null;
      try {
        endpoint = await client.telegramStatus();
      } catch (e) {
        // Revtrail's own redirector not running (the app is closed): it takes the bot at its next start.
        if (!(e instanceof RedirectorError && e.kind === 'unavailable' && isLocal(ws.redirectorUrl))) return fromRedirector(e, ws);
      }
      const url = webhookUrl ?? endpoint?.url ?? `${ws.redirectorUrl}${TELEGRAM_WEBHOOK_PATH}`;
      // The bot's webhook before Revtrail's is forwarded to. Connecting the same bot again keeps the one saved.
      const before = await saved(ws);
      const previous = getTelegramSettings(ctx.db(ws));
      const forward =
        info.url && info.url !== url
          ? { url: info.url, secretToken: forwardSecret }
          : previous.botId === bot.id && before?.forward
            ? { url: before.forward.url, secretToken: forwardSecret ?? before.forward.secretToken }
            : null;
      const secretToken = randomBytes(32).toString('base64url');
      const settings: TelegramSettingsInput = { botToken: token, secretToken, forward };
      await ctx.setSecret(ws, 'telegram_bot_token', token);
      await ctx.setSecret(ws, 'telegram_secret_token', secretToken);
      if (forward) await ctx.setSecret(ws, 'telegram_forward', JSON.stringify(forward));
      else await ctx.secrets.delete(deps.secretName(ws, 'telegram_forward'));
      const forwardHost = forward ? new URL(forward.url).host : null;
      saveTelegramConnection(ctx.db(ws), { botId: bot.id, botUsername: bot.username, apiBase: base.value, forwardHost, at: ctx.clock.now() });
      ctx.log.info({ workspace: ws.id, botId: bot.id, forward: forward !== null }, 'telegram bot connected');
      const forwarding = forwardHost
        ? ` The bot's previous webhook (${forwardHost}) gets every update too, unchanged${forwardSecret ? ', with its own secret token' : ''}.`
        : '';
      const base_ = { bot, webhookUrl: url, forwardHost };

      if (endpoint === null) {
        await ctx.secrets.set(LOCAL_TELEGRAM_SETTINGS, JSON.stringify(settings));
        return ok({
          ...base_,
          outcome: 'saved_for_local' as const,
          setCommands: null,
          message: `The local redirector is not running, so @${bot.username} is saved on this computer: once Revtrail has started it, point the bot at it ${ctx.step({ app: "with Revtrail's command line (telegram activate: the app has no Telegram screen yet)", cli: 'with `revtrail telegram activate`' })}.${forwarding}`,
        });
      }
      if (!endpoint.settable) {
        return ok({
          ...base_,
          outcome: 'deploy' as const,
          setCommands: setCommands(endpoint),
          message: `This redirector is deployed: it takes the bot from its deployment. On the machine that deploys it, run these (each secret is piped from this computer's secret store, never typed), then ${ctx.step({ app: "activate the bot with Revtrail's command line (telegram activate)", cli: 'run `revtrail telegram activate`' })}:${forwarding}`,
        });
      }
      try {
        // The local redirector keeps them through its host (host.ts saves them under LOCAL_TELEGRAM_SETTINGS).
        await client.putTelegramSettings(settings);
      } catch (e) {
        return fromRedirector(e, ws);
      }
      try {
        await pointWebhook(ws, api, url, secretToken);
      } catch (e) {
        return fromTelegram(e);
      }
      return ok({
        ...base_,
        outcome: 'applied' as const,
        setCommands: null,
        message: `@${bot.username} now sends its updates to ${url}: a click on a link to it opens the bot with a one-time start token, and its starts and payments sync with the other events.${forwarding}`,
      });
    },

    'telegram.activate': async ({ workspace: ref, webhookUrl }) => {
      const found = ctx.resolve(ref);
      if (!found.ok) return found.error;
      const ws = found.workspace;
      const settings = getTelegramSettings(found.db);
      const secrets = await saved(ws);
      if (!settings.botId || !secrets) return err('not_found', `No Telegram bot is connected to "${ws.name}": ${ctx.step({ app: "connect one with Revtrail's command line (the app has no Telegram screen yet)", cli: 'run `revtrail connect telegram`' })}.`);
      const client = await deps.redirector(ws);
      if (!client || !ws.redirectorUrl) return noRedirector(ws);
      let endpoint: TelegramWebhookStatus;
      try {
        endpoint = await client.telegramStatus();
      } catch (e) {
        return fromRedirector(e, ws);
      }
      // Pointing Telegram at an endpoint that would refuse every update (401) would hold them all back.
      if (endpoint.botId !== settings.botId || endpoint.secretFingerprint !== fingerprint(secrets.secretToken)) {
        const commands = endpoint.settable ? [] : setCommands(endpoint);
        return err(
          'conflict',
          `The redirector does not hold this bot's secret token yet${endpoint.problem ? ` (${endpoint.problem})` : ''}: ${endpoint.settable ? ctx.step({ app: 'connect the bot again', cli: 'run `revtrail connect telegram` again' }) : `run ${commands.join(' && ')}`}, then activate again.`,
        );
      }
      const url = webhookUrl ?? endpoint.url ?? `${ws.redirectorUrl}${TELEGRAM_WEBHOOK_PATH}`;
      try {
        await pointWebhook(ws, new TelegramBotApi(settings.apiBase, secrets.botToken, { fetch: deps.fetch }), url, secrets.secretToken);
      } catch (e) {
        return fromTelegram(e);
      }
      return ok(await status(ws));
    },

    'telegram.status': async ({ workspace: ref }) => {
      const found = ctx.resolve(ref);
      if (!found.ok) return found.error;
      return ok(await status(found.workspace));
    },

    'telegram.secretName': async ({ workspace: ref, which }) => {
      const found = ctx.resolve(ref);
      if (!found.ok) return found.error;
      const kind = WHICH[which];
      if (!kind) return err('invalid_input', 'Name one of bot-token, secret-token or forward.');
      const name = deps.secretName(found.workspace, kind);
      return ok({ name, set: (await ctx.secrets.get(name)) !== null });
    },
  };
}
