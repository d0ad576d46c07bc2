import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../../fake-stripe/server';
import { createCore, type Core } from '../core';
import type { SecretStore } from '../secrets/types';
import { WorkspaceRegistry, type Workspace } from '../workspaces/registry';
import { NAME_MEMORY_MS } from './customer-names';

// Customer names: off by default; when a workspace allows them, read from Stripe (the fake, over HTTP through
// the official client) when asked, kept in memory only, never written to the workspace's database.
let dir: string;
let fake: FakeStripe;
let core: Core;
let ws: Workspace;
let other: Workspace;
let now = Date.parse('2026-11-30T09:00:00Z');
const secrets = new Map<string, string>();
const store: SecretStore = { description: 'memory', get: async (k) => secrets.get(k) ?? null, set: async (k, v) => void secrets.set(k, v), delete: async (k) => void secrets.delete(k) };
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
let ada: string;
let bo: string;

function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
const lookups = () => [...fake.state.platform.customers.newestFirst()].reduce((n, c) => n + fake.state.requestCount(`/v1/customers/${c.id}`), 0);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-customer-names-'));
  fake = await startFakeStripe();
  ada = fake.state.addCustomer({ email: 'ada.lovelace@example.org', name: 'Ada Lovelace' }).id;
  bo = fake.state.addCustomer({ email: 'bo@example.org', name: null }).id;
  core = createCore({ dataDir: dir, clock: { now: () => now }, log, secrets: store, stripeApiBase: fake.url, surface: 'app' });
  ws = must(await core.call('workspaces.add', { name: 'Names' }));
  other = must(await core.call('workspaces.add', { name: 'No Stripe' }));
  secrets.set(`ws_${ws.id}.stripe_key`, fake.keys.restricted);
});

afterAll(async () => {
  core?.close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('reports.customerNames', () => {
  it('reads nothing while the workspace has not allowed names (the default)', async () => {
    expect(must(await core.call('privacy.settings', { workspace: ws.id })).customerNames).toBe(false);
    expect(must(await core.call('reports.customerNames', { workspace: ws.id, customers: [ada] }))).toEqual({ allowed: false, names: {}, unavailable: null });
    expect(lookups()).toBe(0);
  });

  it('once allowed, reads each shown customer from Stripe; one gone from Stripe has none; other keys are not asked for', async () => {
    must(await core.call('privacy.saveSettings', { workspace: ws.id, customerNames: true }));
    const r = must(await core.call('reports.customerNames', { workspace: ws.id, customers: [ada, bo, 'cus_gone0000', 'email:abc123', ada] }));
    expect(r).toEqual({
      allowed: true,
      unavailable: null,
      names: { [ada]: { name: 'Ada Lovelace', email: 'ada.lovelace@example.org' }, [bo]: { name: null, email: 'bo@example.org' }, cus_gone0000: { name: null, email: null } },
    });
    expect(fake.state.requestCount(`/v1/customers/${ada}`)).toBe(1);
    expect(fake.state.requestCount('/v1/customers/cus_gone0000')).toBe(1);
  });

  it('keeps them in memory for ten minutes, then asks Stripe again', async () => {
    must(await core.call('reports.customerNames', { workspace: ws.id, customers: [ada] }));
    expect(fake.state.requestCount(`/v1/customers/${ada}`)).toBe(1);
    now += NAME_MEMORY_MS;
    must(await core.call('reports.customerNames', { workspace: ws.id, customers: [ada] }));
    expect(fake.state.requestCount(`/v1/customers/${ada}`)).toBe(2);
  });

  it('writes no name and no email to the workspace’s database', () => {
    const path = new WorkspaceRegistry(dir).databasePath(ws.id);
    for (const file of [path, `${path}-wal`].filter((f) => existsSync(f))) {
      const bytes = readFileSync(file);
      for (const text of ['Ada Lovelace', 'ada.lovelace@example.org', 'bo@example.org']) expect(bytes.includes(Buffer.from(text)), `${text} in ${file}`).toBe(false);
    }
  });

  it('says why none could be read: Stripe not connected, or Stripe refusing', async () => {
    must(await core.call('privacy.saveSettings', { workspace: other.id, customerNames: true }));
    const none = must(await core.call('reports.customerNames', { workspace: other.id, customers: [ada] }));
    expect(none).toEqual({ allowed: true, names: {}, unavailable: 'Stripe is not connected to this workspace, so names cannot be read (connect it on the Set up screen); customers keep their labels.' });
    now += NAME_MEMORY_MS;
    fake.state.failNext(1, 500);
    const refused = must(await core.call('reports.customerNames', { workspace: ws.id, customers: [ada] }));
    expect(refused.names).toEqual({});
    expect(refused.unavailable).toMatch(/^Stripe did not give the names now/);
    expect(refused.unavailable).not.toMatch(/cus_|500|GET/);
  });

  it('switched off again, reads nothing and forgets what it read; refuses a bad list', async () => {
    must(await core.call('privacy.saveSettings', { workspace: ws.id, customerNames: false }));
    const before = lookups();
    expect(must(await core.call('reports.customerNames', { workspace: ws.id, customers: [ada] }))).toEqual({ allowed: false, names: {}, unavailable: null });
    expect(lookups()).toBe(before);
    const bad = await core.call('reports.customerNames', { workspace: ws.id, customers: 'cus_1' as never });
    expect(bad.ok ? null : bad.error.message).toBe('customers: a list of up to 200 Stripe customer ids (cus_...)');
    const badSetting = await core.call('privacy.saveSettings', { workspace: ws.id, customerNames: 'yes' as never });
    expect(badSetting.ok ? null : badSetting.error.message).toBe('customerNames: true (show Stripe names and emails) or false (short labels)');
  });
});
