import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore, type Core } from '../core/core';
import { memorySecrets } from '../core/privacy/testing';
import { WorkspaceRegistry } from '../core/workspaces/registry';
import { startHost, type CoreLike, type Host } from './host';
import { OFFLOADED_METHODS } from './offloaded';

// The core process answers the offloaded calls with a second core over the same data folder (its worker
// thread): what a backup restore, an erasure or a purge did there must be what the main thread's core reads
// next. Here the second core runs in this thread, through the same routing.
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const NOW = Date.now();
const clock = { now: () => NOW };
const dir = mkdtempSync(join(tmpdir(), 'revtrail-offload-'));
let host: Host;
let worker: Core;
const served: string[] = [];
let workspace: string;

const must = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

beforeAll(async () => {
  const secrets = memorySecrets();
  worker = createCore({ dataDir: dir, clock, log: quiet, secrets });
  const routedToWorker: CoreLike = {
    call: ((method: string, args: unknown) => {
      served.push(method);
      return worker.call(method as never, args as never);
    }) as CoreLike['call'],
    on: (event, listener) => worker.on(event, listener),
  };
  host = await startHost({ mode: 'browser', dataDir: dir, clock, log: quiet, secrets, localRedirector: false, schedule: false, offload: { methods: OFFLOADED_METHODS, core: routedToWorker } });
  workspace = must((await host.dispatch('shell.createSample', {})) as { ok: true; value: { id: string } }).id;
}, 60_000);

afterAll(async () => {
  await host?.close();
  worker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('offloaded backup and privacy calls', () => {
  it('run on the other core, and the main core reads what they did: a restore, an erasure, a purge', async () => {
    // As a shell calls: routed by method name.
    const dispatch = host.dispatch as unknown as Core['call'];
    const created = must(await dispatch('backup.create', { workspace })).created!;
    // Changed on the main core after the backup; the restore (on the other core) brings the backup's value back.
    const before = must(await dispatch('privacy.settings', { workspace }));
    must(await dispatch('privacy.saveSettings', { workspace, retentionDays: before.retentionDays + 30 }));
    must(await dispatch('backup.restore', { workspace, file: created.file }));
    expect(must(await host.core.call('privacy.settings', { workspace })).retentionDays).toBe(before.retentionDays);

    const dbPath = new WorkspaceRegistry(dir).databasePath(workspace);
    const db = new Database(dbPath, { readonly: true });
    const visitor = (db.prepare(`SELECT visitor_id FROM clicks WHERE visitor_id IS NOT NULL LIMIT 1`).pluck().get() as string) ?? '';
    db.close();
    expect(must(await host.core.call('privacy.find', { workspace, visitor })).local.clicks).toBeGreaterThan(0);
    must(await dispatch('privacy.erase', { workspace, visitor }));
    expect(must(await host.core.call('privacy.find', { workspace, visitor })).total).toBe(0);
    must(await dispatch('privacy.purge', { workspace }));
    // Reports on the main core still answer from the same database.
    expect(must(await host.core.call('reports.channels', { workspace })).rows.length).toBeGreaterThan(0);

    expect(served).toEqual(['backup.create', 'backup.restore', 'privacy.erase', 'privacy.purge']);
  }, 60_000);
});
