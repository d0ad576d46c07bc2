import { createHash } from 'node:crypto';
import { err, ok, STRIPE_WEBHOOK_EVENT_TYPES, STRIPE_WEBHOOK_PATH, type Result, type StripeWebhookStatus, type WebhookRefusal } from '@revtrail/shared';
import type Stripe from 'stripe';
import type { CoreContext } from '../context';
import type { Db } from '../db/open';
import { RedirectorError, type RedirectorClient } from '../redirector/client';
import { redirectorProblem as sharedRedirectorProblem } from '../redirector/problems';
import { pullHintFeed, type HintFeedResult, type PullProgress } from '../redirector/sync';
import { withoutSecrets } from '../stripe/failures';
import type { HintScope } from '../stripe/hints';
import { classifyStripeKey } from '../stripe/keys';
import type { Permission, PermissionCheck } from '../stripe/permissions';
import { countHints, lastStripePullAt, type StripeObjectType, type UpsertCounts } from '../stripe/repo';
import { emptyCounts, readHintsNow, type StripeProgress } from '../stripe/sync';
import { listResourceStates, type ResourceFailure } from '../sync-state/repo';
import type { Workspace } from '../workspaces/registry';

/** What one read of the webhook hint feed did. */
export interface WebhookHintsResult {
  /** False when nothing was asked of anyone; `reason` says why (Stripe not pulled yet, a redirector without the feed). */
  ran: boolean;
  reason: string | null;
  /** Hints the feed brought: kept (read by id here) and left out, by why. */
  feed: { received: number; kept: number; ignored: HintFeedResult['ignored'] };
  /** Objects read again by id and written. Zero Stripe requests when the feed brought nothing to keep. */
  reread: number;
  counts: Record<StripeObjectType, UpsertCounts>;
  /** Object types Stripe did not answer for this time: their hints wait for the next read or the hourly pull. */
  skipped: ResourceFailure[];
}

/** The Stripe webhook endpoint as this workspace sees it: what to set in Stripe, and what has arrived. */
export interface WebhookSetup {
  /** The endpoint to add in Stripe's dashboard (Developers → Webhooks → Add endpoint). */
  url: string;
  /** The events to select there: exactly those the sync reads. */
  eventTypes: readonly string[];
  /** The redirector runs on this computer (a loopback address): Stripe reaches it only through a tunnel, such as `stripe listen --forward-to`. */
  local: boolean;
  /** The redirector's own account (secrets set, last arrival, refusals by reason); null when it could not be asked. */
  endpoint: StripeWebhookStatus | null;
  /** Why `endpoint` is null, in words that say what to do. */
  problem: string | null;
  /** Deliveries refused (nothing stored), by reason, in words, most first; only reasons that happened. */
  refused: { reason: WebhookRefusal; count: number; meaning: string }[];
  /** The last refusal, with what it means. */
  lastRefused: { at: number; reason: WebhookRefusal; meaning: string } | null;
  /** The local redirector does not answer, and a signing secret saved on this computer waits for it (it takes it when Revtrail starts it). */
  savedForLocalRedirector: boolean;
  /** The connected Stripe key's mode: only events of that mode are read. Null while Stripe is not connected. */
  mode: 'live' | 'test' | null;
  /** When this computer last read the hint feed, and hints waiting to be read by id. */
  lastReadAt: number | null;
  waiting: number;
}

export interface EndpointCheck {
  /** True when the public endpoint answered as this redirector's webhook endpoint. */
  ok: boolean;
  /** The HTTP status it answered, or null when nothing answered. */
  status: number | null;
  message: string;
}

/** What `webhook.connect` did with the signing secrets. */
export interface WebhookConnected {
  /**
   * applied: the redirector took them now. saved_for_local: the local redirector is not running, so they are
   * saved on this computer for when Revtrail starts it. deploy: a deployed redirector takes secrets from its
   * deployment: run `setCommand`.
   */
  outcome: 'applied' | 'saved_for_local' | 'deploy';
  url: string;
  eventTypes: readonly string[];
  /** How many secrets were given (two while Stripe rolls the secret). */
  secrets: number;
  /** On a deployed redirector, the command that sets the secret, `whsec_...` standing for it; null otherwise. */
  setCommand: string | null;
  /** On a deployed redirector, whether its public endpoint answers (a delivery without a signature is refused). */
  endpointCheck: EndpointCheck | null;
  message: string;
}

export type WebhookHandlers = {
  /**
   * Reads the redirector's Stripe webhook hint feed and, when it brought hints, reads only the objects they
   * name by id (no events or list passes); then the ledger is rebuilt and `sync.changed` emitted if anything
   * changed. Never alongside a full Stripe pull of the same workspace. The scheduler runs it every 15 s.
   */
  'sync.webhookHints': (args: { workspace?: string }) => Promise<Result<WebhookHintsResult>>;
  /** The endpoint URL, the events to select in Stripe, and what the redirector has received and refused. */
  'webhook.status': (args: { workspace?: string }) => Promise<Result<WebhookSetup>>;
  /** Gives the redirector Stripe's signing secret(s) (`whsec_…`; two during a rotation, the new one first). */
  'webhook.connect': (args: { workspace?: string; secrets: string[] }) => Promise<Result<WebhookConnected>>;
};

export interface WebhookDeps {
  redirector(ws: Workspace): Promise<RedirectorClient | null>;
  stripeClient(ws: Workspace, key: string): Stripe;
  /** Runs `work` when no Stripe pull of the workspace runs, and holds the others until it ends. */
  inStripeTurn<T>(ws: Workspace, work: () => Promise<T>): Promise<T>;
  /** After data changed: the ledger rebuild and commissions, as after any sync. */
  afterSync(ws: Workspace, changed: boolean): Promise<void>;
  /** A Stripe failure as the error the user acts on (a revoked key...); throws what is not Stripe's. */
  fromStripeError(e: unknown): Result<never>;
}

/** Why a delivery was refused, and what to do about it, in the words of the webhook setup. */
export const REFUSAL_MEANING: Readonly<Record<WebhookRefusal, string>> = {
  no_secret: 'no signing secret is set on the redirector yet: connect the webhook with the endpoint\'s whsec_… secret',
  unsigned: 'it carried no Stripe signature: not a delivery from Stripe',
  bad_signature: 'its signature matched no secret set: the secret is wrong or was rolled (connect again with the new one), or it did not come from Stripe',
  stale: 'it was signed too long before it arrived: a replay, or a clock far off',
  too_large: 'it was larger than any Stripe event',
  not_an_event: 'its signature was good but it was not a Stripe event',
};

/**
 * Where the local redirector's Stripe signing secrets are kept (host.ts gives them to it at its start), as its
 * REVTRAIL_STRIPE_WEBHOOK_SECRET setting reads them: comma-separated, the new one first during a rotation.
 */
export const LOCAL_WEBHOOK_SECRET = 'local_redirector.stripe_webhook_secret';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/;
const isLocal = (url: string) => LOOPBACK.test(new URL(url).hostname);
/** Events older than this before the last full pull's start were read by its events pass. */
const EVENTS_MARGIN_MS = 10 * 60_000;
/** A permission check is reused this long (the hourly pull checks again anyway). */
const PERMISSIONS_FOR_MS = 60 * 60_000;
/** Stripe's signing secrets: `whsec_` then base64 (dashboard) or hex (`stripe listen`). */
const WHSEC = /^whsec_[A-Za-z0-9+/=_-]{16,256}$/;
const WHERE_SECRET =
  "Copy it from Stripe's dashboard: Developers → Webhooks → your endpoint → Signing secret → Reveal (for events Stripe's CLI forwards, the secret it prints).";

/**
 * Which hints of the feed this workspace reads: those of its key's mode and Connect account, newer than the
 * events its last full pull read. Null before the first full pull (it reads everything as it is) or without a
 * usable key: the feed then waits, its cursor where it was.
 */
export function hintScope(db: Db, ws: Workspace, key: string | null): HintScope | null {
  const verdict = key ? classifyStripeKey(key) : null;
  if (!verdict?.ok || lastStripePullAt(db) === null) return null;
  const eventsAt = lastStripePullAt(db, ['events']);
  return { mode: verdict.mode, account: ws.stripeAccount, coveredBefore: eventsAt === null ? null : eventsAt - EVENTS_MARGIN_MS };
}

/** The signing secrets as given, or what is wrong with them, never repeating them. */
export function readSigningSecrets(raw: unknown): { ok: true; secrets: string[] } | { ok: false; message: string } {
  const list = Array.isArray(raw) ? raw : [];
  if (list.length === 0 || list.length > 2) {
    return { ok: false, message: `Give the endpoint's signing secret (whsec_…), or two during a rotation: the new one first, then the old one. ${WHERE_SECRET}` };
  }
  const secrets: string[] = [];
  for (const [i, value] of list.entries()) {
    const which = list.length === 1 ? 'The signing secret' : i === 0 ? 'The first (new) signing secret' : 'The second (old) signing secret';
    const s = typeof value === 'string' ? value.trim() : '';
    if (/^(sk|rk|pk)_(live|test)_/.test(s)) return { ok: false, message: `${which} is a Stripe API key, not a webhook signing secret (those start with whsec_). ${WHERE_SECRET}` };
    if (!WHSEC.test(s)) return { ok: false, message: `${which} does not look like a webhook signing secret: it starts with whsec_ and has no spaces. ${WHERE_SECRET}` };
    secrets.push(s);
  }
  if (secrets.length === 2 && secrets[0] === secrets[1]) return { ok: false, message: 'The two signing secrets are the same: during a rotation give the new one and the old one.' };
  return { ok: true, secrets };
}

export function createWebhookHandlers(ctx: CoreContext, deps: WebhookDeps): WebhookHandlers {
  const permissions = new Map<string, { key: string; at: number; checks: Record<Permission, PermissionCheck> }>();
  const fingerprint = (key: string) => createHash('sha256').update(key).digest('hex');
  const endpointUrl = (ws: Workspace, status: StripeWebhookStatus | null) => status?.url ?? `${ws.redirectorUrl}${STRIPE_WEBHOOK_PATH}`;
  const noRedirector = (ws: Workspace) =>
    err('not_found', `Workspace "${ws.name}" has no redirector yet: connect one first ${ctx.step({ app: 'on the Set up screen', cli: 'with `revtrail connect redirector`' })}; Stripe's webhooks go to it.`);
  /** A redirector failure, said in the terms of the webhook setup. */
  const redirectorProblem = (e: RedirectorError, url: string): string =>
    sharedRedirectorProblem(ctx, e, url, {
      endpoint: 'Stripe webhook endpoint',
      refused: 'the signing secret',
      detail: withoutSecrets,
      addressStep: { app: 'on the Set up screen', cli: '(`revtrail status` shows it)' },
    });

  return {
    'sync.webhookHints': async ({ workspace: ref }) => {
      const found = ctx.resolve(ref);
      if (!found.ok) return found.error;
      const { workspace: ws, db } = found;
      const client = await deps.redirector(ws);
      if (!client) return noRedirector(ws);
      const key = await ctx.secret(ws, 'stripe_key');
      if (!key) return err('not_found', `Workspace "${ws.name}" has no Stripe key yet: connect Stripe first ${ctx.step({ app: 'on the Set up screen', cli: 'with `revtrail connect stripe`' })}.`);
      const verdict = classifyStripeKey(key);
      if (!verdict.ok) return err('invalid_input', verdict.message);
      const emailHashKey = await ctx.secret(ws, 'email_hash_key');
      if (!emailHashKey) return noRedirector(ws);
      const result: WebhookHintsResult = { ran: false, reason: null, feed: { received: 0, kept: 0, ignored: { otherMode: 0, otherAccount: 0, malformed: 0, covered: 0 } }, reread: 0, counts: emptyCounts(), skipped: [] };
      const scope = hintScope(db, ws, key);
      // Before the first full pull there is nothing to update: it reads everything as it is.
      if (!scope) return ok({ ...result, reason: 'Stripe has not been pulled here yet: the first full pull reads everything, and webhooks bring changes after it.' });
      const onProgress = (progress: PullProgress) => ctx.emit('sync.progress', { workspaceId: ws.id, source: 'redirector', progress });
      let feed: HintFeedResult;
      try {
        feed = await pullHintFeed(db, client, scope, { clock: ctx.clock, retries: 1, onProgress });
      } catch (e) {
        if (!(e instanceof RedirectorError)) throw e;
        // Every 15 seconds: an older redirector is said once in status (sync_resources), not as a failure each time.
        if (e.kind === 'missing') return ok({ ...result, reason: e.message });
        return err(e.kind === 'unauthorized' ? 'unauthorized' : e.kind === 'unavailable' ? 'unavailable' : 'invalid_input', e.message);
      }
      result.ran = true;
      result.feed = { received: feed.received, kept: feed.kept.length, ignored: feed.ignored };
      if (feed.kept.length === 0) return ok(result);

      const stripe = deps.stripeClient(ws, key);
      try {
        const read = await deps.inStripeTurn(ws, async () => {
          const cached = permissions.get(ws.id);
          const fresh = cached && cached.key === fingerprint(key) && ctx.clock.now() - cached.at < PERMISSIONS_FOR_MS ? cached.checks : undefined;
          const r = await readHintsNow(db, stripe, {
            emailHashKey,
            clock: ctx.clock,
            permissions: fresh,
            retries: 2,
            onProgress: (progress: StripeProgress) => ctx.emit('sync.progress', { workspaceId: ws.id, source: 'stripe', progress }),
          });
          if (r.skipped.some((s) => s.code === 'permission_missing')) permissions.delete(ws.id);
          else if (!fresh) permissions.set(ws.id, { key: fingerprint(key), at: ctx.clock.now(), checks: r.permissions });
          return r;
        });
        result.reread = read.reread;
        result.counts = read.counts;
        result.skipped = read.skipped;
      } catch (e) {
        permissions.delete(ws.id);
        return deps.fromStripeError(e);
      }
      const changed = result.reread > 0 || Object.values(result.counts).some((c) => c.added + c.updated > 0);
      await deps.afterSync(ws, changed);
      if (changed) ctx.emit('sync.changed', { workspaceId: ws.id, source: 'webhook' });
      return ok(result);
    },

    'webhook.status': async ({ workspace: ref }) => {
      const found = ctx.resolve(ref);
      if (!found.ok) return found.error;
      const { workspace: ws, db } = found;
      if (!ws.redirectorUrl) return noRedirector(ws);
      const client = await deps.redirector(ws);
      if (!client) return noRedirector(ws);
      let endpoint: StripeWebhookStatus | null = null;
      let problem: string | null = null;
      try {
        endpoint = await client.webhookStatus();
      } catch (e) {
        if (!(e instanceof RedirectorError)) throw e;
        problem = redirectorProblem(e, ws.redirectorUrl);
      }
      const key = await ctx.secret(ws, 'stripe_key').catch(() => null);
      const verdict = key ? classifyStripeKey(key) : null;
      const local = isLocal(ws.redirectorUrl);
      return ok({
        url: endpointUrl(ws, endpoint),
        eventTypes: endpoint?.eventTypes ?? STRIPE_WEBHOOK_EVENT_TYPES,
        local,
        endpoint,
        problem,
        refused: endpoint
          ? (Object.entries(endpoint.refused) as [WebhookRefusal, number][])
              .filter(([, n]) => n > 0)
              .sort((a, b) => b[1] - a[1])
              .map(([reason, count]) => ({ reason, count, meaning: REFUSAL_MEANING[reason] ?? reason }))
          : [],
        lastRefused: endpoint?.lastRefused ? { ...endpoint.lastRefused, meaning: REFUSAL_MEANING[endpoint.lastRefused.reason] ?? endpoint.lastRefused.reason } : null,
        // Only while the local redirector does not answer: once running, it uses what is saved there.
        savedForLocalRedirector: local && endpoint === null && (await ctx.secrets.get(LOCAL_WEBHOOK_SECRET).catch(() => null)) !== null,
        mode: verdict?.ok ? verdict.mode : null,
        lastReadAt: listResourceStates(db, 'redirector').find((r) => r.resource === 'stripe-hints')?.lastPullAt ?? null,
        waiting: countHints(db),
      });
    },

    'webhook.connect': async ({ workspace: ref, secrets: given }) => {
      const found = ctx.resolve(ref);
      if (!found.ok) return found.error;
      const ws = found.workspace;
      const read = readSigningSecrets(given);
      if (!read.ok) return err('invalid_input', read.message);
      const secrets = read.secrets;
      if (!ws.redirectorUrl) return noRedirector(ws);
      const client = await deps.redirector(ws);
      if (!client) return noRedirector(ws);
      const local = isLocal(ws.redirectorUrl);
      const base = { eventTypes: STRIPE_WEBHOOK_EVENT_TYPES, secrets: secrets.length, setCommand: null, endpointCheck: null };
      let status: StripeWebhookStatus;
      try {
        status = await client.webhookStatus();
      } catch (e) {
        if (!(e instanceof RedirectorError)) throw e;
        if (local && e.kind === 'unavailable') {
          // Revtrail's own redirector is not running (the app is closed): it takes the secret at its next start.
          await ctx.secrets.set(LOCAL_WEBHOOK_SECRET, secrets.join(','));
          ctx.log.info({ workspace: ws.id, secrets: secrets.length }, 'stripe webhook secret saved for the local redirector');
          return ok({
            ...base,
            outcome: 'saved_for_local' as const,
            url: endpointUrl(ws, null),
            message: `The local redirector is not running, so the signing secret is saved on this computer: it takes effect when Revtrail starts ${ctx.step({ app: 'again', cli: '(open the app)' })}.`,
          });
        }
        return err(e.kind === 'unauthorized' ? 'unauthorized' : e.kind === 'unavailable' ? 'unavailable' : e.kind === 'missing' ? 'not_found' : 'invalid_input', redirectorProblem(e, ws.redirectorUrl));
      }
      const url = endpointUrl(ws, status);
      if (!status.settable) {
        const check = await client.probeWebhookEndpoint(url);
        const endpointCheck = { ok: check.answered === 'ours', status: check.status, message: check.message };
        return ok({
          ...base,
          outcome: 'deploy' as const,
          url,
          setCommand: status.setCommand,
          endpointCheck,
          message: status.setCommand
            ? 'This redirector is deployed: its signing secret is set with its deployment, not from here. On the machine that deploys it, run this, with the secret in place of whsec_... ("whsec_new,whsec_old" during a rotation):'
            : "This redirector's signing secret comes from its REVTRAIL_STRIPE_WEBHOOK_SECRET setting (\"whsec_new,whsec_old\" during a rotation): set it there and restart the redirector.",
        });
      }
      try {
        const applied = await client.putWebhookSecrets(secrets);
        ctx.log.info({ workspace: ws.id, secrets: applied.secrets }, 'stripe webhook secret set on the redirector');
        return ok({
          ...base,
          outcome: 'applied' as const,
          url,
          message:
            secrets.length === 2
              ? 'The redirector now accepts events signed with either secret; once Stripe has rolled the old one, connect again with the new one alone.'
              : 'The redirector now accepts events Stripe signs with this secret.',
        });
      } catch (e) {
        if (!(e instanceof RedirectorError)) throw e;
        return err(e.kind === 'unauthorized' ? 'unauthorized' : e.kind === 'unavailable' ? 'unavailable' : e.kind === 'missing' ? 'not_found' : 'invalid_input', redirectorProblem(e, ws.redirectorUrl));
      }
    },
  };
}
