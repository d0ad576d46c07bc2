import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { err, ok, type Clock, type Result } from '@revtrail/shared';
import type pino from 'pino';
import type { LocalRedirector, LocalSecrets } from '@revtrail/redirector/local';
import type { CoreEvents } from '../core/api';
import type { CoreLogger } from '../core/context';
import { createCore, type Core } from '../core/core';
import { LOCAL_TELEGRAM_SETTINGS } from '../core/telegram/handlers';
import { LOCAL_WEBHOOK_SECRET } from '../core/webhooks/handlers';
import type { SecretStore } from '../core/secrets/types';
import type { Workspace } from '../core/workspaces/registry';
import { CORE_EVENTS, createDispatch, type Dispatch, type ShellHandlers, type ShellMode } from '../transport/contract';
import { createSampleWorkspace, sampleWorkspaceIds } from './sample-workspace';
import { appJobs, createScheduler, type Scheduler } from './scheduler';

export type HostLogger = CoreLogger & { readonly file?: string };

/** A core as the shells use it: calls by name, events by name. */
export interface CoreLike {
  call(method: string, args: unknown): Promise<Result<unknown>>;
  on<E extends keyof CoreEvents>(event: E, listener: (payload: CoreEvents[E]) => void): () => void;
}

export interface HostOptions {
  mode: ShellMode;
  dataDir: string;
  clock: Clock;
  log: HostLogger;
  secrets: SecretStore;
  stripeApiBase?: string;
  fetch?: typeof fetch;
  /** The bundled ECB history where it is not beside the sources (the packaged app's resources). */
  ratesSnapshotPath?: string;
  /**
   * The embedded redirector for newcomers: started unless every workspace already has a deployed one.
   * `false` never starts it. `port` 8787 by default (its links carry the port, so it stays put).
   */
  localRedirector?: false | { port?: number; settings?: Record<string, string>; log?: pino.Logger };
  /**
   * Run the sync schedule (on by default). A test narrows it: `jobs` runs only those (the ECB job reaches the
   * internet, the hourly pull lists everything), `firstRunDelayMs` starts them sooner than a starting app does.
   */
  schedule?: boolean | { jobs?: readonly string[]; firstRunDelayMs?: number };
  /**
   * Methods answered by another core over the same data folder (the core process's worker thread): a
   * ledger rebuild there leaves this thread free for status and report calls.
   */
  offload?: { methods: ReadonlySet<string>; core: CoreLike };
}

/** What a shell (Electron main, browser mode) holds of a host, in this process or in the core process. */
export interface HostHandle {
  call: Dispatch;
  on: CoreLike['on'];
  localRedirector: { url: string } | null;
  /** The log file errors for bugs name (null where the host logs elsewhere, e.g. tests). */
  logFile: string | null;
  close(): Promise<void>;
}

export interface Host extends HostHandle {
  core: Core;
  dispatch: Dispatch;
  shell: ShellHandlers;
  scheduler: Scheduler;
  localRedirector: LocalRedirector | null;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;

/** Whether a workspace still relies on this machine for its redirector (none yet, or a loopback one). */
export function wantsLocalRedirector(workspaces: readonly Workspace[]): boolean {
  if (workspaces.length === 0) return true;
  return workspaces.some((w) => w.redirectorUrl === null || LOOPBACK.test(new URL(w.redirectorUrl).hostname));
}

/** The embedded redirector's generated secrets, by their names in the desktop's secret store. */
type GeneratedSecret = Exclude<keyof LocalSecrets, 'stripeWebhookSecrets' | 'telegram'>;
const LOCAL_SECRET_NAMES: Record<GeneratedSecret, string> = {
  syncToken: 'local_redirector.sync_token',
  emailHashKey: 'local_redirector.email_hash_key',
  ipSaltSeed: 'local_redirector.ip_salt_seed',
};

/**
 * The embedded redirector's sync token, email-hash key and IP salt seed, kept in the secret store like
 * every other secret. Earlier versions kept them in plaintext in `local-redirector/secrets.json`: those
 * values move into the store (the links and hashes made with them stay valid) and the file is deleted.
 */
export async function localRedirectorSecrets(dataDir: string, secrets: SecretStore, log: CoreLogger): Promise<LocalSecrets> {
  const legacy = join(dataDir, 'local-redirector', 'secrets.json');
  if (existsSync(legacy)) {
    const old = JSON.parse(readFileSync(legacy, 'utf8')) as Partial<LocalSecrets>;
    for (const [field, name] of Object.entries(LOCAL_SECRET_NAMES) as [GeneratedSecret, string][]) {
      if (typeof old[field] === 'string') await secrets.set(name, old[field]);
    }
    rmSync(legacy);
    log.info({}, 'local redirector secrets moved from secrets.json into the secret store');
  }
  const out = {} as LocalSecrets;
  for (const [field, name] of Object.entries(LOCAL_SECRET_NAMES) as [GeneratedSecret, string][]) {
    let value = await secrets.get(name);
    if (value === null) {
      value = randomBytes(32).toString('base64url');
      await secrets.set(name, value);
    }
    out[field] = value;
  }
  // Its Stripe webhook signing secrets, comma-separated: Stripe makes them, so they are stored when set, never
  // generated (webhook.connect saves them there too while this redirector is not running).
  const webhook = await secrets.get(LOCAL_WEBHOOK_SECRET);
  if (webhook) out.stripeWebhookSecrets = webhook.split(',');
  // Its Telegram bot (token, webhook secret token, previous webhook), stored by telegram.connect: never generated.
  const telegram = await secrets.get(LOCAL_TELEGRAM_SETTINGS);
  if (telegram) out.telegram = JSON.parse(telegram) as LocalSecrets['telegram'];
  return out;
}

/** Keeps what the embedded redirector changes while it runs (its Stripe webhook secrets, set through its sync API). */
export function saveLocalRedirectorSecrets(secrets: SecretStore): (changed: Partial<LocalSecrets>) => Promise<void> {
  return async (changed) => {
    if (changed.stripeWebhookSecrets) await secrets.set(LOCAL_WEBHOOK_SECRET, changed.stripeWebhookSecrets.join(','));
    if (changed.telegram) await secrets.set(LOCAL_TELEGRAM_SETTINGS, JSON.stringify(changed.telegram));
  };
}

/**
 * The core, the embedded redirector when nothing else is set up, the sync schedule, and the shell
 * methods the UI calls beside the core's, in this process. The core process (core-process.ts) runs this
 * for the app and browser mode; tests and the CLI may run it in theirs.
 */
export async function startHost(opts: HostOptions): Promise<Host> {
  const core = createCore({ dataDir: opts.dataDir, clock: opts.clock, log: opts.log, logFile: opts.log.file, secrets: opts.secrets, fetch: opts.fetch, stripeApiBase: opts.stripeApiBase, ratesSnapshotPath: opts.ratesSnapshotPath, surface: 'app' });
  const offload = opts.offload;
  const routed: Pick<Core, 'call' | 'on'> = {
    call: ((method: string, args: unknown) => (offload?.methods.has(method) ? offload.core.call(method, args) : core.call(method as never, args as never))) as Core['call'],
    on(event, listener) {
      const offs = [core.on(event, listener), offload?.core.on(event, listener)];
      return () => offs.forEach((off) => off?.());
    },
  };
  const narrowed = typeof opts.schedule === 'object' ? opts.schedule : {};
  const allJobs = appJobs(routed);
  const unknownJob = narrowed.jobs?.find((id) => !allJobs.some((j) => j.id === id));
  if (unknownJob) {
    core.close();
    throw new Error(`no scheduled job ${unknownJob}`);
  }
  const jobs = narrowed.jobs ? allJobs.filter((j) => narrowed.jobs!.includes(j.id)) : allJobs;
  let local: LocalRedirector | null = null;
  let localProblem: string | null = null;
  const listed = await core.call('workspaces.list', {});
  if (opts.localRedirector !== false && listed.ok && wantsLocalRedirector(listed.value)) {
    const settings = opts.localRedirector?.settings ?? {};
    try {
      const { startLocalRedirector } = await import('@revtrail/redirector/local');
      const { silentLogger } = await import('@revtrail/redirector/log');
      local = await startLocalRedirector({
        dataDir: join(opts.dataDir, 'local-redirector'),
        port: opts.localRedirector?.port ?? 8787,
        settings,
        secrets: await localRedirectorSecrets(opts.dataDir, opts.secrets, opts.log),
        saveSecrets: saveLocalRedirectorSecrets(opts.secrets),
        log: opts.localRedirector?.log ?? (silentLogger as pino.Logger),
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      localProblem =
        code === 'EADDRINUSE'
          ? `port ${opts.localRedirector?.port ?? 8787} is taken (is Revtrail already running?). Close the other program, or set REVTRAIL_LOCAL_REDIRECTOR_PORT.`
          : `${(e as Error).message}. Connect a deployed redirector instead.`;
      opts.log.warn({ err: (e as Error).message }, 'local redirector did not start');
    }
  }

  const scheduler = createScheduler({ jobs, clock: opts.clock, log: opts.log, firstRunDelayMs: narrowed.firstRunDelayMs });
  const shell: ShellHandlers = {
    'shell.info': async () =>
      ok({ mode: opts.mode, dataDir: opts.dataDir, localRedirector: local ? { url: local.url } : null, localRedirectorProblem: localProblem, sampleWorkspaceIds: sampleWorkspaceIds(opts.dataDir) }),
    'shell.createSample': () => createSampleWorkspace(core, { dataDir: opts.dataDir, now: opts.clock.now() }),
    'shell.useLocalRedirector': async ({ workspace }) => {
      if (!local) return err('unavailable', localProblem ? `The local redirector is not running: ${localProblem}` : 'The local redirector is not running: restart Revtrail, or connect a deployed redirector.');
      const r = await core.call('redirector.connect', { workspace, url: local.url, token: local.config.syncToken });
      return r.ok ? ok({ workspace: r.value.workspace, url: local.url }) : r;
    },
    'shell.schedule': async () => ok(scheduler.status()),
  };
  if (opts.schedule !== false) scheduler.start();
  const dispatch = createDispatch(routed, shell, opts.log);

  return {
    core,
    dispatch,
    call: dispatch,
    on: routed.on,
    shell,
    scheduler,
    localRedirector: local,
    logFile: opts.log.file ?? null,
    async close() {
      scheduler.stop();
      await local?.close();
      core.close();
    },
  };
}

/** Every event the core emits, forwarded to `send` (a transport's push); returns the unsubscribe. */
export function forwardEvents(core: Pick<CoreLike, 'on'>, send: (name: string, payload: unknown) => void): () => void {
  const offs = CORE_EVENTS.map((name) => core.on(name, (payload) => send(name, payload)));
  return () => offs.forEach((off) => off());
}
