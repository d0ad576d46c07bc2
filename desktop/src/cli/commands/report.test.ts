import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '@revtrail/shared';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { openDatabase } from '../../core/db/open';
import { WorkspaceRegistry } from '../../core/workspaces/registry';
import { SEED_VISITOR_ID } from '../../fake-stripe/seed';
import { startFakeStripe, type FakeStripe } from '../../fake-stripe/server';

// `revtrail report ...` as a real process, over a workspace built by the sync from a local redirector and
// the fake Stripe: the seed's charge that carries revtrail_vid must come back credited to the link clicked.
const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'revtrail.mjs');
const TOKEN = 'report-sync-token-0123456789abcdefghijklmn';
let dir: string;
let r: LocalRedirector;
let fake: FakeStripe;

function cli(args: string[], opts: { stdin?: string } = {}) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: {
        ...process.env,
        REVTRAIL_HOME: join(dir, 'home'),
        REVTRAIL_SECRET_KEY_FILE: join(dir, 'key', 'secrets.key'),
        REVTRAIL_SECRETS: 'file',
        REVTRAIL_SYNC_TOKEN: '',
        REVTRAIL_STRIPE_KEY: '',
        REVTRAIL_STRIPE_API_BASE: fake.url,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end(opts.stdin ?? '');
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-report-cli-'));
  fake = await startFakeStripe({ seed: 'default' });
  // The redirector runs three days behind, so the clicks come before the seed's charge of two days ago.
  r = await startLocalRedirector({ dataDir: join(dir, 'redirector'), port: 0, clock: { now: () => Date.now() - 3 * DAY_MS }, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' } });
  await fetch(`${r.url}/api/v1/links/course`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ destination: 'https://brand.com/course', channel: 'Podcast', campaign: 'pricing' }),
  });
  // The buyer's click (their visitor id is the one the merchant passed into Stripe) and two other visitors.
  for (const cookie of [`rt_vid=${SEED_VISITOR_ID}`, '', '']) {
    await fetch(`${r.url}/course`, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0', cookie } });
  }
  await r.app.revtrail.recorder.flush();
  await r.replaySpill();
  expect((await cli(['workspace', 'add', 'Shop'])).code).toBe(0);
  expect((await cli(['connect', 'redirector', '--url', r.url], { stdin: `${TOKEN}\n` })).code).toBe(0);
  expect((await cli(['connect', 'stripe'], { stdin: `${fake.keys.withoutBalance}\n` })).code).toBe(0);
  const sync = await cli(['sync']);
  expect(sync.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await r?.close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('revtrail report', () => {
  it('prints the channels of the last 30 days as JSON, CSV and a table', async () => {
    const json = await cli(['report', 'channels', '--format', 'json']);
    expect(json.err).toBe('');
    expect(json.code).toBe(0);
    const body = JSON.parse(json.out) as { rows: { channel: string; clicks: number; uniqueVisitors: number; grossMinor: number; conversions: number }[]; unconverted: { rows: number; amounts: { currency: string }[] } };
    expect(body.rows.find((x) => x.channel === 'Podcast')).toMatchObject({ clicks: 3, uniqueVisitors: 3, conversions: 1, grossMinor: 4900 });
    // KWD has no ECB rate, and without the Balance permission no Stripe rate either: counted apart, never 1:1.
    expect(body.unconverted.amounts.map((a) => a.currency)).toContain('KWD');

    const csv = await cli(['report', 'channels', '--format', 'csv']);
    expect(csv.code).toBe(0);
    const lines = csv.out.trimEnd().split('\r\n');
    expect(lines[0]).toBe('Channel,Clicks,Visitors,Customers,Conversions,Gross,Refunds,Disputes,Net,Fees,Conv. rate %,Net per click');
    // Money with its currency's two decimals, never 49 or 0.
    expect(lines).toContain('Podcast,3,3,1,1,49.00,0.00,0.00,49.00,0.00,33.33,16.33');
    // The totals row: clicks added up, visitors left out, customers and money as the report totals them.
    const totals = JSON.parse(json.out) as { totals: { customers: number; grossMinor: number; netMinor: number } };
    const clicks = body.rows.reduce((n, x) => n + x.clicks, 0);
    const cents = (minor: number) => `${Math.trunc(minor / 100)}.${String(Math.abs(minor) % 100).padStart(2, '0')}`;
    expect(lines.at(-1)).toMatch(new RegExp(`^Total,${clicks},,${totals.totals.customers},[\\d.]+,${cents(totals.totals.grossMinor)},[\\d.-]+,[\\d.-]+,${cents(totals.totals.netMinor)},`));
    expect(lines).toHaveLength(body.rows.length + 2);

    const table = await cli(['report', 'channels', '--tz', 'Europe/Berlin']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^Channels, \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2} \(Europe\/Berlin\), last click, USD$/m);
    expect(table.out).toMatch(/^Podcast\s+3\s+3\s+1\s+1\s+49\.00\s+0\.00\s+0\.00\s+49\.00\s+0\.00\s+33\.33\s+16\.33$/m);
    expect(table.out).toMatch(new RegExp(`^-+(  -+){11}\\nTotal\\s+${clicks}\\s+—\\s+${totals.totals.customers}\\s`, 'm'));
    expect(table.out).toContain('Total: visitors are not added up across rows');

    // A zero-decimal currency prints none, and groups thousands.
    const yen = await cli(['report', 'channels', '--currency', 'JPY', '--format', 'json']);
    const yenNet = (JSON.parse(yen.out) as { totals: { netMinor: number } }).totals.netMinor;
    expect(yenNet).toBeGreaterThan(1000);
    const yenTable = await cli(['report', 'channels', '--currency', 'JPY']);
    expect(yenTable.out).toMatch(new RegExp(`^Total\\s.*\\s${yenNet.toLocaleString('en-US')}\\s`, 'm'));
    expect(yenTable.out).toMatch(/^Podcast\s+3\s+3\s+1\s+1\s+[\d,]+\s+0\s+0\s+[\d,]+\s+0\s+33\.33\s+[\d,]+$/m);
    expect(table.out).toMatch(/Not in these totals: \d+ ledger rows that could not be converted to USD \(.*KWD.*\)/);
    expect(table.out).toContain('Net per click: the net credited to the row\'s clicks divided by its clicks');
  }, 60_000);

  it('takes only a currency it can convert to: anything else is bad usage (exit 2) naming the choices', async () => {
    for (const args of [
      ['report', 'channels', '--currency', 'XYZ'],
      ['report', 'campaigns', '--currency', 'xyz', '--format', 'json'],
      ['report', 'journey', '--customer', 'cus_nobody', '--currency', 'XYZ'],
      ['report', 'channels', '--currency', 'BGN'],
      ['report', 'channels', '--currency', 'dollars'],
    ]) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.out).toBe('');
      expect(run.err).toMatch(/^--currency \S+: Revtrail cannot convert money to that\. Choose one of AUD, BRL, .*EUR, .*GBP, .*USD, ZAR \(the euro, the currencies the ECB publishes rates for, and this workspace's own KWD\)\.$/m);
    }
    // An ECB currency in any case, and the workspace's own KWD (its KWD charges 1:1) are taken.
    const eur = await cli(['report', 'channels', '--currency', 'eur']);
    expect(eur.code, eur.err).toBe(0);
    expect(eur.out).toMatch(/^Channels, .*, EUR$/m);
    const kwd = JSON.parse((await cli(['report', 'channels', '--currency', 'KWD', '--format', 'json'])).out) as { currency: string; totals: { grossMinor: number } };
    expect(kwd.currency).toBe('KWD');
    expect(kwd.totals.grossMinor).toBeGreaterThan(0);
  }, 60_000);

  it('prints every other report, and a customer’s journey', async () => {
    for (const name of ['daily', 'links', 'campaigns', 'ltv', 'models']) {
      const run = await cli(['report', name, '--model', 'linear', '--format', 'json']);
      expect(run.code, `${name}: ${run.err}`).toBe(0);
      expect(JSON.parse(run.out)).toHaveProperty('rows');
    }
    const links = JSON.parse((await cli(['report', 'links', '--format', 'json'])).out) as { rows: { slug: string | null; netMinor: number }[] };
    expect(links.rows.find((x) => x.slug === 'course')).toMatchObject({ netMinor: 4900 });

    const db = openDatabase(new WorkspaceRegistry(join(dir, 'home')).databasePath(new WorkspaceRegistry(join(dir, 'home')).list()[0]!.id));
    const customer = (db.prepare(`SELECT customer_id FROM stripe_charges WHERE visitor_id = ?`).get(SEED_VISITOR_ID) as { customer_id: string }).customer_id;
    db.close();
    const journey = await cli(['report', 'journey', '--customer', customer]);
    expect(journey.code).toBe(0);
    expect(journey.out).toContain(`Journey of ${customer}`);
    expect(journey.out).toMatch(/click\s+Podcast \/ course \/ pricing/);
    expect(journey.out).toMatch(/charge\s+ch_\S+\s+49\.00\s+USD\s+Podcast/);
    expect(journey.out).toMatch(/^Net\s+—\s+—\s+\d[\d,]*\.\d{2}\s+USD\s+—$/m);
  }, 60_000);

  it.each([
    [['report'], 2, 'Which report?'],
    [['report', 'bogus'], 2, 'Which report?'],
    [['report', 'channels', '--format', 'xml'], 2, '--format is table, csv or json'],
    [['report', 'channels', '--from', '2025-13-01'], 2, 'from: a day as YYYY-MM-DD'],
    [['report', 'channels', '--model', 'best'], 2, '--model is one of'],
    [['report', 'journey'], 2, 'needs --customer'],
    [['report', 'journey', '--customer', 'cus_nobody'], 3, 'No customer cus_nobody'],
  ])('answers %j with exit %i', async (args, code, message) => {
    const run = await cli(args);
    expect(run.code).toBe(code);
    expect(run.err).toContain(message);
  }, 30_000);
});
