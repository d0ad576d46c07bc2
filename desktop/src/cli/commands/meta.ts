import type { Core } from '../../core/core';
import type { MetaStatus } from '../../core/meta/handlers';
import type { MetaEventState, MetaEventView } from '../../core/meta/outbox-repo';
import { when } from '../format';
import type { CommandOutput } from './sync';

export const META_USAGE = `  connect meta --pixel-id N [--test-event-code CODE] [--graph-url URL]
                                       connect Meta's Conversions API: the pixel (dataset) id, and its access
                                       token read from REVTRAIL_META_TOKEN or standard input, never from
                                       arguments; --test-event-code sends to Events Manager's Test events;
                                       --graph-url a stand-in for graph.facebook.com (https, or http on this
                                       machine, for tests). Forwarding stays off until \`revtrail meta on\`
  meta on|off                          forward purchases to Meta, or stop (off deletes what was kept for it:
                                       email hashes, user agents, browser ids, and skips what was not sent)
  meta status                          the connection, the switch and how many events wait, went or failed
  meta events [--state pending|sending|sent|skipped|failed] [--limit N]
                                       what was sent to Meta: each event's payload (hashes, never emails) and
                                       Meta's answer, newest first
  meta send                            send the events that are due now (the app does this every minute)`;

export const META_OPTIONS = {
  'pixel-id': { type: 'string' },
  'test-event-code': { type: 'string' },
  'graph-url': { type: 'string' },
  state: { type: 'string' },
  limit: { type: 'string' },
} as const;

export interface MetaFlags {
  workspace?: string;
  'pixel-id'?: string;
  'test-event-code'?: string;
  'graph-url'?: string;
  state?: string;
  limit?: string;
}

const STATES = ['pending', 'sending', 'sent', 'skipped', 'failed'];

function statusLines(s: MetaStatus): string[] {
  const c = s.counts;
  return [
    s.connected ? `Meta: pixel ${s.pixelId}${s.testEventCode ? `, test event code ${s.testEventCode}` : ''}, Graph API ${s.apiVersion} at ${s.graphBase}.` : 'Meta: not connected (revtrail connect meta --pixel-id N).',
    `Forwarding: ${s.enabled ? `on since ${when(s.enabledAt)}` : 'off'}.`,
    ...(s.pausedReason ? [`Held: ${s.pausedReason}`] : []),
    `Events: ${c.sent} sent, ${c.pending + c.sending} waiting${s.nextDueAt !== null ? ` (next try ${s.nextDueAt === 0 ? 'now' : when(s.nextDueAt)})` : ''}, ${c.failed} refused by Meta, ${c.skipped} skipped.`,
  ];
}

function eventLines(e: MetaEventView): string[] {
  const value = `${e.payload.custom_data.value} ${e.payload.custom_data.currency}`;
  const lines = [`${e.eventId}  ${e.state}  ${value}  charge ${e.chargeId}  at ${when(e.eventTime)}${e.sentAt ? `  sent ${when(e.sentAt)}` : ''}`];
  if (e.reason) lines.push(`  ${e.reason}`);
  return lines;
}

/** Reads the access token the way `connect stripe` reads its key: the environment or standard input. */
export type SecretReader = (envName: string, prompt: string) => Promise<string>;

/** `revtrail connect meta` and `revtrail meta on|off|status|events|send`. */
export async function metaCommand(core: Core, positionals: string[], flags: MetaFlags, readSecret: SecretReader, usage: (message: string) => never): Promise<CommandOutput> {
  const ws = flags.workspace;
  const [command, sub] = positionals;
  if (command === 'connect') {
    const pixelId = flags['pixel-id'];
    if (!pixelId) usage('connect meta needs --pixel-id: the number Events Manager shows under your pixel (dataset).');
    const token = await readSecret('REVTRAIL_META_TOKEN', 'Meta Conversions API access token');
    if (!token) usage('No access token given: set REVTRAIL_META_TOKEN or pipe it on standard input (Events Manager → the pixel → Settings → Conversions API → Generate access token).');
    const r = await core.call('meta.connect', { workspace: ws, pixelId, token, testEventCode: flags['test-event-code'] ?? null, graphBase: flags['graph-url'] ?? null });
    if (!r.ok) return r;
    return { ...r, text: [...statusLines(r.value), ...(r.value.enabled ? [] : ['Turn forwarding on with `revtrail meta on`.'])].join('\n') };
  }
  if (positionals.length > 2) usage(`meta ${sub} takes no further arguments.`);
  switch (sub) {
    case 'on':
    case 'off': {
      const r = await core.call('meta.setForwarding', { workspace: ws, on: sub === 'on' });
      return r.ok ? { ...r, text: statusLines(r.value).join('\n') } : r;
    }
    case 'status': {
      const r = await core.call('meta.status', { workspace: ws });
      return r.ok ? { ...r, text: statusLines(r.value).join('\n') } : r;
    }
    case 'events': {
      if (flags.state !== undefined && !STATES.includes(flags.state)) usage(`--state is one of ${STATES.join(', ')}.`);
      const limit = flags.limit === undefined ? undefined : Number(flags.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 5000)) usage('--limit is a whole number from 1 to 5000.');
      const r = await core.call('meta.events', { workspace: ws, state: flags.state as MetaEventState | undefined, limit });
      if (!r.ok) return r;
      return { ...r, text: r.value.length ? r.value.flatMap(eventLines).join('\n') : 'No events for Meta yet.' };
    }
    case 'send': {
      const r = await core.call('meta.send', { workspace: ws });
      if (!r.ok) return r;
      const v = r.value;
      const text = `Meta: ${v.queued} new in the outbox, ${v.sent} sent, ${v.retrying} to retry, ${v.failed} refused, ${v.tooOld + v.stale} skipped as too old.`;
      return { ...r, text, ...(v.paused ? { warnings: [v.paused] } : {}) };
    }
    default:
      return usage(`Unknown command "meta ${sub ?? ''}": use meta on, off, status, events or send.`);
  }
}
