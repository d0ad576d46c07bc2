import { err, idFromName, ok, partnerIdFromName, readObject, type Result } from '@revtrail/shared';
import {
  effectiveTerms,
  isLineState,
  isPeriod,
  parseProgramRules,
  periodRange,
  PROGRAM_FIELDS,
  type LineState,
  type ProgramInput,
  type ProgramRules,
} from '@revtrail/shared/commission/index';
import type { CoreContext } from '../context';
import type { Db } from '../db/open';
import { defaultMethod, PARTNER_FIELDS, readPartnerFields, type PartnerInput } from './input';
import { createPayouts, EXPORT_FORMATS, exportBatch, markBatchPaid, payoutTimeZone, previewPayouts, type ExportedFile, type ExportFormat, type PayoutPreview } from './payouts';
import { findProgram, getPartner, insertPartner, insertProgram, listBatches, listBindings, listLines, listPartners, listPrograms, partnerTotals, updatePartner } from './repo';
import type { BatchSummary, LedgerLine, Partner, Program } from './types';

/** A partner's money per currency, by state (reversals count under their commission's state). */
export interface PartnerMoney {
  currency: string;
  pendingMinor: number;
  heldMinor: number;
  /** Payable, or in a batch not yet marked paid; clawbacks owed count here (negative). */
  approvedMinor: number;
  paidMinor: number;
  /** Self-referrals: never payable. */
  flaggedMinor: number;
}

export type PartnerView = Partner & { balances: PartnerMoney[] };

export interface PartnerDetails {
  partner: PartnerView;
  program: Program;
  /** The program's rules with the partner's overrides applied. */
  terms: ProgramRules;
  customers: number;
  /** The latest ledger lines, newest first. */
  recentLines: LedgerLine[];
}

export interface AffiliateHandlers {
  'partners.add': (args: { workspace?: string } & PartnerInput) => Promise<Result<Partner>>;
  'partners.list': (args: { workspace?: string }) => Promise<Result<PartnerView[]>>;
  'partners.show': (args: { workspace?: string; partner: string }) => Promise<Result<PartnerDetails>>;
  /** Changes what is given; `override: null` drops the partner's override. */
  'partners.update': (args: { workspace?: string; partner: string } & Omit<PartnerInput, 'id'>) => Promise<Result<Partner>>;
  /** `rateBasisPoints` (2000 = 20%) or `flat` ({ USD: 500 }); the rest default (net, lifetime, 30 days held, 30-day cookie, first click). */
  'programs.add': (args: { workspace?: string; name: string; startsAt?: number } & ProgramInput) => Promise<Result<Program>>;
  'programs.list': (args: { workspace?: string }) => Promise<Result<Program[]>>;
  /** `period` (YYYY-MM) filters by when the line happened, in the payout time zone. */
  'commissions.list': (args: { workspace?: string; partner?: string; state?: LineState; period?: string }) => Promise<Result<LedgerLine[]>>;
  'payouts.preview': (args: { workspace?: string; period: string }) => Promise<Result<PayoutPreview>>;
  'payouts.create': (args: { workspace?: string; period: string }) => Promise<Result<{ batches: BatchSummary[]; carried: PayoutPreview['carried'] }>>;
  'payouts.list': (args: { workspace?: string; period?: string }) => Promise<Result<BatchSummary[]>>;
  /** Files to save; statements (statement-html, statement-pdf) one per partner, or only `partner`'s. */
  'payouts.export': (args: { workspace?: string; batch: string; format: ExportFormat; partner?: string; wiseHeader?: string[] }) => Promise<Result<{ files: ExportedFile[] }>>;
  'payouts.markPaid': (args: { workspace?: string; batch: string; reference: string }) => Promise<Result<BatchSummary>>;
}

const invalid = (problems: string[]) => err('invalid_input', problems.join('; '));

function money(db: Db): Map<string, PartnerMoney[]> {
  const out = new Map<string, Map<string, PartnerMoney>>();
  for (const t of partnerTotals(db)) {
    let byCurrency = out.get(t.partner_id);
    if (!byCurrency) out.set(t.partner_id, (byCurrency = new Map()));
    let m = byCurrency.get(t.currency);
    if (!m) byCurrency.set(t.currency, (m = { currency: t.currency, pendingMinor: 0, heldMinor: 0, approvedMinor: 0, paidMinor: 0, flaggedMinor: 0 }));
    if (t.state === 'pending') m.pendingMinor += t.amount_minor;
    else if (t.state === 'held') m.heldMinor += t.amount_minor;
    else if (t.state === 'approved') m.approvedMinor += t.amount_minor;
    else if (t.state === 'paid') m.paidMinor += t.amount_minor;
    else if (t.state === 'flagged') m.flaggedMinor += t.amount_minor;
  }
  return new Map([...out].map(([id, byCurrency]) => [id, [...byCurrency.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1))]));
}

function programFor(ctx: CoreContext, db: Db, ref: string | undefined): Result<Program> {
  if (ref !== undefined) {
    const p = findProgram(db, ref);
    return p ? ok(p) : err('not_found', ctx.step({ app: `There is no program "${ref}": pick one in the Program list.`, cli: `No program "${ref}": see \`revtrail programs list\`.` }));
  }
  const all = listPrograms(db);
  if (all.length === 1) return ok(all[0]!);
  if (all.length === 0) return err('not_found', ctx.step({ app: 'Add a program first (Programs tab): it says what partners earn.', cli: 'Add a program first: revtrail programs add --name "Partners" --rate 20%.' }));
  return err('invalid_input', ctx.step({ app: `Pick the program: there are ${all.length} (${all.map((p) => p.name).join(', ')}).`, cli: `program: required, there are ${all.length} programs (${all.map((p) => p.name).join(', ')}).` }));
}

/** A partner id that names no partner, with where to find the partners. */
const noPartner = (ctx: CoreContext, id: string) =>
  err('not_found', ctx.step({ app: `There is no partner "${id}" in this workspace: see the Partners list on the Affiliates screen.`, cli: `No partner "${id}": see \`revtrail partners list\`.` }));

const isString = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

export function createAffiliateHandlers(ctx: CoreContext): AffiliateHandlers {
  const now = () => ctx.clock.now();
  return {
    'partners.add': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      const { db } = found;
      const problems: string[] = [];
      const obj = readObject(args, ['workspace', ...PARTNER_FIELDS], problems);
      const f = readPartnerFields(obj, true);
      if (!f.ok || problems.length) return invalid([...problems, ...(f.ok ? [] : f.problems)]);
      const program = programFor(ctx, db, f.value.program);
      if (!program.ok) return program;
      const id = f.value.id ?? partnerIdFromName(f.value.name!);
      if (getPartner(db, id)) return err('conflict', `A partner with id "${id}" exists already${f.value.id ? '' : ': give this one its own id'}.`);
      const method = f.value.method ?? defaultMethod(f.value);
      const at = now();
      const partner: Partner = {
        id,
        programId: program.value.id,
        name: f.value.name!,
        email: f.value.email!,
        paypalEmail: f.value.paypalEmail ?? null,
        wise: f.value.wise ?? null,
        payoutMethod: method,
        country: f.value.country ?? null,
        status: f.value.status ?? 'active',
        ownVisitorIds: f.value.ownVisitorIds ?? [],
        override: f.value.override ?? null,
        createdAt: at,
        updatedAt: at,
      };
      insertPartner(db, partner);
      return ok(partner);
    },

    'partners.list': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      const balances = money(found.db);
      return ok(listPartners(found.db).map((p) => ({ ...p, balances: balances.get(p.id) ?? [] })));
    },

    'partners.show': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      const { db } = found;
      if (!isString(args.partner)) return err('invalid_input', 'partner: required (the partner id).');
      const partner = getPartner(db, args.partner.trim());
      if (!partner) return noPartner(ctx, args.partner);
      const program = findProgram(db, partner.programId)!;
      return ok({
        partner: { ...partner, balances: money(db).get(partner.id) ?? [] },
        program,
        terms: effectiveTerms(program.rules, partner.override),
        customers: listBindings(db, partner.id).length,
        recentLines: listLines(db, { partnerId: partner.id }).reverse().slice(0, 50),
      });
    },

    'partners.update': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      const { db } = found;
      const problems: string[] = [];
      const obj = readObject(args, ['workspace', 'partner', ...PARTNER_FIELDS.filter((k) => k !== 'id')], problems);
      if (!isString(obj.partner)) problems.push('partner: required (the partner id)');
      const f = readPartnerFields(obj, false);
      if (!f.ok || problems.length) return invalid([...problems, ...(f.ok ? [] : f.problems)]);
      const current = getPartner(db, (obj.partner as string).trim());
      if (!current) return noPartner(ctx, String(obj.partner));
      let programId = current.programId;
      if (f.value.program !== undefined) {
        const program = programFor(ctx, db, f.value.program);
        if (!program.ok) return program;
        programId = program.value.id;
      }
      const v = f.value;
      const next: Partner = {
        ...current,
        programId,
        name: v.name ?? current.name,
        email: v.email ?? current.email,
        paypalEmail: v.paypalEmail !== undefined ? v.paypalEmail : current.paypalEmail,
        wise: v.wise !== undefined ? v.wise : current.wise,
        country: v.country !== undefined ? v.country : current.country,
        payoutMethod: v.method ?? current.payoutMethod,
        status: v.status ?? current.status,
        ownVisitorIds: v.ownVisitorIds ?? current.ownVisitorIds,
        override: v.override !== undefined ? v.override : current.override,
        updatedAt: now(),
      };
      updatePartner(db, next, next.updatedAt);
      return ok(next);
    },

    'programs.add': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      const { db } = found;
      const problems: string[] = [];
      const obj = readObject(args, ['workspace', 'name', 'startsAt', ...PROGRAM_FIELDS], problems);
      const name = typeof obj.name === 'string' ? obj.name.trim() : '';
      if (name.length === 0 || name.length > 120) problems.push('name: 1 to 120 characters');
      if (obj.startsAt !== undefined && !(typeof obj.startsAt === 'number' && Number.isSafeInteger(obj.startsAt) && obj.startsAt >= 0)) problems.push('startsAt: epoch milliseconds');
      const rules = parseProgramRules(obj, problems);
      if (!rules.ok) return invalid(rules.problems);
      if (findProgram(db, name)) return err('conflict', `A program named "${name}" exists already.`);
      const at = now();
      const program: Program = { id: `prg_${idFromName(name, 40, 'program')}`, name, rules: rules.value, startsAt: (obj.startsAt as number | undefined) ?? at, createdAt: at };
      if (findProgram(db, program.id)) program.id = `${program.id}-${listPrograms(db).length + 1}`;
      insertProgram(db, program);
      return ok(program);
    },

    'programs.list': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      return ok(listPrograms(found.db));
    },

    'commissions.list': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      const { db } = found;
      const problems: string[] = [];
      const obj = readObject(args, ['workspace', 'partner', 'state', 'period'], problems);
      if (obj.partner !== undefined && !isString(obj.partner)) problems.push('partner: a partner id');
      if (obj.state !== undefined && !isLineState(obj.state)) problems.push('state: one of pending, approved, held, paid, reversed, flagged');
      if (obj.period !== undefined && !isPeriod(obj.period)) problems.push('period: a month as YYYY-MM');
      if (problems.length) return invalid(problems);
      const range = isPeriod(obj.period) ? periodRange(obj.period, payoutTimeZone(db)) : null;
      return ok(listLines(db, { partnerId: (obj.partner as string | undefined) ?? null, state: (obj.state as LineState | undefined) ?? null, from: range?.from ?? null, to: range?.to ?? null }));
    },

    'payouts.preview': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      if (!isPeriod(args.period)) return err('invalid_input', 'period: a month as YYYY-MM, e.g. 2026-03.');
      return ok(previewPayouts(found.db, args.period, now()));
    },

    'payouts.create': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      if (!isPeriod(args.period)) return err('invalid_input', 'period: a month as YYYY-MM, e.g. 2026-03.');
      const created = createPayouts(found.db, args.period, now());
      ctx.log.info({ workspace: found.workspace.id, period: args.period, batches: created.batches.map((b) => b.id), carried: created.carried.length }, 'payout batches created');
      return ok(created);
    },

    'payouts.list': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      if (args.period !== undefined && !isPeriod(args.period)) return err('invalid_input', 'period: a month as YYYY-MM.');
      return ok(listBatches(found.db, args.period ?? null));
    },

    'payouts.export': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      const problems: string[] = [];
      const obj = readObject(args, ['workspace', 'batch', 'format', 'partner', 'wiseHeader'], problems);
      if (!isString(obj.batch)) problems.push('batch: required (a batch id from payouts.list)');
      if (!(EXPORT_FORMATS as readonly unknown[]).includes(obj.format)) problems.push(`format: one of ${EXPORT_FORMATS.join(', ')}`);
      if (obj.partner !== undefined && !isString(obj.partner)) problems.push('partner: a partner id');
      const header = obj.wiseHeader;
      if (header !== undefined && !(Array.isArray(header) && header.length > 0 && header.every(isString))) problems.push('wiseHeader: the column names of your Wise template, in order');
      if (problems.length) return invalid(problems);
      const r = await exportBatch(found.db, {
        batchId: (obj.batch as string).trim(),
        format: obj.format as ExportFormat,
        partnerId: (obj.partner as string | undefined) ?? null,
        wiseHeader: (header as string[] | undefined)?.map((h) => h.trim()) ?? null,
        payer: found.workspace.name,
        surface: ctx.surface,
      });
      return r.ok ? ok({ files: r.value }) : r;
    },

    'payouts.markPaid': async (args) => {
      const found = ctx.resolve(args?.workspace);
      if (!found.ok) return found.error;
      if (!isString(args.batch)) return err('invalid_input', 'batch: required (a batch id from payouts.list).');
      if (!isString(args.reference) || args.reference.trim().length > 200) return err('invalid_input', "reference: required, the payout provider's batch or transaction id (at most 200 characters).");
      const r = markBatchPaid(found.db, args.batch.trim(), args.reference.trim(), now(), ctx.surface);
      if (r.ok) ctx.log.info({ workspace: found.workspace.id, batch: r.value.id }, 'payout batch marked paid');
      return r;
    },
  };
}
