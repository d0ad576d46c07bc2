import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCore } from '../core';
import { memorySecrets } from '../privacy/testing';
import type { Surface } from '../surface';
import { checkGraphBase } from './handlers';

// meta.* refusals in each reader's terms, and where the access token may be sent.
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function refusals(surface: Surface) {
  const dir = mkdtempSync(join(tmpdir(), `revtrail-meta-msg-${surface}-`));
  dirs.push(dir);
  const core = createCore({ dataDir: dir, clock: { now: () => 1_800_000_000_000 }, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets: memorySecrets(), surface });
  try {
    await core.call('workspaces.add', { name: 'Shop' });
    const messages = [
      await core.call('meta.setForwarding', { workspace: 'Shop', on: true }),
      await core.call('meta.connect', { workspace: 'Shop', pixelId: '12a', token: 'short', testEventCode: 'no spaces please' }),
      await core.call('meta.events', { workspace: 'Shop', state: 'lost' as never }),
      await core.call('meta.events', { workspace: 'Shop', limit: 0 }),
    ].map((r) => (r.ok ? 'ok' : r.error.message));
    const status = await core.call('meta.status', { workspace: 'Shop' });
    return { messages, status };
  } finally {
    core.close();
  }
}

describe('meta.* messages', () => {
  it('name the Settings screen in the app and the command in a terminal', async () => {
    const app = await refusals('app');
    expect(app.messages[0]).toBe('Connect Meta for "Shop" first, with its pixel id and a Conversions API access token, in the Meta Conversions API section of the Settings screen.');
    expect(app.messages.filter((m) => /revtrail [a-z]|`|--[a-z]/.test(m))).toEqual([]);
    expect(app.messages[1]).toMatch(/^pixel id: .*digits only; access token: paste the whole token .*; test event code: as Events Manager shows it/);
    expect(app.messages.slice(2)).toEqual(['state: one of pending, sending, sent, skipped, failed', 'limit: a whole number from 1 to 5000']);
    expect(app.status).toMatchObject({ ok: true, value: { connected: false, enabled: false, graphBase: 'https://graph.facebook.com', apiVersion: 'v25.0' } });
    const cli = await refusals('cli');
    expect(cli.messages[0]).toContain('with `revtrail connect meta --pixel-id N`');
  });
});

describe('the Graph API address', () => {
  it.each([
    [undefined, 'https://graph.facebook.com'],
    [null, 'https://graph.facebook.com'],
    ['https://graph.facebook.com/', 'https://graph.facebook.com'],
    ['http://127.0.0.1:4321', 'http://127.0.0.1:4321'],
    ['http://localhost:4321/', 'http://localhost:4321'],
  ])('takes %j as %s', (raw, origin) => {
    expect(checkGraphBase(raw)).toEqual({ ok: true, value: origin });
  });

  it.each(['http://graph.facebook.com', 'http://192.168.1.2', 'https://u:p@graph.facebook.com', 'https://graph.facebook.com/v25.0', 'https://graph.facebook.com/?x=1', 'ftp://x', 'nonsense'])('refuses %j: the token would go there', (raw) => {
    expect(checkGraphBase(raw).ok).toBe(false);
  });
});
