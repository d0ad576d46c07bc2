import { isTelegramBotToken, TELEGRAM_SECRET_TOKEN_RE, TELEGRAM_WEBHOOK_PATH } from '@revtrail/shared';

/** The Telegram bot this redirector receives updates for (https://core.telegram.org/bots/api#setwebhook). */
export interface TelegramSettings {
  /** The bot's token from BotFather (`<bot id>:<secret>`); null: no bot connected. */
  botToken: string | null;
  /** setWebhook's `secret_token`, which Telegram sends back in X-Telegram-Bot-Api-Secret-Token; null: none. */
  secretToken: string | null;
  /** The bot's webhook before Revtrail's: every update is forwarded there unchanged. */
  forward: { url: string; secretToken: string | null } | null;
}

/** The value SST's placeholder secrets hold until they are set. */
const UNSET = 'unset';
const given = (v: string | undefined | null): string | null => {
  const t = v?.trim();
  return t && t !== UNSET ? t : null;
};

/**
 * Reads the Telegram settings as typed (each may be empty or SST's `unset`). The problem names the setting
 * (`names`) and never quotes a value: it goes to logs and to the status the desktop shows.
 */
export function parseTelegramSettings(
  raw: { botToken?: string | null; secretToken?: string | null; forwardUrl?: string | null; forwardSecretToken?: string | null },
  names: { botToken: string; secretToken: string; forward: string },
): { ok: true; settings: TelegramSettings } | { ok: false; problem: string } {
  const botToken = given(raw.botToken);
  const secretToken = given(raw.secretToken);
  const forwardUrl = given(raw.forwardUrl);
  const forwardSecret = given(raw.forwardSecretToken);
  if (botToken !== null && !isTelegramBotToken(botToken)) {
    return { ok: false, problem: `${names.botToken} must hold a bot token as BotFather gives it (digits, a colon, then letters and digits): it does not` };
  }
  if (secretToken !== null && !TELEGRAM_SECRET_TOKEN_RE.test(secretToken)) {
    return { ok: false, problem: `${names.secretToken} must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule for secret_token): it is not` };
  }
  if ((botToken === null) !== (secretToken === null)) {
    return { ok: false, problem: `${botToken === null ? names.botToken : names.secretToken} is not set: the bot token and the secret token go together (revtrail connect telegram sets both)` };
  }
  let forward: TelegramSettings['forward'] = null;
  if (forwardUrl !== null) {
    const url = URL.canParse(forwardUrl) ? new URL(forwardUrl) : null;
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
      return { ok: false, problem: `${names.forward} must be the bot's previous webhook, an http(s) address: it is not` };
    }
    if (url.pathname === TELEGRAM_WEBHOOK_PATH) {
      return { ok: false, problem: `${names.forward} points at a Revtrail Telegram endpoint (${TELEGRAM_WEBHOOK_PATH}): forwarding there would loop` };
    }
    if (forwardSecret !== null && !TELEGRAM_SECRET_TOKEN_RE.test(forwardSecret)) {
      return { ok: false, problem: `${names.forward}'s secret token must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -: it is not` };
    }
    forward = { url: url.toString(), secretToken: forwardSecret };
  }
  return { ok: true, settings: { botToken, secretToken, forward } };
}

/**
 * The commands that set a deployed stage's Telegram secrets, run from the repository, then a deploy. Each value
 * comes from `revtrail telegram secret`, piped: it never appears on a command line or on screen (`forward`
 * prints `unset` when the bot had no webhook before, which clears an earlier one).
 */
export function telegramSecretSetCommands(stage: string | null): string[] {
  const s = stage ?? '<stage>';
  const set = (which: string, name: string) => `revtrail telegram secret ${which} | npm run -s sst -w redirector -- secret set ${name} --stage ${s}`;
  return [
    set('bot-token', 'TelegramBotToken'),
    set('secret-token', 'TelegramSecretToken'),
    set('forward', 'TelegramForward'),
    `npm run deploy -- --stage ${s}`,
  ];
}
