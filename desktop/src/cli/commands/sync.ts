import type { AppError, Result } from '@revtrail/shared';
import type { WorkspaceStatus } from '../../core/api';
import type { Core } from '../../core/core';
import type { LinkPush } from '../../core/redirector/repo';
import type { ResourceFailure } from '../../core/sync-state/repo';
import { when } from '../format';

/** What a command answers: a result, its text, and warnings for standard error that leave the exit code 0. */
export type CommandOutput = Result<unknown> & { text?: string; warnings?: string[] };

/** A resource a pull skipped, as a warning line. */
const skippedLine = (f: ResourceFailure) => `${f.source === 'stripe' ? 'Stripe' : 'redirector'} ${f.resource} skipped: ${f.message}`;

const refusedLine = (p: { slug: string; status: number | null; message: string }) =>
  `link ${p.slug} refused by the redirector${p.status ? ` (${p.status})` : ''}: ${p.message} Kept: edit it, or run \`revtrail links retry ${p.slug}\` or \`revtrail links discard ${p.slug}\`.`;

/**
 * `revtrail sync`: each source asked for (or each connected one) is synced even when another fails. Exit 0
 * with a warning per resource skipped, per link change refused and per source that failed, as long as
 * something could be read; otherwise the first failure decides the exit code.
 */
export async function syncCommand(core: Core, flags: { workspace?: string; redirector?: boolean; stripe?: boolean }, print: (p: { feed: string; received: number; done: boolean }) => void): Promise<CommandOutput> {
  const ws = flags.workspace;
  const status = await core.call('status.get', { workspace: ws });
  if (!status.ok) return status;
  const here = status.value.workspaces[0];
  const explicit = flags.redirector || flags.stripe;
  const doRedirector = explicit ? !!flags.redirector : !here || here.redirector.connected || !here.stripe.connected;
  const doStripe = explicit ? !!flags.stripe : !!here?.stripe.connected;
  const off = core.on('sync.progress', (e) => print(e.progress));
  const text: string[] = [];
  const warnings: string[] = [];
  const values: Record<string, unknown> = {};
  const failures: AppError[] = [];
  try {
    if (doRedirector) {
      const r = await core.call('sync.redirector', { workspace: ws });
      if (r.ok) {
        const v = r.value;
        values.redirector = v;
        text.push(`Redirector: ${v.pushed} link changes pushed, ${v.links} links, ${v.clicks} new clicks, ${v.pageviews} new pageviews, ${v.identities} new identities, ${v.erased} rows erased.`);
        warnings.push(...v.skipped.map(skippedLine), ...v.rejected.map(refusedLine));
      } else {
        values.redirector = { error: r.error };
        failures.push(r.error);
        warnings.push(`redirector not synced: ${r.error.message}`);
      }
    }
    if (doStripe) {
      const r = await core.call('sync.stripe', { workspace: ws });
      if (r.ok) {
        values.stripe = r.value;
        const c = r.value.counts;
        text.push(
          `Stripe: ${c.charges.added} new charges (${c.charges.updated} changed), ${c.refunds.added} new refunds, ${c.disputes.added} new disputes, ` +
            `${c.customers.added} new customers, ${c.subscriptions.added} new subscriptions, ${c.invoices.added} new invoices.`,
          ...(r.value.hints.events + r.value.hints.reread > 0 ? [`  ${r.value.hints.events} events read; ${r.value.hints.reread} changed objects read again.`] : []),
          ...(r.value.eventsCovered ? [] : ['  Events could not cover the time since the last sync, so everything still open was read again.']),
          ...r.value.missing.map((m) => `  Missing ${m.label} (${m.permission}): ${m.effect}.`),
        );
        warnings.push(...r.value.skipped.map(skippedLine));
      } else {
        values.stripe = { error: r.error };
        failures.push(r.error);
        warnings.push(`Stripe not synced: ${r.error.message}`);
      }
    }
  } finally {
    off();
  }
  const asked = Number(doRedirector) + Number(doStripe);
  if (failures.length === asked && failures[0]) return { ok: false, error: failures[0] };
  return { ok: true, value: values, text: text.join('\n'), warnings };
}

/** One line per resource whose last attempt failed, then one per link change not on the redirector. */
function problemLines(s: WorkspaceStatus): string[] {
  const failed = s.resources
    .filter((r) => r.error)
    .map((r) => `  ${r.source === 'stripe' ? 'Stripe' : 'redirector'} ${r.resource}: failed at ${when(r.lastAttemptAt)} (last good pull ${when(r.lastPullAt)}): ${r.error!.message}`);
  const pushes = s.linkPushes.map((p: LinkPush) =>
    p.state === 'refused'
      ? `  link ${p.slug}: refused by the redirector${p.status ? ` (${p.status})` : ''}: ${p.reason ?? ''} Edit it, or run \`revtrail links retry ${p.slug}\` or \`revtrail links discard ${p.slug}\`.`
      : `  link ${p.slug}: waiting for the next sync${p.reason ? ` (last try ${when(p.attemptedAt)}: ${p.reason})` : ''}.`,
  );
  return [...failed, ...pushes];
}

/** `revtrail status`: what is connected, how much is here, when each source last synced, and what is stuck. */
export async function statusCommand(core: Core, workspace: string | undefined): Promise<CommandOutput> {
  const r = await core.call('status.get', { workspace });
  if (!r.ok) return r;
  const lines = r.value.workspaces.flatMap((s) => [
    `${s.workspace.name}: redirector ${s.redirector.connected ? s.workspace.redirectorUrl : 'not connected'}` +
      `, last pull ${when(s.redirector.lastPullAt)}` +
      `; Stripe ${s.stripe.connected ? `connected${s.workspace.stripeApiBase ? ` at ${s.workspace.stripeApiBase} (test mode)` : ''}, last pull ${when(s.stripe.lastPullAt)}` : 'not connected'}` +
      `; ${s.counts.links} links, ${s.counts.clicks} clicks, ${s.counts.pageviews} pageviews, ${s.counts.identities} identities` +
      `, ${s.counts.charges} charges, ${s.counts.refunds} refunds, ${s.counts.disputes} disputes, ${s.counts.customers} customers`,
    ...problemLines(s),
  ]);
  return { ...r, text: [...(lines.length ? lines : ['No workspaces yet.']), `Secrets: ${r.value.secrets}`].join('\n') };
}
