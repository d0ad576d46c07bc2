import type { Link, LinkInput, Result } from '@revtrail/shared';
import type { AffiliateHandlers } from './affiliates/handlers';
import type { AttributionHandlers } from './attribution/handlers';
import type { BackupHandlers } from './backup/handlers';
import type { FxHandlers } from './fx/handlers';
import type { MetaHandlers } from './meta/handlers';
import type { PixelHandlers } from './pixel/handlers';
import type { PrivacyHandlers } from './privacy/handlers';
import type { TelegramHandlers } from './telegram/handlers';
import type { LinkPush } from './redirector/repo';
import type { PullProgress, PullResult } from './redirector/sync';
import type { PermissionCheck } from './stripe/permissions';
import type { StripeObjectType } from './stripe/repo';
import type { StripeProgress, StripePullResult } from './stripe/sync';
import type { StripeTestModeHandlers } from './stripe/test-mode';
import type { SameOriginHandlers } from './same-origin/handlers';
import type { ResourceState } from './sync-state/repo';
import type { WebhookHandlers } from './webhooks/handlers';
import type { Workspace } from './workspaces/registry';

/** A link as this machine knows it; `pending` while a local change has not reached the redirector. */
export interface LocalLink {
  slug: string;
  link: Link | null;
  pending: LinkInput | null;
  /** The redirector's reason when it refused the pending change (it waits for a retry or a discard). */
  refused: string | null;
}

export interface WorkspaceStatus {
  workspace: Workspace;
  redirector: { connected: boolean; lastPullAt: number | null };
  stripe: { connected: boolean; lastPullAt: number | null };
  counts: { links: number; clicks: number; pageviews: number; identities: number } & Record<StripeObjectType, number>;
  /** Each redirector feed and Stripe resource: its last good pull, and why its last attempt failed. */
  resources: ResourceState[];
  /** Link changes not on the redirector yet: queued (with the last try's problem) or refused (with its reason). */
  linkPushes: LinkPush[];
}

/** What a Stripe key may read: the checklist shown on connect. */
export interface StripePermissions {
  mode: 'live' | 'test';
  checks: PermissionCheck[];
}

/** The RPC contract: every method the UI and the CLI call, `domain.verb`, one object argument. */
export interface CoreApi extends FxHandlers, AttributionHandlers, AffiliateHandlers, MetaHandlers, PrivacyHandlers, BackupHandlers, WebhookHandlers, StripeTestModeHandlers, SameOriginHandlers, PixelHandlers, TelegramHandlers {
  'workspaces.list': (args: Record<string, never>) => Promise<Result<Workspace[]>>;
  'workspaces.add': (args: { name: string }) => Promise<Result<Workspace>>;
  'redirector.connect': (args: { workspace?: string; url: string; token: string }) => Promise<Result<{ workspace: Workspace; apiVersion: number }>>;
  'links.list': (args: { workspace?: string }) => Promise<Result<LocalLink[]>>;
  'links.save': (args: { workspace?: string; slug: string; link: unknown }) => Promise<Result<{ slug: string; pushed: boolean; message: string }>>;
  'links.pushes': (args: { workspace?: string }) => Promise<Result<LinkPush[]>>;
  /** Sends a refused or waiting link change again, now. */
  'links.retryPush': (args: { workspace?: string; slug: string }) => Promise<Result<{ slug: string; pushed: boolean; message: string }>>;
  /** Drops a local link change that is not on the redirector; the link stays as the redirector has it. */
  'links.discardPush': (args: { workspace?: string; slug: string }) => Promise<Result<{ slug: string; message: string }>>;
  'sync.redirector': (args: { workspace?: string }) => Promise<Result<PullResult>>;
  /**
   * `account`: read this Stripe Connect account (Stripe-Account header) instead of the key's own. `apiBase`: test
   * mode's Stripe API address (stripe/test-mode.ts); null or Stripe's own: back to Stripe; absent: as it was.
   */
  'stripe.connect': (args: { workspace?: string; key: string; account?: string | null; apiBase?: string | null }) => Promise<Result<StripePermissions & { workspace: Workspace }>>;
  'stripe.permissions': (args: { workspace?: string }) => Promise<Result<StripePermissions>>;
  'sync.stripe': (args: { workspace?: string }) => Promise<Result<StripePullResult>>;
  'status.get': (args: { workspace?: string }) => Promise<Result<{ secrets: string; workspaces: WorkspaceStatus[] }>>;
}

export type CoreMethod = keyof CoreApi;
export type CoreArgs<M extends CoreMethod> = Parameters<CoreApi[M]>[0];
export type CoreResult<M extends CoreMethod> = Awaited<ReturnType<CoreApi[M]>>;

/** Pushed to whoever listens (progress bars, the UI's sync status). */
export interface CoreEvents {
  'sync.progress':
    | { workspaceId: string; source: 'redirector'; progress: PullProgress }
    | { workspaceId: string; source: 'stripe'; progress: StripeProgress };
  /**
   * A sync changed the workspace's data (and the ledger was rebuilt from it): reports are worth reading again.
   * `webhook`: objects a Stripe webhook named, read by id (sync.webhookHints).
   */
  'sync.changed': { workspaceId: string; source: 'redirector' | 'stripe' | 'webhook' };
}
