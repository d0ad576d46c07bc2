import { DAY_MS, err, isPlainObject, ok, type Result } from '@revtrail/shared';
import { getSettings as attributionSettings } from '../attribution/settings-repo';
import type { CoreContext } from '../context';
import type { Db } from '../db/open';
import type { Workspace } from '../workspaces/registry';
import { fillOutbox, type FillResult } from './outbox';
import { listOutbox, nextDueAt, outboxCounts, type MetaEventState, type MetaEventView } from './outbox-repo';
import { GRAPH_API_VERSION, GRAPH_BASE, USER_AGENT_KEPT_MS } from './payload';
import { getDataSettings } from '../privacy/settings-repo';
import { getMetaSettings, purgeMeta, saveMetaConnection, setMetaForwarding } from './repo';
import { sendDue, type SendReport } from './sender';

export interface MetaStatus {
  /** A pixel id and an access token are saved. */
  connected: boolean;
  enabled: boolean;
  enabledAt: number | null;
  pixelId: string | null;
  testEventCode: string | null;
  graphBase: string;
  apiVersion: string;
  pausedReason: string | null;
  counts: Record<MetaEventState, number>;
  /** When the earliest waiting event is due (0: now); null when none waits. */
  nextDueAt: number | null;
}

export type MetaSendResult = FillResult & SendReport;

export type MetaHandlers = {
  'meta.status': (args: { workspace?: string }) => Promise<Result<MetaStatus>>;
  /**
   * Saves the pixel id, the access token (secret store) and an optional test event code; forwarding stays as it
   * was. graphBase: undefined keeps the saved address, null goes back to Meta's.
   */
  'meta.connect': (args: { workspace?: string; pixelId: string; token: string; testEventCode?: string | null; graphBase?: string | null }) => Promise<Result<MetaStatus>>;
  /** Turns forwarding on or off; off deletes what was kept for Meta and skips what was not sent. */
  'meta.setForwarding': (args: { workspace?: string; on: boolean }) => Promise<Result<MetaStatus>>;
  /** The outbox, newest first: each event as sent (hashes, never emails) and Meta's answer. */
  'meta.events': (args: { workspace?: string; state?: MetaEventState; limit?: number }) => Promise<Result<MetaEventView[]>>;
  /** Fills the outbox from the ledger and sends what is due, now. */
  'meta.send': (args: { workspace?: string }) => Promise<Result<MetaSendResult>>;
};

export interface MetaDeps {
  fetch: typeof fetch;
  /** The charge's email from Stripe, read only while forwarding is on (null without a Stripe key). */
  chargeEmail(ws: Workspace, chargeId: string): Promise<string | null>;
}

const PIXEL_ID_RE = /^\d{1,20}$/;
const TEST_CODE_RE = /^[A-Za-z0-9_-]{1,64}$/;
const TOKEN_RE = /^[\x21-\x7e]{20,2048}$/;
const STATES: readonly MetaEventState[] = ['pending', 'sending', 'sent', 'skipped', 'failed'];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const CONNECT = { app: 'in the Meta Conversions API section of the Settings screen', cli: 'with `revtrail connect meta --pixel-id N`' };
const RECONNECT = { app: 'in the Meta Conversions API section of the Settings screen', cli: 'with `revtrail connect meta`' };

/** Meta's host over HTTPS, or (for a fake in tests) plain HTTP on this machine only: the token travels to it. */
export function checkGraphBase(raw: unknown): Result<string> {
  if (raw === undefined || raw === null || raw === '') return ok(GRAPH_BASE);
  const url = typeof raw === 'string' && URL.canParse(raw) ? new URL(raw) : null;
  if (!url || url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    return err('invalid_input', 'The Graph API address is an origin such as https://graph.facebook.com (no path, query or user).');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname))) {
    return err('invalid_input', 'The Graph API address must use https (plain http only to this machine, for a test server).');
  }
  return ok(url.origin);
}

/**
 * After a sync, and every minute: deletes what is kept for Meta past its time (user agents after 7 days, browser
 * ids after the attribution window, settled events after the retention setting), whether forwarding is on or not;
 * then, when it is on, fills the outbox from the rebuilt ledger and sends what is due. Meta answering badly leaves
 * the events in the outbox with the reason; the sync itself is never failed by it.
 */
export async function forwardToMeta(ctx: CoreContext, deps: MetaDeps, ws: Workspace, db: Db): Promise<MetaSendResult | null> {
  const now = ctx.clock.now();
  purgeMeta(db, {
    agents: now - USER_AGENT_KEPT_MS,
    browsers: now - attributionSettings(db).windowDays * DAY_MS,
    events: now - getDataSettings(db).retentionDays * DAY_MS,
  });
  const settings = getMetaSettings(db);
  if (!settings.enabled) return null;
  const filled = await fillOutbox(db, {
    now,
    emailOf: (chargeId) => deps.chargeEmail(ws, chargeId),
    onEmailError: (chargeId, e) => ctx.log.warn({ workspace: ws.id, chargeId, err: (e as Error).message }, 'meta: charge email not read; event sent without em'),
  });
  const token = await ctx.secret(ws, 'meta_token');
  const empty: SendReport = { sent: 0, retrying: 0, failed: 0, stale: 0, requests: 0, paused: null };
  if (!token) return { ...filled, ...empty, paused: `No Meta access token is saved: connect Meta again ${ctx.step(RECONNECT)}.` };
  const sent = await sendDue(db, { fetch: deps.fetch, clock: ctx.clock, log: ctx.log, token });
  if (filled.queued + sent.sent + sent.failed > 0) ctx.log.info({ workspace: ws.id, ...filled, ...sent, paused: undefined }, 'meta: outbox');
  return { ...filled, ...sent };
}

export function createMetaHandlers(ctx: CoreContext, deps: MetaDeps): MetaHandlers {
  const status = async (ws: Workspace, db: Db): Promise<MetaStatus> => {
    const s = getMetaSettings(db);
    const token = await ctx.secret(ws, 'meta_token');
    return {
      connected: s.pixelId !== null && token !== null,
      enabled: s.enabled,
      enabledAt: s.enabledAt,
      pixelId: s.pixelId,
      testEventCode: s.testEventCode,
      graphBase: s.graphBase,
      apiVersion: GRAPH_API_VERSION,
      pausedReason: s.pausedReason,
      counts: outboxCounts(db),
      nextDueAt: nextDueAt(db),
    };
  };

  return {
    'meta.status': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      return ok(await status(found.workspace, found.db));
    },

    'meta.connect': async (args) => {
      const found = ctx.resolve(args.workspace);
      if (!found.ok) return found.error;
      const problems: string[] = [];
      const pixelId = typeof args.pixelId === 'string' ? args.pixelId.trim() : '';
      if (!PIXEL_ID_RE.test(pixelId)) problems.push('pixel id: the number Events Manager shows under the pixel (dataset) name, digits only');
      const token = typeof args.token === 'string' ? args.token.trim() : '';
      if (!TOKEN_RE.test(token)) problems.push('access token: paste the whole token Events Manager generated (Settings → Conversions API → Generate access token)');
      const code = args.testEventCode === undefined || args.testEventCode === null ? '' : String(args.testEventCode).trim();
      if (code !== '' && !TEST_CODE_RE.test(code)) problems.push('test event code: as Events Manager shows it under Test events, e.g. TEST12345');
      const base = args.graphBase === undefined ? ok(getMetaSettings(found.db).graphBase) : checkGraphBase(args.graphBase);
      if (!base.ok) problems.push(base.error.message);
      if (problems.length > 0 || !base.ok) return err('invalid_input', problems.join('; '));
      await ctx.setSecret(found.workspace, 'meta_token', token);
      saveMetaConnection(found.db, { pixelId, testEventCode: code || null, graphBase: base.value, at: ctx.clock.now() });
      ctx.log.info({ workspace: found.workspace.id, pixelId, test: code !== '' }, 'meta connected');
      return ok(await status(found.workspace, found.db));
    },

    'meta.setForwarding': async ({ workspace, on }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      if (typeof on !== 'boolean') return err('invalid_input', 'on: true or false');
      const current = await status(found.workspace, found.db);
      if (on && !current.connected) {
        return err('not_found', `Connect Meta for "${found.workspace.name}" first, with its pixel id and a Conversions API access token, ${ctx.step(CONNECT)}.`);
      }
      if (on !== current.enabled) setMetaForwarding(found.db, on, ctx.clock.now());
      ctx.log.info({ workspace: found.workspace.id, on }, 'meta forwarding');
      return ok(await status(found.workspace, found.db));
    },

    'meta.events': async (args) => {
      const found = ctx.resolve(args.workspace);
      if (!found.ok) return found.error;
      if (!isPlainObject(args)) return err('invalid_input', 'one object argument');
      if (args.state !== undefined && !STATES.includes(args.state)) return err('invalid_input', `state: one of ${STATES.join(', ')}`);
      const limit = args.limit ?? 200;
      if (!Number.isInteger(limit) || limit < 1 || limit > 5000) return err('invalid_input', 'limit: a whole number from 1 to 5000');
      return ok(listOutbox(found.db, { state: args.state ?? null, limit }));
    },

    'meta.send': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const r = await forwardToMeta(ctx, deps, found.workspace, found.db);
      const none: MetaSendResult = { queued: 0, tooOld: 0, sent: 0, retrying: 0, failed: 0, stale: 0, requests: 0, paused: null };
      return ok(r ?? none);
    },
  };
}
