import { describe, expect, it } from 'vitest';
import { parseMajor } from '../money';
import { genericCsvFile, paypalPayoutFiles, statementHtml, statementTable, wiseBatchFiles, type PayoutBatch, type PayoutItem, type Statement } from './exports';

const EVIL = '=HYPERLINK("http://x","y")';

function item(i: number, over: Partial<PayoutItem> = {}): PayoutItem {
  return {
    partnerId: `p${i}`,
    name: `Partner ${i}`,
    email: `p${i}@example.com`,
    paypalEmail: `pp${i}@example.com`,
    wise: { email: `w${i}@example.com`, name: null, receiverType: 'PERSON', currency: null },
    country: 'DE',
    amountMinor: 1000 + i,
    commissionMinor: 1000 + i,
    clawbackMinor: 0,
    commissionCount: 1,
    ...over,
  };
}

function batch(method: PayoutBatch['method'], items: PayoutItem[], currency = 'USD'): PayoutBatch {
  return { id: `po_2026-03-${method}-${currency}`, period: '2026-03', method, currency, totalMinor: items.reduce((s, i) => s + i.amountMinor, 0), createdAt: Date.UTC(2026, 3, 2), timeZone: 'UTC', reference: null, paidAt: null, items };
}

/** Minimal RFC 4180 reader for checking what the writers wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

const FORMULA = /^[=+\-@\t\r]/;

describe('PayPal Payouts CSV', () => {
  it('writes the exact columns with no header', () => {
    const b = batch('paypal', [item(1, { amountMinor: 12345, commissionMinor: 12345, commissionCount: 3 })]);
    const r = paypalPayoutFiles(b);
    expect(r.ok && r.value).toEqual([
      { name: 'payout-po_2026-03-paypal-USD-paypal.csv', mediaType: 'text/csv', text: 'pp1@example.com,123.45,USD,p1,Affiliate commissions for 2026-03: 3 commissions,PAYPAL\r\n' },
    ]);
  });

  it('uses the currency digits: JPY has none, BHD three', () => {
    const jpy = paypalPayoutFiles(batch('paypal', [item(1, { amountMinor: 5000 })], 'JPY'));
    expect(jpy.ok && parseCsv(jpy.value[0]!.text)[0]!.slice(1, 3)).toEqual(['5000', 'JPY']);
    const bhd = paypalPayoutFiles(batch('paypal', [item(1, { amountMinor: 5000 })], 'BHD'));
    expect(bhd.ok && parseCsv(bhd.value[0]!.text)[0]![1]).toBe('5.000');
  });

  it('splits over 5,000 rows into several files whose amounts sum exactly to the batch', () => {
    const b = batch('paypal', Array.from({ length: 10_001 }, (_, i) => item(i)));
    const r = paypalPayoutFiles(b);
    if (!r.ok) throw new Error(r.error.message);
    expect(r.value.map((f) => f.name)).toEqual([1, 2, 3].map((n) => `payout-po_2026-03-paypal-USD-paypal-part-${n}-of-3.csv`));
    const rows = r.value.map((f) => parseCsv(f.text));
    expect(rows.map((x) => x.length)).toEqual([5000, 5000, 1]);
    const sum = rows.flat().reduce((s, row) => s + parseMajor(row[1]!, 'USD')!, 0);
    expect(sum).toBe(b.totalMinor);
    expect(new Set(rows.flat().map((row) => row[3])).size).toBe(10_001);
  });

  it('keeps customer ids within 30 characters without spaces and notes within 400, after neutralising', () => {
    const long = item(1, { partnerId: `-${'x'.repeat(40)}` });
    const r = paypalPayoutFiles(batch('paypal', [long]), { note: () => `+${'n'.repeat(500)}` });
    const row = r.ok ? parseCsv(r.value[0]!.text)[0]! : [];
    expect(row[3]).toHaveLength(30);
    expect(row[3]).toMatch(/^'-x+$/);
    expect(row[4]).toHaveLength(400);
    expect(row[4]!.startsWith("'+")).toBe(true);
  });

  it('refuses a batch of another method, or a partner without a PayPal email', () => {
    expect(paypalPayoutFiles(batch('wise', [item(1)])).ok).toBe(false);
    const r = paypalPayoutFiles(batch('paypal', [item(1, { paypalEmail: null })]));
    expect(!r.ok && r.error.message).toBe('No PayPal email for p1.');
  });
});

describe('Wise batch CSV', () => {
  it('writes the default header and rows, reference within 35 characters', () => {
    const r = wiseBatchFiles(batch('wise', [item(1, { wise: { email: 'acct@example.com', name: 'Jo Bloggs Ltd', receiverType: 'INSTITUTION', currency: 'eur' } })]), {
      reference: () => 'Commissions for March 2026, thanks a lot!',
    });
    expect(r.ok && r.value[0]!.text).toBe(
      'name,recipientEmail,paymentReference,receiverType,amountCurrency,amount,sourceCurrency,targetCurrency\r\n' +
        'Jo Bloggs Ltd,acct@example.com,"Commissions for March 2026, thanks",INSTITUTION,source,10.01,USD,EUR\r\n',
    );
  });

  it('takes the user template header: any order or subset of the known columns', () => {
    const r = wiseBatchFiles(batch('wise', [item(1)]), { header: ['amount', 'recipientEmail', 'name'] });
    expect(r.ok && r.value[0]!.text).toBe('amount,recipientEmail,name\r\n10.01,w1@example.com,Partner 1\r\n');
    const bad = wiseBatchFiles(batch('wise', [item(1)]), { header: ['amount', 'recipientEmail', 'iban'] });
    expect(!bad.ok && bad.error.message).toMatch(/^Unknown Wise column iban/);
    expect(wiseBatchFiles(batch('wise', [item(1)]), { header: ['name'] }).ok).toBe(false);
  });

  it('puts at most 1,000 transfers in a file, each with the header, summing to the batch', () => {
    const b = batch('wise', Array.from({ length: 2500 }, (_, i) => item(i)));
    const r = wiseBatchFiles(b);
    if (!r.ok) throw new Error(r.error.message);
    const files = r.value.map((f) => parseCsv(f.text));
    expect(files.map((rows) => rows.length)).toEqual([1001, 1001, 501]);
    expect(files.every((rows) => rows[0]![0] === 'name')).toBe(true);
    expect(files.flatMap((rows) => rows.slice(1)).reduce((s, row) => s + parseMajor(row[5]!, 'USD')!, 0)).toBe(b.totalMinor);
  });
});

describe('generic CSV', () => {
  it('lists payout id, period, partner, email, method, currency, amount, count, clawbacks, reference', () => {
    const b = { ...batch('manual', [item(1, { amountMinor: 2500, commissionMinor: 4000, clawbackMinor: -1500, commissionCount: 4 })]), reference: 'TXN-9' };
    expect(genericCsvFile(b).text).toBe(
      'payout_id,period,partner,email,method,currency,amount,commission_count,clawbacks,reference\r\n' +
        'po_2026-03-manual-USD/p1,2026-03,Partner 1,p1@example.com,manual,USD,25.00,4,15.00,TXN-9\r\n',
    );
  });

  it('refuses a batch whose items do not add up (a bug upstream)', () => {
    expect(() => genericCsvFile({ ...batch('manual', [item(1)]), totalMinor: 1 })).toThrow(/items sum to 1001/);
  });
});

describe('statements', () => {
  const statement = (over: Partial<PayoutItem> = {}): Statement => {
    const it1 = item(1, { amountMinor: 1500, commissionMinor: 2000, clawbackMinor: -500, commissionCount: 1, ...over });
    return {
      batch: { ...batch('paypal', [it1]), paidAt: Date.UTC(2026, 3, 5), reference: 'PAY-1' },
      item: it1,
      payer: 'Shop',
      lines: [
        { id: 'L2', kind: 'clawback', cause: 'refund', at: Date.UTC(2026, 2, 20), chargeId: 'ch_old', sourceId: 're_1', baseMinor: 2500, amountMinor: -500 },
        { id: 'L1', kind: 'commission', cause: 'charge', at: Date.UTC(2026, 1, 10), chargeId: 'ch_1', sourceId: 'ch_1', baseMinor: 10000, amountMinor: 2500 },
        { id: 'L3', kind: 'reversal', cause: 'dispute', at: Date.UTC(2026, 1, 12), chargeId: 'ch_1', sourceId: 'dp_1', baseMinor: 2500, amountMinor: -500 },
      ],
    };
  };

  it('lists every line by date with totals that match the payout', () => {
    const t = statementTable(statement());
    expect(t.rows).toEqual([
      ['2026-02-10', 'commission', 'Commission on charge ch_1', 'USD 100.00', 'USD 25.00'],
      ['2026-02-12', 'reversal', 'Reversal: dispute dp_1 lost of charge ch_1', 'USD 25.00', 'USD -5.00'],
      ['2026-03-20', 'clawback', 'Clawback: refund re_1 of charge ch_old, paid out before', 'USD 25.00', 'USD -5.00'],
    ]);
    expect(t.totals).toEqual([
      ['Commissions net of reversals (1)', 'USD 20.00'],
      ['Clawbacks', 'USD -5.00'],
      ['Payout', 'USD 15.00'],
    ]);
    expect(() => statementTable({ ...statement(), lines: statement().lines.slice(1) })).toThrow(/lines sum to 2000/);
  });

  it('escapes everything in HTML and neutralises formulas', () => {
    const html = statementHtml(statement({ name: EVIL, paypalEmail: '<script>alert(1)</script>@x.com' })).text;
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;@x.com');
    expect(html).toContain('&#39;=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;) (p1)');
    expect(html).not.toMatch(/>=HYPERLINK/);
  });
});

describe('a partner named like a formula', () => {
  it('comes out as text in every CSV format', () => {
    const evil = item(1, { name: EVIL, partnerId: 'p1', paypalEmail: `${EVIL}@x.com`, email: `@${EVIL}`, wise: { email: `+${EVIL}`, name: EVIL, receiverType: 'PERSON', currency: null } });
    const texts = [
      ...(paypalPayoutFiles(batch('paypal', [evil])) as { ok: true; value: { text: string }[] }).value,
      ...(wiseBatchFiles(batch('wise', [evil])) as { ok: true; value: { text: string }[] }).value,
      genericCsvFile(batch('manual', [evil])),
    ].map((f) => f.text);
    for (const text of texts) {
      for (const row of parseCsv(text)) for (const cell of row) expect(cell).not.toMatch(FORMULA);
      expect(text).toContain(`'=HYPERLINK(""http://x"",""y"")`);
    }
  });
});
