import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Click } from '@revtrail/shared';
import { TOKEN } from '../support';
import { journalFigures, type JournalFigures } from './journal';

const auth = { authorization: `Bearer ${TOKEN}` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Far beyond a healthy drain (a few seconds here), short enough that a stuck journal fails its row soon. */
export const DRAIN_TIMEOUT_MS = 20_000;
/** Six ingest ticks (a quarter second each) without a new click. */
const QUIET_MS = 1_500;

/** A free port on 127.0.0.1, so a restarted redirector comes back where the load generator sends. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

/** Numbers in [0, 1) from a seed (SHA-256 of seed and counter), so a failing row's random moments can be replayed. */
export function seededRandom(seed: number): () => number {
  let i = 0;
  return () => createHash('sha256').update(`${seed}:${i++}`).digest().readUInt32BE(0) / 2 ** 32;
}

export async function putLink(url: string, slug: string): Promise<void> {
  const res = await fetch(`${url}/api/v1/links/${slug}`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ destination: 'https://brand.example/landing', channel: 'Newsletter' }),
  });
  if (res.status !== 201) throw new Error(`creating /${slug}: ${res.status} ${await res.text()}`);
}

export interface LoadTotals {
  sent: number;
  answered: number;
  otherStatus: number;
  failed: number;
}

export interface Load {
  /** Resolves once the generator sent its first requests. */
  started: Promise<void>;
  done: Promise<LoadTotals>;
  /** Every N the generator saw answered with a 302 (complete once `done` resolved). */
  answered(): Set<number>;
}

/** Starts the load generator (test/faults/load.ts) in its own process against `url` (a link's URL). */
export function startLoad(opts: { url: string; run: string; out: string; durationMs: number; concurrency?: number; max?: number }): Load {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'load.ts'), '--url', opts.url, '--run', opts.run, '--out', opts.out, '--duration-ms', String(opts.durationMs), '--concurrency', String(opts.concurrency ?? 32), '--max', String(opts.max ?? 100_000)],
    { cwd: join(import.meta.dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((ok) => (markStarted = ok));
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('started')) markStarted();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<LoadTotals>((resolve, reject) =>
    child.on('exit', (code) => {
      markStarted();
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as LoadTotals);
      else reject(new Error(`the load generator exited ${code}: ${err || out}`));
    }),
  );
  const answered = () =>
    new Set(
      readFileSync(opts.out, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((n) => Number(n)),
    );
  return { started, done, answered };
}

/** A 5xx is tried again a few times, as the desktop's sync does: the store may be reopening after a fault. */
async function getJson<T>(url: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(url, { headers: auth });
    if (res.ok) return (await res.json()) as T;
    const text = await res.text();
    if (res.status < 500 || attempt >= 4) throw new Error(`${url}: ${res.status} ${text}`);
    await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
  }
}

export async function readStatus(url: string): Promise<unknown> {
  return getJson(`${url}/api/v1/status`);
}

interface FeedPage {
  items: Click[];
  cursor: string;
  hasMore: boolean;
}

/** Every click in the store, through the sync API's feed, page by page. */
export async function readAllClicks(url: string): Promise<Click[]> {
  const items: Click[] = [];
  let cursor = '';
  for (;;) {
    const page = await getJson<FeedPage>(`${url}/api/v1/clicks?limit=1000&cursor=${cursor}`);
    items.push(...page.items);
    cursor = page.cursor;
    if (!page.hasMore) return items;
  }
}

export interface Drain {
  drained: boolean;
  /** When the last click arrived in the store (or the journal last said it held some). */
  at: number;
  figures: JournalFigures;
}

/**
 * Waits until the journal is empty by the server's own count and no click has reached the store for
 * QUIET_MS, bounded by DRAIN_TIMEOUT_MS. The feed is followed with its cursor, so each poll reads only what
 * is new; a poll that fails (the server busy or the store down) counts as not drained yet.
 */
export async function waitDrained(url: string): Promise<Drain> {
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let cursor = '';
  let lastChange = Date.now();
  let figures = journalFigures({});
  while (Date.now() < deadline) {
    try {
      figures = journalFigures(await readStatus(url));
      let arrived = 0;
      for (;;) {
        const page = await getJson<FeedPage>(`${url}/api/v1/clicks?limit=1000&cursor=${cursor}`);
        arrived += page.items.length;
        cursor = page.cursor;
        if (!page.hasMore) break;
      }
      if (arrived > 0 || figures.queued > 0) lastChange = Date.now();
      else if (Date.now() - lastChange >= QUIET_MS) return { drained: true, at: lastChange, figures };
    } catch {
      lastChange = Date.now();
    }
    await sleep(250);
  }
  return { drained: false, at: Date.now(), figures };
}

export interface Tally {
  answered: number;
  /** Distinct clicks of this run in the store, answered or not (a request cut by a kill may be stored). */
  stored: number;
  /** Answered with a 302, not in the store. */
  lost: number;
  /** Click rows beyond the first for the same request. */
  duplicates: number;
}

/** Compares what the load generator saw answered with the clicks the store holds for run `run`. */
export function tally(clicks: Click[], run: string, answered: Set<number>): Tally {
  const rows = new Map<number, number>();
  const prefix = `${run}-`;
  for (const c of clicks) {
    const content = c.utm.utm_content;
    if (!content?.startsWith(prefix)) continue;
    const n = Number(content.slice(prefix.length));
    rows.set(n, (rows.get(n) ?? 0) + 1);
  }
  let lost = 0;
  for (const n of answered) if (!rows.has(n)) lost += 1;
  let duplicates = 0;
  for (const count of rows.values()) duplicates += count - 1;
  return { answered: answered.size, stored: rows.size, lost, duplicates };
}

export interface Row extends Partial<Tally> {
  fault: string;
  /** What the server itself reports lost (cut lines, a truncated journal, a full buffer). */
  reportedLost?: number;
  quarantined?: number;
  recoveryMs?: number;
  note?: string;
}

/** The table the suite prints: one line a fault. */
export function formatTable(rows: Row[], header: string): string {
  const cols: [string, (r: Row) => string | number | undefined][] = [
    ['fault', (r) => r.fault],
    ['answered', (r) => r.answered],
    ['stored', (r) => r.stored],
    ['lost', (r) => r.lost],
    ['reported lost', (r) => r.reportedLost],
    ['quarantined', (r) => r.quarantined],
    ['duplicates', (r) => r.duplicates],
    ['recovery ms', (r) => r.recoveryMs],
    ['note', (r) => r.note],
  ];
  const cells = [cols.map(([h]) => h), ...rows.map((r) => cols.map(([, f]) => String(f(r) ?? '-')))];
  const widths = cols.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 || i === c.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join(' | ').trimEnd();
  return [header, line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.slice(1).map(line)].join('\n');
}
