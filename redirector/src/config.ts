import { ALLOW_PRIVATE_SETTING, checkDestination, hostInDomain, readIntText } from '@revtrail/shared';
import { parseTelegramSettings, type TelegramSettings } from './telegram/settings';

/**
 * Everything the redirector can be configured with. This file is the only reader of process.env and of
 * SST's linked resources; the rest of the code receives a validated Config.
 */
export interface Config {
  /** The DynamoDB table (single-table design, see docs/table.md). */
  tableName: string;
  /** Bearer token of the sync API. */
  syncToken: string;
  /** Key of the HMAC that turns normalised emails into the hashes the desktop joins on. */
  emailHashKey: string;
  /** Secret seed the daily IP-hash salt is derived from. */
  ipSaltSeed: string;
  /** The cookie's Domain attribute (the apex of the tracking domain); null: a host-only cookie. */
  cookieDomain: string | null;
  /** Cookie lifetime and attribution window. */
  attributionWindowDays: number;
  /** How long clicks, pageviews and identities are kept in the table (item TTL). */
  retentionDays: number;
  /** Origins (scheme://host[:port]) whose pages may post to the pixel's collect endpoint. */
  allowedOrigins: string[];
  /** Where unknown or disabled slugs go; null: a plain 404 page. */
  fallbackUrl: string | null;
  /** Public base URL of the tracking domain, e.g. https://go.brand.com (used in outputs and snippets). */
  publicUrl: string | null;
  /** Same visitor on the same link within this window: the click is flagged duplicate. */
  duplicateWindowMs: number;
  /** Longest a redirect waits for its click write before spilling it. */
  clickWriteBudgetMs: number;
  /** How long a link stays fresh in the in-memory cache before a background refresh. */
  linkCacheTtlMs: number;
  /** Feed reads stop this far behind now, so writes still in flight are never skipped by a cursor. */
  feedSettleMs: number;
  /**
   * The value this deployment's CloudFront puts in the origin-proof header; only a request carrying it has
   * CloudFront's viewer address, country and host believed (visitor.ts vetForwarding). null: never.
   */
  originSecret: string | null;
  /**
   * The value the merchant's own site adds, as the proxy proof, to what it forwards of the same-origin prefix
   * (docs/same-origin.md); only a request carrying it has the proxy's visitor address, host, protocol and country
   * believed (visitor.ts vetForwarding). null: never (REVTRAIL_PROXY_SECRET unset, or SST's placeholder `unset`).
   */
  proxySecret: string | null;
  /** Every request reached the app over HTTPS: true on Lambda, whose function URL takes HTTPS only. */
  httpsOnly: boolean;
  /** Links may point at loopback and private-network addresses: only for a local redirector trying a site on this machine. */
  allowPrivateDestinations: boolean;
  /**
   * Local journal: events held in memory while the disk refuses writes (disk full), written when it takes
   * them again; past this many, clicks still redirect but are dropped and counted in /status.
   */
  journalBufferEvents: number;
  /** SQS queue of clicks that could not be written in time (Lambda); null locally. */
  spillQueueUrl: string | null;
  /**
   * Whether tracking waits for the visitor's consent (src/consent.ts): `off` tracks without asking and
   * ignores revtrail('consent', ...); `opt-out` tracks until the site calls revtrail('consent', false);
   * `opt-in` sets no cookie and sends nothing until revtrail('consent', true). Objections (/optout, GPC)
   * are honoured in every mode.
   */
  consent: ConsentMode;
  /** A browser's Global Privacy Control signal (Sec-GPC: 1, navigator.globalPrivacyControl) counts as an objection. */
  honorGpc: boolean;
  /**
   * The deployment forwards purchases to Meta (REVTRAIL_META=true; off by default): a click that carries an fbclid
   * keeps the browser's User-Agent (Meta's client_user_agent), and the pixel sets Meta's _fbc cookie from an
   * fbclid. The desktop sends nothing to Meta until the user turns forwarding on there too.
   */
  meta: boolean;
  /**
   * Signing secrets (`whsec_...`) of the Stripe webhook endpoint, checked in turn: two while a rotation is under
   * way, none when unset (deliveries are then refused with 503, so that Stripe retries until one is set).
   */
  stripeWebhookSecrets: string[];
  /**
   * Why REVTRAIL_STRIPE_WEBHOOK_SECRET was set aside (its value never quoted), or null. Not a start-up error: a
   * mistyped webhook secret must not take the tracking links down with it. The status API and the refusals say it.
   */
  stripeWebhookSecretProblem: string | null;
  /** Where the webhook secret is set: an SST secret (AWS, changed by a deploy) or this process's settings. */
  stripeWebhookSecretSource: 'sst' | 'settings';
  /** The SST stage this function was deployed as (REVTRAIL_STAGE, set on AWS), for the commands printed to the user. */
  stage: string | null;
  /**
   * The Telegram bot whose updates come to POST /webhooks/telegram: its token, the webhook's secret_token, and
   * the bot's previous webhook to forward updates to (telegram/settings.ts). Unset: the endpoint answers 503.
   */
  telegram: TelegramSettings;
  /** Why the Telegram settings were set aside (never quoting a value), or null: like the Stripe secret, never a start-up error. */
  telegramProblem: string | null;
}

export const CONSENT_MODES = ['off', 'opt-out', 'opt-in'] as const;
export type ConsentMode = (typeof CONSENT_MODES)[number];

const MAX_WINDOW_DAYS = 395; // 13 months, the longest a tracking cookie should live (REFERENCE.md, Privacy)
const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const TABLE_RE = /^[A-Za-z0-9_.-]{3,255}$/;

type Env = Record<string, string | undefined>;

function secret(env: Env, name: string, problems: string[]): string {
  const value = env[name];
  if (!value) problems.push(`${name} is required`);
  else if (value.length < 32) problems.push(`${name} must be at least 32 characters (generate one with: openssl rand -base64 32)`);
  return value ?? '';
}

function httpUrl(env: Env, name: string, problems: string[]): string | null {
  const raw = env[name]?.trim();
  if (!raw) return null;
  const url = URL.canParse(raw) ? new URL(raw) : null;
  if (url && (url.protocol === 'http:' || url.protocol === 'https:')) return url.toString();
  problems.push(`${name} must be an http(s) URL, got "${raw}"`);
  return null;
}

function cookieDomain(env: Env, problems: string[]): string | null {
  const raw = env.REVTRAIL_COOKIE_DOMAIN?.trim();
  if (!raw) return null;
  const domain = raw.toLowerCase().replace(/^\./, '');
  if (DOMAIN_RE.test(domain)) return domain;
  problems.push(`REVTRAIL_COOKIE_DOMAIN must be a domain like brand.com, got "${raw}"`);
  return null;
}

function origins(env: Env, problems: string[]): string[] {
  const found: string[] = [];
  for (const raw of (env.REVTRAIL_ALLOWED_ORIGINS ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const url = URL.canParse(raw) ? new URL(raw) : null;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== raw.replace(/\/$/, '')) {
      problems.push(`REVTRAIL_ALLOWED_ORIGINS: "${raw}" is not an origin like https://brand.com`);
    } else {
      found.push(url.origin);
    }
  }
  return found;
}

/** Stripe's endpoint signing secrets: `whsec_` and then letters, digits (base64 or hex, as Stripe's dashboard and CLI make them). */
const STRIPE_WEBHOOK_SECRET_RE = /^whsec_[A-Za-z0-9+/=_-]{16,200}$/;
/** The value SST's placeholder secret holds until `sst secret set StripeWebhookSecret` is run. */
const UNSET = 'unset';
export const STRIPE_WEBHOOK_SECRETS_MAX = 2;

/**
 * One or two endpoint signing secrets, as typed (comma-separated in the setting). The problem names `what` and
 * never quotes a value: the text goes to logs and to Stripe's delivery log.
 */
export function parseStripeWebhookSecrets(values: string[], what: string): { ok: true; secrets: string[] } | { ok: false; problem: string } {
  const secrets = [...new Set(values.map((s) => s.trim()).filter((s) => s !== '' && s !== UNSET))];
  const bad = secrets.filter((s) => !STRIPE_WEBHOOK_SECRET_RE.test(s)).length;
  if (bad > 0) {
    const which = secrets.length === 1 ? 'it is not' : `${bad} of the ${secrets.length} values ${bad === 1 ? 'is' : 'are'} not`;
    return { ok: false, problem: `${what} must hold Stripe signing secrets, which start with whsec_ (Stripe's dashboard, Developers > Webhooks, the endpoint's "Signing secret"): ${which}` };
  }
  if (secrets.length > STRIPE_WEBHOOK_SECRETS_MAX) {
    return { ok: false, problem: `${what} holds ${secrets.length} secrets; at most ${STRIPE_WEBHOOK_SECRETS_MAX} (the new and the old one while a secret is rolled)` };
  }
  return { ok: true, secrets };
}

/** The command that sets the webhook secret of a deployed stage (run from the repository, then deploy). */
export function stripeSecretSetCommand(stage: string | null): string {
  const s = stage ?? '<stage>';
  return `printf %s "whsec_..." | npm run -s sst -w redirector -- secret set StripeWebhookSecret --stage ${s} && npm run deploy -- --stage ${s}`;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Validates a flat map of settings (process.env, or env merged with SST resources); lists every problem. */
export function parseConfig(env: Env): ConfigResult {
  const problems: string[] = [];
  const int = (name: string, min: number, max: number, fallback: number) => readIntText(env[name], name, min, max, fallback, problems);
  const tableName = env.REVTRAIL_TABLE ?? '';
  if (!TABLE_RE.test(tableName)) problems.push('REVTRAIL_TABLE must be a DynamoDB table name');
  const flag = (name: string, fallback = false) => {
    const raw = env[name];
    if (raw !== undefined && raw !== 'true' && raw !== 'false') problems.push(`${name} must be true or false, got "${raw}"`);
    return raw === undefined ? fallback : raw === 'true';
  };
  const consent = (env.REVTRAIL_CONSENT ?? 'off') as ConsentMode;
  if (!CONSENT_MODES.includes(consent)) problems.push(`REVTRAIL_CONSENT must be one of ${CONSENT_MODES.join(', ')}, got "${env.REVTRAIL_CONSENT}"`);
  const config: Config = {
    tableName,
    syncToken: secret(env, 'REVTRAIL_SYNC_TOKEN', problems),
    emailHashKey: secret(env, 'REVTRAIL_EMAIL_HASH_KEY', problems),
    ipSaltSeed: secret(env, 'REVTRAIL_IP_SALT_SEED', problems),
    cookieDomain: cookieDomain(env, problems),
    attributionWindowDays: int('REVTRAIL_ATTRIBUTION_WINDOW_DAYS', 1, MAX_WINDOW_DAYS, 30),
    retentionDays: int('REVTRAIL_RETENTION_DAYS', 1, 3650, 90),
    allowedOrigins: origins(env, problems),
    fallbackUrl: httpUrl(env, 'REVTRAIL_FALLBACK_URL', problems),
    publicUrl: httpUrl(env, 'REVTRAIL_PUBLIC_URL', problems),
    duplicateWindowMs: int('REVTRAIL_DUPLICATE_WINDOW_SECONDS', 0, 86_400, 1800) * 1000,
    clickWriteBudgetMs: int('REVTRAIL_CLICK_WRITE_BUDGET_MS', 5, 5000, 150),
    linkCacheTtlMs: int('REVTRAIL_LINK_CACHE_TTL_MS', 0, 3_600_000, 30_000),
    feedSettleMs: int('REVTRAIL_FEED_SETTLE_MS', 0, 600_000, 5000),
    originSecret: env.REVTRAIL_ORIGIN_SECRET ? secret(env, 'REVTRAIL_ORIGIN_SECRET', problems) : null,
    proxySecret: env.REVTRAIL_PROXY_SECRET && env.REVTRAIL_PROXY_SECRET !== UNSET ? secret(env, 'REVTRAIL_PROXY_SECRET', problems) : null,
    httpsOnly: false,
    allowPrivateDestinations: flag(ALLOW_PRIVATE_SETTING),
    journalBufferEvents: int('REVTRAIL_JOURNAL_BUFFER_EVENTS', 100, 1_000_000, 20_000),
    spillQueueUrl: httpUrl(env, 'REVTRAIL_SPILL_QUEUE_URL', problems),
    consent,
    honorGpc: flag('REVTRAIL_HONOR_GPC', true),
    meta: flag('REVTRAIL_META'),
    stripeWebhookSecrets: [],
    stripeWebhookSecretProblem: null,
    stripeWebhookSecretSource: 'settings',
    stage: env.REVTRAIL_STAGE?.trim() || null,
    telegram: { botToken: null, secretToken: null, forward: null },
    telegramProblem: null,
  };
  const telegram = parseTelegramSettings(
    {
      botToken: env.REVTRAIL_TELEGRAM_BOT_TOKEN,
      secretToken: env.REVTRAIL_TELEGRAM_SECRET_TOKEN,
      forwardUrl: env.REVTRAIL_TELEGRAM_FORWARD_URL,
      forwardSecretToken: env.REVTRAIL_TELEGRAM_FORWARD_SECRET_TOKEN,
    },
    { botToken: 'REVTRAIL_TELEGRAM_BOT_TOKEN', secretToken: 'REVTRAIL_TELEGRAM_SECRET_TOKEN', forward: 'REVTRAIL_TELEGRAM_FORWARD_URL' },
  );
  if (telegram.ok) config.telegram = telegram.settings;
  else config.telegramProblem = telegram.problem;
  const webhook = parseStripeWebhookSecrets((env.REVTRAIL_STRIPE_WEBHOOK_SECRET ?? '').split(','), 'REVTRAIL_STRIPE_WEBHOOK_SECRET');
  if (webhook.ok) config.stripeWebhookSecrets = webhook.secrets;
  else config.stripeWebhookSecretProblem = webhook.problem;
  if (config.publicUrl && config.cookieDomain && !hostInDomain(new URL(config.publicUrl).hostname, config.cookieDomain)) {
    problems.push(`REVTRAIL_COOKIE_DOMAIN (${config.cookieDomain}) must contain the tracking host of REVTRAIL_PUBLIC_URL (${config.publicUrl})`);
  }
  if (config.fallbackUrl) {
    // The fallback is a destination too: checked as typed, since the parser drops tabs and line breaks.
    const rules = { self: config.publicUrl ? [config.publicUrl] : [], allowPrivate: config.allowPrivateDestinations };
    const verdict = checkDestination(env.REVTRAIL_FALLBACK_URL?.trim() ?? '', rules);
    if (verdict.ok) config.fallbackUrl = verdict.url;
    else problems.push(`REVTRAIL_FALLBACK_URL ${verdict.message}`);
  }
  const secrets = [config.syncToken, config.emailHashKey, config.ipSaltSeed];
  if (config.originSecret && secrets.includes(config.originSecret)) {
    problems.push('REVTRAIL_ORIGIN_SECRET must differ from the other secrets: CloudFront holds it in its configuration');
  }
  if (config.proxySecret && [...secrets, config.originSecret].includes(config.proxySecret)) {
    problems.push('REVTRAIL_PROXY_SECRET must differ from the other secrets: the merchant\'s site holds it in its proxy configuration');
  }
  if (secrets.every(Boolean) && new Set(secrets).size < 3) {
    problems.push('REVTRAIL_SYNC_TOKEN, REVTRAIL_EMAIL_HASH_KEY and REVTRAIL_IP_SALT_SEED must be three different secrets');
  }
  return problems.length > 0 ? { ok: false, errors: problems } : { ok: true, config };
}

/** Thrown at start when the configuration is invalid; its message lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid redirector configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export function configOrThrow(env: Record<string, string | undefined>): Config {
  const r = parseConfig(env);
  if (!r.ok) throw new ConfigError(r.errors);
  return r.config;
}

/** Local mode: process.env plus the values the local server generated or chose. */
export function loadLocalConfig(overrides: Record<string, string>): Config {
  return configOrThrow({ ...process.env, ...overrides });
}

interface SstLinked {
  Table?: { name?: string };
  Spill?: { url?: string };
  SyncToken?: { value?: string };
  EmailHashKey?: { value?: string };
  IpSaltSeed?: { value?: string };
  OriginSecret?: { value?: string };
  ProxySecret?: { value?: string };
  StripeWebhookSecret?: { value?: string };
  TelegramBotToken?: { value?: string };
  TelegramSecretToken?: { value?: string };
  TelegramForward?: { value?: string };
}

/** On Lambda: SST's linked resources (table, queue, secrets) plus the REVTRAIL_* environment. */
export async function loadLambdaConfig(): Promise<Config> {
  const { Resource } = (await import('sst/resource')) as unknown as { Resource: SstLinked };
  // SST's Resource throws for a name that is not linked; a missing one is reported by validation instead.
  const linked = <K extends keyof SstLinked>(name: K): SstLinked[K] | undefined => {
    try {
      return Resource[name];
    } catch {
      return undefined;
    }
  };
  const config = configOrThrow({
    ...process.env,
    REVTRAIL_TABLE: linked('Table')?.name,
    REVTRAIL_SPILL_QUEUE_URL: linked('Spill')?.url,
    REVTRAIL_SYNC_TOKEN: linked('SyncToken')?.value,
    REVTRAIL_EMAIL_HASH_KEY: linked('EmailHashKey')?.value,
    REVTRAIL_IP_SALT_SEED: linked('IpSaltSeed')?.value,
    REVTRAIL_ORIGIN_SECRET: linked('OriginSecret')?.value,
    // `unset` (SST's placeholder) until `sst secret set ProxySecret` (docs/same-origin.md).
    REVTRAIL_PROXY_SECRET: linked('ProxySecret')?.value,
    // The SST secret holds `unset` until the user sets it (`whsec_new,whsec_old` while rolling it).
    REVTRAIL_STRIPE_WEBHOOK_SECRET: linked('StripeWebhookSecret')?.value,
    // Each holds `unset` until `revtrail connect telegram` prints the commands that set them; TelegramForward
    // is "<url>" or "<url> <secret_token>" of the bot's previous webhook.
    REVTRAIL_TELEGRAM_BOT_TOKEN: linked('TelegramBotToken')?.value,
    REVTRAIL_TELEGRAM_SECRET_TOKEN: linked('TelegramSecretToken')?.value,
    ...forwardSetting(linked('TelegramForward')?.value),
  });
  const webhookProblem = config.stripeWebhookSecretProblem?.replace('REVTRAIL_STRIPE_WEBHOOK_SECRET', 'The SST secret StripeWebhookSecret') ?? null;
  const telegramProblem =
    config.telegramProblem
      ?.replace('REVTRAIL_TELEGRAM_BOT_TOKEN', 'The SST secret TelegramBotToken')
      .replace('REVTRAIL_TELEGRAM_SECRET_TOKEN', 'The SST secret TelegramSecretToken')
      .replace('REVTRAIL_TELEGRAM_FORWARD_URL', 'The SST secret TelegramForward') ?? null;
  // Function URLs are HTTPS endpoints (AWS: "Lambda Function URLs: Built-in HTTPS Endpoints"), and SST's
  // Router redirects viewers to HTTPS and reaches the URL over HTTPS only.
  return { ...config, httpsOnly: true, stripeWebhookSecretSource: 'sst', stripeWebhookSecretProblem: webhookProblem, telegramProblem };
}

/** The SST secret TelegramForward ("<url>" or "<url> <secret_token>") as the two settings it stands for. */
function forwardSetting(value: string | undefined): Record<string, string | undefined> {
  const [url, secretToken] = (value ?? '').trim().split(/\s+/);
  return { REVTRAIL_TELEGRAM_FORWARD_URL: url, REVTRAIL_TELEGRAM_FORWARD_SECRET_TOKEN: secretToken };
}
