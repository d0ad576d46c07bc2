import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGraph, type FakeGraph } from '../../fake-meta/server';
import { runCli } from '../testing/run-cli';

// `revtrail connect meta` and `revtrail meta ...` as real processes on a fresh data folder.
let dir: string;
let graph: FakeGraph;
const env = () => ({ REVTRAIL_HOME: join(dir, 'home'), REVTRAIL_SECRET_KEY_FILE: join(dir, 'key', 'secrets.key'), REVTRAIL_SECRETS: 'file', REVTRAIL_META_TOKEN: '' });
const cli = (args: string[], stdin = '') => runCli(args, env(), stdin);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-meta-cli-'));
  graph = await startFakeGraph();
  expect((await cli(['workspace', 'add', 'Shop'])).code).toBe(0);
}, 30_000);
afterAll(async () => {
  await graph?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revtrail meta', () => {
  it('refuses to switch on before Meta is connected, saying how', async () => {
    const on = await cli(['meta', 'on']);
    expect(on.code).toBe(3);
    expect(on.err).toContain('revtrail connect meta --pixel-id N');
    expect((await cli(['meta', 'status'])).out).toMatch(/^Meta: not connected .*\nForwarding: off\./);
  }, 30_000);

  it('connects with the token on standard input (never in argv), off until `meta on`, and back off', async () => {
    const bad = await cli(['connect', 'meta', '--pixel-id', 'abc'], 'short\n');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/pixel id: .* digits only; access token: paste the whole token/);
    expect((await cli(['connect', 'meta'], `${graph.token}\n`)).err).toMatch(/connect meta needs --pixel-id/);
    expect((await cli(['connect', 'meta', '--pixel-id', graph.pixelId])).err).toMatch(/No access token given: set REVTRAIL_META_TOKEN or pipe it/);
    expect((await cli(['connect', 'meta', '--pixel-id', graph.pixelId, '--graph-url', 'http://example.com'], `${graph.token}\n`)).err).toMatch(/must use https \(plain http only to this machine/);

    const connected = await cli(['connect', 'meta', '--pixel-id', graph.pixelId, '--test-event-code', 'TEST4242', '--graph-url', graph.url], `${graph.token}\n`);
    expect(connected.err).toBe('');
    expect(connected.code).toBe(0);
    expect(connected.out).toContain(`Meta: pixel ${graph.pixelId}, test event code TEST4242, Graph API v25.0 at ${graph.url}.`);
    expect(connected.out).toContain('Forwarding: off.');
    expect(connected.out).toContain('Turn forwarding on with `revtrail meta on`.');

    const on = await cli(['meta', 'on', '--json']);
    expect(on.code).toBe(0);
    expect(JSON.parse(on.out)).toMatchObject({ connected: true, enabled: true, pixelId: graph.pixelId, apiVersion: 'v25.0' });
    expect((await cli(['meta', 'status'])).out).toMatch(/Forwarding: on since \d{4}-\d\d-\d\dT.*Z\.\nEvents: 0 sent, 0 waiting, 0 refused by Meta, 0 skipped\./);
    expect((await cli(['meta', 'events'])).out).toBe('No events for Meta yet.\n');
    expect((await cli(['meta', 'send'])).out).toBe('Meta: 0 new in the outbox, 0 sent, 0 to retry, 0 refused, 0 skipped as too old.\n');
    expect((await cli(['meta', 'off'])).out).toContain('Forwarding: off.');
    expect(graph.log).toEqual([]);
  }, 60_000);

  it('says what it takes for a bad subcommand or option', async () => {
    expect((await cli(['meta', 'maybe'])).err).toMatch(/Unknown command "meta maybe": use meta on, off, status, events or send\./);
    expect((await cli(['meta', 'events', '--state', 'lost'])).err).toMatch(/--state is one of pending, sending, sent, skipped, failed\./);
    expect((await cli(['meta', 'events', '--limit', '0'])).code).toBe(2);
  }, 30_000);
});
