import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import { genericCsvFile, paypalPayoutFiles, statementHtml, wiseBatchFiles, type PayoutBatch, type PayoutItem, type Statement } from '@revtrail/shared/commission/index';
import { statementPdf } from './statement-pdf';

// Every export format against a golden file, byte for byte. The batch includes a partner named like a
// spreadsheet formula and one with characters the PDF font cannot draw. After an intended change of a
// format, regenerate with REVTRAIL_UPDATE_GOLDEN=1 and review the diff.

const GOLDEN = join(import.meta.dirname, 'golden');
const UPDATE = process.env.REVTRAIL_UPDATE_GOLDEN === '1';
const EVIL = '=HYPERLINK("http://x","y")';

function golden(name: string, bytes: Uint8Array | string): void {
  const path = join(GOLDEN, name);
  const actual = Buffer.from(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes);
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(path, actual);
  }
  expect(existsSync(path), `golden file ${name} is missing: run with REVTRAIL_UPDATE_GOLDEN=1`).toBe(true);
  expect(actual.equals(readFileSync(path)), `${name} differs from its golden file`).toBe(true);
}

const items: PayoutItem[] = [
  { partnerId: 'evil', name: EVIL, email: '@evil@example.com', paypalEmail: '=evil@example.com', wise: { email: '+evil@example.com', name: EVIL, receiverType: 'PERSON', currency: null }, country: 'US', amountMinor: 12345, commissionMinor: 15000, clawbackMinor: -2655, commissionCount: 3 },
  { partnerId: 'jo-blog', name: 'Jo, "the" Blogger', email: 'jo@example.com', paypalEmail: 'jo.pp@example.com', wise: { email: 'jo@example.com', name: 'Jo Bloggs Ltd', receiverType: 'INSTITUTION', currency: 'EUR' }, country: 'DE', amountMinor: 5000, commissionMinor: 5000, clawbackMinor: 0, commissionCount: 1 },
  { partnerId: 'zoe', name: 'Zoë Łukasz 日本', email: 'zoe@example.com', paypalEmail: 'zoe@example.com', wise: { email: 'zoe@example.com', name: null, receiverType: 'PERSON', currency: null }, country: null, amountMinor: 7, commissionMinor: 7, clawbackMinor: 0, commissionCount: 1 },
];

function batch(method: PayoutBatch['method'], currency = 'USD', its = items): PayoutBatch {
  return {
    id: `po_2026-03_${method}_${currency}`,
    period: '2026-03',
    method,
    currency,
    totalMinor: its.reduce((s, i) => s + i.amountMinor, 0),
    createdAt: Date.UTC(2026, 3, 1, 9, 30),
    timeZone: 'Europe/Berlin',
    reference: method === 'manual' ? 'BANK-2026-04-01' : null,
    paidAt: method === 'manual' ? Date.UTC(2026, 3, 2, 8) : null,
    items: its,
  };
}

const statement: Statement = {
  batch: (({ items: _items, ...head }) => head)({ ...batch('paypal'), reference: 'PP-77', paidAt: Date.UTC(2026, 3, 3) }),
  item: items[0]!,
  payer: 'Shop <Ltd> & Co',
  lines: [
    { id: '01A', kind: 'commission', cause: 'charge', at: Date.UTC(2026, 1, 27, 23, 30), chargeId: 'ch_1', sourceId: 'ch_1', baseMinor: 50000, amountMinor: 10000 },
    { id: '01B', kind: 'commission', cause: 'charge', at: Date.UTC(2026, 2, 3), chargeId: 'ch_2', sourceId: 'ch_2', baseMinor: 20000, amountMinor: 4000 },
    { id: '01C', kind: 'reversal', cause: 'refund', at: Date.UTC(2026, 2, 4), chargeId: 'ch_2', sourceId: 're_2', baseMinor: 5000, amountMinor: -1000 },
    { id: '01D', kind: 'commission', cause: 'charge', at: Date.UTC(2026, 2, 5), chargeId: 'ch_3', sourceId: 'ch_3', baseMinor: 10000, amountMinor: 2000 },
    { id: '01E', kind: 'clawback', cause: 'dispute', at: Date.UTC(2026, 2, 9), chargeId: 'ch_0', sourceId: 'dp_0', baseMinor: 13275, amountMinor: -2655 },
  ],
};

const ok = <T,>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

describe('export formats (golden files)', () => {
  it('PayPal Payouts CSV, USD and JPY', () => {
    const usd = ok(paypalPayoutFiles(batch('paypal')));
    expect(usd).toHaveLength(1);
    golden('paypal-usd.csv', usd[0]!.text);
    golden('paypal-jpy.csv', ok(paypalPayoutFiles(batch('paypal', 'JPY')))[0]!.text);
  });

  it('Wise batch CSV, default header', () => {
    golden('wise-usd.csv', ok(wiseBatchFiles(batch('wise')))[0]!.text);
  });

  it('generic CSV', () => {
    golden('payouts-manual.csv', genericCsvFile(batch('manual')).text);
  });

  it('statement HTML', () => {
    golden('statement.html', statementHtml(statement).text);
  });

  it('statement PDF: identical bytes on every export', async () => {
    const a = await statementPdf(statement);
    const b = await statementPdf(statement);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    const read = await PDFDocument.load(a.bytes, { updateMetadata: false });
    expect([read.getProducer(), read.getCreator(), read.getCreationDate()?.getTime(), read.getModificationDate()?.getTime(), read.getPageCount()]).toEqual([
      'Revtrail',
      'Revtrail',
      statement.batch.createdAt,
      statement.batch.createdAt,
      1,
    ]);
    golden('statement.pdf', a.bytes);
  });
});
