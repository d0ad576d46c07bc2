/**
 * Payout files from a payout batch (REFERENCE.md "Payout files"): PayPal Payouts CSV, Wise batch CSV, a
 * generic CSV, and the per-partner statement (HTML here; the PDF is drawn from the same statement rows in
 * the desktop, where pdf-lib lives). Pure functions of the batch: the same batch gives the same bytes.
 * Amounts are integer minor units written with the currency's digits, so each file's amounts sum exactly
 * to its batch's; every text cell goes through formulaSafe, in every format.
 */
import { formulaSafe, toCsv, type CsvValue } from '../csv';
import { formatMinor } from '../money';
import { err, ok, type Result } from '../result';
import { dayIn } from './period';
import type { PayoutMethod } from './payout-run';
import type { LineKind } from './states';

export interface WiseDetails {
  email: string;
  /** The account holder's name when it differs from the partner's. */
  name: string | null;
  receiverType: 'PERSON' | 'INSTITUTION';
  /** The currency the partner receives; the batch's when null. */
  currency: string | null;
}

/** A partner's payout as the batch recorded it (recipient details are a snapshot taken when the batch was made). */
export interface PayoutItem {
  partnerId: string;
  name: string;
  email: string;
  paypalEmail: string | null;
  wise: WiseDetails | null;
  country: string | null;
  amountMinor: number;
  commissionMinor: number;
  clawbackMinor: number;
  commissionCount: number;
}

export interface PayoutBatch {
  id: string;
  period: string;
  method: PayoutMethod;
  currency: string;
  totalMinor: number;
  createdAt: number;
  /** The IANA zone the period's dates are in. */
  timeZone: string;
  reference: string | null;
  paidAt: number | null;
  items: PayoutItem[];
}

export interface ExportFile {
  name: string;
  mediaType: string;
  text: string;
}

export const PAYPAL_MAX_ROWS = 5000;
export const PAYPAL_CUSTOMER_ID_MAX = 30;
export const PAYPAL_NOTE_MAX = 400;
export const WISE_MAX_ROWS = 1000;
export const WISE_REFERENCE_MAX = 35;
export const WISE_DEFAULT_HEADER = ['name', 'recipientEmail', 'paymentReference', 'receiverType', 'amountCurrency', 'amount', 'sourceCurrency', 'targetCurrency'] as const;
export type WiseColumn = (typeof WISE_DEFAULT_HEADER)[number];
export const GENERIC_HEADER = ['payout_id', 'period', 'partner', 'email', 'method', 'currency', 'amount', 'commission_count', 'clawbacks', 'reference'] as const;

/** Neutralised first, then cut to `max` code points (no dangling space), so the limit holds for what the file really carries. */
const safeText = (text: string, max: number): string => [...formulaSafe(text)].slice(0, max).join('').trimEnd();

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out.length ? out : [[]];
}

const fileName = (batch: PayoutBatch, format: string, part: number, parts: number, ext: string) =>
  `payout-${batch.id}-${format}${parts > 1 ? `-part-${part}-of-${parts}` : ''}.${ext}`;

function checkTotal(batch: PayoutBatch): void {
  const sum = batch.items.reduce((s, i) => s + i.amountMinor, 0);
  if (sum !== batch.totalMinor) throw new Error(`batch ${batch.id}: items sum to ${sum}, the batch says ${batch.totalMinor}`);
}

/** The note on a PayPal payout, as the partner sees it. */
export const defaultPayoutNote = (batch: PayoutBatch, item: PayoutItem): string =>
  `Affiliate commissions for ${batch.period}: ${item.commissionCount} commission${item.commissionCount === 1 ? '' : 's'}`;

/**
 * PayPal Payouts web upload: no header; recipient, amount, currency, customer id (the partner id, at
 * most 30 characters, no spaces), note (at most 400), PAYPAL. One currency per file (a batch has one),
 * at most 5,000 rows a file.
 */
export function paypalPayoutFiles(batch: PayoutBatch, opts: { maxRows?: number; note?: (batch: PayoutBatch, item: PayoutItem) => string } = {}): Result<ExportFile[]> {
  if (batch.method !== 'paypal') return err('invalid_input', `Batch ${batch.id} pays by ${batch.method}, not PayPal: export it as wise or csv.`);
  checkTotal(batch);
  const missing = batch.items.filter((i) => !i.paypalEmail);
  if (missing.length) return err('invalid_input', `No PayPal email for ${missing.map((i) => i.partnerId).join(', ')}.`);
  const note = opts.note ?? defaultPayoutNote;
  const parts = chunks(batch.items, opts.maxRows ?? PAYPAL_MAX_ROWS);
  return ok(
    parts.map((items, i) => ({
      name: fileName(batch, 'paypal', i + 1, parts.length, 'csv'),
      mediaType: 'text/csv',
      text: toCsv(
        items.map((item) => [
          safeText(item.paypalEmail!, 254),
          formatMinor(item.amountMinor, batch.currency),
          batch.currency.toUpperCase(),
          safeText(item.partnerId.replace(/\s+/g, ''), PAYPAL_CUSTOMER_ID_MAX),
          safeText(note(batch, item), PAYPAL_NOTE_MAX),
          'PAYPAL',
        ]),
      ),
    })),
  );
}

/** The reference a Wise transfer carries (at most 35 characters). */
export const defaultWiseReference = (batch: PayoutBatch): string => `Commissions ${batch.period}`;

/**
 * Wise batch transfer CSV: a header row (the default is REFERENCE.md's, which the user should check
 * against the template Wise gives them; any order or subset of its columns is accepted), at most 1,000
 * transfers a file. Amounts are in the source (batch) currency.
 */
export function wiseBatchFiles(batch: PayoutBatch, opts: { header?: readonly string[]; maxRows?: number; reference?: (batch: PayoutBatch, item: PayoutItem) => string } = {}): Result<ExportFile[]> {
  if (batch.method !== 'wise') return err('invalid_input', `Batch ${batch.id} pays by ${batch.method}, not Wise: export it as paypal or csv.`);
  checkTotal(batch);
  const header = opts.header ?? WISE_DEFAULT_HEADER;
  const unknown = header.filter((c) => !(WISE_DEFAULT_HEADER as readonly string[]).includes(c));
  if (unknown.length) return err('invalid_input', `Unknown Wise column${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: Revtrail fills ${WISE_DEFAULT_HEADER.join(', ')}.`);
  if (!header.includes('amount') || !header.includes('recipientEmail')) return err('invalid_input', 'A Wise header needs at least the amount and recipientEmail columns.');
  const missing = batch.items.filter((i) => !i.wise);
  if (missing.length) return err('invalid_input', `No Wise details for ${missing.map((i) => i.partnerId).join(', ')}.`);
  const reference = opts.reference ?? defaultWiseReference;
  const currency = batch.currency.toUpperCase();
  const cell = (item: PayoutItem, column: WiseColumn): CsvValue => {
    const wise = item.wise!;
    switch (column) {
      case 'name':
        return safeText(wise.name ?? item.name, 200);
      case 'recipientEmail':
        return safeText(wise.email, 254);
      case 'paymentReference':
        return safeText(reference(batch, item), WISE_REFERENCE_MAX);
      case 'receiverType':
        return wise.receiverType;
      case 'amountCurrency':
        return 'source';
      case 'amount':
        return formatMinor(item.amountMinor, currency);
      case 'sourceCurrency':
        return currency;
      case 'targetCurrency':
        return (wise.currency ?? currency).toUpperCase();
    }
  };
  const parts = chunks(batch.items, opts.maxRows ?? WISE_MAX_ROWS);
  return ok(
    parts.map((items, i) => ({
      name: fileName(batch, 'wise', i + 1, parts.length, 'csv'),
      mediaType: 'text/csv',
      text: toCsv([header.map((h) => safeText(h, 100)), ...items.map((item) => header.map((h) => cell(item, h as WiseColumn)))]),
    })),
  );
}

/** The address a payout goes to under the batch's method. */
export function recipientOf(method: PayoutMethod, item: PayoutItem): string {
  if (method === 'paypal') return item.paypalEmail ?? item.email;
  if (method === 'wise') return item.wise?.email ?? item.email;
  return item.email;
}

/** The generic CSV for paying by hand: one row per partner; clawbacks is the amount deducted (positive). */
export function genericCsvFile(batch: PayoutBatch): ExportFile {
  checkTotal(batch);
  const rows: CsvValue[][] = [
    [...GENERIC_HEADER],
    ...batch.items.map((item) => [
      safeText(`${batch.id}/${item.partnerId}`, 200),
      batch.period,
      safeText(item.name, 200),
      safeText(recipientOf(batch.method, item), 254),
      batch.method,
      batch.currency,
      formatMinor(item.amountMinor, batch.currency),
      item.commissionCount,
      formatMinor(-item.clawbackMinor, batch.currency),
      batch.reference === null ? '' : safeText(batch.reference, 200),
    ]),
  ];
  return { name: fileName(batch, 'payouts', 1, 1, 'csv'), mediaType: 'text/csv', text: toCsv(rows) };
}

// ---- statements ----

export type LineCause = 'charge' | 'refund' | 'dispute';

/** One ledger line paid (or netted) in the payout. */
export interface StatementLine {
  id: string;
  kind: LineKind;
  cause: LineCause;
  at: number;
  chargeId: string;
  /** The refund or dispute behind a reversal or clawback; the charge for a commission. */
  sourceId: string;
  /** The charge money the line is on (for a take-back: the money refunded or lost). */
  baseMinor: number;
  amountMinor: number;
}

export interface Statement {
  batch: Omit<PayoutBatch, 'items'>;
  item: PayoutItem;
  lines: StatementLine[];
  /** Who pays: the workspace's name. */
  payer: string;
}

/** The statement as text cells, shared by the HTML and the PDF: every cell already formula-safe. */
export interface StatementTable {
  title: string;
  facts: [label: string, value: string][];
  header: string[];
  rows: string[][];
  totals: [label: string, value: string][];
  footnote: string;
}

function describe(line: StatementLine): string {
  if (line.kind === 'commission') return `Commission on charge ${line.chargeId}`;
  const what = line.cause === 'refund' ? `refund ${line.sourceId}` : line.cause === 'dispute' ? `dispute ${line.sourceId} lost` : `charge ${line.chargeId}`;
  return line.kind === 'reversal' ? `Reversal: ${what} of charge ${line.chargeId}` : `Clawback: ${what} of charge ${line.chargeId}, paid out before`;
}

const KIND_ORDER: Record<LineKind, number> = { commission: 0, reversal: 1, clawback: 2 };

export function statementTable(s: Statement): StatementTable {
  const { batch, item } = s;
  const sum = s.lines.reduce((a, l) => a + l.amountMinor, 0);
  if (sum !== item.amountMinor) throw new Error(`statement of ${item.partnerId} in ${batch.id}: lines sum to ${sum}, the payout is ${item.amountMinor}`);
  // Currency first: "USD -5.00" starts with a letter, so even a negative amount reads as text everywhere.
  const money = (minor: number) => `${batch.currency} ${formatMinor(minor, batch.currency)}`;
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const lines = [...s.lines].sort((a, b) => a.at - b.at || cmp(a.chargeId, b.chargeId) || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || cmp(a.id, b.id));
  const t = (text: string) => formulaSafe(text);
  return {
    title: t(`Commission statement ${batch.period}`),
    facts: [
      ['Partner', t(`${item.name} (${item.partnerId})`)],
      ['Paid to', t(`${recipientOf(batch.method, item)} by ${batch.method === 'manual' ? 'manual payment' : batch.method === 'paypal' ? 'PayPal' : 'Wise'}`)],
      ['From', t(s.payer)],
      ['Payout', t(batch.id)],
      ['Period', t(`${batch.period} (${batch.timeZone})`)],
      ['Prepared', dayIn(batch.createdAt, batch.timeZone)],
      ['Status', batch.paidAt === null ? 'not yet paid' : t(`paid ${dayIn(batch.paidAt, batch.timeZone)}${batch.reference ? `, reference ${batch.reference}` : ''}`)],
    ],
    header: ['Date', 'Line', 'Description', 'On', 'Amount'],
    rows: lines.map((l) => [dayIn(l.at, batch.timeZone), l.kind, t(describe(l)), money(l.baseMinor), t(money(l.amountMinor))]),
    totals: [
      [`Commissions net of reversals (${item.commissionCount})`, t(money(item.commissionMinor))],
      ['Clawbacks', t(money(item.clawbackMinor))],
      ['Payout', t(money(item.amountMinor))],
    ],
    footnote: 'Reversals reduce commissions not yet paid out; clawbacks take back commissions paid in an earlier payout. "On" is the charge money a line is computed on.',
  };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The statement as a standalone HTML page (inline style, no scripts, every text escaped). */
export function statementHtml(s: Statement): ExportFile {
  const t = statementTable(s);
  const e = escapeHtml;
  const html = [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${e(t.title)}</title>`,
    '<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#111}table{border-collapse:collapse;width:100%}' +
      'th,td{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left}td.n,th.n{text-align:right}dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px}' +
      'dt{font-weight:600}small{color:#555}</style>',
    '</head>',
    '<body>',
    `<h1>${e(t.title)}</h1>`,
    '<dl>',
    ...t.facts.map(([k, v]) => `<dt>${e(k)}</dt><dd>${e(v)}</dd>`),
    '</dl>',
    '<table>',
    `<thead><tr>${t.header.map((h, i) => `<th${i >= 3 ? ' class="n"' : ''}>${e(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...t.rows.map((r) => `<tr>${r.map((c, i) => `<td${i >= 3 ? ' class="n"' : ''}>${e(c)}</td>`).join('')}</tr>`),
    '</tbody>',
    `<tfoot>${t.totals.map(([k, v]) => `<tr><th colspan="4">${e(k)}</th><td class="n">${e(v)}</td></tr>`).join('')}</tfoot>`,
    '</table>',
    `<p><small>${e(t.footnote)}</small></p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
  return { name: statementFileName(s, 'html'), mediaType: 'text/html', text: html };
}

export const statementFileName = (s: Statement, ext: 'html' | 'pdf'): string => `statement-${s.batch.id}-${s.item.partnerId}.${ext}`;
