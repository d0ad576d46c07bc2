import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppError, Result } from '@revtrail/shared';
import { createCore, type Core } from './core';
import { openDatabase } from './db/open';
import { upsertLinks } from './redirector/repo';
import type { SecretStore } from './secrets/types';
import type { Surface } from './surface';
import { WorkspaceRegistry, type Workspace } from './workspaces/registry';

// The core's refusals as each reader gets them: the app's screens name a screen and its control, never a
// CLI command ("run `revtrail connect redirector`" on the Sync screen); the CLI keeps its commands.
const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const CLI_WORDS = /revtrail [a-z]|`|--[a-z]|\bstdin\b|standard input/;

function world(surface: Surface) {
  const dir = mkdtempSync(join(tmpdir(), `revtrail-messages-${surface}-`));
  const saved = new Map<string, string>();
  const secrets: SecretStore = {
    description: 'memory (test)',
    get: async (n) => saved.get(n) ?? null,
    set: async (n, v) => void saved.set(n, v),
    delete: async (n) => void saved.delete(n),
  };
  const core = createCore({ dataDir: dir, clock: { now: () => Date.parse('2026-04-10T12:00:00Z') }, log, secrets, surface });
  return { dir, core };
}

const failed = (r: Result<unknown>): AppError => {
  if (r.ok) throw new Error('expected a refusal');
  return r.error;
};

/** Calls that are refused in a workspace with nothing connected and no program or partner. */
async function refusals(core: Core): Promise<Record<string, AppError>> {
  const none = failed(await core.call('links.list', {}));
  const ws = await core.call('workspaces.add', { name: 'Shop' });
  if (!ws.ok) throw new Error(ws.error.message);
  await core.call('workspaces.add', { name: 'Other' });
  const link = { destination: 'https://shop.example/', channel: 'Newsletter', partnerId: 'ghost' };
  return {
    'no workspace': none,
    'which workspace': failed(await core.call('links.list', {})),
    'unknown partner on a link': failed(await core.call('links.save', { workspace: 'Shop', slug: 'spring', link })),
    'sync without a redirector': failed(await core.call('sync.redirector', { workspace: 'Shop' })),
    'sync without Stripe': failed(await core.call('sync.stripe', { workspace: 'Shop' })),
    'Stripe before the redirector': failed(await core.call('stripe.connect', { workspace: 'Shop', key: `rk_test_${'a'.repeat(24)}` })),
    'permissions without Stripe': failed(await core.call('stripe.permissions', { workspace: 'Shop' })),
    'partner without a program': failed(await core.call('partners.add', { workspace: 'Shop', name: 'Jo', email: 'jo@example.com' })),
    'unknown partner': failed(await core.call('partners.show', { workspace: 'Shop', partner: 'ghost' })),
    'unknown payout run': failed(await core.call('payouts.markPaid', { workspace: 'Shop', batch: 'po_ghost', reference: 'x' })),
    'unknown payout run export': failed(await core.call('payouts.export', { workspace: 'Shop', batch: 'po_ghost', format: 'csv' })),
    'unknown customer': failed(await core.call('reports.journey', { workspace: 'Shop', customer: 'cus_ghost' })),
    'token in the address': failed(await core.call('redirector.connect', { workspace: 'Shop', url: 'https://go.shop.example/?token=abc', token: 'x'.repeat(32) })),
    'password in the address': failed(await core.call('redirector.connect', { workspace: 'Shop', url: 'https://user:secret@go.shop.example', token: 'x'.repeat(32) })),
  };
}

describe('core messages by reader', () => {
  let app: ReturnType<typeof world>;
  let cli: ReturnType<typeof world>;
  let inApp: Record<string, AppError>;
  let inCli: Record<string, AppError>;
  beforeAll(async () => {
    app = world('app');
    cli = world('cli');
    inApp = await refusals(app.core);
    inCli = await refusals(cli.core);
  });
  afterAll(() => {
    for (const w of [app, cli]) {
      w.core.close();
      rmSync(w.dir, { recursive: true, force: true });
    }
  });

  it('in the app name no CLI command', () => {
    expect(Object.entries(inApp).filter(([, e]) => CLI_WORDS.test(e.message)).map(([what, e]) => `${what}: ${e.message}`)).toEqual([]);
  });

  it('in the CLI still name the command', () => {
    expect(inCli['sync without a redirector']!.message).toContain('revtrail connect redirector');
    expect(inCli['partner without a program']!.message).toContain('revtrail programs add');
    expect(inCli['which workspace']!.message).toContain('--workspace');
  });

  it('refuse a link to a partner that does not exist, saying where to add it', () => {
    expect(inApp['unknown partner on a link']).toEqual({
      code: 'invalid_input',
      message: 'There is no partner "ghost" in Shop: add the partner on the Affiliates screen first, then pick it here.',
    });
    expect(inCli['unknown partner on a link']!.message).toBe('There is no partner "ghost" in Shop: add it first with `revtrail partners add --id ghost --name NAME --email EMAIL`.');
    expect(inApp['sync without a redirector']!.message).toBe('Workspace "Shop" has no redirector yet: connect one on the Set up screen.');
  });

  it('take a link to a partner that exists, and keep a partner a link already names', async () => {
    const { core } = app;
    expect((await core.call('programs.add', { workspace: 'Shop', name: 'Partners', rateBasisPoints: 2000 })).ok).toBe(true);
    expect((await core.call('partners.add', { workspace: 'Shop', id: 'ann', name: 'Ann', email: 'ann@example.com' })).ok).toBe(true);
    const link = { destination: 'https://shop.example/', channel: 'Affiliate', partnerId: 'ann' };
    expect(await core.call('links.save', { workspace: 'Shop', slug: 'ann-link', link })).toMatchObject({ ok: true });
    // A link the redirector had with a partner this workspace does not know (made elsewhere) stays editable.
    const shop = new WorkspaceRegistry(app.dir).find('Shop') as Workspace;
    const db = openDatabase(new WorkspaceRegistry(app.dir).databasePath(shop.id));
    upsertLinks(db, [{ slug: 'old', destination: 'https://shop.example/', channel: 'Affiliate', campaign: null, partnerId: 'legacy', utm: {}, enabled: true, createdAt: 1, updatedAt: 1 }]);
    db.close();
    const disable = { destination: 'https://shop.example/', channel: 'Affiliate', partnerId: 'legacy', enabled: false };
    expect(await core.call('links.save', { workspace: 'Shop', slug: 'old', link: disable })).toMatchObject({ ok: true });
    expect(failed(await core.call('links.save', { workspace: 'Shop', slug: 'old', link: { ...disable, partnerId: 'other' } })).code).toBe('invalid_input');
  });
});
