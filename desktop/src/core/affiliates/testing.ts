import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashEmail, normalizeEmail } from '@revtrail/shared';
import type { CoreContext } from '../context';
import { openDatabase, type Db } from '../db/open';
import type { SecretStore } from '../secrets/types';
import { stepFor, type Surface } from '../surface';
import { WorkspaceRegistry, type Workspace } from '../workspaces/registry';
import { createAffiliateHandlers, type AffiliateHandlers } from './handlers';
import { syncAffiliateLedger } from './ledger';

// A workspace on a temporary on-disk database with the affiliate handlers over a real registry, a
// settable clock and an in-memory secret store holding the email-hash key: for lifecycle tests.

export const EMAIL_HASH_KEY = 'test-email-hash-key-0123456789';

export interface AffiliateWorld {
  dir: string;
  db: Db;
  ws: Workspace;
  ctx: CoreContext;
  clock: { at: number; now(): number };
  call<M extends keyof AffiliateHandlers>(method: M, args: Parameters<AffiliateHandlers[M]>[0]): ReturnType<AffiliateHandlers[M]>;
  /** What `sync.stripe` / `sync.redirector` run at their end. */
  sync(): ReturnType<typeof syncAffiliateLedger>;
  close(): void;
}

export const emailHash = (email: string): Promise<string> => hashEmail(normalizeEmail(email)!, EMAIL_HASH_KEY);

export function affiliateWorld(startAt: number, name = 'Shop', surface: Surface = 'cli'): AffiliateWorld {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-affiliates-'));
  const registry = new WorkspaceRegistry(dir, surface);
  const ws = registry.add(name, startAt);
  const db = openDatabase(registry.databasePath(ws.id));
  const clock = { at: startAt, now: () => clock.at };
  const secrets = new Map<string, string>([[`ws_${ws.id}.email_hash_key`, EMAIL_HASH_KEY]]);
  const store: SecretStore = {
    description: 'memory (test)',
    get: async (n) => secrets.get(n) ?? null,
    set: async (n, v) => void secrets.set(n, v),
    delete: async (n) => void secrets.delete(n),
  };
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const ctx: CoreContext = {
    clock,
    log: quiet,
    secrets: store,
    registry,
    surface,
    step: (s) => stepFor(surface, s),
    resolve: (ref) => {
      const found = registry.find(ref);
      return 'error' in found ? { ok: false, error: { ok: false, error: { code: 'not_found', message: found.error } } } : { ok: true, workspace: found, db };
    },
    db: () => db,
    secret: (w, kind) => store.get(`ws_${w.id}.${kind}`),
    setSecret: (w, kind, value) => store.set(`ws_${w.id}.${kind}`, value),
    emit: () => undefined,
  };
  const handlers = createAffiliateHandlers(ctx);
  return {
    dir,
    db,
    ws,
    ctx,
    clock,
    call: (method, args) => (handlers[method] as (a: typeof args) => ReturnType<AffiliateHandlers[typeof method]>)(args),
    sync: () => syncAffiliateLedger(ctx, ws),
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Unwraps a Result in a test, failing with its message. */
export function value<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(`expected ok, got: ${r.error.message}`);
  return r.value;
}
