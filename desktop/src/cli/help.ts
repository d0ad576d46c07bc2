/**
 * Help for one command: `revtrail help links set`, `revtrail links set --help`. The usage text main.ts
 * prints in full stays the one list of commands (each domain adds its block to it); this file cuts the entries
 * for one command out of it and adds what a newcomer needs beside them: what each flag takes, and an example.
 */

/** One command of the usage text: its synopsis (flags included) and what it does. */
export interface UsageEntry {
  /** The command's words, e.g. ["links", "set"] or ["report", "channels|daily|links|…"]. */
  words: string[];
  /** As the usage text breaks it. */
  synopsis: string[];
  description: string;
}

/** Where the usage text's description column starts (the first line of an entry may run past it). */
const DESCRIPTION_COLUMN = 39;

/**
 * The entries of a usage text's "Commands:" section: an entry starts at a line indented by two spaces; lines
 * indented to the description column continue its description, other indented lines its synopsis.
 */
export function usageEntries(usage: string): UsageEntry[] {
  const lines = usage.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Commands:');
  const entries: { synopsis: string[]; description: string[] }[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') continue;
    if (!line.startsWith(' ')) break;
    const indent = line.length - line.trimStart().length;
    if (indent === 2) {
      const synopsis = line.slice(0, DESCRIPTION_COLUMN).trim();
      const rest = line.length > DESCRIPTION_COLUMN && line[DESCRIPTION_COLUMN - 1] === ' ' && line[DESCRIPTION_COLUMN - 2] === ' ' ? line.slice(DESCRIPTION_COLUMN).trim() : '';
      entries.push(rest ? { synopsis: [synopsis], description: [rest] } : { synopsis: [line.trim()], description: [] });
    } else if (entries.length > 0) {
      const last = entries[entries.length - 1]!;
      if (indent >= DESCRIPTION_COLUMN - 1) last.description.push(line.trim());
      else last.synopsis.push(line.trim());
    }
  }
  return entries.map((e) => ({ words: commandWords(e.synopsis.join(' ')), synopsis: e.synopsis, description: e.description.join(' ') }));
}

/** The leading words of a synopsis, up to its first flag, placeholder or argument. */
function commandWords(synopsis: string): string[] {
  const words: string[] = [];
  for (const token of synopsis.split(/\s+/)) {
    if (!/^[a-z][a-z|-]*$/.test(token)) break;
    words.push(token);
  }
  return words;
}

/** What an entry is known by here: its first word and the first of its second word's alternatives. */
const keyOf = (e: UsageEntry) => [e.words[0], e.words[1]?.split('|')[0]].filter(Boolean).join(' ');

/** A typed word names an entry's word when it is that word or one of its alternatives (`erase` of `find|export|erase`). */
const names = (typed: string, word: string) => word.split('|').includes(typed);

/**
 * The entries `typed` names (the longest run of its leading words that names any): `links` names every links
 * command, `links set podcast` the one entry `links set`. Empty when nothing matches.
 */
export function entriesFor(entries: UsageEntry[], typed: string[]): UsageEntry[] {
  for (let n = Math.min(typed.length, 2); n >= 1; n--) {
    const head = typed.slice(0, n);
    const found = entries.filter((e) => e.words.length >= n && head.every((w, i) => names(w, e.words[i]!)));
    if (found.length > 0) return found;
  }
  return [];
}

interface Details {
  /** Each flag the synopsis shows, with what it takes; flags the description already explains may be left out. */
  flags?: [string, string][];
  examples: string[];
}

const RANGE_FLAGS: [string, string][] = [
  ['--from YYYY-MM-DD', 'first day of the range (default: the 30 days that end with --to)'],
  ['--to YYYY-MM-DD', 'last day of the range (default: today, or 30 days from --from)'],
  ['--tz ZONE', "the time zone days are counted in, e.g. Europe/Berlin (default: the workspace's)"],
  ['--model MODEL', 'last_click (default), first_click, linear or last_non_direct'],
  ['--currency CODE', "the currency money is shown in (default: the workspace's reporting currency)"],
  ['--format FORMAT', 'table (default), csv or json'],
];

/** Flags and examples per command, keyed as keyOf keys an entry. */
const DETAILS: Record<string, Details> = {
  'workspace add': { examples: ['revtrail workspace add "My Shop"'] },
  'workspace list': { examples: ['revtrail workspace list'] },
  'connect redirector': {
    flags: [['--url URL', 'the redirector\'s address, e.g. https://go.brand.com (http only for this computer, e.g. http://127.0.0.1:8787)']],
    examples: ['REVTRAIL_SYNC_TOKEN=... revtrail connect redirector --url https://go.brand.com', 'pbpaste | revtrail connect redirector --url https://go.brand.com'],
  },
  'connect stripe': {
    flags: [
      ['--account acct_...', 'read this Connect account instead of the platform account'],
      ['--api-base URL', "test mode: the Stripe API address this workspace talks to, e.g. the fake Stripe at http://127.0.0.1:12111 (https, or http on this computer); --api-base https://api.stripe.com goes back to Stripe; left out: the address stays as it was"],
    ],
    examples: ['pbpaste | revtrail connect stripe', 'revtrail connect stripe --account acct_1Nv0FGQ9RKHgCVdK < key.txt', 'echo rk_test_... | revtrail connect stripe --api-base http://127.0.0.1:12111'],
  },
  'connect webhook': { examples: ['revtrail connect webhook', 'REVTRAIL_WEBHOOK_SECRET=whsec_new,whsec_old revtrail connect webhook'] },
  'webhook status': { examples: ['revtrail webhook status'] },
  'connect meta': { examples: ['REVTRAIL_META_TOKEN=... revtrail connect meta --pixel-id 1234567890 --test-event-code TEST123'] },
  'meta on': { examples: ['revtrail meta on', 'revtrail meta off'] },
  'meta status': { examples: ['revtrail meta status'] },
  'meta events': {
    flags: [
      ['--state STATE', 'only events in that state: pending, sending, sent, skipped or failed'],
      ['--limit N', 'at most N events (1 to 5000)'],
    ],
    examples: ['revtrail meta events --state failed --limit 20'],
  },
  'meta send': { examples: ['revtrail meta send'] },
  'connect telegram': {
    flags: [
      ['--webhook-url URL', "the redirector's Telegram endpoint as Telegram reaches it (https), when that is not the redirector's own address: a tunnel to the local redirector"],
      ['--api-base URL', 'a stand-in for https://api.telegram.org, e.g. a fake Bot API on this computer (https, or http on this computer)'],
    ],
    examples: ['REVTRAIL_TELEGRAM_BOT_TOKEN=123456:AAE... revtrail connect telegram', 'pbpaste | revtrail connect telegram --webhook-url https://tunnel.example.com/webhooks/telegram'],
  },
  'telegram status': { examples: ['revtrail telegram status'] },
  'telegram activate': { flags: [['--webhook-url URL', 'as for connect telegram']], examples: ['revtrail telegram activate'] },
  'telegram secret': {
    examples: ['revtrail telegram secret bot-token | npm run -s sst -w redirector -- secret set TelegramBotToken --stage prod'],
  },
  'links list': { examples: ['revtrail links list', 'revtrail links list --json'] },
  'links set': {
    flags: [
      ['<slug>', 'the part of the link after the domain: letters, digits and dashes, e.g. spring-sale'],
      ['--url URL', 'where the link leads (http or https)'],
      ['--channel NAME', 'the channel its clicks are credited to, e.g. Newsletter'],
      ['--campaign NAME', 'a campaign inside the channel'],
      ['--partner ID', 'the affiliate partner the link belongs to (revtrail partners list shows the ids)'],
      ['--disabled', 'save the link switched off: its address answers "not found" until it is set again without --disabled'],
    ],
    examples: ['revtrail links set spring-sale --url https://brand.com/spring --channel Newsletter --campaign spring', 'revtrail links set spring-sale --url https://brand.com/spring --channel Newsletter --disabled'],
  },
  'links retry': { examples: ['revtrail links retry spring-sale'] },
  'links discard': { examples: ['revtrail links discard spring-sale'] },
  sync: {
    flags: [
      ['--redirector', 'only the redirector: link changes out; links, clicks, pageviews and identities in'],
      ['--stripe', 'only Stripe: charges, refunds, disputes, customers, subscriptions and invoices'],
    ],
    examples: ['revtrail sync', 'revtrail sync --stripe'],
  },
  status: { examples: ['revtrail status', 'revtrail status --json'] },
  'rates status': { examples: ['revtrail rates status'] },
  'rates refresh': { examples: ['revtrail rates refresh'] },
  'report channels': {
    flags: [...RANGE_FLAGS, ['--customer cus_...', 'journey only: the customer (a Stripe id, or the id the customers list shows)']],
    examples: ['revtrail report channels --from 2025-01-01 --to 2025-03-31', 'revtrail report models --format csv > models.csv', 'revtrail report journey --customer cus_NffrFeUfNV2Hib'],
  },
  'programs add': { examples: ['revtrail programs add --name Partners --rate 20% --duration 12-months --minimum USD:50.00'] },
  'programs list': { examples: ['revtrail programs list'] },
  'partners add': { examples: ['revtrail partners add --name "Jo Doe" --email jo@example.com --paypal jo@example.com --program Partners'] },
  'partners list': { examples: ['revtrail partners list'] },
  'partners show': { examples: ['revtrail partners show jo-doe'] },
  'commissions list': { examples: ['revtrail commissions list --partner jo-doe --state approved'] },
  'payouts preview': { examples: ['revtrail payouts preview --period 2025-05'] },
  'payouts create': { examples: ['revtrail payouts create --period 2025-05'] },
  'payouts list': { examples: ['revtrail payouts list --period 2025-05'] },
  'payouts export': { examples: ['revtrail payouts export --period 2025-05 --format paypal --out ./payouts'] },
  'payouts mark-paid': { examples: ['revtrail payouts mark-paid --period 2025-05 --reference PAYPAL-BATCH-123'] },
  'privacy find': { examples: ['revtrail privacy find --email jo@example.com', 'revtrail privacy export --email jo@example.com --out ./requests', 'revtrail privacy erase --customer cus_NffrFeUfNV2Hib'] },
  'privacy log': { examples: ['revtrail privacy log'] },
  'backup create': { examples: ['revtrail backup create', 'revtrail backup list'] },
  'backup restore': { examples: ['revtrail backup restore ~/Revtrail/backups/my-shop-2025-05-01.rtbak'] },
};

/** Whether every entry has its flags and an example here (the help test checks the usage text against this). */
export const detailsOf = (e: UsageEntry): Details | undefined => DETAILS[keyOf(e)];

const sentence = (s: string) => (s === '' ? '' : `${s[0]!.toUpperCase()}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}`);

const WIDTH = 100;

/** `text` in lines of at most WIDTH columns, the first after `first`, the others indented by `indent`. */
function wrap(text: string, first: string, indent: number): string[] {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent);
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line.trimEnd());
  return lines;
}

const COMMON = 'Options of every command: --workspace NAME (needed when there is more than one), --data-dir DIR,\n--json (read commands).';

/** The help of the commands `typed` names, or null when it names none. */
export function commandHelp(usage: string, typed: string[]): string | null {
  const found = entriesFor(usageEntries(usage), typed);
  if (found.length === 0) return null;
  const out: string[] = [];
  const examples: string[] = [];
  for (const e of found) {
    const d = detailsOf(e);
    out.push(`Usage: revtrail ${e.synopsis[0]}`, ...e.synopsis.slice(1).map((l) => `         ${l}`), '', ...wrap(sentence(e.description), '  ', 2));
    if (d?.flags?.length) {
      const width = Math.max(...d.flags.map(([f]) => f.length));
      out.push('', ...d.flags.flatMap(([f, what]) => wrap(what, `  ${f.padEnd(width)}  `, width + 4)));
    }
    out.push('');
    for (const x of d?.examples ?? []) if (!examples.includes(x)) examples.push(x);
  }
  if (examples.length > 0) out.push(examples.length === 1 ? 'Example:' : 'Examples:', ...examples.map((x) => `  ${x}`), '');
  out.push(COMMON, 'All commands and exit codes: revtrail help');
  return out.join('\n');
}

/** The command names of a usage text, for "Unknown command" to list. */
export function commandNames(usage: string): string[] {
  return [...new Set(usageEntries(usage).map((e) => e.words[0]!))];
}
