import { err, formatStars } from '@revtrail/shared';
import type { Core } from '../../core/core';
import type { TelegramStatus } from '../../core/telegram/handlers';
import { when } from '../format';
import type { SecretReader } from './meta';
import type { CommandOutput } from './sync';

export const TELEGRAM_USAGE = `  connect telegram [--webhook-url URL] [--api-base URL]
                                       connect a Telegram bot: its token (BotFather) is read from
                                       REVTRAIL_TELEGRAM_BOT_TOKEN or standard input, never from arguments.
                                       The bot's webhook then points at the redirector, with a secret token
                                       made here; a webhook the bot had before gets every update too (its own
                                       secret token, if it had one, from REVTRAIL_TELEGRAM_FORWARD_SECRET).
                                       --webhook-url: the endpoint as Telegram reaches it (https, e.g. a tunnel
                                       to the local redirector); --api-base: a stand-in for api.telegram.org
  telegram status                      the bot, where its webhook points, what the redirector kept, refused
                                       and forwarded
  telegram activate [--webhook-url URL]
                                       point the bot at a redirector that holds it now (after the deploy the
                                       connect asked for, or once the local redirector has started)
  telegram secret bot-token|secret-token|forward
                                       print a saved Telegram secret into a pipe, for the sst secret set
                                       commands connect prints; refused on a terminal`;

export const TELEGRAM_OPTIONS = { 'webhook-url': { type: 'string' } } as const;

export interface TelegramFlags {
  workspace?: string;
  'webhook-url'?: string;
  'api-base'?: string;
}

export interface TelegramIo {
  readSecret: SecretReader;
  /** A secret from the CLI's secret store, by its name. */
  readStored(name: string): Promise<string | null>;
  /** Whether standard output is a terminal (a secret is printed only into a pipe). */
  stdoutIsTerminal: boolean;
  /** The environment's optional values (the previous webhook's secret token). */
  env(name: string): string | undefined;
}

function statusLines(s: TelegramStatus): string[] {
  if (!s.connected) return ['Telegram: no bot connected (revtrail connect telegram).'];
  const lines = [`Telegram: @${s.settings.botUsername} (bot ${s.settings.botId}), Bot API at ${s.settings.apiBase}.`];
  const t = s.telegram;
  if (t) {
    lines.push(
      t.pointsHere ? `Its webhook points at the redirector: ${t.url}.` : `Its webhook points at ${t.url || 'nothing'}, not the redirector${s.settings.webhookUrl ? ` (${s.settings.webhookUrl})` : ''}: run \`revtrail telegram activate\`.`,
      `Telegram holds ${t.pendingUpdates} update(s) not delivered yet${t.lastError ? `; last delivery error ${when(t.lastError.at)}: ${t.lastError.message}` : ''}.`,
    );
  }
  if (s.settings.forwardHost) lines.push(`Every update also goes to the bot's previous webhook at ${s.settings.forwardHost}.`);
  const r = s.redirector;
  if (r) {
    const c = r.counts;
    const skipped = Object.entries(c.skipped).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`);
    const refused = Object.entries(c.refused).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`);
    lines.push(
      s.secretMatches ? 'The redirector holds this bot and its secret token.' : "The redirector does not hold this bot's secret token yet.",
      `Redirector: ${c.starts} starts and ${c.payments} payments kept, ${c.duplicates} redeliveries; last update ${when(c.lastReceivedAt)}.`,
      `Left out: ${skipped.length ? skipped.join(', ') : 'none'}. Refused: ${refused.length ? refused.join(', ') : 'none'}.`,
      ...(r.forwardHost ? [`Forwarded: ${c.forwarded}, failed ${c.forwardFailures}${c.lastForwardError ? ` (last ${when(c.lastForwardError.at)}: ${c.lastForwardError.message})` : ''}.`] : []),
      ...(r.problem ? [`The redirector set its Telegram settings aside: ${r.problem}`] : []),
    );
  }
  lines.push(`Here: ${s.local.starts} bot starts, ${s.local.payments} payments; last start ${when(s.local.lastStartAt)}.`);
  for (const p of s.problems) lines.push(`Problem: ${p}`);
  return lines;
}

/** `revtrail connect telegram` and `revtrail telegram status|activate|secret`. */
export async function telegramCommand(core: Core, positionals: string[], flags: TelegramFlags, io: TelegramIo, usage: (message: string) => never): Promise<CommandOutput> {
  const workspace = flags.workspace;
  const [command, sub, which] = positionals;
  if (command === 'connect') {
    if (positionals.length > 2) usage('connect telegram takes no further arguments: the bot token is read from REVTRAIL_TELEGRAM_BOT_TOKEN or standard input.');
    const botToken = await io.readSecret('REVTRAIL_TELEGRAM_BOT_TOKEN', 'Telegram bot token (from BotFather)');
    if (!botToken) usage('No bot token given: set REVTRAIL_TELEGRAM_BOT_TOKEN or pipe it on standard input (BotFather: /mybots → the bot → API Token).');
    const r = await core.call('telegram.connect', {
      workspace,
      botToken,
      apiBase: flags['api-base'] ?? null,
      webhookUrl: flags['webhook-url'] ?? null,
      forwardSecretToken: io.env('REVTRAIL_TELEGRAM_FORWARD_SECRET') ?? null,
    });
    if (!r.ok) return r;
    const v = r.value;
    const lines = [`Telegram bot @${v.bot.username} (bot ${v.bot.id}); its endpoint on the redirector: ${v.webhookUrl}`, v.message, ...(v.setCommands ?? []).map((c) => `  ${c}`)];
    if (v.outcome === 'applied') lines.push('Make a link to it: revtrail links set <slug> --telegram-bot ' + v.bot.username + ' --channel NAME');
    return { ...r, text: lines.join('\n') };
  }
  switch (sub) {
    case 'status': {
      const r = await core.call('telegram.status', { workspace });
      return r.ok ? { ...r, text: statusLines(r.value).join('\n') } : r;
    }
    case 'activate': {
      const r = await core.call('telegram.activate', { workspace, webhookUrl: flags['webhook-url'] ?? null });
      return r.ok ? { ...r, text: statusLines(r.value).join('\n') } : r;
    }
    case 'secret': {
      if (which !== 'bot-token' && which !== 'secret-token' && which !== 'forward') usage('telegram secret needs which: bot-token, secret-token or forward.');
      if (io.stdoutIsTerminal) {
        return err('invalid_input', 'telegram secret prints a secret, so only into a pipe: run the commands `revtrail connect telegram` printed, which pipe it into `sst secret set`.');
      }
      const r = await core.call('telegram.secretName', { workspace, which });
      if (!r.ok) return r;
      const value = await io.readStored(r.value.name);
      if (which === 'forward') {
        // SST's TelegramForward: "<url>" or "<url> <secret_token>"; `unset` clears an earlier one.
        const forward = value ? (JSON.parse(value) as { url: string; secretToken: string | null }) : null;
        const text = forward ? [forward.url, forward.secretToken].filter(Boolean).join(' ') : 'unset';
        return { ok: true, value: { which }, text };
      }
      if (!value) return err('not_found', 'No Telegram bot is connected here: run `revtrail connect telegram` first.');
      return { ok: true, value: { which }, text: value };
    }
    default:
      return usage('telegram needs status, activate or secret: revtrail telegram status');
  }
}

/** Telegram Stars for a report's cell: "50 Stars", or empty when none. */
export const starsCell = (stars: number): string => (stars === 0 ? '' : formatStars(stars));
