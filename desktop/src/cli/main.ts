import { parseArgs } from 'node:util';
import { internalMessage, systemClock } from '@revtrail/shared';
import { createCore, type Core } from '../core/core';
import { chooseSecretStore } from '../core/secrets/choose';
import { createFileLogger, redactingStore } from '../host/log-file';
import { AFFILIATE_OPTIONS, AFFILIATE_USAGE, affiliatesCommand, type AffiliateFlags } from './commands/affiliates';
import { backupCommand, PRIVACY_OPTIONS, PRIVACY_USAGE, privacyCommand, type PrivacyFlags } from './commands/privacy';
import { ratesCommand } from './commands/rates';
import { reportCommand } from './commands/report';
import { statusCommand, syncCommand, type CommandOutput } from './commands/sync';
import { connectWebhookCommand, WEBHOOK_USAGE, webhookStatusCommand } from './commands/webhook';
import { META_OPTIONS, META_USAGE, metaCommand, type MetaFlags } from './commands/meta';
import { TELEGRAM_OPTIONS, TELEGRAM_USAGE, telegramCommand, type TelegramFlags } from './commands/telegram';
import type { SecretStore } from '../core/secrets/types';
import { exitCodeOf } from './exit-codes';
import { commandHelp, commandNames } from './help';
import { defaultDataDir, defaultSecretKeyFile } from '../host/paths';

const USAGE = `Usage: revtrail <command> [options]

Commands:
  workspace add <name>                 create a workspace (one per business or Stripe account)
  workspace list                       list workspaces
  connect redirector --url URL         connect a redirector; the sync token is read from
                                       REVTRAIL_SYNC_TOKEN or standard input, never from arguments
                                       (nor from the URL: no user:token@, no ?query)
  connect stripe [--account acct_..] [--api-base URL]
                                       connect Stripe with a restricted key (rk_live_/rk_test_), read from
                                       REVTRAIL_STRIPE_KEY or standard input, never from arguments;
                                       needs the redirector connected first (for its email-hash key);
                                       --account reads a Connect account (one workspace per account);
                                       --api-base: test mode, another Stripe API address (the fake Stripe)
${WEBHOOK_USAGE}
${META_USAGE}
${TELEGRAM_USAGE}
  links list                           links, and local changes not yet on the redirector
  links set <slug> --url URL --channel NAME [--campaign NAME] [--partner ID] [--disabled]
                                       create or change a tracking link (pushed to the redirector);
                                       --telegram-bot NAME instead of --url: a link that opens that bot
  links retry <slug>                   send a change the redirector refused (or that waits) again
  links discard <slug>                 drop a change not on the redirector; the link stays as it is there
  sync [--redirector] [--stripe]       push link changes; pull links, clicks, pageviews, identities
                                       (--redirector) and charges, refunds, disputes, customers,
                                       subscriptions, invoices (--stripe); no flag: whatever is connected.
                                       What cannot be read is skipped with a warning, the rest completes
  status                               what is connected, how much is here, when it last synced,
                                       what failed and which link changes wait or were refused
  rates status                         the currency rates here: newest ECB day, last refresh and its error
  rates refresh                        download the ECB's reference rates now (until the first
                                       refresh, the history bundled with Revtrail is used)
  report channels|daily|links|campaigns|ltv|models|journey [--from YYYY-MM-DD] [--to YYYY-MM-DD]
         [--tz ZONE] [--model last_click|first_click|linear|last_non_direct] [--currency CODE]
         [--format table|csv|json] [--customer cus_..]
                                       revenue per channel, day, link, campaign, subscription LTV,
                                       all models side by side, or one customer's journey (--customer);
                                       default: the last 30 days in the workspace's time zone
${AFFILIATE_USAGE}
${PRIVACY_USAGE}

Options:
  --workspace NAME   which workspace (needed when there is more than one)
  --data-dir DIR     where the data lives (default: REVTRAIL_HOME or the platform's app data folder)
  --json             machine-readable output (read commands)
  -h, --help         this help; \`revtrail help <command>\` or \`revtrail <command> --help\`: one command's
                     options and an example

Environment: REVTRAIL_STRIPE_API_BASE points the Stripe client elsewhere (e.g. a local fake) for every
  workspace without an address of its own (connect stripe --api-base).
  REVTRAIL_SECRETS=keychain|file picks where a new data directory keeps secrets (default: the OS
  keychain where one answers, else an encrypted file).

Exit codes: 0 done (sync: also when some resources were skipped, with a warning each), 1 unexpected failure
(a bug: the message names the log file, <data-dir>/logs/revtrail.log), 2 bad usage or input, 3 not found or not
set up, 4 refused, revoked or unreadable credentials or a missing permission (reconnect that service),
5 service unreachable, 6 the data folder cannot be used (a database from a newer Revtrail, a read-only disk).`;

class UsageError extends Error {}

/** What follows a usage error: the help of the command typed, or where the commands are listed. */
function usageHint(typed: string[]): string {
  return commandHelp(USAGE, typed) ?? `Commands: ${commandNames(USAGE).join(', ')}. Run \`revtrail help\` for all of them.`;
}

/** `revtrail help [command]`, `revtrail --help`, `revtrail <command> --help`: what they print, and the exit code. */
function help(topic: string[]): { text: string; code: number; toStderr: boolean } {
  if (topic.length === 0) return { text: USAGE, code: 0, toStderr: false };
  const found = commandHelp(USAGE, topic);
  if (found) return { text: found, code: 0, toStderr: false };
  return { text: `No command "${topic.join(' ')}". ${usageHint([])}`, code: 2, toStderr: true };
}

async function readSecret(envName: string, prompt: string): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) process.stderr.write(`${prompt} (input is read from standard input): `);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (process.stdin.isTTY && chunk.includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

function progressPrinter() {
  const tty = process.stderr.isTTY;
  return (p: { feed: string; received: number; done: boolean }) => {
    if (tty) {
      process.stderr.write(`\r\x1b[K  ${p.feed.padEnd(10)} ${p.received.toLocaleString('en-US')} received${p.done ? '\n' : ''}`);
    } else if (p.done) {
      process.stderr.write(`${p.feed}: ${p.received} received\n`);
    }
  };
}

interface Flags {
  workspace?: string;
  redirector?: boolean;
  stripe?: boolean;
  json?: boolean;
  url?: string;
  channel?: string;
  campaign?: string;
  partner?: string;
  disabled?: boolean;
  account?: string;
  'api-base'?: string;
  'telegram-bot'?: string;
}

async function run(core: Core, positionals: string[], flags: Flags, secrets: SecretStore): Promise<CommandOutput> {
  const [command, sub] = positionals;
  const ws = flags.workspace;
  if (['partners', 'programs', 'commissions', 'payouts'].includes(command ?? '')) return affiliatesCommand(core, positionals, flags as AffiliateFlags);
  if (command === 'privacy') return privacyCommand(core, sub, flags as PrivacyFlags);
  if (command === 'backup') return backupCommand(core, sub, positionals[2], ws);
  if (command === 'telegram' || (command === 'connect' && sub === 'telegram')) {
    const io = { readSecret, readStored: (name: string) => secrets.get(name), stdoutIsTerminal: process.stdout.isTTY === true, env: (name: string) => process.env[name] };
    return telegramCommand(core, positionals, flags as TelegramFlags, io, (message) => {
      throw new UsageError(message);
    });
  }
  if (command === 'meta' || (command === 'connect' && sub === 'meta')) {
    return metaCommand(core, positionals, flags as MetaFlags, readSecret, (message) => {
      throw new UsageError(message);
    });
  }
  switch (`${command ?? ''} ${sub ?? ''}`.trim()) {
    case 'workspace add': {
      const name = positionals.slice(2).join(' ').trim();
      if (!name) throw new UsageError('workspace add needs a name: revtrail workspace add "My Shop"');
      const r = await core.call('workspaces.add', { name });
      return r.ok ? { ...r, text: `Created workspace "${r.value.name}" (${r.value.id}).` } : r;
    }
    case 'workspace list': {
      const r = await core.call('workspaces.list', {});
      return r.ok ? { ...r, text: r.value.length ? r.value.map((w) => `${w.name}\t${w.id}\t${w.redirectorUrl ?? '(no redirector)'}`).join('\n') : 'No workspaces yet.' } : r;
    }
    case 'links list': {
      const r = await core.call('links.list', { workspace: ws });
      if (!r.ok) return r;
      const lines = r.value.map((l) => {
        const shown = l.pending ?? l.link;
        const state = l.refused !== null ? `refused: ${l.refused}` : l.pending ? 'not yet pushed' : l.link?.enabled ? 'live' : 'disabled';
        return `${l.slug}\t${shown?.channel ?? ''}\t${shown?.destination ?? ''}\t${state}`;
      });
      return { ...r, text: lines.length ? lines.join('\n') : 'No links yet: revtrail links set <slug> --url URL --channel NAME' };
    }
    case 'links set': {
      const slug = positionals[2];
      if (!slug || positionals.length > 3) throw new UsageError('links set needs one slug: revtrail links set spring-sale --url https://brand.com/ --channel Newsletter');
      if (!(flags.url || flags['telegram-bot']) || !flags.channel) throw new UsageError('links set needs --url (or --telegram-bot) and --channel.');
      const link = {
        ...(flags.url ? { destination: flags.url } : {}),
        ...(flags['telegram-bot'] ? { telegramBot: flags['telegram-bot'] } : {}),
        channel: flags.channel,
        ...(flags.campaign ? { campaign: flags.campaign } : {}),
        ...(flags.partner ? { partnerId: flags.partner } : {}),
        enabled: !flags.disabled,
      };
      const r = await core.call('links.save', { workspace: ws, slug, link });
      return r.ok ? { ...r, text: `${slug}: ${r.value.message}` } : r;
    }
    case 'connect redirector': {
      if (!flags.url) throw new UsageError('connect redirector needs --url, e.g. --url https://go.brand.com');
      const token = await readSecret('REVTRAIL_SYNC_TOKEN', 'Sync token');
      if (!token) throw new UsageError('No sync token given: set REVTRAIL_SYNC_TOKEN or pipe it on standard input.');
      const r = await core.call('redirector.connect', { workspace: ws, url: flags.url, token });
      return r.ok ? { ...r, text: `Connected "${r.value.workspace.name}" to ${r.value.workspace.redirectorUrl} (sync API v${r.value.apiVersion}).` } : r;
    }
    case 'connect stripe': {
      const key = await readSecret('REVTRAIL_STRIPE_KEY', 'Stripe restricted key');
      if (!key) throw new UsageError('No Stripe key given: set REVTRAIL_STRIPE_KEY or pipe it on standard input.');
      const r = await core.call('stripe.connect', { workspace: ws, key, ...(flags.account ? { account: flags.account } : {}), ...(flags['api-base'] !== undefined ? { apiBase: flags['api-base'] } : {}) });
      if (!r.ok) return r;
      const lines = r.value.checks.map((c) => `  [${c.ok ? 'x' : ' '}] ${c.label} (Read)${c.ok ? '' : `: missing ${c.permission}, tick it on the key in Stripe`}`);
      const account = r.value.workspace.stripeAccount ? `, account ${r.value.workspace.stripeAccount}` : '';
      const base = r.value.workspace.stripeApiBase;
      const head = base
        ? `Connected "${r.value.workspace.name}" to ${base}, a test-mode address instead of Stripe (${r.value.mode}-mode key${account}). Permissions:`
        : `Connected "${r.value.workspace.name}" to Stripe (${r.value.mode} mode${account}). Permissions:`;
      return { ...r, text: [head, ...lines].join('\n') };
    }
    case 'connect webhook':
      return connectWebhookCommand(core, ws, {
        readSecret: (prompt) => readSecret('REVTRAIL_WEBHOOK_SECRET', prompt),
        interactive: !process.env.REVTRAIL_WEBHOOK_SECRET && process.stdin.isTTY === true,
        note: (line) => process.stderr.write(`${line}\n`),
      });
    case 'webhook status':
      return webhookStatusCommand(core, ws);
    case 'links retry':
    case 'links discard': {
      const slug = positionals[2];
      if (!slug || positionals.length > 3) throw new UsageError(`links ${sub} needs one slug: revtrail links ${sub} spring-sale`);
      if (sub === 'retry') {
        const r = await core.call('links.retryPush', { workspace: ws, slug });
        return r.ok ? { ...r, text: `${slug}: ${r.value.message}` } : r;
      }
      const r = await core.call('links.discardPush', { workspace: ws, slug });
      return r.ok ? { ...r, text: r.value.message } : r;
    }
    case 'sync':
      return syncCommand(core, flags, progressPrinter());
    case 'status':
      return statusCommand(core, ws);
    case 'rates refresh': return ratesCommand(core, 'refresh', ws);
    case 'rates status': return ratesCommand(core, 'status', ws);
    default:
      throw new UsageError(
        commandNames(USAGE).includes(command ?? '') && positionals.length === 1 ? `"${command}" needs one of its commands:` : `Unknown command "${positionals.join(' ')}".`,
      );
  }
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = (args: string[]) =>
    parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        workspace: { type: 'string' },
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        url: { type: 'string' },
        channel: { type: 'string' },
        campaign: { type: 'string' },
        partner: { type: 'string' },
        account: { type: 'string' },
        'api-base': { type: 'string' },
        disabled: { type: 'boolean' },
        redirector: { type: 'boolean' },
        stripe: { type: 'boolean' },
        from: { type: 'string' },
        to: { type: 'string' },
        tz: { type: 'string' },
        model: { type: 'string' },
        currency: { type: 'string' },
        format: { type: 'string' },
        customer: { type: 'string' },
        ...AFFILIATE_OPTIONS,
        ...PRIVACY_OPTIONS,
        ...META_OPTIONS,
        ...TELEGRAM_OPTIONS,
        'telegram-bot': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  try {
    parsed = parse(argv);
  } catch (e) {
    // The command's own help, from the words typed before the first option.
    const first = argv.findIndex((a) => a.startsWith('-'));
    const typed = first < 0 ? argv : argv.slice(0, first);
    const code = (e as { code?: string }).code;
    const option = /'(-[^']*)'/.exec((e as Error).message)?.[1];
    const message = code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option ? `Unknown option ${option}.` : (e as Error).message;
    process.stderr.write(`${message}\n\n${usageHint(typed)}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') {
    const h = help(positionals[0] === 'help' ? positionals.slice(1) : positionals);
    (h.toStderr ? process.stderr : process.stdout).write(`${h.text}\n`);
    return h.code;
  }
  if (positionals.length === 0) {
    process.stderr.write(`No command given.\n\n${USAGE}\n`);
    return 2;
  }
  const dataDir = values['data-dir'] ?? defaultDataDir(process.env);
  const chosen = await chooseSecretStore({ dataDir, keyFile: defaultSecretKeyFile(process.env), prefer: process.env.REVTRAIL_SECRETS, env: process.env });
  if (!chosen.ok) {
    process.stderr.write(`${chosen.error.message}\n`);
    return exitCodeOf(chosen.error.code);
  }
  // The same log file as the app's; warnings also go to the terminal.
  const fileLog = createFileLogger({ dataDir });
  const log = {
    file: fileLog.file,
    info: fileLog.info,
    warn: (o: object, m: string) => {
      fileLog.warn(o, m);
      process.stderr.write(`warning: ${m}\n`);
    },
    error: fileLog.error,
  };
  const secrets = redactingStore(chosen.value, fileLog);
  const stripeApiBase = process.env.REVTRAIL_STRIPE_API_BASE || undefined;
  if (stripeApiBase !== undefined && !(URL.canParse(stripeApiBase) && /^https?:$/.test(new URL(stripeApiBase).protocol))) {
    process.stderr.write('REVTRAIL_STRIPE_API_BASE must be an http(s) address, e.g. http://127.0.0.1:12111\n');
    return 2;
  }
  const core = createCore({ dataDir, clock: systemClock, log, logFile: log.file, secrets, stripeApiBase });
  try {
    const r: CommandOutput = positionals[0] === 'report' ? await reportCommand(core, positionals.slice(1), values) : await run(core, positionals, values, secrets);
    if (!r.ok) {
      process.stderr.write(`${r.error.message}\n`);
      return exitCodeOf(r.error.code);
    }
    for (const w of r.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`${values.json ? JSON.stringify(r.value, null, 2) : r.text}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n\n${usageHint(positionals)}\n`);
      return 2;
    }
    log.error({ command: positionals.slice(0, 2).join(' '), err: e }, 'command failed');
    process.stderr.write(`${internalMessage(log.file)}\n`);
    return 1;
  } finally {
    core.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
