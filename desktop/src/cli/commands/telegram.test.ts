import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TELEGRAM_WEBHOOK_PATH } from '@revtrail/shared';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram, startMessage, starsPaymentMessage, type FakeBot, type FakeTelegram } from '../../fake-telegram/server';
import { runCli } from '../testing/run-cli';

// `revtrail connect telegram`, `telegram status|secret`, a bot link, and the channel report with its Stars, as real
// processes against a started local redirector and the fake Bot API.
const TOKEN = 'cli-telegram-token-0123456789abcdefghijkl';
const USER = 901_234_567;
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
let dir: string;
let r: LocalRedirector;
let tg: FakeTelegram;
let bot: FakeBot;

const cli = (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) =>
  runCli(args, { REVTRAIL_HOME: join(dir, 'home'), REVTRAIL_SECRET_KEY_FILE: join(dir, 'home', 'secrets.key'), REVTRAIL_SECRETS: 'file', REVTRAIL_TELEGRAM_BOT_TOKEN: '', ...opts.env }, opts.stdin);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-cli-telegram-'));
  r = await startLocalRedirector({ dataDir: join(dir, 'redirector'), port: 0, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' } });
  tg = await startFakeTelegram();
  bot = tg.createBot('cli_shop_bot');
  expect((await cli(['workspace', 'add', 'Shop'])).code).toBe(0);
  expect((await cli(['connect', 'redirector', '--url', r.url], { stdin: `${TOKEN}\n` })).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await tg?.close();
  await r?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revtrail connect telegram', () => {
  it('takes the bot token on stdin, points the bot at the redirector, and the report shows its starts and Stars', async () => {
    const bad = await cli(['connect', 'telegram', '--api-base', tg.url], { stdin: 'nope\n' });
    expect([bad.code, bad.err]).toEqual([2, expect.stringContaining('That is not a bot token')]);
    expect((await cli(['connect', 'telegram', '--api-base', tg.url])).err).toContain('No bot token given');

    const ok = await cli(['connect', 'telegram', '--api-base', tg.url], { stdin: `${bot.token}\n` });
    expect([ok.code, ok.err]).toEqual([0, '']);
    expect(ok.out).toContain(`Telegram bot @cli_shop_bot (bot ${bot.id}); its endpoint on the redirector: ${r.url}${TELEGRAM_WEBHOOK_PATH}`);
    expect(ok.out).toContain('revtrail links set <slug> --telegram-bot cli_shop_bot --channel NAME');
    expect(tg.webhookOf(bot.token)?.url).toBe(`${r.url}${TELEGRAM_WEBHOOK_PATH}`);

    // A secret goes only into a pipe (runCli's stdout is one): the token, exactly.
    const secret = await cli(['telegram', 'secret', 'bot-token']);
    expect([secret.code, secret.out]).toEqual([0, `${bot.token}\n`]);
    expect((await cli(['telegram', 'secret', 'forward'])).out).toBe('unset\n');
    expect((await cli(['telegram', 'secret', 'everything'])).code).toBe(2);

    expect((await cli(['links', 'set', 'tg', '--telegram-bot', 'cli_shop_bot', '--channel', 'Telegram ads'])).code).toBe(0);
    const click = await fetch(`${r.url}/tg`, { redirect: 'manual', headers: { 'user-agent': UA } });
    const token = new URL(click.headers.get('location')!).searchParams.get('start')!;
    await r.app.revtrail.recorder.flush();
    await r.replaySpill();
    expect((await tg.sendUpdate(bot.token, startMessage(USER, token))).status).toBe(200);
    expect((await tg.sendUpdate(bot.token, starsPaymentMessage(USER, 1200))).status).toBe(200);
    expect((await cli(['sync', '--redirector'])).code).toBe(0);

    const report = await cli(['report', 'channels']);
    expect(report.code).toBe(0);
    const header = report.out.split('\n').find((l) => l.startsWith('Channel '))!;
    expect(header).toMatch(/Bot starts\s+Stars$/);
    expect(report.out.split('\n').find((l) => l.startsWith('Telegram ads'))).toMatch(/\s1\s+1,200 Stars$/);
    expect(report.out).toContain('never converted, so not in Gross or Net');

    const status = await cli(['telegram', 'status']);
    expect(status.out).toContain(`Its webhook points at the redirector: ${r.url}${TELEGRAM_WEBHOOK_PATH}.`);
    expect(status.out).toContain('Redirector: 1 starts and 1 payments kept');
    expect(status.out).toContain('Here: 1 bot starts, 1 payments');

    const erased = await cli(['privacy', 'erase', '--telegram', String(USER)]);
    expect([erased.code, erased.out]).toEqual([0, expect.stringMatching(/^Erased \d+ records here and \d+ on the redirector\./)]);
    expect((await cli(['privacy', 'find', '--telegram', '@someone'])).code).toBe(2);

    // No secret in the CLI's log.
    const logs = join(dir, 'home', 'logs');
    const log = readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8')).join('\n');
    expect(log).not.toContain(bot.token.split(':')[1]);
  }, 120_000);
});
