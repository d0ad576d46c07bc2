import { err, type Clock, type Result } from '@revtrail/shared';
import type { CoreEvents } from './api';
import type { Db } from './db/open';
import type { SecretStore } from './secrets/types';
import type { NextStep, Surface } from './surface';
import type { Workspace, WorkspaceRegistry } from './workspaces/registry';

export interface CoreLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type SecretKind =
  | 'redirector_token'
  | 'email_hash_key'
  | 'stripe_key'
  | 'backup_key'
  | 'meta_token'
  | 'telegram_bot_token'
  | 'telegram_secret_token'
  | 'telegram_forward';

/**
 * What every domain's handlers get from the core: the workspace lookup, its database, secrets, the clock,
 * the logger and the event emitter. Domains build their handler maps from this (see core.ts), so adding a
 * domain never touches another one.
 */
export interface CoreContext {
  clock: Clock;
  log: CoreLogger;
  secrets: SecretStore;
  registry: WorkspaceRegistry;
  /** Who reads the messages: the app or the CLI. */
  surface: Surface;
  /** A next step in the reader's terms: `step({ app: 'on the Affiliates screen', cli: 'with `revtrail partners add`' })`. */
  step(step: NextStep): string;
  /** The workspace named by `ref` (id or name; none = the only one), or a not_found Result saying why. */
  resolve(ref: string | undefined): { ok: true; workspace: Workspace; db: Db } | { ok: false; error: Result<never> };
  db(ws: Workspace): Db;
  secret(ws: Workspace, kind: SecretKind): Promise<string | null>;
  setSecret(ws: Workspace, kind: SecretKind, value: string): Promise<void>;
  emit<E extends keyof CoreEvents>(event: E, payload: CoreEvents[E]): void;
  /** A CSV file of ECB history to start from instead of the one bundled in the core (fx/ecb-history.ts). */
  ratesSnapshotPath?: string;
}

export const notFound = (message: string): Result<never> => err('not_found', message);
