import { z } from 'zod';
import { hostInDomain } from '@revtrail/shared';

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
  /** True behind a proxy or Lambda URL/CloudFront: client IP and protocol come from X-Forwarded-*. */
  trustProxy: boolean;
  /** SQS queue of clicks that could not be written in time (Lambda); null locally. */
  spillQueueUrl: string | null;
}

const MAX_WINDOW_DAYS = 395; // 13 months, the longest a tracking cookie should live (REFERENCE.md, Privacy)

const secret = (name: string) =>
  z
    .string({ error: `${name} is required` })
    .min(32, `${name} must be at least 32 characters (generate one with: openssl rand -base64 32)`);

const intFromEnv = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `${name} must be a whole number from ${min} to ${max}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const httpUrl = (name: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return null;
      try {
        const url = new URL(v);
        if (url.protocol === 'http:' || url.protocol === 'https:') return url.toString();
      } catch {
        // reported below
      }
      ctx.addIssue({ code: 'custom', message: `${name} must be an http(s) URL, got "${v}"` });
      return z.NEVER;
    });

const envSchema = z.object({
  REVTRAIL_TABLE: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/, 'REVTRAIL_TABLE must be a DynamoDB table name'),
  REVTRAIL_SYNC_TOKEN: secret('REVTRAIL_SYNC_TOKEN'),
  REVTRAIL_EMAIL_HASH_KEY: secret('REVTRAIL_EMAIL_HASH_KEY'),
  REVTRAIL_IP_SALT_SEED: secret('REVTRAIL_IP_SALT_SEED'),
  REVTRAIL_COOKIE_DOMAIN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return null;
      const d = v.trim().toLowerCase().replace(/^\./, '');
      if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(d)) {
        ctx.addIssue({ code: 'custom', message: `REVTRAIL_COOKIE_DOMAIN must be a domain like brand.com, got "${v}"` });
        return z.NEVER;
      }
      return d;
    }),
  REVTRAIL_ATTRIBUTION_WINDOW_DAYS: intFromEnv('REVTRAIL_ATTRIBUTION_WINDOW_DAYS', 1, MAX_WINDOW_DAYS, 30),
  REVTRAIL_RETENTION_DAYS: intFromEnv('REVTRAIL_RETENTION_DAYS', 1, 3650, 90),
  REVTRAIL_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const origins: string[] = [];
      for (const raw of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
        const url = URL.canParse(raw) ? new URL(raw) : null;
        if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== raw.replace(/\/$/, '')) {
          ctx.addIssue({ code: 'custom', message: `REVTRAIL_ALLOWED_ORIGINS: "${raw}" is not an origin like https://brand.com` });
          return z.NEVER;
        }
        origins.push(url.origin);
      }
      return origins;
    }),
  REVTRAIL_FALLBACK_URL: httpUrl('REVTRAIL_FALLBACK_URL'),
  REVTRAIL_PUBLIC_URL: httpUrl('REVTRAIL_PUBLIC_URL'),
  REVTRAIL_DUPLICATE_WINDOW_SECONDS: intFromEnv('REVTRAIL_DUPLICATE_WINDOW_SECONDS', 0, 86_400, 1800),
  REVTRAIL_CLICK_WRITE_BUDGET_MS: intFromEnv('REVTRAIL_CLICK_WRITE_BUDGET_MS', 5, 5000, 150),
  REVTRAIL_LINK_CACHE_TTL_MS: intFromEnv('REVTRAIL_LINK_CACHE_TTL_MS', 0, 3_600_000, 30_000),
  REVTRAIL_FEED_SETTLE_MS: intFromEnv('REVTRAIL_FEED_SETTLE_MS', 0, 600_000, 5000),
  REVTRAIL_TRUST_PROXY: z.enum(['true', 'false']).optional(),
  REVTRAIL_SPILL_QUEUE_URL: httpUrl('REVTRAIL_SPILL_QUEUE_URL'),
});

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Validates a flat map of settings (process.env, or env merged with SST resources). */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    return { ok: false, errors: parsed.error.issues.map((i) => (i.message.startsWith('REVTRAIL_') ? i.message : `${i.path.join('.')}: ${i.message}`)) };
  }
  const e = parsed.data;
  const errors: string[] = [];
  if (e.REVTRAIL_PUBLIC_URL && e.REVTRAIL_COOKIE_DOMAIN && !hostInDomain(new URL(e.REVTRAIL_PUBLIC_URL).hostname, e.REVTRAIL_COOKIE_DOMAIN)) {
    errors.push(`REVTRAIL_COOKIE_DOMAIN (${e.REVTRAIL_COOKIE_DOMAIN}) must contain the tracking host of REVTRAIL_PUBLIC_URL (${e.REVTRAIL_PUBLIC_URL})`);
  }
  if (new Set([e.REVTRAIL_SYNC_TOKEN, e.REVTRAIL_EMAIL_HASH_KEY, e.REVTRAIL_IP_SALT_SEED]).size < 3) {
    errors.push('REVTRAIL_SYNC_TOKEN, REVTRAIL_EMAIL_HASH_KEY and REVTRAIL_IP_SALT_SEED must be three different secrets');
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      tableName: e.REVTRAIL_TABLE,
      syncToken: e.REVTRAIL_SYNC_TOKEN,
      emailHashKey: e.REVTRAIL_EMAIL_HASH_KEY,
      ipSaltSeed: e.REVTRAIL_IP_SALT_SEED,
      cookieDomain: e.REVTRAIL_COOKIE_DOMAIN,
      attributionWindowDays: e.REVTRAIL_ATTRIBUTION_WINDOW_DAYS,
      retentionDays: e.REVTRAIL_RETENTION_DAYS,
      allowedOrigins: e.REVTRAIL_ALLOWED_ORIGINS,
      fallbackUrl: e.REVTRAIL_FALLBACK_URL,
      publicUrl: e.REVTRAIL_PUBLIC_URL,
      duplicateWindowMs: e.REVTRAIL_DUPLICATE_WINDOW_SECONDS * 1000,
      clickWriteBudgetMs: e.REVTRAIL_CLICK_WRITE_BUDGET_MS,
      linkCacheTtlMs: e.REVTRAIL_LINK_CACHE_TTL_MS,
      feedSettleMs: e.REVTRAIL_FEED_SETTLE_MS,
      trustProxy: e.REVTRAIL_TRUST_PROXY === 'true',
      spillQueueUrl: e.REVTRAIL_SPILL_QUEUE_URL,
    },
  };
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
  return configOrThrow({ REVTRAIL_TRUST_PROXY: 'false', ...process.env, ...overrides });
}

interface SstLinked {
  Table?: { name?: string };
  Spill?: { url?: string };
  SyncToken?: { value?: string };
  EmailHashKey?: { value?: string };
  IpSaltSeed?: { value?: string };
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
  return configOrThrow({
    REVTRAIL_TRUST_PROXY: 'true',
    ...process.env,
    REVTRAIL_TABLE: linked('Table')?.name,
    REVTRAIL_SPILL_QUEUE_URL: linked('Spill')?.url,
    REVTRAIL_SYNC_TOKEN: linked('SyncToken')?.value,
    REVTRAIL_EMAIL_HASH_KEY: linked('EmailHashKey')?.value,
    REVTRAIL_IP_SALT_SEED: linked('IpSaltSeed')?.value,
  });
}
