import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE_VID, TOKEN } from '../../core/privacy/testing';
import { runCli } from '../testing/run-cli';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';

// `revtrail privacy` and `revtrail backup` as a real process against a local redirector.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-privacy-cli-'));
let r: LocalRedirector;
const env = { REVTRAIL_HOME: join(dir, 'home'), REVTRAIL_SECRET_KEY_FILE: join(dir, 'key', 'secrets.key'), REVTRAIL_SECRETS: 'file' };
const cli = (args: string[], stdin = '') => runCli(args, env, stdin);

beforeAll(async () => {
  r = await startLocalRedirector({ dataDir: join(dir, 'redirector'), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' } });
  expect((await cli(['workspace', 'add', 'Shop'])).code).toBe(0);
  expect((await cli(['connect', 'redirector', '--url', r.url], TOKEN)).code).toBe(0);
  await fetch(`${r.url}/api/v1/links/spring`, { method: 'PUT', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ destination: 'https://brand.com/', channel: 'Newsletter' }) });
  await fetch(`${r.url}/spring`, { redirect: 'manual', headers: { cookie: `rt_vid=${ALICE_VID}`, 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0 Safari/537.36' } });
  await r.app.revtrail.recorder.flush();
  await r.replaySpill();
  expect((await cli(['sync'])).code).toBe(0);
}, 60_000);

afterAll(async () => {
  await r?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revtrail privacy', () => {
  it('finds, exports into --out, erases and logs; a malformed identifier exits 2 with what one looks like', async () => {
    const found = await cli(['privacy', 'find', '--visitor', ALICE_VID]);
    expect(found.code).toBe(0);
    expect(found.out).toMatch(/Here: 1 clicks\./);

    const json = await cli(['privacy', 'find', '--visitor', ALICE_VID, '--json']);
    expect(JSON.parse(json.out)).toMatchObject({ scope: 'visitor', local: { clicks: 1 } });

    const out = join(dir, 'export');
    const exported = await cli(['privacy', 'export', '--visitor', ALICE_VID, '--out', out]);
    expect(exported.code).toBe(0);
    const [jsonFile, htmlFile] = exported.out.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim());
    expect(JSON.parse(readFileSync(jsonFile!, 'utf8')).records.clicks.items).toHaveLength(1);
    expect(readFileSync(htmlFile!, 'utf8')).toContain('Clicks on tracking links');

    const erased = await cli(['privacy', 'erase', '--visitor', ALICE_VID]);
    expect(erased.code).toBe(0);
    expect(erased.out).toMatch(/Erased 1 records here/);
    expect((await cli(['privacy', 'find', '--visitor', ALICE_VID])).out).toMatch(/Found 0 records/);

    const bad = await cli(['privacy', 'erase', '--email', 'not-an-email']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/name@example\.com/);
    const none = await cli(['privacy', 'find']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/exactly one/);

    const log = await cli(['privacy', 'log']);
    expect(log.out.split('\n').filter((l) => /\tfind\t|\texport\t|\terase\t/.test(l)).length).toBeGreaterThanOrEqual(4);
    expect(log.out).not.toContain(ALICE_VID);
  }, 60_000);

  it('creates, lists and restores a backup', async () => {
    const made = await cli(['backup', 'create']);
    expect(made.code).toBe(0);
    const file = /Backup written: (\S+\.rtbak)/.exec(made.out)![1]!;
    expect((await cli(['backup', 'list'])).out).toContain(file);
    const restored = await cli(['backup', 'restore', file]);
    expect(restored.code).toBe(0);
    expect(restored.out).toMatch(/Restored the backup/);
    const missing = await cli(['backup', 'restore', join(dir, 'nope.rtbak')]);
    expect(missing.code).toBe(3);
  }, 60_000);
});
