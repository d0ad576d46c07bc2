import { err, ok, type Result } from '@revtrail/shared';
import type { CoreContext } from '../context';
import type { Workspace } from '../workspaces/registry';
import { checkSameOrigin } from './check';
import { readBase, type SameOriginCheck } from './setting';

export type SameOriginHandlers = {
  /**
   * Sets (or with `site: null` turns off) the workspace's same-origin mode: the merchant's site and the prefix
   * it forwards to the redirector (`/_rt/` when not given). A change forgets the last check.
   */
  'sameOrigin.set': (args: { workspace?: string; site: string | null; prefix?: string }) => Promise<Result<Workspace>>;
  /** Checks the workspace's same-origin mode through the merchant's site and keeps the result with the setting. */
  'sameOrigin.check': (args: { workspace?: string }) => Promise<Result<SameOriginCheck>>;
};

export function createSameOriginHandlers(ctx: CoreContext, deps: { fetch: typeof fetch }): SameOriginHandlers {
  return {
    'sameOrigin.set': async ({ workspace, site, prefix }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const ws = found.workspace;
      if (site === null) return ok(ctx.registry.update(ws.id, { sameOrigin: null }));
      const read = readBase(site, prefix);
      if (!read.ok) return err('invalid_input', read.message);
      const kept = ws.sameOrigin?.base === read.base ? ws.sameOrigin.lastCheck : null;
      ctx.log.info({ workspace: ws.id }, 'same-origin mode set');
      return ok(ctx.registry.update(ws.id, { sameOrigin: { base: read.base, lastCheck: kept } }));
    },

    'sameOrigin.check': async ({ workspace }) => {
      const found = ctx.resolve(workspace);
      if (!found.ok) return found.error;
      const ws = found.workspace;
      if (!ws.sameOrigin) return err('invalid_input', "Same-origin mode is not set up: give your site's address and prefix first.");
      const check = await checkSameOrigin({ base: ws.sameOrigin.base, redirectorUrl: ws.redirectorUrl, fetch: deps.fetch, now: ctx.clock.now() });
      // The setting as it is now: it may have changed while the check ran.
      const current = ctx.registry.list().find((w) => w.id === ws.id)?.sameOrigin;
      if (current?.base === check.base) ctx.registry.update(ws.id, { sameOrigin: { base: check.base, lastCheck: check } });
      ctx.log.info({ workspace: ws.id, ok: check.ok, failed: check.items.filter((i) => !i.ok).map((i) => i.name) }, 'same-origin mode checked');
      return ok(check);
    },
  };
}
