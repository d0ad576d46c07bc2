/**
 * Payout runs over the ledger: the preview (who would be paid what, who is carried forward and why),
 * creating one batch per method and currency (its lines become members: a line is in at most one batch),
 * exporting a batch's files, and marking it paid.
 */
import { err, ok, formatMinor, type Result } from '@revtrail/shared';
import {
  effectiveTerms,
  genericCsvFile,
  minimumFor,
  paypalPayoutFiles,
  periodRange,
  planPayouts,
  statementHtml,
  wiseBatchFiles,
  type BatchPlan,
  type CarriedForward,
  type PartnerBalance,
  type PayoutBatch,
  type PayoutItem,
  type PayoutItemPlan,
  type Statement,
} from '@revtrail/shared/commission/index';
import { getSettings } from '../attribution/settings-repo';
import type { Db } from '../db/open';
import { stepFor, type Surface } from '../surface';
import { approveDue } from './ledger';
import { addBatchMembers, batchIdsLike, batchItems, getBatch, insertBatch, listPartners, listPrograms, payableBalances, payBatch, releasePayable, statementLines } from './repo';
import { statementPdf } from './statement-pdf';
import type { BatchSummary, Partner } from './types';

export interface PayoutPreview {
  period: string;
  timeZone: string;
  from: number;
  to: number;
  batches: (Omit<BatchPlan, 'items'> & { items: (PayoutItemPlan & { name: string })[] })[];
  carried: (CarriedForward & { name: string })[];
}

export type ExportFormat = 'paypal' | 'wise' | 'csv' | 'statement-html' | 'statement-pdf';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['paypal', 'wise', 'csv', 'statement-html', 'statement-pdf'];

/** A file for the caller to save: text as it is, or binary as base64. */
export type ExportedFile = { name: string; mediaType: string; text: string } | { name: string; mediaType: string; base64: string };

/** The zone payout periods are cut in: the reports' zone (attribution settings), UTC by default. */
export const payoutTimeZone = (db: Db): string => getSettings(db).timeZone;

/** Why a partner cannot be paid by its method right now, or null. */
function blockedReason(p: Partner): string | null {
  if (p.status === 'paused') return 'the partner is paused';
  if (p.payoutMethod === 'paypal' && !p.paypalEmail) return 'no PayPal email: add one or choose another payout method';
  if (p.payoutMethod === 'wise' && !p.wise) return 'no Wise details: add them or choose another payout method';
  return null;
}

function plan(db: Db, period: string) {
  const timeZone = payoutTimeZone(db);
  const { from, to } = periodRange(period, timeZone);
  const programs = new Map(listPrograms(db).map((p) => [p.id, p]));
  const partners = new Map(listPartners(db).map((p) => [p.id, p]));
  const balances: PartnerBalance[] = payableBalances(db, to).map((b) => {
    const partner = partners.get(b.partner_id)!;
    const program = programs.get(partner.programId)!;
    return {
      partnerId: b.partner_id,
      currency: b.currency,
      method: partner.payoutMethod,
      commissionMinor: b.commission_minor,
      clawbackMinor: b.clawback_minor,
      commissionCount: b.commission_count,
      minimumMinor: minimumFor(effectiveTerms(program.rules, partner.override), b.currency),
      blocked: blockedReason(partner),
    };
  });
  return { timeZone, from, to, partners, plan: planPayouts(balances, formatMinor) };
}

/** Who a run for `period` would pay (approved lines available before the period's end), and who waits and why. */
export function previewPayouts(db: Db, period: string, now: number): PayoutPreview {
  return db.transaction(() => {
    approveDue(db, now);
    const p = plan(db, period);
    releasePayable(db);
    const name = (id: string) => p.partners.get(id)?.name ?? id;
    return {
      period,
      timeZone: p.timeZone,
      from: p.from,
      to: p.to,
      batches: p.plan.batches.map((b) => ({ ...b, items: b.items.map((i) => ({ ...i, name: name(i.partnerId) })) })),
      carried: p.plan.carried.map((c) => ({ ...c, name: name(c.partnerId) })),
    };
  })();
}

function freeBatchId(db: Db, base: string): string {
  const taken = new Set(batchIdsLike(db, base));
  if (!taken.has(base)) return base;
  let n = 2;
  while (taken.has(`${base}-${n}`)) n += 1;
  return `${base}-${n}`;
}

/**
 * Creates the period's batches: one per method and currency, each item a snapshot of the partner's payout
 * details, each payable line a member. The members are summed back and must equal the plan, or nothing
 * is written (it would be a bug).
 */
export function createPayouts(db: Db, period: string, now: number): { batches: BatchSummary[]; carried: PayoutPreview['carried'] } {
  return db.transaction(() => {
    approveDue(db, now);
    const p = plan(db, period);
    const batches: BatchSummary[] = [];
    const targets: { batchId: string; partnerId: string; currency: string; amountMinor: number }[] = [];
    for (const b of p.plan.batches) {
      const summary: BatchSummary = {
        id: freeBatchId(db, `po_${period}_${b.method}_${b.currency}`),
        period,
        method: b.method,
        currency: b.currency,
        timeZone: p.timeZone,
        periodFrom: p.from,
        periodTo: p.to,
        totalMinor: b.totalMinor,
        itemCount: b.items.length,
        createdAt: now,
        reference: null,
        paidAt: null,
      };
      const items: PayoutItem[] = b.items.map((i) => {
        const partner = p.partners.get(i.partnerId)!;
        return { ...i, name: partner.name, email: partner.email, paypalEmail: partner.paypalEmail, wise: partner.wise, country: partner.country };
      });
      insertBatch(db, summary, items);
      for (const i of items) targets.push({ batchId: summary.id, partnerId: i.partnerId, currency: b.currency, amountMinor: i.amountMinor });
      batches.push(summary);
    }
    const members = addBatchMembers(db, targets, p.to);
    for (const t of targets) {
      const sum = members.get(`${t.batchId} ${t.partnerId}`);
      if (sum !== t.amountMinor) throw new Error(`batch ${t.batchId}: ${t.partnerId}'s lines sum to ${sum}, planned ${t.amountMinor}`);
    }
    const name = (id: string) => p.partners.get(id)?.name ?? id;
    return { batches, carried: p.plan.carried.map((c) => ({ ...c, name: name(c.partnerId) })) };
  })();
}

const noBatch = (batchId: string, surface: Surface) =>
  err('not_found', stepFor(surface, { app: `There is no payout run ${batchId} in this workspace: pick one in the Payout runs list.`, cli: `No payout batch ${batchId}: see \`revtrail payouts list\`.` }));

/** Marks a batch paid with the provider's reference: its lines become paid. The same reference again is a no-op. */
export function markBatchPaid(db: Db, batchId: string, reference: string, now: number, surface: Surface = 'cli'): Result<BatchSummary> {
  return db.transaction((): Result<BatchSummary> => {
    const batch = getBatch(db, batchId);
    if (!batch) return noBatch(batchId, surface);
    if (batch.paidAt !== null) {
      return batch.reference === reference ? ok(batch) : err('conflict', `Batch ${batchId} was already marked paid on ${new Date(batch.paidAt).toISOString().slice(0, 10)} with reference ${batch.reference}.`);
    }
    payBatch(db, batchId, reference, now);
    return ok(getBatch(db, batchId)!);
  })();
}

function loadBatch(db: Db, batchId: string): PayoutBatch | null {
  const s = getBatch(db, batchId);
  if (!s) return null;
  return { id: s.id, period: s.period, method: s.method, currency: s.currency, totalMinor: s.totalMinor, createdAt: s.createdAt, timeZone: s.timeZone, reference: s.reference, paidAt: s.paidAt, items: batchItems(db, s.id) };
}

export interface ExportArgs {
  batchId: string;
  format: ExportFormat;
  partnerId?: string | null;
  /** The Wise template's header, when it differs from the default. */
  wiseHeader?: readonly string[] | null;
  /** Who pays, named on statements (the workspace). */
  payer: string;
  /** Who reads a refusal (the CLI when not said). */
  surface?: Surface;
}

/** A batch's files in one format; statements one per partner (or only `partnerId`'s). */
export async function exportBatch(db: Db, a: ExportArgs): Promise<Result<ExportedFile[]>> {
  const batch = loadBatch(db, a.batchId);
  if (!batch) return noBatch(a.batchId, a.surface ?? 'cli');
  if (a.format === 'paypal') return paypalPayoutFiles(batch);
  if (a.format === 'wise') return wiseBatchFiles(batch, a.wiseHeader ? { header: a.wiseHeader } : {});
  if (a.format === 'csv') return ok([genericCsvFile(batch)]);
  const items = a.partnerId ? batch.items.filter((i) => i.partnerId === a.partnerId) : batch.items;
  if (a.partnerId && items.length === 0) return err('not_found', `Partner ${a.partnerId} is not paid in batch ${batch.id}.`);
  const { items: _all, ...head } = batch;
  const files: ExportedFile[] = [];
  for (const item of items) {
    const statement: Statement = { batch: head, item, payer: a.payer, lines: statementLines(db, batch.id, item.partnerId) };
    if (a.format === 'statement-html') {
      files.push(statementHtml(statement));
    } else {
      const pdf = await statementPdf(statement);
      files.push({ name: pdf.name, mediaType: pdf.mediaType, base64: Buffer.from(pdf.bytes).toString('base64') });
    }
  }
  return ok(files);
}
