import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '@revtrail/shared';
import type pino from 'pino';
import { buildApp, type RevtrailApp } from './app';
import { loadLocalConfig, type Config } from './config';
import { createLogger } from './log';
import { Journal } from './journal/journal';
import { DynamoStore } from './store/dynamo';
import { startEmbeddedDynamo, type EmbeddedDynamo } from './store/embedded';
import type { TelegramSettingsKeeping } from './telegram/endpoint';
import type { TelegramSettings } from './telegram/settings';
import type { WebhookSecretsKeeping } from './webhook/endpoint';

const SECRETS_FILE = 'secrets.json';
const INGEST_EVERY_MS = 250;
const PURGE_EVERY_MS = 3_600_000;

export interface LocalSecrets {
  syncToken: string;
  emailHashKey: string;
  ipSaltSeed: string;
  /** Stripe webhook signing secrets (`whsec_...`, two while one is rolled), set through the sync API; never generated. */
  stripeWebhookSecrets?: string[];
  /** The Telegram bot's token, the webhook's secret token and the previous webhook, set through the sync API; never generated. */
  telegram?: TelegramSettings;
}

/** The local deployment's secrets, generated on first start into the data dir (mode 0600). */
export function loadOrCreateSecrets(dataDir: string): { secrets: LocalSecrets; created: boolean } {
  const path = join(dataDir, SECRETS_FILE);
  if (existsSync(path)) return { secrets: JSON.parse(readFileSync(path, 'utf8')) as LocalSecrets, created: false };
  const gen = () => randomBytes(32).toString('base64url');
  const secrets = { syncToken: gen(), emailHashKey: gen(), ipSaltSeed: gen() };
  writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
  return { secrets, created: true };
}

/** Changes some of `secrets.json`'s values: a new file (mode 0600) renamed over the old, so a crash leaves one or the other. */
function saveSecretsFile(dataDir: string, changed: Partial<LocalSecrets>): void {
  const path = join(dataDir, SECRETS_FILE);
  const current = JSON.parse(readFileSync(path, 'utf8')) as LocalSecrets;
  const next = `${path}.next`;
  writeFileSync(next, JSON.stringify({ ...current, ...changed }, null, 2), { mode: 0o600 });
  renameSync(next, path);
}

/** Kept Telegram settings as the REVTRAIL_TELEGRAM_* settings config.ts reads. */
function telegramSettings(t: TelegramSettings | undefined): Record<string, string> {
  if (!t?.botToken || !t.secretToken) return {};
  return {
    REVTRAIL_TELEGRAM_BOT_TOKEN: t.botToken,
    REVTRAIL_TELEGRAM_SECRET_TOKEN: t.secretToken,
    ...(t.forward ? { REVTRAIL_TELEGRAM_FORWARD_URL: t.forward.url, ...(t.forward.secretToken ? { REVTRAIL_TELEGRAM_FORWARD_SECRET_TOKEN: t.forward.secretToken } : {}) } : {}),
  };
}

export interface LocalRedirectorOptions {
  dataDir: string;
  port?: number;
  /** Extra settings, as REVTRAIL_* names (they override the environment). */
  settings?: Record<string, string>;
  /** Secrets kept by the caller (the desktop's secret store); without them, `secrets.json` in the data dir. */
  secrets?: LocalSecrets;
  /**
   * Keeps secrets changed while running (the Stripe webhook's, set through the sync API) where the caller keeps
   * `secrets`. Without it, secrets passed in cannot be changed here; `secrets.json` is written by the redirector.
   */
  saveSecrets?: (changed: Partial<LocalSecrets>) => Promise<void>;
  /** Use this embedded store instead of starting one (tests that take the store down and back). */
  dynamo?: EmbeddedDynamo;
  clock?: Clock;
  log?: pino.Logger;
  /** Ingest the journal and purge expired items on timers (on by default). */
  maintenance?: boolean;
}

export interface LocalRedirector {
  url: string;
  port: number;
  config: Config;
  app: RevtrailApp;
  store: DynamoStore;
  dynamo: EmbeddedDynamo;
  /** The journal (`<data-dir>/journal/`, see docs/table.md): every event is in it before its request is answered. */
  spill: Journal;
  /** True when this start generated the sync token (it is printed once). */
  tokenCreated: boolean;
  /** Moves the journal into the store now; resolves with how many events it stored. */
  replaySpill(): Promise<number>;
  close(): Promise<void>;
}

/** The redirector on this machine: embedded DynamoDB (dynalite) on disk, listening on 127.0.0.1 only. */
export async function startLocalRedirector(opts: LocalRedirectorOptions): Promise<LocalRedirector> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? createLogger();
  const { secrets, created } = opts.secrets ? { secrets: opts.secrets, created: false } : loadOrCreateSecrets(dataDir);
  const tokenFromEnv = opts.settings?.REVTRAIL_SYNC_TOKEN || process.env.REVTRAIL_SYNC_TOKEN || undefined;
  // A webhook secret in the settings or the environment wins, and is changed there; else the kept one is used.
  const webhookFromEnv = opts.settings?.REVTRAIL_STRIPE_WEBHOOK_SECRET ?? process.env.REVTRAIL_STRIPE_WEBHOOK_SECRET;
  // Likewise the Telegram bot: its settings or environment win, else what `revtrail connect telegram` set.
  const telegramFromEnv = (opts.settings?.REVTRAIL_TELEGRAM_BOT_TOKEN ?? process.env.REVTRAIL_TELEGRAM_BOT_TOKEN) !== undefined;
  const settings: Record<string, string> = {
    REVTRAIL_TABLE: 'revtrail',
    REVTRAIL_SYNC_TOKEN: tokenFromEnv ?? secrets.syncToken,
    REVTRAIL_EMAIL_HASH_KEY: secrets.emailHashKey,
    REVTRAIL_IP_SALT_SEED: secrets.ipSaltSeed,
    REVTRAIL_STRIPE_WEBHOOK_SECRET: webhookFromEnv ?? (Array.isArray(secrets.stripeWebhookSecrets) ? secrets.stripeWebhookSecrets.join(',') : ''),
    ...(telegramFromEnv ? {} : telegramSettings(secrets.telegram)),
    ...opts.settings,
  };
  const config = loadLocalConfig(settings);
  const dynamo = opts.dynamo ?? (await startEmbeddedDynamo({ path: join(dataDir, 'dynamodb') }));
  const store = new DynamoStore({ tableName: config.tableName, retentionDays: config.retentionDays, client: dynamo.client(), clock });
  await store.ensureTable(clock.now());
  const spill = await Journal.open({ dir: join(dataDir, 'journal'), legacyDir: join(dataDir, 'spill'), log, now: () => clock.now(), bufferMax: config.journalBufferEvents });
  // A store passed in is its owner's to compact (tests take it down and start another on the same port).
  const compactStore = opts.dynamo ? undefined : () => dynamo.compact();
  const saveSecrets = opts.secrets ? opts.saveSecrets : async (changed: Partial<LocalSecrets>) => saveSecretsFile(dataDir, changed);
  const stripeWebhookSecrets: WebhookSecretsKeeping | undefined =
    webhookFromEnv !== undefined
      ? undefined // the setting's own message: change it there
      : saveSecrets
        ? { save: (list) => saveSecrets({ stripeWebhookSecrets: list }) }
        : { fixed: 'This redirector was given its secrets by the program that started it, which takes no new one while it runs: set the signing secret there.' };
  const telegramKeeping: TelegramSettingsKeeping | undefined = telegramFromEnv
    ? undefined
    : saveSecrets
      ? { save: (telegram) => saveSecrets({ telegram }) }
      : { fixed: 'This redirector was given its secrets by the program that started it, which takes no new one while it runs: connect the bot there.' };
  const app = await buildApp({ store, config, log, clock, events: { mode: 'journal', journal: spill }, compactStore, stripeWebhookSecrets, telegramSettings: telegramKeeping });
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 8787 });
  const port = (app.server.address() as { port: number }).port;
  if (!config.publicUrl) config.publicUrl = `http://127.0.0.1:${port}`;

  let replaying: Promise<number> | null = null;
  const ingestPass = () =>
    (replaying ??= (async () => {
      try {
        if ((await spill.pending()).length === 0) return 0;
        return await app.revtrail.recorder.ingest();
      } finally {
        replaying = null;
      }
    })());
  // Everything journaled before the call is in the store once it resolves: a pass already running may have
  // sealed its segment before those events, so the call waits for it and then runs (or joins) a later one.
  const replaySpill = async (): Promise<number> => {
    if (replaying) await replaying.catch(() => 0);
    return ingestPass();
  };
  const timers: NodeJS.Timeout[] = [];
  if (opts.maintenance !== false) {
    const warnedAt = new Map<string, number>();
    const quietly = (what: string, p: Promise<unknown>) =>
      p.catch((e: unknown) => {
        if (Date.now() - (warnedAt.get(what) ?? 0) < 60_000) return; // the store being down says so once a minute
        warnedAt.set(what, Date.now());
        log.warn({ err: (e as Error).message }, `${what} postponed`);
      });
    // The journal moves into the store every quarter second; with the store down, the next tick retries.
    timers.push(setInterval(() => void quietly('journal ingest', ingestPass()), INGEST_EVERY_MS));
    // Expired items leave the files too, not only the table: the purge is followed by a compaction.
    const purge = async () => {
      if ((await store.purgeExpired(clock.now())) > 0) await compactStore?.();
    };
    timers.push(setInterval(() => void quietly('purge', purge()), PURGE_EVERY_MS));
    for (const t of timers) t.unref();
    void quietly('journal ingest', ingestPass());
    void quietly('purge', purge());
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    config,
    app,
    store,
    dynamo,
    spill,
    tokenCreated: created && tokenFromEnv === undefined,
    replaySpill,
    async close() {
      for (const t of timers) clearInterval(t);
      await app.close();
      if (replaying) await replaying.catch(() => 0);
      await spill.close();
      if (!opts.dynamo) await dynamo.close();
    },
  };
}
