import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { err, formatMinor, parseMajor, type Result } from '@revtrail/shared';
import { describeDuration, describeRate, type OverrideInput, type ProgramInput } from '@revtrail/shared/commission/index';
import type { Core } from '../../core/core';
import type { ExportFormat } from '../../core/affiliates/payouts';

/** The options `revtrail partners|programs|payouts|commissions` read, spread into the CLI's parseArgs. */
export const AFFILIATE_OPTIONS = {
  period: { type: 'string' },
  out: { type: 'string' },
  batch: { type: 'string' },
  reference: { type: 'string' },
  id: { type: 'string' },
  name: { type: 'string' },
  email: { type: 'string' },
  paypal: { type: 'string' },
  'wise-email': { type: 'string' },
  'wise-name': { type: 'string' },
  'wise-type': { type: 'string' },
  'wise-currency': { type: 'string' },
  'wise-header': { type: 'string' },
  country: { type: 'string' },
  method: { type: 'string' },
  program: { type: 'string' },
  status: { type: 'string' },
  rate: { type: 'string' },
  flat: { type: 'string' },
  basis: { type: 'string' },
  duration: { type: 'string' },
  'holding-days': { type: 'string' },
  minimum: { type: 'string' },
  'cookie-days': { type: 'string' },
  binding: { type: 'string' },
  state: { type: 'string' },
} as const;

export type AffiliateFlags = { workspace?: string; partner?: string; format?: string; from?: string; json?: boolean } & { [K in keyof typeof AFFILIATE_OPTIONS]?: string };

export const AFFILIATE_USAGE = `  programs add --name NAME (--rate 20% | --flat USD:5.00[,EUR:4.50]) [--basis net|gross]
         [--duration lifetime|one-time|N-months|N-charges] [--holding-days 30] [--minimum USD:50.00]
         [--cookie-days 30] [--binding first-click|last-click] [--from YYYY-MM-DD]
                                       an affiliate program (defaults: net of refunds, lifetime, held 30
                                       days, 30-day cookie, first click wins, no minimum); charges before
                                       --from (default: now) earn nothing
  programs list                        the programs and their rules
  partners add --name NAME --email EMAIL [--id ID] [--paypal EMAIL] [--wise-email EMAIL
         [--wise-name NAME] [--wise-type PERSON|INSTITUTION] [--wise-currency CODE]] [--country CC]
         [--method paypal|wise|manual] [--program NAME] [--rate ..] [--duration ..] [--minimum ..]
                                       a partner; --id is the partner id its links carry (links set
                                       --partner ID); --rate, --duration, --minimum override the program
  partners list                        partners and what they have pending, approved and paid
  partners show ID                     one partner: terms, customers, latest commissions
  commissions list [--partner ID] [--state pending|approved|held|paid|reversed|flagged] [--period YYYY-MM]
  payouts preview --period YYYY-MM     who a payout run would pay, and who is carried forward and why
  payouts create --period YYYY-MM      make the period's payout batches (one per method and currency)
  payouts list [--period YYYY-MM]      the batches
  payouts export (--batch ID | --period YYYY-MM) --format paypal|wise|csv|statement --out DIR
         [--partner ID] [--wise-header name,recipientEmail,...]
                                       write a batch's payout file(s), or statements (HTML and PDF)
  payouts mark-paid (--batch ID | --period YYYY-MM) --reference REF
                                       record that a batch was paid: its commissions become paid`;

type Out = Result<unknown> & { text?: string };
const usage = (message: string): Out => err('invalid_input', message);
const money = (minor: number, currency: string) => `${formatMinor(minor, currency)} ${currency}`;
const day = (at: number | null) => (at === null ? '-' : new Date(at).toISOString().slice(0, 10));

/** "20%", "12.5%" or "20" as basis points. */
function basisPoints(text: string): number | null {
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?%?$/.exec(text.trim());
  if (!m) return null;
  const bp = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  return bp >= 1 && bp <= 10_000 ? bp : null;
}

/** "USD:50.00,EUR:45" as minor units per currency. */
function amounts(text: string, what: string): Record<string, number> | string {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^\s*([A-Za-z]{3})[:=](\S+)\s*$/.exec(part);
    const minor = m ? parseMajor(m[2]!, m[1]!) : null;
    if (!m || minor === null || minor < 0) return `--${what} takes CURRENCY:AMOUNT pairs, e.g. USD:50.00,EUR:45.00 (got "${part.trim()}")`;
    out[m[1]!.toUpperCase()] = minor;
  }
  return out;
}

function duration(text: string): Pick<ProgramInput, 'duration' | 'durationCount'> | string {
  const t = text.trim().toLowerCase();
  if (t === 'lifetime') return { duration: 'lifetime' };
  if (t === 'one-time' || t === 'one_time' || t === 'once') return { duration: 'one_time' };
  const m = /^(\d{1,4})[- ]?(months?|charges?)$/.exec(t);
  if (!m) return '--duration: lifetime, one-time, N-months or N-charges (e.g. 12-months)';
  return { duration: m[2]!.startsWith('month') ? 'months' : 'charges', durationCount: Number(m[1]) };
}

const whole = (text: string | undefined, what: string): number | undefined | string => {
  if (text === undefined) return undefined;
  return /^\d{1,4}$/.test(text.trim()) ? Number(text) : `--${what} takes a whole number of days`;
};

/** The rate, duration and minimum options, shared by programs add and partner overrides. */
function terms(f: AffiliateFlags): OverrideInput | string {
  const o: OverrideInput = {};
  if (f.rate !== undefined && f.flat !== undefined) return 'Give --rate or --flat, not both.';
  if (f.rate !== undefined) {
    const bp = basisPoints(f.rate);
    if (bp === null) return '--rate takes a percentage from 0.01% to 100%, e.g. 20% or 12.5%';
    o.rateBasisPoints = bp;
  }
  if (f.flat !== undefined) {
    const a = amounts(f.flat, 'flat');
    if (typeof a === 'string') return a;
    o.flat = a;
  }
  if (f.duration !== undefined) {
    const d = duration(f.duration);
    if (typeof d === 'string') return d;
    Object.assign(o, d);
  }
  if (f.minimum !== undefined) {
    const a = amounts(f.minimum, 'minimum');
    if (typeof a === 'string') return a;
    o.minimums = a;
  }
  return o;
}

async function programsCommand(core: Core, sub: string | undefined, f: AffiliateFlags): Promise<Out> {
  const ws = f.workspace;
  if (sub === 'add') {
    if (!f.name) return usage('programs add needs --name, e.g. revtrail programs add --name Partners --rate 20%');
    const t = terms(f);
    if (typeof t === 'string') return usage(t);
    const holdingDays = whole(f['holding-days'], 'holding-days');
    const cookieDays = whole(f['cookie-days'], 'cookie-days');
    if (typeof holdingDays === 'string') return usage(holdingDays);
    if (typeof cookieDays === 'string') return usage(cookieDays);
    const binding = f.binding === undefined ? undefined : f.binding.replace('-', '_');
    const startsAt = f.from === undefined ? undefined : Date.parse(`${f.from}T00:00:00Z`);
    if (startsAt !== undefined && (!/^\d{4}-\d{2}-\d{2}$/.test(f.from!) || Number.isNaN(startsAt))) return usage('--from takes a day, YYYY-MM-DD (UTC)');
    const r = await core.call('programs.add', {
      workspace: ws,
      name: f.name,
      ...t,
      ...(f.basis !== undefined ? { basis: f.basis as ProgramInput['basis'] } : {}),
      ...(holdingDays !== undefined ? { holdingDays } : {}),
      ...(cookieDays !== undefined ? { cookieDays } : {}),
      ...(binding !== undefined ? { binding: binding as ProgramInput['binding'] } : {}),
      ...(startsAt !== undefined ? { startsAt } : {}),
    });
    return r.ok ? { ...r, text: `Added program "${r.value.name}" (${r.value.id}): ${describeRate(r.value.rules.rate)} of ${r.value.rules.basis}, ${describeDuration(r.value.rules.duration)}.` } : r;
  }
  if (sub === 'list') {
    const r = await core.call('programs.list', { workspace: ws });
    if (!r.ok) return r;
    const lines = r.value.map((p) => {
      const rules = p.rules;
      const minimums = Object.entries(rules.minimums).map(([c, m]) => money(m, c)).join(', ') || 'none';
      return `${p.name} (${p.id}): ${describeRate(rules.rate)} of ${rules.basis}, ${describeDuration(rules.duration)}, held ${rules.holdingDays} days, ` +
        `minimum ${minimums}, ${rules.cookieDays}-day cookie, ${rules.binding.replace('_', ' ')} wins, from ${day(p.startsAt)}`;
    });
    return { ...r, text: lines.length ? lines.join('\n') : 'No programs yet: revtrail programs add --name Partners --rate 20%' };
  }
  return usage('programs add|list');
}

async function partnersCommand(core: Core, positionals: string[], f: AffiliateFlags): Promise<Out> {
  const ws = f.workspace;
  const sub = positionals[1];
  if (sub === 'add') {
    if (!f.name || !f.email) return usage('partners add needs --name and --email, e.g. revtrail partners add --name "Jo" --email jo@example.com --paypal jo@example.com');
    const t = terms(f);
    if (typeof t === 'string') return usage(t);
    const r = await core.call('partners.add', {
      workspace: ws,
      name: f.name,
      email: f.email,
      ...(f.id ? { id: f.id } : {}),
      ...(f.paypal ? { paypalEmail: f.paypal } : {}),
      ...(f['wise-email']
        ? { wise: { email: f['wise-email'], name: f['wise-name'] ?? null, receiverType: (f['wise-type'] ?? 'PERSON').toUpperCase() as 'PERSON', currency: f['wise-currency'] ?? null } }
        : {}),
      ...(f.country ? { country: f.country } : {}),
      ...(f.method ? { method: f.method as 'paypal' } : {}),
      ...(f.program ? { program: f.program } : {}),
      ...(f.status ? { status: f.status as 'active' } : {}),
      ...(Object.keys(t).length ? { override: t } : {}),
    });
    return r.ok ? { ...r, text: `Added partner ${r.value.name} (${r.value.id}), paid by ${r.value.payoutMethod}. Tag links with: revtrail links set <slug> --url URL --channel Partners --partner ${r.value.id}` } : r;
  }
  if (sub === 'list') {
    const r = await core.call('partners.list', { workspace: ws });
    if (!r.ok) return r;
    const lines = r.value.map((p) => {
      const b = p.balances.map((m) => `${m.currency} pending ${formatMinor(m.pendingMinor, m.currency)}, approved ${formatMinor(m.approvedMinor, m.currency)}, paid ${formatMinor(m.paidMinor, m.currency)}`).join('; ');
      return `${p.id}\t${p.name}\t${p.status}\t${p.payoutMethod}\t${b || 'no commissions yet'}`;
    });
    return { ...r, text: lines.length ? lines.join('\n') : 'No partners yet: revtrail partners add --name NAME --email EMAIL' };
  }
  if (sub === 'show') {
    const id = positionals[2] ?? f.partner;
    if (!id) return usage('partners show needs a partner id: revtrail partners show jo');
    const r = await core.call('partners.show', { workspace: ws, partner: id });
    if (!r.ok) return r;
    const { partner: p, program, terms: tm, customers, recentLines } = r.value;
    const lines = [
      `${p.name} (${p.id}), ${p.status}, ${p.email}${p.country ? `, ${p.country}` : ''}`,
      `Paid by ${p.payoutMethod}${p.paypalEmail ? `; PayPal ${p.paypalEmail}` : ''}${p.wise ? `; Wise ${p.wise.email} (${p.wise.receiverType})` : ''}`,
      `Program ${program.name}: ${describeRate(tm.rate)} of ${tm.basis}, ${describeDuration(tm.duration)}${p.override ? ' (partner override)' : ''}`,
      `Customers bound: ${customers}`,
      ...p.balances.map((m) => `  ${m.currency}: pending ${formatMinor(m.pendingMinor, m.currency)}, held ${formatMinor(m.heldMinor, m.currency)}, approved ${formatMinor(m.approvedMinor, m.currency)}, paid ${formatMinor(m.paidMinor, m.currency)}, flagged ${formatMinor(m.flaggedMinor, m.currency)}`),
      ...(recentLines.length ? ['Latest lines:'] : []),
      ...recentLines.slice(0, 20).map((l) => `  ${day(l.occurredAt)}  ${l.kind.padEnd(10)} ${money(l.amountMinor, l.currency).padStart(14)}  ${l.state.padEnd(8)} ${l.chargeId}${l.selfReferral ? `  (self-referral: ${l.selfReferral})` : ''}`),
    ];
    return { ...r, text: lines.join('\n') };
  }
  return usage('partners add|list|show');
}

async function commissionsCommand(core: Core, f: AffiliateFlags): Promise<Out> {
  const r = await core.call('commissions.list', {
    workspace: f.workspace,
    ...(f.partner ? { partner: f.partner } : {}),
    ...(f.state ? { state: f.state as 'pending' } : {}),
    ...(f.period ? { period: f.period } : {}),
  });
  if (!r.ok) return r;
  const lines = r.value.map((l) => `${day(l.occurredAt)}\t${l.partnerId}\t${l.kind}\t${money(l.amountMinor, l.currency)}\t${l.state}\t${l.chargeId}\t${l.batchId ?? ''}`);
  return { ...r, text: lines.length ? lines.join('\n') : 'No commissions match.' };
}

/** The batch named by --batch, or the only one of --period (unpaid ones first when paying). */
async function batchOf(core: Core, f: AffiliateFlags, unpaidOnly: boolean, format?: string): Promise<Result<string[]>> {
  if (f.batch) return { ok: true, value: [f.batch] };
  if (!f.period) return err('invalid_input', 'Name the batch with --batch ID, or the period with --period YYYY-MM (see revtrail payouts list).');
  const r = await core.call('payouts.list', { workspace: f.workspace, period: f.period });
  if (!r.ok) return r;
  let batches = r.value.filter((b) => !unpaidOnly || b.paidAt === null);
  if (format === 'paypal' || format === 'wise') batches = batches.filter((b) => b.method === format);
  if (batches.length === 0) return err('not_found', `No ${unpaidOnly ? 'unpaid ' : ''}${format === 'paypal' || format === 'wise' ? `${format} ` : ''}payout batch for ${f.period}: run revtrail payouts create --period ${f.period} first.`);
  if (unpaidOnly && batches.length > 1) return err('invalid_input', `${f.period} has ${batches.length} unpaid batches (${batches.map((b) => b.id).join(', ')}): name one with --batch.`);
  return { ok: true, value: batches.map((b) => b.id) };
}

async function payoutsCommand(core: Core, sub: string | undefined, f: AffiliateFlags): Promise<Out> {
  const ws = f.workspace;
  if (sub === 'preview' || sub === 'create') {
    if (!f.period) return usage(`payouts ${sub} needs --period YYYY-MM`);
    const r = sub === 'preview' ? await core.call('payouts.preview', { workspace: ws, period: f.period }) : await core.call('payouts.create', { workspace: ws, period: f.period });
    if (!r.ok) return r;
    const v = r.value;
    const batchLines =
      'from' in v
        ? v.batches.flatMap((b) => [`${b.method} ${b.currency}: ${money(b.totalMinor, b.currency)} to ${b.items.length} partners`, ...b.items.map((i) => `  ${i.partnerId}\t${i.name}\t${money(i.amountMinor, b.currency)}${i.clawbackMinor ? ` (after ${money(-i.clawbackMinor, b.currency)} clawed back)` : ''}`)])
        : v.batches.map((b) => `Created ${b.id}: ${b.method} ${money(b.totalMinor, b.currency)} to ${b.itemCount} partners`);
    const carried = v.carried.map((c) => `  ${c.partnerId}\t${c.name}\t${c.message}`);
    const text = [
      ...(batchLines.length ? batchLines : [sub === 'preview' ? `Nothing to pay for ${f.period}.` : `No batch created for ${f.period}: nothing to pay.`]),
      ...(carried.length ? ['Carried forward:', ...carried] : []),
    ].join('\n');
    return { ...r, text };
  }
  if (sub === 'list') {
    const r = await core.call('payouts.list', { workspace: ws, ...(f.period ? { period: f.period } : {}) });
    if (!r.ok) return r;
    const lines = r.value.map((b) => `${b.id}\t${b.method}\t${money(b.totalMinor, b.currency)}\t${b.itemCount} partners\t${b.paidAt === null ? 'unpaid' : `paid ${day(b.paidAt)} (${b.reference})`}`);
    return { ...r, text: lines.length ? lines.join('\n') : 'No payout batches yet.' };
  }
  if (sub === 'export') {
    const format = f.format;
    if (format !== 'paypal' && format !== 'wise' && format !== 'csv' && format !== 'statement') return usage('payouts export needs --format paypal, wise, csv or statement');
    if (!f.out) return usage('payouts export needs --out DIR (the folder the files are written to)');
    const ids = await batchOf(core, f, false, format);
    if (!ids.ok) return ids;
    const formats: ExportFormat[] = format === 'statement' ? ['statement-html', 'statement-pdf'] : [format];
    const dir = resolve(f.out);
    mkdirSync(dir, { recursive: true });
    const written: string[] = [];
    for (const batch of ids.value) {
      for (const fmt of formats) {
        const r = await core.call('payouts.export', { workspace: ws, batch, format: fmt, ...(f.partner ? { partner: f.partner } : {}), ...(f['wise-header'] ? { wiseHeader: f['wise-header'].split(',') } : {}) });
        if (!r.ok) return r;
        for (const file of r.value.files) {
          const path = join(dir, file.name);
          writeFileSync(path, 'text' in file ? file.text : Buffer.from(file.base64, 'base64'));
          written.push(path);
        }
      }
    }
    return { ok: true, value: { files: written }, text: written.length ? `Wrote ${written.length} file${written.length === 1 ? '' : 's'}:\n${written.join('\n')}` : 'Nothing to write.' };
  }
  if (sub === 'mark-paid') {
    if (!f.reference) return usage("payouts mark-paid needs --reference: the payout provider's batch or transaction id");
    const ids = await batchOf(core, f, true);
    if (!ids.ok) return ids;
    const r = await core.call('payouts.markPaid', { workspace: ws, batch: ids.value[0]!, reference: f.reference });
    return r.ok ? { ...r, text: `Marked ${r.value.id} paid (${r.value.reference}): ${money(r.value.totalMinor, r.value.currency)} to ${r.value.itemCount} partners.` } : r;
  }
  return usage('payouts preview|create|list|export|mark-paid');
}

/** `revtrail partners|programs|commissions|payouts ...` */
export function affiliatesCommand(core: Core, positionals: string[], flags: AffiliateFlags): Promise<Out> {
  const [command, sub] = positionals;
  if (command === 'programs') return programsCommand(core, sub, flags);
  if (command === 'partners') return partnersCommand(core, positionals, flags);
  if (command === 'commissions') return commissionsCommand(core, flags);
  return payoutsCommand(core, sub, flags);
}
