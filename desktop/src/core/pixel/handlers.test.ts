import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@revtrail/shared';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { createCore, type Core } from '../core';
import { memorySecrets } from '../privacy/testing';

// The pixel's allowed sites through the core, against a real local redirector over HTTP.
const TOKEN = 'pixel-origins-sync-token-0123456789abcdefgh';
const DEPLOYED = 'https://brand.com';
const SHOP = 'http://localhost:4173';
let dir: string;
let r: LocalRedirector;
let core: Core;

const pageview = (origin: string) =>
  fetch(`${r.url}/api/v1/collect`, { method: 'POST', headers: { origin, 'content-type': 'text/plain' }, body: JSON.stringify({ t: 'pageview', url: `${origin}/` }) });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-pixel-origins-'));
  r = await startLocalRedirector({ dataDir: join(dir, 'redirector'), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_ALLOWED_ORIGINS: DEPLOYED } });
  core = createCore({ dataDir: join(dir, 'desktop'), clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets: memorySecrets(), surface: 'app' });
  expect((await core.call('workspaces.add', { name: 'Shop' })).ok).toBe(true);
}, 60_000);

afterAll(async () => {
  core?.close();
  await r?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('core: pixel origins', () => {
  it('says to connect a redirector first', async () => {
    expect(await core.call('pixel.origins', {})).toMatchObject({ ok: false, error: { code: 'not_found', message: expect.stringContaining('connect one on the Set up screen') } });
  });

  it('lists the refused sites, allows one at once, takes it back, and leaves the deployment’s alone', async () => {
    expect((await core.call('redirector.connect', { url: r.url, token: TOKEN })).ok).toBe(true);
    expect(await core.call('pixel.origins', {})).toEqual({ ok: true, value: { allowed: [], deployment: [DEPLOYED], refused: [], otherRefused: 0 } });

    expect((await pageview(SHOP)).status).toBe(403);
    expect((await pageview(SHOP)).status).toBe(403);
    const seen = await core.call('pixel.origins', {});
    expect(seen.ok && seen.value.refused).toEqual([{ origin: SHOP, count: 2, lastAt: expect.any(Number) }]);

    const allowed = await core.call('pixel.allowOrigin', { origin: `${SHOP}/` });
    expect(allowed).toEqual({ ok: true, value: { allowed: [SHOP], deployment: [DEPLOYED], refused: [], otherRefused: 0 } });
    expect((await pageview(SHOP)).status).toBe(204);
    // Allowing again, or a site the deployment allows, changes nothing.
    expect(await core.call('pixel.allowOrigin', { origin: SHOP })).toEqual(allowed);
    expect(await core.call('pixel.allowOrigin', { origin: DEPLOYED })).toEqual(allowed);

    expect(await core.call('pixel.removeOrigin', { origin: SHOP })).toMatchObject({ ok: true, value: { allowed: [], deployment: [DEPLOYED] } });
    expect((await pageview(SHOP)).status).toBe(403);
    expect(await core.call('pixel.removeOrigin', { origin: DEPLOYED })).toMatchObject({ ok: true, value: { deployment: [DEPLOYED] } });
  });

  it('refuses what is not a site’s origin, in the app’s words', async () => {
    for (const origin of ['brand.com', 'https://brand.com/pricing', 'javascript:alert(1)', 42]) {
      const r2 = await core.call('pixel.allowOrigin', { origin: origin as string });
      expect(r2).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining("scheme, host and port only, e.g. https://brand.com") } });
    }
  });
});
