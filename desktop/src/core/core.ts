import Stripe from 'stripe';
import { destinationRulesFor, err, internalError, ok, parseLinkInput, slugProblem, type AppError, type Clock } from '@revtrail/shared';
import type { CoreApi, CoreArgs, CoreEvents, CoreMethod, CoreResult, WorkspaceStatus } from './api';
import { DatabaseTooNewError } from './db/migrate';
import { openDatabase, type Db } from './db/open';
import { createAffiliateHandlers } from './affiliates/handlers';
import { syncAffiliateLedger } from './affiliates/ledger';
import { getPartner } from './affiliates/repo';
import { createAttributionHandlers, rebuildWorkspaceAttribution } from './attribution/handlers';
import { createBackupHandlers } from './backup/handlers';
import { lastBuild } from './attribution/ledger-repo';
import { createFxHandlers } from './fx/handlers';
import { createMetaHandlers, forwardToMeta, type MetaDeps } from './meta/handlers';
import { chargeEmail } from './meta/stripe-email';
import { foldLegacyErasures } from './privacy/erased-repo';
import { createPixelHandlers } from './pixel/handlers';
import { createPrivacyHandlers } from './privacy/handlers';
import { RedirectorClient, RedirectorError } from './redirector/client';
import { SUPPORTED_REDIRECTOR_API_VERSION } from './redirector-api';
import { checkRedirectorAddress } from './redirector/address';
import { discardLinkPush, listLinkPushes, listLinks, queueLinkPush, requeueLinkPush } from './redirector/repo';
import { pullRedirector, pushLinksNow } from './redirector/sync';
import { listResourceStates } from './sync-state/repo';
import { readOnlyMessage } from './secrets/choose';
import { SecretUnreadableError, type SecretStore } from './secrets/types';
import type { CoreContext, CoreLogger, SecretKind } from './context';
import { stepFor, type NextStep, type Surface } from './surface';
import { createStripeClient } from './stripe/client';
import { nothingRead } from './stripe/failures';
import { classifyStripeKey } from './stripe/keys';
import { checkStripeApiBase, createStripeTestModeHandlers, stripeApiBaseOf } from './stripe/test-mode';
import { checkPermissions } from './stripe/permissions';
import { lastStripePullAt, stripeCounts } from './stripe/repo';
import { pullStripe, withStripeRetry } from './stripe/sync';
import { createTelegramHandlers } from './telegram/handlers';
import { createWebhookHandlers, hintScope } from './webhooks/handlers';
import { createSameOriginHandlers } from './same-origin/handlers';
import { WorkspaceRegistry, type Workspace } from './workspaces/registry';

export type { CoreLogger } from './context';

export interface CoreDeps {
  dataDir: string;
  clock: Clock;
  log: CoreLogger;
  /** The log file, named by the message of an `internal` error. */
  logFile?: string;
  secrets: SecretStore;
  fetch?: typeof fetch;
  /** Where the Stripe API lives (a fake in tests, REVTRAIL_STRIPE_API_BASE in the CLI); Stripe when absent. */
  stripeApiBase?: string;
  /** A CSV file of ECB history to start new workspaces from instead of the one bundled in the core (fx/ecb-history.ts). */
  ratesSnapshotPath?: string;
  /** Who reads the messages: the app's hosts say 'app'; the CLI (and a test driving the core) leave it out. */
  surface?: Surface;
}

export interface Core {
  call<M extends CoreMethod>(method: M, args: CoreArgs<M>): Promise<CoreResult<M>>;
  on<E extends keyof CoreEvents>(event: E, listener: (payload: CoreEvents[E]) => void): () => void;
  close(): void;
}

const secretName = (ws: Workspace, what: SecretKind) => `ws_${ws.id}.${what}`;

/** A Stripe failure as a value; the message never carries the key (Stripe's own messages may quote part of it). */
function fromStripeError(e: unknown, surface: Surface, stored = true) {
  if (!(e instanceof Stripe.errors.StripeError)) throw e;
  if (e instanceof Stripe.errors.StripeAuthenticationError) {
    // A key that worked and stops working was revoked (or rolled); a key being connected is just refused.
    return err(
      stored ? 'key_revoked' : 'unauthorized',
      stored
        ? `Stripe no longer accepts the saved key: it was revoked or rolled. Create a new restricted key and ${stepFor(surface, { app: 'paste it on the Set up screen (Stripe, Replace key)', cli: 'run `revtrail connect stripe`' })}.`
        : `Stripe refused the key: it is invalid or was revoked. Create a new restricted key and ${stepFor(surface, { app: 'paste it here', cli: 'run `revtrail connect stripe`' })}.`,
    );
  }
  if (e.code === 'account_invalid') {
    return err('forbidden', 'The key cannot read that connected account: check the acct_ id, and that your platform still has access to it in Stripe Connect.');
  }
  if (e instanceof Stripe.errors.StripePermissionError) {
    return err('permission_missing', 'The Stripe key may not read this account: give the restricted key Read on what Revtrail lists (Developers → API keys → the key → Edit), and check the connected account.');
  }
  if (e instanceof Stripe.errors.StripeConnectionError) return err('unreachable', 'Stripe did not answer: check this computer is online, then sync again; what was read so far is kept.');
  if (e.statusCode === 429) return err('rate_limited', 'Stripe kept answering "too many requests"; what was read so far is kept. Try again in a few minutes.');
  if ((e.statusCode ?? 0) >= 500) return err('unavailable', `${stepFor(surface, { app: 'Stripe had a problem of its own', cli: `Stripe answered ${e.statusCode}` })}; what was read so far is kept. Try again later.`);
  throw e;
}

const READ_ONLY_ERRNO = new Set(['EROFS', 'EACCES', 'EPERM']);
const READ_ONLY_SQLITE = /^SQLITE_(READONLY|CANTOPEN)/;

/** What each kind of secret belongs to, in the words of the screen that reconnects it. */
function secretOwner(secretName: string, surface: Surface): string {
  if (secretName.startsWith('local_redirector.')) return 'the local redirector: restart Revtrail to make it new, then use the local redirector again on the Set up screen';
  if (secretName.endsWith('.stripe_key')) return `Stripe: paste a restricted key again ${stepFor(surface, { app: 'on the Set up screen', cli: 'with `revtrail connect stripe`' })}`;
  if (secretName.includes('.telegram_')) return `Telegram: give the bot token again ${stepFor(surface, { app: "with Revtrail's command line (connect telegram)", cli: 'with `revtrail connect telegram`' })}`;
  if (secretName.endsWith('.meta_token')) return `Meta: paste its Conversions API access token again ${stepFor(surface, { app: '(Settings → Meta)', cli: 'with `revtrail connect meta`' })}`;
  return `the redirector: paste its sync token again ${stepFor(surface, { app: 'on the Set up screen', cli: 'with `revtrail connect redirector`' })}`;
}

/**
 * Throws a user can act on, as the error that says how: a database from a newer Revtrail, a secret this
 * machine cannot read back, a data folder on a read-only disk, a database held by a running rebuild.
 * Anything else is a bug (null).
 */
function expectedFailure(e: unknown, dataDir: string, registry: WorkspaceRegistry, surface: Surface): AppError | null {
  if (e instanceof DatabaseTooNewError) {
    return { code: 'database_too_new', message: `${e.message} Revtrail left it as it is: install the newer version (or open a backup made by this one).`, details: { found: e.found, known: e.known } };
  }
  if (e instanceof SecretUnreadableError) {
    const wsId = /^ws_([^.]+)\./.exec(e.secretName)?.[1];
    const ws = wsId ? registry.list().find((w) => w.id === wsId) : undefined;
    return {
      code: 'secret_unreadable',
      message: `Revtrail cannot read a saved credential${ws ? ` of "${ws.name}"` : ''} (${e.reason}). Reconnect ${secretOwner(e.secretName, surface)}. Nothing else was changed.`,
      details: { secret: e.secretName },
    };
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (READ_ONLY_ERRNO.has(code) || READ_ONLY_SQLITE.test(code))) return { code: 'read_only', message: readOnlyMessage(dataDir, e, surface) };
  if (code === 'SQLITE_BUSY') return { code: 'unavailable', message: 'This workspace is busy with a sync or a ledger rebuild: try again in a moment.' };
  return null;
}

/** The desktop's engine: the same object behind the Electron app, the browser mode and the CLI. */
export function createCore(deps: CoreDeps): Core {
  const surface = deps.surface ?? 'cli';
  const step = (s: NextStep) => stepFor(surface, s);
  const registry = new WorkspaceRegistry(deps.dataDir, surface);
  const dbs = new Map<string, Db>();
  const listeners = new Map<string, Set<(payload: never) => void>>();
  const db = (ws: Workspace) => {
    let d = dbs.get(ws.id);
    if (!d) {
      dbs.set(ws.id, (d = openDatabase(registry.databasePath(ws.id))));
      foldLegacyErasures(d);
    }
    return d;
  };
  const emit = <E extends keyof CoreEvents>(event: E, payload: CoreEvents[E]) => {
    for (const l of listeners.get(event) ?? []) (l as (p: CoreEvents[E]) => void)(payload);
  };
  const workspace = (ref: string | undefined) => {
    const found = registry.find(ref);
    return 'error' in found ? null : found;
  };
  const missing = (ref: string | undefined) => {
    const found = registry.find(ref);
    return err('not_found', 'error' in found ? found.error : 'no such workspace');
  };
  const redirectorClient = async (ws: Workspace) => {
    const token = await deps.secrets.get(secretName(ws, 'redirector_token'));
    if (!ws.redirectorUrl || !token) return null;
    return new RedirectorClient(ws.redirectorUrl, token, { fetch: deps.fetch, surface, log: deps.log });
  };
  const stripeKey = (ws: Workspace) => deps.secrets.get(secretName(ws, 'stripe_key'));
  /** The workspace's Stripe: its test-mode address if it has one (stripe/test-mode.ts), else the core's, else Stripe. */
  const stripeClient = (ws: Workspace, key: string, at: { account?: string | null; apiBase?: string | null } = {}) =>
    createStripeClient(key, {
      apiBase: ('apiBase' in at ? at.apiBase : stripeApiBaseOf(ws, deps.stripeApiBase)) ?? undefined,
      stripeAccount: ('account' in at ? at.account : ws.stripeAccount) ?? undefined,
    });
  const permissionsOf = async (ws: Workspace, key: string, at: { account?: string | null; apiBase?: string | null } = {}) => {
    const checks = await checkPermissions(stripeClient(ws, key, at), (call) => withStripeRetry(call, { retries: 2 }));
    return Object.values(checks);
  };
  /**
   * Stripe, or the test-mode address, gave no answer while a key was being checked. Offline at Stripe's
   * address, a newcomer trying the fake Stripe may have missed test mode: the message says where it is.
   */
  const stripeUnreachable = (apiBase: string | null) =>
    apiBase === null
      ? `Stripe did not answer: check this computer is online, then try again. Trying Revtrail with the fake Stripe? ${step({ app: 'Give its address under "Test mode" below the key', cli: 'Give its address with --api-base, e.g. --api-base http://127.0.0.1:12111' })}.`
      : `Nothing answered at ${apiBase}, the Stripe API address set for test mode: check that the server there is running (and the address), then try again.`;
  const fromRedirectorError = (e: unknown) => {
    if (!(e instanceof RedirectorError)) throw e;
    return err(e.kind === 'unauthorized' ? 'unauthorized' : e.kind === 'unavailable' ? 'unavailable' : e.kind === 'missing' ? 'not_found' : 'invalid_input', e.message);
  };
  /**
   * Sends the queued link changes now (a save, a retry) and says where `slug` stands. An unreachable
   * redirector, or something in the way, leaves the change queued for the next sync: that is not a failure.
   */
  const pushNow = async (ws: Workspace, slug: string, enabled = true) => {
    const client = await redirectorClient(ws);
    if (!client) return ok({ slug, pushed: false, message: 'Saved here; it goes to the redirector once one is connected.' });
    try {
      const pushed = await pushLinksNow(db(ws), client, { clock: deps.clock, retries: 0 });
      const refused = pushed.rejected.find((r) => r.slug === slug);
      if (refused) {
        return err('invalid_input', `The redirector refused ${slug}: ${refused.message} ${step({ app: 'The change is kept on the Sync screen: edit the link, or retry or discard it there.', cli: `The change is kept: edit the link, or \`revtrail links retry ${slug}\` or \`revtrail links discard ${slug}\`.` })}`);
      }
      return ok({ slug, pushed: true, message: enabled ? 'Saved and live on the redirector.' : 'Saved and disabled on the redirector: its address answers "not found" until the link is enabled again.' });
    } catch (e) {
      if (e instanceof RedirectorError && e.kind !== 'unauthorized' && e.kind !== 'rejected') {
        return ok({ slug, pushed: false, message: `Saved here; it goes at the next sync, since the redirector could not take it now: ${e.message}` });
      }
      return fromRedirectorError(e);
    }
  };
  /** Whether a connection's secret is there and readable: an unreadable one shows as not connected, to reconnect. */
  const usable = async (read: () => Promise<unknown>) => {
    try {
      return (await read()) !== null;
    } catch (e) {
      if (e instanceof SecretUnreadableError) return false;
      throw e;
    }
  };
  const slugArg = (slug: unknown) => (typeof slug === 'string' ? slugProblem(slug) : 'slug: required');

  const ctx: CoreContext = {
    clock: deps.clock,
    log: deps.log,
    secrets: deps.secrets,
    registry,
    surface,
    step,
    resolve(ref) {
      const ws = workspace(ref);
      return ws ? { ok: true, workspace: ws, db: db(ws) } : { ok: false, error: missing(ref) };
    },
    db,
    secret: (ws, kind) => deps.secrets.get(secretName(ws, kind)),
    setSecret: (ws, kind, value) => deps.secrets.set(secretName(ws, kind), value),
    emit,
    ratesSnapshotPath: deps.ratesSnapshotPath,
  };

  /**
   * After a sync the attribution ledger is rebuilt from the facts, unless the sync brought nothing new; the
   * commission ledger always follows, since holding periods end with time alone.
   */
  const metaDeps: MetaDeps = {
    fetch: deps.fetch ?? fetch,
    chargeEmail: async (ws, chargeId) => {
      const key = await stripeKey(ws);
      return key ? chargeEmail(stripeClient(ws, key), chargeId, (call) => withStripeRetry(call, { retries: 2 })) : null;
    },
  };
  const afterSync = async (ws: Workspace, changed: boolean) => {
    if (changed || lastBuild(db(ws)) === null) rebuildWorkspaceAttribution(ctx, db(ws));
    await syncAffiliateLedger(ctx, ws);
    // Opt-in: nothing happens unless the workspace turned Meta forwarding on (meta/handlers.ts).
    await forwardToMeta(ctx, metaDeps, ws, db(ws));
  };

  /** One Stripe pull of a workspace at a time, full or by webhook hints: the later one waits for the earlier. */
  const stripeTurns = new Map<string, Promise<unknown>>();
  const inStripeTurn = <T>(ws: Workspace, work: () => Promise<T>): Promise<T> => {
    const run = (stripeTurns.get(ws.id) ?? Promise.resolve()).then(work, work);
    const settled = run.catch(() => undefined);
    stripeTurns.set(ws.id, settled);
    void settled.then(() => stripeTurns.get(ws.id) === settled && stripeTurns.delete(ws.id));
    return run;
  };
  /** The hints the redirector sync reads: only with a usable Stripe key (an unreadable one leaves the feed waiting). */
  const scopeOf = async (ws: Workspace) => hintScope(db(ws), ws, await stripeKey(ws).catch((e: unknown) => (e instanceof SecretUnreadableError ? null : Promise.reject(e))));

  const handlers: CoreApi = {
    ...createFxHandlers(ctx, { fetch: deps.fetch ?? fetch, onRatesChanged: (d) => rebuildWorkspaceAttribution(ctx, d) }),
    ...createAttributionHandlers(ctx, { stripeClient }),
    ...createAffiliateHandlers(ctx),
    ...createMetaHandlers(ctx, metaDeps),
    ...createPrivacyHandlers(ctx, {
      redirector: redirectorClient,
      afterErase: async (ws, d) => {
        rebuildWorkspaceAttribution(ctx, d);
        await syncAffiliateLedger(ctx, ws);
      },
    }),
    ...createWebhookHandlers(ctx, {
      redirector: redirectorClient,
      stripeClient,
      inStripeTurn,
      afterSync,
      fromStripeError: (e) => fromStripeError(e, surface),
    }),
    ...createStripeTestModeHandlers(ctx, { fetch: deps.fetch ?? fetch, fallbackBase: deps.stripeApiBase }),
    ...createPixelHandlers(ctx, { redirector: redirectorClient }),
    ...createSameOriginHandlers(ctx, { fetch: deps.fetch ?? fetch }),
    ...createTelegramHandlers(ctx, { fetch: deps.fetch ?? fetch, redirector: redirectorClient, secretName }),
    ...createBackupHandlers(ctx, {
      afterRestore: async (ws, d) => {
        rebuildWorkspaceAttribution(ctx, d);
        await syncAffiliateLedger(ctx, ws);
      },
    }),

    'workspaces.list': async () => ok(registry.list()),

    'workspaces.add': async ({ name }) => {
      const clean = typeof name === 'string' ? name.trim() : '';
      if (clean.length === 0 || clean.length > 80) return err('invalid_input', 'A workspace name is 1 to 80 characters.');
      if (registry.list().some((w) => w.name.toLowerCase() === clean.toLowerCase())) return err('conflict', `A workspace named "${clean}" already exists.`);
      const ws = registry.add(clean, deps.clock.now());
      db(ws);
      return ok(ws);
    },

    'redirector.connect': async ({ workspace: ref, url, token }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const address = checkRedirectorAddress(url, surface);
      if (!address.ok) return err('invalid_input', address.message);
      if (typeof token !== 'string' || token.trim().length < 16) return err('invalid_input', 'The sync token looks too short: paste the whole token.');
      const client = new RedirectorClient(address.url, token.trim(), { fetch: deps.fetch, surface, log: deps.log });
      try {
        const status = await client.status();
        if (status.apiVersion !== SUPPORTED_REDIRECTOR_API_VERSION) {
          return err('invalid_input', `The redirector speaks sync API v${status.apiVersion}; this Revtrail speaks v${SUPPORTED_REDIRECTOR_API_VERSION}. Update the one that is older.`);
        }
        const emailHashKey = await client.emailHashKey();
        await deps.secrets.set(secretName(ws, 'redirector_token'), token.trim());
        await deps.secrets.set(secretName(ws, 'email_hash_key'), emailHashKey);
        const updated = registry.update(ws.id, { redirectorUrl: address.url });
        deps.log.info({ workspace: ws.id }, 'redirector connected');
        return ok({ workspace: updated, apiVersion: status.apiVersion });
      } catch (e) {
        return fromRedirectorError(e);
      }
    },

    'links.list': async ({ workspace: ref }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const pending = new Map(listLinkPushes(db(ws)).map((p) => [p.slug, p]));
      const links = new Map(listLinks(db(ws)).map((l) => [l.slug, l]));
      const slugs = [...new Set([...links.keys(), ...pending.keys()])].sort();
      return ok(
        slugs.map((slug) => {
          const p = pending.get(slug);
          return { slug, link: links.get(slug) ?? null, pending: p?.input ?? null, refused: p?.state === 'refused' ? (p.reason ?? '') : null };
        }),
      );
    },

    'links.save': async ({ workspace: ref, slug, link }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const badSlug = slugArg(slug);
      if (badSlug) return err('invalid_input', badSlug);
      // Refused here as the redirector would, before queuing; it stays the authority (a local one allows
      // private destinations only with its setting, which this side cannot see).
      const input = parseLinkInput(link, destinationRulesFor(ws.redirectorUrl));
      if (!input.ok) return err('invalid_input', input.problems.join('; '));
      const partnerId = input.value.partnerId ?? null;
      // A partner the link already names may be gone (or came from the redirector): the link can still be edited.
      const current = listLinkPushes(db(ws)).find((p) => p.slug === slug)?.input.partnerId ?? listLinks(db(ws)).find((l) => l.slug === slug)?.partnerId ?? null;
      if (partnerId !== null && partnerId !== current && !getPartner(db(ws), partnerId)) {
        return err('invalid_input', `There is no partner "${partnerId}" in ${ws.name}: ${step({ app: 'add the partner on the Affiliates screen first, then pick it here', cli: 'add it first with `revtrail partners add --id ' + partnerId + ' --name NAME --email EMAIL`' })}.`);
      }
      queueLinkPush(db(ws), slug, input.value, deps.clock.now());
      return pushNow(ws, slug, input.value.enabled !== false);
    },

    'links.pushes': async ({ workspace: ref }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      return ok(listLinkPushes(db(ws)));
    },

    'links.retryPush': async ({ workspace: ref, slug }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const badSlug = slugArg(slug);
      if (badSlug) return err('invalid_input', badSlug);
      if (!requeueLinkPush(db(ws), slug)) return err('not_found', `No change of ${slug} is waiting for the redirector.`);
      return pushNow(ws, slug, listLinkPushes(db(ws)).find((p) => p.slug === slug)?.input.enabled !== false);
    },

    'links.discardPush': async ({ workspace: ref, slug }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const badSlug = slugArg(slug);
      if (badSlug) return err('invalid_input', badSlug);
      if (!discardLinkPush(db(ws), slug)) return err('not_found', `No change of ${slug} is waiting for the redirector.`);
      deps.log.info({ workspace: ws.id, slug }, 'link change discarded');
      return ok({ slug, message: `The change of ${slug} is discarded; the link stays as the redirector has it.` });
    },

    'sync.redirector': async ({ workspace: ref }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const client = await redirectorClient(ws);
      if (!client) return err('not_found', `Workspace "${ws.name}" has no redirector yet: ${step({ app: 'connect one on the Set up screen', cli: 'run `revtrail connect redirector --url URL`' })}.`);
      try {
        const result = await pullRedirector(db(ws), client, {
          clock: deps.clock,
          onProgress: (progress) => emit('sync.progress', { workspaceId: ws.id, source: 'redirector', progress }),
          stripeHints: await scopeOf(ws),
        });
        const changed = result.clicks + result.pageviews + result.identities + result.erased + result.pushed + result.telegramStarts + result.telegramPayments > 0;
        await afterSync(ws, changed);
        if (changed) emit('sync.changed', { workspaceId: ws.id, source: 'redirector' });
        return ok(result);
      } catch (e) {
        return fromRedirectorError(e);
      }
    },

    'stripe.connect': async ({ workspace: ref, key, account, apiBase }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const verdict = classifyStripeKey(typeof key === 'string' ? key : '');
      if (!verdict.ok) return err('invalid_input', verdict.message);
      if (account !== undefined && account !== null && !(typeof account === 'string' && /^acct_[A-Za-z0-9]{1,64}$/.test(account))) {
        return err('invalid_input', 'A connected account id looks like acct_1AbC...: copy it from Stripe\'s Connect > Accounts page.');
      }
      const address = apiBase === undefined ? { ok: true as const, base: ws.stripeApiBase ?? null } : checkStripeApiBase(apiBase);
      if (!address.ok) return err('invalid_input', address.message);
      const stripeAccount = account ?? null;
      if (!(await deps.secrets.get(secretName(ws, 'email_hash_key')))) {
        return err('not_found', `Connect the redirector of "${ws.name}" first (${step({ app: 'on the Set up screen', cli: 'revtrail connect redirector --url URL' })}): Stripe emails are stored only as hashes under its email-hash key, so clicks and payments can be matched.`);
      }
      // The key, the account and the address are kept together, once the key reads at that address.
      const at = { account: stripeAccount, apiBase: address.base ?? deps.stripeApiBase ?? null };
      try {
        const checks = await permissionsOf(ws, key.trim(), at);
        await deps.secrets.set(secretName(ws, 'stripe_key'), key.trim());
        const changed = ws.stripeAccount !== stripeAccount || (ws.stripeApiBase ?? null) !== address.base;
        const updated = changed ? registry.update(ws.id, { stripeAccount, stripeApiBase: address.base }) : ws;
        deps.log.info({ workspace: ws.id, mode: verdict.mode, account: stripeAccount, apiBase: at.apiBase ?? 'stripe', missing: checks.filter((c) => !c.ok).map((c) => c.permission) }, 'stripe connected');
        return ok({ workspace: updated, mode: verdict.mode, checks });
      } catch (e) {
        if (e instanceof Stripe.errors.StripeConnectionError) return err('unreachable', stripeUnreachable(at.apiBase));
        return fromStripeError(e, surface, false);
      }
    },

    'stripe.permissions': async ({ workspace: ref }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const key = await stripeKey(ws);
      if (!key) return err('not_found', `Workspace "${ws.name}" has no Stripe key yet: ${step({ app: 'connect Stripe on the Set up screen', cli: 'run `revtrail connect stripe`' })}.`);
      const verdict = classifyStripeKey(key);
      if (!verdict.ok) return err('invalid_input', verdict.message);
      try {
        return ok({ mode: verdict.mode, checks: await permissionsOf(ws, key) });
      } catch (e) {
        if (e instanceof Stripe.errors.StripeConnectionError) return err('unreachable', stripeUnreachable(stripeApiBaseOf(ws, deps.stripeApiBase)));
        return fromStripeError(e, surface);
      }
    },

    'sync.stripe': async ({ workspace: ref }) => {
      const ws = workspace(ref);
      if (!ws) return missing(ref);
      const key = await stripeKey(ws);
      if (!key) return err('not_found', `Workspace "${ws.name}" has no Stripe key yet: ${step({ app: 'connect Stripe on the Set up screen', cli: 'run `revtrail connect stripe`' })}.`);
      const emailHashKey = await deps.secrets.get(secretName(ws, 'email_hash_key'));
      if (!emailHashKey) return err('not_found', `Connect the redirector of "${ws.name}" first (${step({ app: 'on the Set up screen', cli: 'revtrail connect redirector --url URL' })}).`);
      try {
        const result = await inStripeTurn(ws, () =>
          pullStripe(db(ws), stripeClient(ws, key), {
            emailHashKey,
            clock: deps.clock,
            onProgress: (progress) => emit('sync.progress', { workspaceId: ws.id, source: 'stripe', progress }),
          }),
        );
        const changed = result.hints.reread > 0 || Object.values(result.counts).some((c) => c.added + c.updated > 0);
        // Pages of a resource that failed later are committed: the ledger takes them even then.
        await afterSync(ws, changed);
        if (changed) emit('sync.changed', { workspaceId: ws.id, source: 'stripe' });
        // Some resources read is a sync that worked, with `skipped` saying what to do about the rest.
        return result.pulled.length === 0 ? nothingRead(result.skipped) : ok(result);
      } catch (e) {
        return fromStripeError(e, surface);
      }
    },

    'status.get': async ({ workspace: ref }) => {
      const list = ref === undefined ? registry.list() : [workspace(ref)].filter((w): w is Workspace => w !== null);
      if (ref !== undefined && list.length === 0) return missing(ref);
      const workspaces: WorkspaceStatus[] = [];
      for (const ws of list) {
        const d = db(ws);
        const n = (table: string) => (d.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
        const resources = listResourceStates(d);
        // Only a pull that succeeded counts: a cursor moves with each page, even of a feed that then failed. The
        // webhook hint feed, read every 15 s on its own, does not make the clicks look freshly pulled.
        const pulled = resources.filter((r) => r.source === 'redirector' && r.resource !== 'stripe-hints' && r.lastPullAt !== null).map((r) => r.lastPullAt!);
        workspaces.push({
          workspace: ws,
          redirector: { connected: await usable(() => redirectorClient(ws)), lastPullAt: pulled.length ? Math.max(...pulled) : null },
          stripe: { connected: await usable(() => stripeKey(ws)), lastPullAt: lastStripePullAt(d) },
          counts: { links: n('links'), clicks: n('clicks'), pageviews: n('pageviews'), identities: n('identities'), ...stripeCounts(d) },
          resources,
          linkPushes: listLinkPushes(d),
        });
      }
      return ok({ secrets: deps.secrets.description, workspaces });
    },
  };

  return {
    async call(method, args) {
      const handler = handlers[method] as ((a: typeof args) => Promise<CoreResult<typeof method>>) | undefined;
      if (!handler) return err('invalid_input', `Unknown method ${String(method)}.`) as CoreResult<typeof method>;
      try {
        return await handler(args ?? ({} as typeof args));
      } catch (e) {
        const expected = expectedFailure(e, deps.dataDir, registry, surface);
        if (expected) {
          deps.log.info({ method, code: expected.code }, expected.message);
          return { ok: false, error: expected } as CoreResult<typeof method>;
        }
        deps.log.error({ method, err: e }, 'core call failed');
        return internalError(deps.logFile) as CoreResult<typeof method>;
      }
    },
    on(event, listener) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => set.delete(listener as (payload: never) => void);
    },
    close() {
      for (const d of dbs.values()) d.close();
      dbs.clear();
    },
  };
}
