import { SLUG_MAX_LENGTH, isSlug } from '../ids';
import { TRACKING_VALUE_MAX, UTM_KEYS, type Utm } from '../tracking-params';
import { checkDestination, type DestinationRules } from '../destination';
import { parsed, readBoolean, readObject, readString, type Parsed } from '../validate';
import { BOT_USERNAME_RE, botLink } from '../telegram';

export const CHANNEL_MAX_LENGTH = 64;
export const CAMPAIGN_MAX_LENGTH = 128;
const PARTNER_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** Body of PUT /api/v1/links/:slug, as the desktop sends it. */
export interface LinkInput {
  /** Where the redirect goes; for a bot link, `https://t.me/<bot>` (it may then be left out). */
  destination: string;
  /**
   * A link that targets a Telegram bot (its username, without @): each person's click is redirected to
   * `https://t.me/<bot>?start=<single-use token>` instead of the destination, so the bot's /start is tied to it.
   */
  telegramBot?: string | null;
  channel: string;
  campaign?: string | null;
  partnerId?: string | null;
  utm?: Utm;
  enabled?: boolean;
}

const LINK_FIELDS = ['destination', 'channel', 'campaign', 'partnerId', 'utm', 'enabled', 'telegramBot'] as const;

/**
 * A link as sent, checked against where its redirector is (`destinations`). The destination comes back
 * in its serialised form: the address the redirect really goes to, which is what is stored and shown.
 */
export function parseLinkInput(body: unknown, destinations: DestinationRules): Parsed<LinkInput> {
  const problems: string[] = [];
  const obj = readObject(body, LINK_FIELDS, problems);
  const telegramBot = readString(
    obj,
    'telegramBot',
    { nullable: true, trim: true, max: 33, check: (v) => (BOT_USERNAME_RE.test(v.replace(/^@/, '')) ? null : "a bot's username: 5-32 letters, digits or _, starting with a letter and ending in bot (like shop_bot)") },
    problems,
  );
  const bot = typeof telegramBot === 'string' ? telegramBot.replace(/^@/, '') : null;
  // A bot link's destination is the bot's t.me page (what the link exports and an nginx map hold).
  let destination = readString(obj, 'destination', { required: typeof obj.telegramBot !== 'string', max: Number.MAX_SAFE_INTEGER }, problems);
  if (bot !== null) {
    if (destination !== undefined && destination !== null && destination.replace(/\/$/, '').toLowerCase() !== botLink(bot).toLowerCase()) {
      problems.push(`destination: a link to the bot ${bot} goes to ${botLink(bot)}; leave the destination out or give that`);
    }
    destination = botLink(bot);
  } else if (typeof destination === 'string') {
    const verdict = checkDestination(destination, destinations);
    if (verdict.ok) destination = verdict.url;
    else problems.push(`destination ${verdict.message}`);
  }
  const channel = readString(obj, 'channel', { required: true, trim: true, min: 1, max: CHANNEL_MAX_LENGTH }, problems);
  const campaign = readString(obj, 'campaign', { nullable: true, trim: true, min: 1, max: CAMPAIGN_MAX_LENGTH }, problems);
  const partnerId = readString(
    obj,
    'partnerId',
    { nullable: true, max: 64, check: (v) => (PARTNER_ID_RE.test(v) ? null : '1-64 letters, digits, _ or -') },
    problems,
  );
  const enabled = readBoolean(obj, 'enabled', problems);
  let utm: Utm | undefined;
  if (obj.utm !== undefined) {
    const raw = readObject(obj.utm, UTM_KEYS, problems, 'utm');
    utm = {};
    for (const key of UTM_KEYS) {
      const value = readString(raw, key, { min: 1, max: TRACKING_VALUE_MAX }, problems);
      if (value) utm[key] = value;
    }
  }
  const input: LinkInput = { destination: destination ?? '', channel: channel ?? '' };
  if (campaign !== undefined) input.campaign = campaign;
  if (partnerId !== undefined) input.partnerId = partnerId;
  if (utm !== undefined) input.utm = utm;
  if (enabled !== undefined) input.enabled = enabled;
  if (telegramBot !== undefined) input.telegramBot = bot;
  return parsed(input, problems);
}

/** Why a string cannot be a link's slug, or null when it can. */
export function slugProblem(slug: string): string | null {
  if (slug.length > SLUG_MAX_LENGTH) return `slug is longer than ${SLUG_MAX_LENGTH} characters`;
  if (!isSlug(slug)) return 'slug: 1-64 letters, digits, _ or -, starting with a letter or digit, and not a reserved path';
  return null;
}

/** A tracking link as the redirector stores and serves it. */
export interface Link {
  slug: string;
  destination: string;
  channel: string;
  campaign: string | null;
  partnerId: string | null;
  utm: Utm;
  enabled: boolean;
  /** The Telegram bot this link targets (LinkInput.telegramBot); absent or null for a web link. */
  telegramBot?: string | null;
  createdAt: number;
  updatedAt: number;
}

export function linkFromInput(slug: string, input: LinkInput, at: number, previous?: Link): Link {
  return {
    slug,
    destination: input.destination,
    channel: input.channel,
    campaign: input.campaign ?? null,
    partnerId: input.partnerId ?? null,
    utm: input.utm ?? {},
    enabled: input.enabled ?? true,
    ...(input.telegramBot ? { telegramBot: input.telegramBot } : {}),
    createdAt: previous?.createdAt ?? at,
    updatedAt: at,
  };
}
