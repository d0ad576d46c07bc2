import type { Db } from '../db/open';
import { statementsPerDb } from '../db/statements';

export type SyncSource = 'redirector' | 'stripe';

/** A resource a pull could not read this time, with what the user can do about it. */
export interface ResourceFailure {
  source: SyncSource;
  /** A redirector feed (`clicks`, `links`, ...) or a Stripe resource (`charges`, `invoice_payments`, ...). */
  resource: string;
  /** A short machine code: `not_found` (the server lacks the endpoint), `permission_missing`, `unavailable`, ... */
  code: string;
  /** What happened and what to do next, without any secret. */
  message: string;
}

export interface ResourceState {
  source: SyncSource;
  resource: string;
  /** The end of the last pull of this resource that succeeded; null when none has. */
  lastPullAt: number | null;
  lastAttemptAt: number;
  /** Set while the last attempt failed. */
  error: { code: string; message: string } | null;
}

const stmts = statementsPerDb((db: Db) => ({
  succeeded: db.prepare<{ source: string; resource: string; at: number }>(
    `INSERT INTO sync_resources (source, resource, last_pull_at, last_attempt_at, error_code, error_message)
     VALUES (@source, @resource, @at, @at, NULL, NULL)
     ON CONFLICT (source, resource) DO UPDATE SET last_pull_at = @at, last_attempt_at = @at, error_code = NULL, error_message = NULL`,
  ),
  failed: db.prepare<{ source: string; resource: string; at: number; code: string; message: string }>(
    `INSERT INTO sync_resources (source, resource, last_pull_at, last_attempt_at, error_code, error_message)
     VALUES (@source, @resource, NULL, @at, @code, @message)
     ON CONFLICT (source, resource) DO UPDATE SET last_attempt_at = @at, error_code = @code, error_message = @message`,
  ),
  list: db.prepare<[], { source: SyncSource; resource: string; last_pull_at: number | null; last_attempt_at: number; error_code: string | null; error_message: string | null }>(
    `SELECT source, resource, last_pull_at, last_attempt_at, error_code, error_message FROM sync_resources ORDER BY source, resource`,
  ),
}));

/** This resource was pulled whole at `at`: its last pull time moves, its error (if any) is cleared. */
export function recordResourceSuccess(db: Db, source: SyncSource, resource: string, at: number): void {
  stmts(db).succeeded.run({ source, resource, at });
}

/** This resource could not be pulled at `at`: its last good pull time stays as it was. */
export function recordResourceFailure(db: Db, failure: ResourceFailure, at: number): void {
  stmts(db).failed.run({ source: failure.source, resource: failure.resource, at, code: failure.code, message: failure.message });
}

export function listResourceStates(db: Db, source?: SyncSource): ResourceState[] {
  return stmts(db)
    .list.all()
    .filter((r) => source === undefined || r.source === source)
    .map((r) => ({
      source: r.source,
      resource: r.resource,
      lastPullAt: r.last_pull_at,
      lastAttemptAt: r.last_attempt_at,
      error: r.error_code === null ? null : { code: r.error_code, message: r.error_message ?? '' },
    }));
}
