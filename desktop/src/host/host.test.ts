import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncryptedFileSecretStore } from '../core/secrets/encrypted-file';
import type { Workspace } from '../core/workspaces/registry';
import { startHost, wantsLocalRedirector, type Host } from './host';

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
    expect(await host.dispatch('shell.schedule', {})).toMatchObject({ ok: true, value: [{ job: 'redirector' }, { job: 'stripe' }, { job: 'ecb' }] });
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
