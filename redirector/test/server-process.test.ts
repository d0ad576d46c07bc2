import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killRedirectorProcesses, startRedirectorProcess } from './redirector-process';

// `npm run redirector` as a user runs it, from the repository root, as a real process.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-server-'));
afterAll(() => {
  killRedirectorProcesses();
  rmSync(dir, { recursive: true, force: true });
});

const start = (args: string[], env: Record<string, string> = {}) =>
  startRedirectorProcess(args, { via: 'npm', env: { ...env, REVTRAIL_SYNC_TOKEN: '' } });

describe('npm run redirector', () => {
  it('starts on the embedded store, prints the token once, keeps data across restarts, stops cleanly', async () => {
    const first = start(['--port', '0', '--data-dir', dir]);
    const url = await first.listening();
    const token = /sync token \(shown once; kept in .*secrets\.json\): (\S+)/.exec(first.output())?.[1];
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'dynamodb'))).toBe(true);

    const put = await fetch(`${url}/api/v1/links/hello`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ destination: 'https://example.com/', channel: 'Newsletter' }),
    });
    expect(put.status).toBe(201);
    const click = await fetch(`${url}/hello`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0' } });
    expect(click.status).toBe(302);
    expect(click.headers.get('set-cookie')).toMatch(/^rt_vid=/);
    expect([0, 'SIGTERM']).toContain(await first.stop('SIGTERM'));

    const second = start(['--port', '0', '--data-dir', dir]);
    const url2 = await second.listening();
    expect(second.output()).not.toContain('sync token');
    const links = await fetch(`${url2}/api/v1/links`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await links.json()) as { items: { slug: string }[] }).items.map((l) => l.slug)).toEqual(['hello']);
    // The click comes back once the journal is ingested and the feed's 5 s settle time has passed.
    const clicks = async () =>
      ((await (await fetch(`${url2}/api/v1/clicks`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: unknown[] }).items.length;
    await expect.poll(clicks, { timeout: 20_000, interval: 500 }).toBe(1);
    expect([0, 'SIGINT']).toContain(await second.stop('SIGINT'));
  }, 60_000);

  it.each([
    [['--port', 'eighty'], /--port must be a port number/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('refuses %j with a usage message and exit code 2, no stack trace', async (args, message) => {
    const run = start([...args, '--data-dir', dir]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(message);
    expect(run.output()).toContain('Usage: npm run redirector');
    expect(run.output()).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('refuses an invalid setting with the reason', async () => {
    const run = start(['--port', '0', '--data-dir', dir], { REVTRAIL_ALLOWED_ORIGINS: 'brand.com' });
    expect(await run.exited).toBe(2);
    expect(run.output()).toContain('REVTRAIL_ALLOWED_ORIGINS: "brand.com" is not an origin');
  }, 30_000);
});
