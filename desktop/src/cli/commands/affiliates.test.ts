import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '@revtrail/shared';
import { periodOf } from '@revtrail/shared/commission/index';
import { runAffiliateLedger } from '../../core/affiliates/ledger';
import { addCharge, addClick } from '../../core/attribution/testing/facts';
import { openDatabase } from '../../core/db/open';

// `revtrail programs|partners|payouts` as a real process. The Stripe and redirector facts are written into
// the workspace database directly and the post-sync ledger run is called in-process; the rest is the CLI.

const dir = mkdtempSync(join(tmpdir(), 'revtrail-affiliates-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BIN = join(import.meta.dirname, '..', '..', '..', 'bin', 'revtrail.mjs');
const EVIL = '=HYPERLINK("http://x","y")';

function cli(args: string[]) {
  const env = { ...process.env, REVTRAIL_HOME: join(dir, 'home'), REVTRAIL_SECRET_KEY_FILE: join(dir, 'key', 'secrets.key'), REVTRAIL_SECRETS: 'file' };
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('revtrail partners, programs and payouts', () => {
  it('adds a program and partners, previews, creates, exports (identically twice) and marks a payout paid', async () => {
    const ws = await cli(['workspace', 'add', 'Shop']);
    expect(ws.code).toBe(0);
    const wsId = /\(([0-9a-f]+)\)/.exec(ws.out)![1]!;

    expect((await cli(['programs', 'add', '--name', 'Partners', '--rate', '20%', '--minimum', 'USD:10.00', '--duration', '12-months', '--from', '2020-01-01'])).out).toContain(
      'Added program "Partners" (prg_partners): 20% of net, 12 months.',
    );
    const evil = await cli(['partners', 'add', '--id', 'evil', '--name', EVIL, '--email', 'evil@example.com', '--paypal', 'evil.pp@example.com']);
    expect(evil).toMatchObject({ code: 0, err: '' });
    expect((await cli(['partners', 'add', '--id', 'jo', '--name', 'Jo', '--email', 'jo@example.com', '--wise-email', 'jo@example.com', '--wise-type', 'institution', '--rate', '30%'])).code).toBe(0);

    // Sales through both partners' links, old enough to be past the 30-day holding period.
    const saleAt = Date.now() - 75 * DAY_MS;
    const period = periodOf(saleAt + 30 * DAY_MS);
    const db = openDatabase(join(dir, 'home', 'workspaces', wsId, 'workspace.sqlite'));
    addClick(db, { id: 'c1', at: saleAt - DAY_MS, visitorId: 'v1', partnerId: 'evil', channel: 'Partners' });
    addCharge(db, { id: 'ch_1', createdAt: saleAt, amountMinor: 12345, currency: 'USD', customerId: 'cus_1', visitorId: 'v1' });
    addClick(db, { id: 'c2', at: saleAt - DAY_MS, visitorId: 'v2', partnerId: 'jo', channel: 'Partners' });
    addCharge(db, { id: 'ch_2', createdAt: saleAt, amountMinor: 10000, currency: 'USD', customerId: 'cus_2', visitorId: 'v2' });
    expect(runAffiliateLedger(db, { now: Date.now(), partnerEmailHashes: new Map() })).toMatchObject({ bound: 2, commissions: 2, approved: 2 });
    db.close();

    const list = await cli(['partners', 'list']);
    expect(list.out).toContain(`evil\t${EVIL}\tactive\tpaypal\tUSD pending 0.00, approved 24.69, paid 0.00`);
    const preview = await cli(['payouts', 'preview', '--period', period]);
    expect(preview.out).toBe(`paypal USD: 24.69 USD to 1 partners\n  evil\t${EVIL}\t24.69 USD\nwise USD: 30.00 USD to 1 partners\n  jo\tJo\t30.00 USD\n`);
    expect((await cli(['payouts', 'preview'])).code).toBe(2);
    const created = await cli(['payouts', 'create', '--period', period]);
    expect(created.out).toContain(`Created po_${period}_paypal_USD: paypal 24.69 USD to 1 partners`);

    // Every format once; PayPal and the statements (HTML and PDF) a second time, from a second process.
    const out = join(dir, 'out');
    for (const round of [1, 2]) {
      const paypal = await cli(['payouts', 'export', '--period', period, '--format', 'paypal', '--out', join(out, String(round))]);
      expect(paypal.code).toBe(0);
      expect((await cli(['payouts', 'export', '--batch', `po_${period}_paypal_USD`, '--format', 'statement', '--out', join(out, String(round))])).code).toBe(0);
    }
    expect((await cli(['payouts', 'export', '--batch', `po_${period}_wise_USD`, '--format', 'wise', '--out', join(out, '1')])).code).toBe(0);
    expect((await cli(['payouts', 'export', '--period', period, '--format', 'csv', '--out', join(out, '1')])).code).toBe(0);
    const files = readdirSync(join(out, '1')).sort();
    expect(files).toEqual([
      `payout-po_${period}_paypal_USD-payouts.csv`,
      `payout-po_${period}_paypal_USD-paypal.csv`,
      `payout-po_${period}_wise_USD-payouts.csv`,
      `payout-po_${period}_wise_USD-wise.csv`,
      `statement-po_${period}_paypal_USD-evil.html`,
      `statement-po_${period}_paypal_USD-evil.pdf`,
    ]);
    const again = readdirSync(join(out, '2'));
    expect(again).toHaveLength(3);
    for (const f of again) expect(readFileSync(join(out, '2', f)).equals(readFileSync(join(out, '1', f))), f).toBe(true);
    expect(readFileSync(join(out, '1', `payout-po_${period}_paypal_USD-paypal.csv`), 'utf8')).toBe(`evil.pp@example.com,24.69,USD,evil,Affiliate commissions for ${period}: 1 commission,PAYPAL\r\n`);
    expect(readFileSync(join(out, '1', `payout-po_${period}_paypal_USD-payouts.csv`), 'utf8')).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(readFileSync(join(out, '1', `payout-po_${period}_wise_USD-wise.csv`), 'utf8')).toContain('Jo,jo@example.com,Commissions ' + period + ',INSTITUTION,source,30.00,USD,USD');
    expect(readFileSync(join(out, '1', `statement-po_${period}_paypal_USD-evil.html`), 'utf8')).toContain('&#39;=HYPERLINK(&quot;http://x&quot;');

    expect((await cli(['payouts', 'mark-paid', '--period', period, '--reference', 'X'])).err).toContain('unpaid batches');
    const paid = await cli(['payouts', 'mark-paid', '--batch', `po_${period}_paypal_USD`, '--reference', 'PAYPAL-BATCH-1']);
    expect(paid.out).toContain(`Marked po_${period}_paypal_USD paid (PAYPAL-BATCH-1): 24.69 USD to 1 partners.`);
    expect((await cli(['payouts', 'list'])).out).toMatch(new RegExp(`po_${period}_paypal_USD\tpaypal\t24.69 USD\t1 partners\tpaid \\d{4}-\\d{2}-\\d{2} \\(PAYPAL-BATCH-1\\)`));
    const commissions = await cli(['commissions', 'list', '--state', 'paid', '--json']);
    expect(JSON.parse(commissions.out)).toMatchObject([{ partnerId: 'evil', chargeId: 'ch_1', amountMinor: 2469, state: 'paid' }]);
    expect((await cli(['partners', 'show', 'jo'])).out).toContain('Program Partners: 30% of net, 12 months (partner override)');
  }, 300_000);
});
