import { err, ok, type Result } from '@revtrail/shared';
import type { CoreContext } from '../context';
import type { Db } from '../db/open';
import { loadBundledRates, refreshRates, type RefreshOutcome } from './rates';
import { newestRates, rateDayCount, refreshLog, type RateRowSource } from './repo';

export interface FxStatus {
  /** The newest ECB publication day in this workspace, and where its rates came from. */
  newestDay: string | null;
  source: RateRowSource | null;
  /** Currencies quoted on the newest day (EUR not counted). */
  currencies: number;
  /** Publication days in the history. */
  days: number;
  lastAttemptAt: number | null;
  lastSuccessAt: number | null;
  /** Why the last refresh failed; null when it succeeded or none was tried. */
  lastError: string | null;
}

export type FxHandlers = {
  'fx.status': (args: { workspace?: string }) => Promise<Result<FxStatus>>;
  /** Downloads the ECB history unless today's refresh already succeeded (`force` downloads anyway). */
  'fx.refresh': (args: { workspace?: string; force?: boolean }) => Promise<Result<RefreshOutcome>>;
};

export interface FxDeps {
  fetch: typeof fetch;
  /** Where the ECB history zip is; the ECB's own address when absent. */
  url?: string;
  /** Called after a refresh that added or changed rates: provisional ledger rows are converted again. */
  onRatesChanged?: (db: Db) => void;
}

export function createFxHandlers(ctx: CoreContext, deps: FxDeps): FxHandlers {
  return {
    'fx.status': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const { db } = found;
      loadBundledRates(db, { path: ctx.ratesSnapshotPath });
      const newest = newestRates(db);
      const log = refreshLog(db);
      return ok({
        newestDay: newest?.day ?? null,
        source: newest?.source ?? null,
        currencies: newest?.currencies ?? 0,
        days: rateDayCount(db),
        lastAttemptAt: log.lastAttemptAt,
        lastSuccessAt: log.lastSuccessAt,
        lastError: log.error,
      });
    },

    'fx.refresh': async ({ workspace, force }) => {
      if (force !== undefined && typeof force !== 'boolean') return err('invalid_input', 'force: true or false.');
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const { db, workspace: ws } = found;
      // The snapshot first, so a workspace that cannot reach the ECB still converts with the bundled history.
      loadBundledRates(db, { path: ctx.ratesSnapshotPath });
      const r = await refreshRates(db, { fetch: deps.fetch, clock: ctx.clock, url: deps.url, force: force === true });
      if (r.ok) {
        ctx.log.info({ workspace: ws.id, ...r.value }, 'ecb rates refresh');
        if (r.value.written > 0) deps.onRatesChanged?.(db);
      } else ctx.log.warn({ workspace: ws.id, error: r.error.message }, 'ecb rates refresh failed');
      return r;
    },
  };
}
