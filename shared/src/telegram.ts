/**
 * Telegram bot attribution: what crosses the redirector, the desktop and Telegram's Bot API.
 * Telegram's own documentation: https://core.telegram.org/bots/api (setWebhook, getWebhookInfo, Update,
 * Message, SuccessfulPayment, RefundedPayment) and https://core.telegram.org/bots/features#deep-linking.
 */

/** Where Telegram delivers the bot's updates on the redirector (setWebhook's `url` ends with it). */
export const TELEGRAM_WEBHOOK_PATH = '/webhooks/telegram';
/** The header Telegram sends setWebhook's `secret_token` back in, on every delivery. */
export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';
/** Telegram Stars: the currency code of payments in Stars. Not ISO 4217, never converted (money.ts). */
export const STARS_CURRENCY = 'XTR';

/**
 * A bot's username as Telegram allows it: 5 to 32 characters of Latin letters, digits and underscores,
 * starting with a letter and ending in "bot" (BotFather's rule; any case).
 */
export const BOT_USERNAME_RE = /^[A-Za-z][A-Za-z0-9_]{1,28}[Bb][Oo][Tt]$/;
export const isBotUsername = (v: unknown): v is string => typeof v === 'string' && BOT_USERNAME_RE.test(v);

/** setWebhook's `secret_token`: 1 to 256 characters of A-Z, a-z, 0-9, _ and -. */
export const TELEGRAM_SECRET_TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;
/** A bot token as BotFather gives it: the bot's numeric id, a colon, then 30 or more letters, digits, _ and -. */
export const TELEGRAM_BOT_TOKEN_RE = /^(\d{1,20}):[A-Za-z0-9_-]{30,100}$/;
export const isTelegramBotToken = (v: unknown): v is string => typeof v === 'string' && TELEGRAM_BOT_TOKEN_RE.test(v);
/** The bot's numeric id, the part of its token before the colon (not secret: getMe answers it). */
export const botIdOf = (token: string): string => token.slice(0, token.indexOf(':'));

/**
 * The deep-link payload Revtrail puts in `https://t.me/<bot>?start=<token>`: opaque, single-use. Telegram
 * allows 1 to 64 characters of A-Z, a-z, 0-9, _ and -; Revtrail's tokens are 22 to 43 of them (its own are 32).
 */
export const START_TOKEN_RE = /^[A-Za-z0-9_-]{22,43}$/;

/** A Telegram user id: a positive integer of at most 52 significant bits (Telegram's User.id). */
export const isTelegramUserId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
/** The same, typed by a person: digits only. */
export const TELEGRAM_USER_ID_TEXT_RE = /^[1-9]\d{0,15}$/;

/** A keyed hash of a Telegram user id: 64 lowercase hex characters. */
export const TELEGRAM_USER_HASH_RE = /^[0-9a-f]{64}$/;

/**
 * The text the user hash is an HMAC of, domain-separated from the email hashes that share the key: the
 * redirector and the desktop (which reads the key from GET /api/v1/keys) compute the same hash, so an erasure
 * by Telegram id finds the person without either side keeping the raw id.
 */
export const telegramUserHashText = (userId: number | string): string => `revtrail-telegram-user\0${userId}`;

/** `https://t.me/<bot>?start=<token>`: the bot link a tracking link redirects to (a bare t.me/<bot> without a token). */
export function botLink(bot: string, token?: string): string {
  return token ? `https://t.me/${bot}?start=${token}` : `https://t.me/${bot}`;
}

/**
 * A `/start <token>` of the bot, as the redirector keeps it: a Telegram user (by keyed hash) bound to the
 * visitor whose click minted the token. `visitorId` and `clickId` are null when the token was good but its
 * click had not reached the table yet (it waited in the journal or the spill queue): the desktop then finds the
 * click by `tokenDigest`, which the click carries too.
 */
export interface TelegramStart {
  /** Append id (the feed's order). */
  id: string;
  /** When the redirector kept it. */
  at: number;
  /** When the user pressed Start (the message's date). */
  startedAt: number;
  /** Telegram's update_id: its deliveries of the same update carry the same one. */
  updateId: number;
  userHash: string;
  /** SHA-256 of the token (hex, 32 characters): the click that minted it carries the same digest. */
  tokenDigest: string;
  visitorId: string | null;
  clickId: string | null;
}

/**
 * A payment to the bot (`message.successful_payment`) or its refund (`message.refunded_payment`), as the
 * redirector keeps it. Only what attribution needs: never the invoice payload, order info or shipping option.
 */
export interface TelegramPayment {
  id: string;
  at: number;
  kind: 'payment' | 'refund';
  /** When Telegram says it happened (the message's date). */
  paidAt: number;
  updateId: number;
  /** The payer's keyed hash; null when the payer was erased before it arrived (the money stays, the person not). */
  userHash: string | null;
  /** ISO 4217, or XTR for Telegram Stars. */
  currency: string;
  /** `total_amount`: minor units of the currency (whole Stars for XTR). */
  amountMinor: number;
  /** `telegram_payment_charge_id`: a payment and its refund share it. */
  chargeId: string;
  /** `provider_payment_charge_id` (a Stripe charge for fiat paid through Stripe; empty for Stars), or null. */
  providerChargeId: string | null;
  /** A subscription's payment (is_recurring). */
  recurring: boolean;
}

/** Why a delivery to the Telegram webhook was refused or left out, counted by the redirector. */
export const TELEGRAM_REFUSALS = ['no_secret', 'bad_secret', 'not_an_update', 'too_large'] as const;
export type TelegramRefusal = (typeof TELEGRAM_REFUSALS)[number];
/** What became of an accepted update that was not kept, counted. */
export const TELEGRAM_SKIPS = ['bad_token', 'token_expired', 'token_used', 'stale', 'erased', 'other'] as const;
export type TelegramSkip = (typeof TELEGRAM_SKIPS)[number];

/** `GET /api/v1/webhooks/telegram`: how the Telegram endpoint is set up and what it has received. */
export interface TelegramWebhookStatus {
  path: string;
  /** The endpoint's public address (setWebhook's url), when the redirector knows its public URL. */
  url: string | null;
  /** A bot token is set (the bot's numeric id, never the token). */
  botId: string | null;
  /** A secret token is set, and the first 8 hex characters of its SHA-256 (to check two sides hold the same). */
  secretSet: boolean;
  secretFingerprint: string | null;
  /** Updates are forwarded to the bot's previous webhook (its host only; the URL may hold a secret). */
  forwardHost: string | null;
  /** Why the settings were set aside (never quoting a value), or null. */
  problem: string | null;
  /** Settings can be changed through the sync API (a local redirector); else `setCommands` say how. */
  settable: boolean;
  setCommands: string[] | null;
  counts: TelegramCounts;
}

export interface TelegramCounts {
  starts: number;
  payments: number;
  duplicates: number;
  refused: Record<TelegramRefusal, number>;
  skipped: Record<TelegramSkip, number>;
  forwarded: number;
  forwardFailures: number;
  lastReceivedAt: number | null;
  lastForwardError: { at: number; message: string } | null;
}

/** `PUT /api/v1/webhooks/telegram/settings` on a local redirector. */
export interface TelegramSettingsInput {
  botToken: string;
  secretToken: string;
  /** The bot's webhook before Revtrail's, to forward every update to unchanged; null: none. */
  forward: { url: string; secretToken: string | null } | null;
}

const encoder = new TextEncoder();

/** HMAC-SHA256 of telegramUserHashText(userId) under the deployment's email-hash key, as lowercase hex. */
export async function hashTelegramUser(userId: number | string, key: string): Promise<string> {
  if (key.length < 16) throw new RangeError('hash key is too short');
  const cryptoKey = await globalThis.crypto.subtle.importKey('raw', encoder.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(telegramUserHashText(userId))));
  let hex = '';
  for (const b of mac) hex += b.toString(16).padStart(2, '0');
  return hex;
}
