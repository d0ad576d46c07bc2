import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { err } from '@revtrail/shared';
import type { Core } from '../../core/core';
import type { PersonFound } from '../../core/privacy/handlers';
import { when } from '../format';
import type { CommandOutput } from './sync';

export const PRIVACY_OPTIONS = {
  email: { type: 'string' },
  visitor: { type: 'string' },
  telegram: { type: 'string' },
  out: { type: 'string' },
} as const;

export const PRIVACY_USAGE = `  privacy find|export|erase (--email ADDRESS | --visitor ID | --customer cus_.. | --telegram USER_ID) [--out DIR]
                                       a person's data request: find what is held about them here and on
                                       the redirector (with counts), export it (one JSON file and one HTML
                                       page into --out, default the current folder), or erase it (payments
                                       and commissions stay, under a tombstone id); each request is logged
  privacy log                          the requests handled: when, what, counts (no personal data)
  backup create|list                   an encrypted backup of the workspace now; the backups kept
  backup restore FILE                  replace the workspace with a backup (people erased since stay erased)`;

export interface PrivacyFlags {
  workspace?: string;
  email?: string;
  visitor?: string;
  customer?: string;
  telegram?: string;
  out?: string;
}

const LABELS: Record<string, string> = {
  clicks: 'clicks',
  pageviews: 'page views',
  identities: 'email identifications',
  stripe_customers: 'Stripe customers',
  stripe_charges: 'payments',
  stripe_refunds: 'refunds',
  stripe_disputes: 'disputes',
  stripe_subscriptions: 'subscriptions',
  stripe_invoices: 'invoices',
  stripe_invoice_payments: 'invoice payments',
  attribution_ledger: 'attribution rows',
  affiliate_bindings: 'partner bindings',
  affiliate_lines: 'commission lines',
  telegram_starts: 'Telegram bot starts',
  telegram_payments: 'Telegram payments',
};

function foundText(f: PersonFound): string[] {
  const local = Object.entries(f.local).filter(([, n]) => n > 0);
  const cloud =
    f.cloud === null
      ? 'Redirector: none connected.'
      : f.cloud.reached
        ? `Redirector: ${Object.entries(f.cloud.counts).map(([k, n]) => `${n} ${k}`).join(', ') || 'nothing'}.`
        : `Redirector: not asked (${f.cloud.problem})`;
  return [
    `Found ${f.total} records (${f.linked.visitors} browsers, ${f.linked.emails} email hashes, ${f.linked.customers} Stripe customers${f.linked.telegrams ? `, ${f.linked.telegrams} Telegram users` : ''} linked).`,
    local.length ? `Here: ${local.map(([t, n]) => `${n} ${LABELS[t] ?? t}`).join(', ')}.` : 'Here: nothing.',
    cloud,
  ];
}

/** `revtrail privacy find|export|erase|log`. */
export async function privacyCommand(core: Core, sub: string | undefined, flags: PrivacyFlags): Promise<CommandOutput> {
  const subject = { workspace: flags.workspace, email: flags.email, visitor: flags.visitor, customer: flags.customer, telegram: flags.telegram };
  switch (sub) {
    case 'find': {
      const r = await core.call('privacy.find', subject);
      return r.ok ? { ...r, text: foundText(r.value).join('\n') } : r;
    }
    case 'export': {
      const r = await core.call('privacy.export', subject);
      if (!r.ok) return r;
      const dir = resolve(flags.out ?? '.');
      try {
        mkdirSync(dir, { recursive: true });
        for (const f of r.value.files) writeFileSync(join(dir, f.name), 'text' in f ? f.text : Buffer.from(f.base64, 'base64'), { mode: 0o600 });
      } catch (e) {
        return err('invalid_input', `Cannot write the export into ${dir} (${(e as NodeJS.ErrnoException).code ?? 'error'}): choose another folder with --out.`);
      }
      const paths = r.value.files.map((f) => join(dir, f.name));
      return { ok: true, value: { found: r.value.found, files: paths }, text: [...foundText(r.value.found), 'Written:', ...paths.map((p) => `  ${p}`)].join('\n') };
    }
    case 'erase': {
      const r = await core.call('privacy.erase', subject);
      return r.ok ? { ...r, text: r.value.message } : r;
    }
    case 'log': {
      const r = await core.call('privacy.log', { workspace: flags.workspace });
      if (!r.ok) return r;
      const lines = r.value.map((q) => {
        const found = Object.values(q.found).reduce((a, b) => a + b, 0);
        const erased = q.erased ? `, erased ${Object.values(q.erased).reduce((a, b) => a + b, 0)}` : '';
        const cloud = q.cloud === null ? '' : q.cloud.reached ? '' : ' (redirector not reached)';
        return `${when(q.at)}\t${q.kind}\tby ${q.scope}\tfound ${found}${erased}${cloud}`;
      });
      return { ...r, text: lines.length ? lines.join('\n') : 'No privacy requests handled yet.' };
    }
    default:
      return err('invalid_input', 'privacy needs find, export, erase or log: revtrail privacy find --email name@example.com');
  }
}

/** `revtrail backup create|list|restore FILE`. */
export async function backupCommand(core: Core, sub: string | undefined, file: string | undefined, workspace: string | undefined): Promise<CommandOutput> {
  switch (sub) {
    case 'create': {
      const r = await core.call('backup.create', { workspace });
      return r.ok ? { ...r, text: `Backup written: ${r.value.created?.file}${r.value.removed ? ` (${r.value.removed} older removed)` : ''}.` } : r;
    }
    case 'list': {
      const r = await core.call('backup.list', { workspace });
      if (!r.ok) return r;
      return { ...r, text: r.value.backups.length ? r.value.backups.map((b) => `${when(b.createdAt)}\t${(b.bytes / 1e6).toFixed(1)} MB\t${b.file}`).join('\n') : `No backups in ${r.value.dir} yet.` };
    }
    case 'restore': {
      if (!file) return err('invalid_input', 'backup restore needs the file: revtrail backup restore /path/to/revtrail-….rtbak (revtrail backup list shows them)');
      const r = await core.call('backup.restore', { workspace, file: resolve(file) });
      return r.ok ? { ...r, text: r.value.message } : r;
    }
    default:
      return err('invalid_input', 'backup needs create, list or restore: revtrail backup list');
  }
}
