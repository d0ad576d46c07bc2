import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pino from 'pino';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import { runCli } from '../cli/testing/run-cli';
import { chooseSecretStore } from '../core/secrets/choose';
import { startFakeStripe, type FakeStripe } from '../fake-stripe/server';
import { startBrowserMode } from '../launch/browser-mode';

// The core in its own process, as `npm start` runs it: a Node child speaking over IPC, with the CLI as a
// real process beside it on the same data folder.
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const TOKEN = 'shared-folder-sync-token-0123456789abcdef';
const noKeychain = { PATH: '/nonexistent' };
let dir: string;
let stripe: FakeStripe;
let redirector: LocalRedirector;

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(root, e.name)) : [join(root, e.name)]));
}

/** Every form a secret could sit in a file as: raw, base64, base64url, hex. */
const forms = (secret: string) => {
  const b = Buffer.from(secret, 'utf8');
  return [secret, b.toString('base64'), b.toString('base64url'), b.toString('hex')];
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-core-process-'));
  stripe = await startFakeStripe();
  redirector = await startLocalRedirector({ dataDir: join(dir, 'redirector'), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' } });
}, 60_000);

afterAll(async () => {
  await redirector?.close();
  await stripe?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the core process', () => {
  it('shows the connections the CLI made in the same data folder, and syncs with them', async () => {
    const dataDir = join(dir, 'shared');
    const env = { REVTRAIL_HOME: dataDir, REVTRAIL_SECRET_KEY_FILE: join(dir, 'cli-config', 'secrets.key'), REVTRAIL_STRIPE_API_BASE: stripe.url, PATH: `${noKeychain.PATH}:${process.env.PATH}` };
    expect((await runCli(['workspace', 'add', 'Shared shop'], env)).code).toBe(0);
    expect((await runCli(['connect', 'redirector', '--url', redirector.url], { ...env, REVTRAIL_SYNC_TOKEN: TOKEN })).code).toBe(0);
    const stripeRun = await runCli(['connect', 'stripe'], { ...env, REVTRAIL_STRIPE_KEY: stripe.keys.restricted });
    expect(stripeRun.code, stripeRun.err).toBe(0);

    // Browser mode's own default key location differs: the folder's marker, not the shell, decides.
    const app = await startBrowserMode({ dataDir, log: quiet, secrets: { keyFile: join(dir, 'browser-default.key'), env: noKeychain, safeStorage: false }, stripeApiBase: stripe.url, localRedirector: false, schedule: false, staticDir: dir });
    try {
      const status = (await app.host.call('status.get', {})) as { ok: true; value: { workspaces: { redirector: { connected: boolean }; stripe: { connected: boolean } }[] } };
      expect(status).toMatchObject({ ok: true, value: { workspaces: [{ redirector: { connected: true }, stripe: { connected: true } }] } });
      // A sync runs in the core process's worker, with the secrets the CLI stored; its progress crosses
      // both hops (worker to core process, core process to this one) as the core's own events.
      const progress = new Set<string>();
      const off = app.host.on('sync.progress', (p) => progress.add(`${p.source} ${p.progress.feed}${p.progress.done ? ' done' : ''}`));
      expect(await app.host.call('sync.redirector', {})).toMatchObject({ ok: true });
      expect(await app.host.call('sync.stripe', {})).toMatchObject({ ok: true });
      off();
      expect([...progress]).toEqual(expect.arrayContaining(['redirector clicks done', 'stripe charges done']));
    } finally {
      await app.close();
    }
    // And back: what the app's sync left, the CLI reads.
    const after = await runCli(['status', '--json'], env);
    expect(after.code, after.err).toBe(0);
  }, 90_000);

  it('after a whole journey (embedded redirector, Stripe, syncs) no secret is in any file of the data folder', async () => {
    const dataDir = join(dir, 'journey');
    const keyFile = join(dir, 'journey-config', 'secrets.key');
    const app = await startBrowserMode({
      dataDir,
      log: quiet,
      secrets: { keyFile, env: noKeychain, safeStorage: false },
      stripeApiBase: stripe.url,
      localRedirector: { port: 0, settings: { REVTRAIL_FEED_SETTLE_MS: '0' } },
      schedule: false,
      staticDir: dir,
    });
    try {
      expect(app.host.localRedirector).not.toBeNull();
      const ws = (await app.host.call('workspaces.add', { name: 'Journey shop' })) as { ok: true; value: { id: string } };
      expect(await app.host.call('shell.useLocalRedirector', { workspace: ws.value.id })).toMatchObject({ ok: true });
      expect(await app.host.call('stripe.connect', { workspace: ws.value.id, key: stripe.keys.restricted })).toMatchObject({ ok: true });
      expect(await app.host.call('sync.redirector', { workspace: ws.value.id })).toMatchObject({ ok: true });
      expect(await app.host.call('sync.stripe', { workspace: ws.value.id })).toMatchObject({ ok: true });
      // A bug's message names the log file in the data folder.
      expect(app.host.logFile).toBe(join(dataDir, 'logs', 'revtrail.log'));
    } finally {
      await app.close();
    }

    const store = await chooseSecretStore({ dataDir, keyFile, env: noKeychain });
    if (!store.ok) throw new Error(store.error.message);
    const wsId = (JSON.parse(readFileSync(join(dataDir, 'workspaces.json'), 'utf8')) as { workspaces: { id: string }[] }).workspaces[0]!.id;
    const names = ['local_redirector.sync_token', 'local_redirector.email_hash_key', 'local_redirector.ip_salt_seed', `ws_${wsId}.redirector_token`, `ws_${wsId}.email_hash_key`, `ws_${wsId}.stripe_key`];
    const secrets = await Promise.all(names.map((n) => store.value.get(n)));
    expect(secrets.every((s) => typeof s === 'string' && s.length >= 16)).toBe(true);
    expect(secrets).toContain(stripe.keys.restricted);

    const files = filesUnder(dataDir);
    expect(files.some((f) => f.endsWith('revtrail.log'))).toBe(true);
    expect(files.some((f) => f.endsWith('secrets.json'))).toBe(false);
    const found = files.flatMap((f) => {
      const text = readFileSync(f).toString('latin1');
      return secrets.flatMap((s, i) => forms(s!).filter((form) => text.includes(form)).map(() => `${names[i]} in ${f}`));
    });
    expect(found).toEqual([]);
  }, 120_000);

  it('refuses to start on a folder whose secrets only the app can read, saying what to do', async () => {
    const dataDir = join(dir, 'app-only');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'secrets-backend'), 'safe-storage\n');
    await expect(startBrowserMode({ dataDir, log: quiet, secrets: { keyFile: join(dir, 'k'), env: noKeychain, safeStorage: false }, localRedirector: false, schedule: false, staticDir: dir })).rejects.toThrow(
      /open this data folder in the app/,
    );
  }, 30_000);
});
