import { STRIPE_WEBHOOK_EVENT_TYPES } from '@revtrail/shared';
import type { Core } from '../../core/core';
import type { WebhookSetup } from '../../core/webhooks/handlers';
import { when } from '../format';
import type { CommandOutput } from './sync';

export const WEBHOOK_USAGE = `  connect webhook                      prints the Stripe webhook endpoint to add in Stripe's dashboard and the
                                       events to select, then reads the endpoint's signing secret (whsec_…)
                                       from REVTRAIL_WEBHOOK_SECRET or standard input, never from arguments.
                                       Rotating it: give the new secret and the old one (two lines, or
                                       "new,old"), so events signed with either are taken while Stripe rolls
                                       it; once it has, connect again with the new one alone
  webhook status                       the endpoint, when the last webhook arrived, how many were refused and
                                       why, and when this computer last read the hints`;

/** What to set in Stripe: the endpoint and its events, one per line (they are pasted one by one). */
function setupLines(url: string, eventTypes: readonly string[]): string[] {
  return [
    `Stripe webhook endpoint: ${url}`,
    "Add it in Stripe's dashboard (Developers → Webhooks → Add endpoint) and select these events:",
    ...eventTypes.map((t) => `  ${t}`),
  ];
}

const localNote = (s: Pick<WebhookSetup, 'local'>) =>
  s.local ? ['Note: this redirector runs on this computer, which Stripe cannot reach: forward events to it, e.g. `stripe listen --forward-to <endpoint>`, and connect the secret that prints.'] : [];

/**
 * `revtrail connect webhook`: shows the endpoint and events (before asking, at a terminal), reads the signing
 * secret(s), and gives them to the redirector, or saves them for the local one, or says how a deployed one takes
 * them and whether its endpoint answers.
 */
export async function connectWebhookCommand(
  core: Core,
  workspace: string | undefined,
  io: { readSecret(prompt: string): Promise<string>; interactive: boolean; note(line: string): void },
): Promise<CommandOutput> {
  const status = await core.call('webhook.status', { workspace });
  // The setup is shown even while the redirector does not answer: the address and events do not depend on it.
  if (!status.ok) return status;
  if (io.interactive) for (const line of [...setupLines(status.value.url, status.value.eventTypes), ...localNote(status.value)]) io.note(line);
  const raw = await io.readSecret('Signing secret (whsec_…; during a rotation: new,old)');
  const secrets = raw.split(/[\s,]+/).filter((s) => s.length > 0);
  if (secrets.length === 0) return { ok: false, error: { code: 'invalid_input', message: 'No signing secret given: set REVTRAIL_WEBHOOK_SECRET or pipe the whsec_… on standard input.' } };
  const r = await core.call('webhook.connect', { workspace, secrets });
  if (!r.ok) return r;
  const v = r.value;
  const lines = [...setupLines(v.url, v.eventTypes), ...localNote(status.value), '', v.message];
  if (v.outcome === 'deploy') {
    if (v.setCommand) lines.push(`  ${v.setCommand}`);
    if (v.endpointCheck) lines.push(`Endpoint check: ${v.endpointCheck.message}`);
  }
  return { ...r, text: lines.join('\n'), warnings: v.endpointCheck && !v.endpointCheck.ok ? [v.endpointCheck.message] : [] };
}

/** `revtrail webhook status`: the endpoint, last arrival, refusals by reason, and the desktop's side. */
export async function webhookStatusCommand(core: Core, workspace: string | undefined): Promise<CommandOutput> {
  const r = await core.call('webhook.status', { workspace });
  if (!r.ok) return r;
  const s = r.value;
  const e = s.endpoint;
  const lines = [`Stripe webhook endpoint: ${s.url}`, ...localNote(s)];
  if (!e) lines.push(`The redirector could not be asked: ${s.problem ?? 'no answer'}`);
  else {
    const secrets = e.secrets === 0 ? 'none yet: run `revtrail connect webhook`' : e.secrets === 2 ? '2 (a rotation: events signed with either are taken)' : '1';
    lines.push(
      `Signing secrets set: ${secrets}`,
      ...(e.secretProblem ? [`The signing secret configured was set aside: ${e.secretProblem}`] : []),
      `Last webhook: ${when(e.lastReceivedAt)}; ${e.received} stored, ${e.duplicates} redeliveries, ${e.ignored} about objects Revtrail does not read`,
      s.refused.length === 0 ? 'Refused: none' : `Refused: ${s.refused.reduce((n, x) => n + x.count, 0)}`,
      ...s.refused.map((x) => `  ${x.count} ${x.reason}: ${x.meaning}`),
      ...(s.lastRefused ? [`  last at ${when(s.lastRefused.at)} (${s.lastRefused.reason})`] : []),
    );
    const missing = STRIPE_WEBHOOK_EVENT_TYPES.filter((t) => !e.eventTypes.includes(t));
    if (missing.length > 0) lines.push(`The redirector does not keep ${missing.join(', ')}: update it.`);
  }
  if (s.savedForLocalRedirector) lines.push('A signing secret saved on this computer waits for the local redirector: it takes it when Revtrail starts.');
  lines.push(
    `This computer last read the hints ${when(s.lastReadAt)}; ${s.waiting} objects wait to be read.`,
    s.mode === null ? 'Stripe is not connected: hints are read once it is.' : `Only ${s.mode}-mode events are read (the connected Stripe key is a ${s.mode} key).`,
  );
  return { ...r, text: lines.join('\n') };
}
