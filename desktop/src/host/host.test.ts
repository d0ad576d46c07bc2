import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptedFileSecretStore } from '../core/secrets/encrypted-file';
import type { Workspace } from '../core/workspaces/registry';
import { localRedirectorSecrets, startHost, wantsLocalRedirector, type Host } from './host';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const ws = (redirectorUrl: string | null): Workspace => ({ id: 'w', name: 'W', createdAt: 0, redirectorUrl, stripeAccount: null });

describe('wantsLocalRedirector', () => {
  it.each([
    [[], true],
    [[ws(null)], true],
    [[ws('http://127.0.0.1:8787')], true],
    [[ws('http://localhost:8787')], true],
    [[ws('https://go.brand.com')], false],
    [[ws('https://go.brand.com'), ws(null)], true],
  ] as [Workspace[], boolean][])('%j -> %s', (list, expected) => {
    expect(wantsLocalRedirector(list)).toBe(expected);
  });
});

describe('host (no local redirector)', () => {
  let dir: string;
  let host: Host;
  const NOW = Date.parse('2026-03-31T12:00:00Z');
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'revtrail-host-'));
    host = await startHost({
      mode: 'browser',
      dataDir: dir,
      clock: { now: () => NOW },
      log: quiet,
      secrets: new EncryptedFileSecretStore(join(dir, 's.enc'), join(dir, 's.key')),
      localRedirector: false,
      schedule: false,
    });
  });
  afterAll(async () => {
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers shell.info, and refuses the local redirector it did not start', async () => {
    expect(await host.dispatch('shell.info', {})).toEqual({ ok: true, value: { mode: 'browser', dataDir: dir, localRedirector: null, localRedirectorProblem: null, sampleWorkspaceIds: [] } });
    expect(await host.dispatch('shell.useLocalRedirector', {})).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(await host.dispatch('shell.schedule', {})).toMatchObject({ ok: true, value: [{ job: 'redirector' }, { job: 'stripe' }, { job: 'ecb' }, { job: 'retention' }, { job: 'backup' }, { job: 'webhooks' }, { job: 'meta' }] });
  });

  it('makes a labelled sample workspace through the real handlers, with revenue, links and an affiliate', async () => {
    const made = await host.dispatch('shell.createSample', {});
    expect(made).toMatchObject({ ok: true, value: { name: 'Sample shop (demo data)' } });
    const id = (made as { value: Workspace }).value.id;
    const info = await host.core.call('workspaces.list', {});
    expect(info.ok && info.value.map((w) => w.id)).toEqual([id]);
    expect(await host.dispatch('shell.info', {})).toMatchObject({ value: { sampleWorkspaceIds: [id] } });

    const channels = await host.core.call('reports.channels', { workspace: id });
    if (!channels.ok) throw new Error(channels.error.message);
    expect(channels.value.rows.length).toBeGreaterThanOrEqual(6);
    expect(channels.value.totals.netMinor).toBeGreaterThan(0);
    expect(channels.value.rows.reduce((n, r) => n + r.clicks, 0)).toBeGreaterThan(1000);
    const links = await host.core.call('links.list', { workspace: id });
    expect(links.ok && links.value.length).toBe(24);
    const partners = await host.core.call('partners.list', { workspace: id });
    expect(partners.ok && partners.value[0]?.balances.length).toBeGreaterThan(0);
    // One sample is enough.
    expect(await host.dispatch('shell.createSample', {})).toMatchObject({ ok: false, error: { code: 'conflict' } });
  }, 60_000);
});

describe('failures a user acts on', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-host-failures-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const NOW = Date.parse('2026-03-31T12:00:00Z');
  const open = (dataDir: string, keyFile: string) =>
    startHost({ mode: 'browser', dataDir, clock: { now: () => NOW }, log: { ...quiet, file: join(dataDir, 'logs', 'revtrail.log') }, secrets: new EncryptedFileSecretStore(join(dataDir, 'secrets.enc'), keyFile), localRedirector: false, schedule: false });

  it('refuses a database written by a newer Revtrail with the version found and what to do, and leaves it as it was', async () => {
    const dataDir = join(dir, 'newer');
    let host = await open(dataDir, join(dir, 'k1'));
    const ws = await host.core.call('workspaces.add', { name: 'Shop' });
    host.core.close();
    if (!ws.ok) throw new Error(ws.error.message);
    const path = join(dataDir, 'workspaces', ws.value.id, 'workspace.sqlite');
    const db = new Database(path);
    db.pragma('user_version = 999');
    db.close();
    const before = createHash('sha256').update(readFileSync(path)).digest('hex');
    host = await open(dataDir, join(dir, 'k1'));
    const r = await host.dispatch('reports.channels', { workspace: ws.value.id });
    await host.close();
    expect(r).toMatchObject({ ok: false, error: { code: 'database_too_new', message: expect.stringMatching(/schema 999.*install the newer version/) } });
    expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(before);
  });

  it('an unreadable secret asks to reconnect that one service; the others still work', async () => {
    const dataDir = join(dir, 'unreadable');
    const stale = new EncryptedFileSecretStore(join(dataDir, 'secrets.enc'), join(dir, 'old-key'));
    let host = await open(dataDir, join(dir, 'old-key'));
    const ws = await host.core.call('workspaces.add', { name: 'Moved shop' });
    await host.close();
    if (!ws.ok) throw new Error(ws.error.message);
    await stale.set(`ws_${ws.value.id}.stripe_key`, 'rk_test_sealed-under-the-old-key');
    // The same folder under another key (copied from another machine): only the Stripe key is unreadable.
    const current = new EncryptedFileSecretStore(join(dataDir, 'secrets.enc'), join(dir, 'new-key'));
    await current.set(`ws_${ws.value.id}.email_hash_key`, 'email-hash-key-readable-here');
    host = await open(dataDir, join(dir, 'new-key'));
    const r = await host.dispatch('stripe.permissions', { workspace: ws.value.id });
    // Status still answers: Stripe shows as not connected, to be connected again.
    const status = await host.dispatch('status.get', {});
    await host.close();
    expect(status).toMatchObject({ ok: true, value: { workspaces: [{ stripe: { connected: false } }] } });
    expect(r).toMatchObject({ ok: false, error: { code: 'secret_unreadable', message: expect.stringMatching(/"Moved shop".*Reconnect Stripe.*Nothing else was changed/) } });
    expect(JSON.stringify(r)).not.toContain('rk_test_sealed');
    expect(await current.get(`ws_${ws.value.id}.email_hash_key`)).toBe('email-hash-key-readable-here');
  });

  it("moves the embedded redirector's plaintext secrets.json into the store and deletes it", async () => {
    const dataDir = join(dir, 'legacy-local');
    mkdirSync(join(dataDir, 'local-redirector'), { recursive: true });
    const old = { syncToken: 'old-local-sync-token-0123456789', emailHashKey: 'old-local-email-hash-key-0123', ipSaltSeed: 'old-local-ip-salt-seed-01234' };
    writeFileSync(join(dataDir, 'local-redirector', 'secrets.json'), JSON.stringify(old));
    const store = new EncryptedFileSecretStore(join(dataDir, 'secrets.enc'), join(dir, 'legacy-key'));
    expect(await localRedirectorSecrets(dataDir, store, quiet)).toEqual(old);
    expect(existsSync(join(dataDir, 'local-redirector', 'secrets.json'))).toBe(false);
    expect(await store.get('local_redirector.sync_token')).toBe(old.syncToken);
    // Later starts read them from the store; a fresh folder gets new ones, kept there too.
    expect(await localRedirectorSecrets(dataDir, store, quiet)).toEqual(old);
    const other = new EncryptedFileSecretStore(join(dir, 'other', 'secrets.enc'), join(dir, 'other-key'));
    const generated = await localRedirectorSecrets(join(dir, 'other'), other, quiet);
    expect(generated.syncToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await other.get('local_redirector.ip_salt_seed')).toBe(generated.ipSaltSeed);
  });
});
