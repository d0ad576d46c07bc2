import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '@revtrail/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations } from '../db/migrate';
import { openDatabase } from '../db/open';
import { buildWorld, must, type World } from '../privacy/testing';
import { createStripeClient } from '../stripe/client';
import { stripeCounts } from '../stripe/repo';
import { pullStripe } from '../stripe/sync';
import { WorkspaceRegistry } from '../workspaces/registry';
import { encryptFile } from './crypto';

const LATEST = loadMigrations().at(-1)!.version;
const dir = mkdtempSync(join(tmpdir(), 'revtrail-backup-'));
let w: World;
let dbPath: string;
const counts = () => {
  const db = openDatabase(dbPath);
  try {
    return stripeCounts(db);
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  w = await buildWorld(dir);
  dbPath = new WorkspaceRegistry(join(dir, 'desktop')).databasePath(w.workspaceId);
  // A Stripe pull cut mid-way: a second connection (as another process would) stops after its first pages.
  const key = (await w.secrets.get(`ws_${w.workspaceId}.email_hash_key`))!;
  const db = openDatabase(dbPath);
  const stop = new AbortController();
  const client = createStripeClient(w.fake.keys.restricted, { apiBase: w.fake.url });
  await expect(
    pullStripe(db, client, { emailHashKey: key, clock: systemClock, pageSize: 2, signal: stop.signal, onProgress: (p) => p.feed === 'charges' && stop.abort() }),
  ).rejects.toThrow();
  db.close();
}, 120_000);

afterAll(async () => {
  await w?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('backups', () => {
  it('backs up a workspace whose sync was cut mid-way, encrypted; a restore opens, erases again who was erased since, and a later sync completes', async () => {
    const cut = counts();
    const all = w.fake.state.platform.charges.size;
    expect(cut.charges).toBeLessThan(all);

    const made = must(await w.core.call('backup.create', { workspace: w.workspaceId }));
    expect(made.created).toMatchObject({ schemaVersion: LATEST });
    const bytes = readFileSync(made.created!.file);
    expect(bytes.includes(Buffer.from('SQLite format 3'))).toBe(false);
    expect(bytes.includes(Buffer.from('stripe_charges'))).toBe(false);
    expect(must(await w.core.call('backup.list', { workspace: w.workspaceId })).backups).toHaveLength(1);
    // Not due again yet.
    expect(must(await w.core.call('backup.create', { workspace: w.workspaceId, ifDue: true })).created).toBeNull();

    must(await w.core.call('sync.stripe', { workspace: w.workspaceId }));
    expect(counts().charges).toBe(all);
    must(await w.core.call('privacy.erase', { workspace: w.workspaceId, email: 'bruno@example.de' }));

    // Another connection open on the workspace (the app's sync worker) reads the restored data too.
    const other = openDatabase(dbPath);
    const restored = must(await w.core.call('backup.restore', { workspace: w.workspaceId, file: made.created!.file }));
    expect(stripeCounts(other)).toEqual({ ...cut, customers: cut.customers - 1 });
    other.close();
    expect(restored.reErased).toBeGreaterThan(0);
    // The state of the cut backup, less Bruno, erased after it was made.
    expect(counts()).toEqual({ ...cut, customers: cut.customers - 1 });
    expect(must(await w.core.call('privacy.find', { workspace: w.workspaceId, email: 'bruno@example.de' })).total).toBe(0);
    expect(must(await w.core.call('privacy.log', { workspace: w.workspaceId })).some((r) => r.kind === 'erase')).toBe(true);

    must(await w.core.call('sync.stripe', { workspace: w.workspaceId }));
    const after = counts();
    expect(after.charges).toBe(all);
    // Bruno's customer record stays out.
    expect(after.customers).toBe(w.fake.state.platform.customers.size - 1);
    expect(must(await w.core.call('privacy.find', { workspace: w.workspaceId, email: 'bruno@example.de' })).local.stripe_customers).toBe(0);
  }, 120_000);

  it('keeps the newest N', async () => {
    must(await w.core.call('privacy.saveSettings', { workspace: w.workspaceId, backupKeep: 2 }));
    for (let i = 0; i < 3; i++) must(await w.core.call('backup.create', { workspace: w.workspaceId }));
    expect(must(await w.core.call('backup.list', { workspace: w.workspaceId })).backups).toHaveLength(2);
  });

  it('refuses a backup from a newer version, another file or a wrong key, with the reason, changing nothing', async () => {
    const before = counts();
    const key = Buffer.from((await w.secrets.get(`ws_${w.workspaceId}.backup_key`))!, 'base64');
    const plain = join(dir, 'plain.sqlite');
    writeFileSync(plain, 'not really a database');
    const newer = join(dir, 'newer.rtbak');
    await encryptFile(plain, newer, key, { workspaceId: w.workspaceId, createdAt: Date.now(), schemaVersion: 99 });
    const r = await w.core.call('backup.restore', { workspace: w.workspaceId, file: newer });
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining(`newer Revtrail (database schema 99; this version knows ${LATEST})`) } });

    const other = join(dir, 'other.rtbak');
    await encryptFile(plain, other, Buffer.alloc(32, 7), { workspaceId: w.workspaceId, createdAt: Date.now(), schemaVersion: LATEST });
    expect(await w.core.call('backup.restore', { workspace: w.workspaceId, file: other })).toMatchObject({ ok: false, error: { message: expect.stringContaining('does not decrypt') } });
    expect(await w.core.call('backup.restore', { workspace: w.workspaceId, file: plain })).toMatchObject({ ok: false, error: { message: expect.stringContaining('not a Revtrail backup') } });
    expect(counts()).toEqual(before);
  });
});
