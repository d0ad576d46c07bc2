/**
 * npm run bench:sync [-- --clicks N --charges N] — the desktop's full and incremental syncs through the real
 * core: clicks from a local redirector (embedded dynalite, the HTTP sync API) and Stripe objects from the
 * fake Stripe (official client over HTTP), each beside the rate of raw better-sqlite3 inserts of the same
 * rows, measured in the same run, and the sync process's peak memory. It reports; a missed target still
 * exits 0. A harness failure (a server that does not start, rows that do not arrive) exits 1.
 *
 * Three processes: this one is the desktop (createCore, SQLite), whose memory is the figure; the redirector with
 * its store, and the fake Stripe, each run in a child of their own (this file with `servers redirector|stripe`),
 * so their heaps do not count, and the redirector's process holds what a local redirector's does (the fake's
 * 100,000 charges in its heap made every full collection of the redirector's heap that much longer).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import Database from 'better-sqlite3';
import type pino from 'pino';
import { linkFromInput, newEventId, newVisitorId, ok, systemClock, type Click, type Link, type Result } from '@revtrail/shared';
import { startLocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import { createCore, type Core } from '../src/core/core';
import type { CoreEvents } from '../src/core/api';
import { WORKSPACE_PRAGMAS, type Db } from '../src/core/db/open';
import { PULL_CACHE_KIB } from '../src/core/redirector/sync';
import type { SecretStore } from '../src/core/secrets/types';
import type { StripeObjectType } from '../src/core/stripe/repo';
import { WorkspaceRegistry } from '../src/core/workspaces/registry';
import { startFakeStripe } from '../src/fake-stripe/server';
import { bulkSeed } from '../src/fake-stripe/seed';
import type { AccountData } from '../src/fake-stripe/account';
import type { FakeStripeState } from '../src/fake-stripe/state';

const SELF = fileURLToPath(import.meta.url);
const RESULTS = fileURLToPath(new URL('./results/sync.json', import.meta.url));
const TARGETS = { clickRatioMin: 0.3, peakRssMaxBytes: 500 * 1024 * 1024, incrementalMaxMs: 2000 };
const RSS_SAMPLE_MS = 25;
/** Records per putEvents call and how many run at once while seeding (each call is 25-item BatchWriteItems). */
const SEED_CHUNK = 1000;
const SEED_PARALLEL = 4;
/** Rows read from the synced database per untimed step of the reference insert. */
const REFERENCE_CHUNK = 10_000;
/** Where the fake keeps each type the sync reads; a Record, so a type added to the sync cannot be left out here. */
const FAKE_COLLECTION = {
  customers: 'customers',
  charges: 'charges',
  refunds: 'refunds',
  disputes: 'disputes',
  subscriptions: 'subscriptions',
  invoices: 'invoices',
  invoice_payments: 'invoicePayments',
} as const satisfies Record<StripeObjectType, keyof AccountData>;
const STRIPE_TYPES = Object.keys(FAKE_COLLECTION) as StripeObjectType[];

interface Sizes {
  clicks: number;
  charges: number;
}

// ---------------------------------------------------------------------------------------------------
// The servers' process: the local redirector seeded with clicks, and the fake Stripe.

type ServerPart = 'redirector' | 'stripe';
interface ServersReady {
  type: 'ready';
  redirector: { url: string; token: string; links: number; clicks: number; seedMs: number };
  stripe: { url: string; key: string; counts: Record<StripeObjectType, number>; seedMs: number };
}
/** What one servers' process reports when ready: its own part. */
type PartReady = { type: 'ready' } & Partial<Omit<ServersReady, 'type'>>;
interface ServersStopped {
  type: 'stopped';
  maxRssBytes: number;
}
/** The servers' CPU time and profile over the full click pull (asked for with `profile-start` / `profile-stop`). */
interface ServersProfile {
  type: 'profile';
  profile: CpuProfile;
}
type FromServers = PartReady | ServersStopped | ServersProfile;

const CHANNELS = ['Newsletter', 'Paid social', 'Podcast', 'Affiliate', 'Search ads'] as const;
const REFERRERS = ['https://www.google.com/', 'https://www.facebook.com/', 'https://t.co/', 'https://news.ycombinator.com/item', 'https://www.linkedin.com/feed/'];
const BROWSERS = [
  { device: 'desktop', browser: 'Chrome', os: 'Windows' },
  { device: 'desktop', browser: 'Safari', os: 'macOS' },
  { device: 'mobile', browser: 'Mobile Safari', os: 'iOS' },
  { device: 'mobile', browser: 'Chrome', os: 'Android' },
  { device: 'tablet', browser: 'Mobile Safari', os: 'iOS' },
] as const;
const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'JP', 'CA', null];

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

function benchLinks(now: number): Link[] {
  return Array.from({ length: 40 }, (_, i) => {
    const channel = CHANNELS[i % CHANNELS.length]!;
    return linkFromInput(
      `link-${i}`,
      {
        destination: `https://brand.com/landing/${i}`,
        channel,
        campaign: i % 3 === 0 ? null : `campaign-${i % 7}`,
        partnerId: channel === 'Affiliate' ? `partner_${i}` : null,
        utm: { utm_source: channel.toLowerCase().replace(/ /g, '-'), utm_medium: i % 2 ? 'email' : 'cpc', utm_campaign: `spring-${i % 4}` },
      },
      now,
    );
  });
}

/**
 * Clicks shaped as the redirector records them (ids, a third as many visitors, referrers, ad click ids on
 * about half, UTM from the link, some bots and duplicates), spread over the last 60 days in time order.
 */
function clickMaker(total: number, links: Link[], now: number): (i: number) => Click {
  const visitors = Array.from({ length: Math.max(1, Math.ceil(total / 3)) }, () => newVisitorId());
  const spanMs = 60 * 86_400_000;
  return (i) => {
    const at = now - spanMs + Math.floor((i * spanMs) / total);
    const link = pick(links);
    const agent = pick(BROWSERS);
    const referrer = Math.random() < 0.5 ? pick(REFERRERS) : null;
    const r = Math.random();
    const clickIds = r < 0.3 ? { gclid: randomBytes(66).toString('base64url') } : r < 0.5 ? { fbclid: randomBytes(45).toString('base64url') } : {};
    const bot = Math.random() < 0.05;
    return {
      id: newEventId(at),
      slug: link.slug,
      at,
      visitorId: pick(visitors),
      referrerHost: referrer ? new URL(referrer).hostname : null,
      referrerUrl: referrer,
      device: agent.device,
      browser: agent.browser,
      os: agent.os,
      country: pick(COUNTRIES),
      ipHash: randomBytes(16).toString('hex'),
      clickIds,
      utm: { ...link.utm, ...(i % 4 === 0 ? { utm_content: `v${i % 10}` } : {}) },
      bot,
      botReason: bot ? 'user_agent' : null,
      duplicate: !bot && Math.random() < 0.03,
      channel: link.channel,
      campaign: link.campaign,
      partnerId: link.partnerId,
    };
  };
}

/** bulkSeed's charges, refunds, disputes and customers, plus monthly subscriptions renewed up to now. */
function stripeSeed(charges: number): (state: FakeStripeState) => void {
  return (state) => {
    bulkSeed({ charges, customers: Math.max(100, Math.floor(charges / 10)) })(state);
    const customers = state.platform.customers.newestFirst();
    const now = state.now();
    const subscriptions = Math.max(1, Math.floor(charges / 100));
    for (let i = 0; i < subscriptions; i++) {
      const at = now - 365 * 86_400 + Math.floor((i * 360 * 86_400) / subscriptions);
      const currency = (['usd', 'eur', 'gbp'] as const)[i % 3]!;
      const { subscription } = state.addSubscription(
        customers[i % customers.length]!.id,
        { unitAmount: 1_900 + (i % 5) * 1_000, currency, interval: 'month', nickname: `Plan ${i % 5}` },
        { at },
      );
      let periodEnd = subscription.items.data[0]!.current_period_end;
      const renewals = i % 4 === 3 ? 2 : Infinity;
      for (let n = 0; n < renewals && periodEnd <= now; n++) {
        state.renewSubscription(subscription.id);
        periodEnd = subscription.items.data[0]!.current_period_end;
      }
      if (i % 4 === 3) state.cancelSubscription(subscription.id, { at: Math.min(now, periodEnd) });
    }
  };
}

async function servers(dataDir: string, sizes: Sizes, part: ServerPart): Promise<void> {
  if (part === 'stripe') return stripeServer(sizes);
  const token = randomBytes(30).toString('base64url');
  const r = await startLocalRedirector({
    dataDir,
    port: 0,
    settings: { REVTRAIL_SYNC_TOKEN: token, REVTRAIL_FEED_SETTLE_MS: '0' },
    log: silentLogger as pino.Logger,
    maintenance: false,
  });

  const t0 = performance.now();
  const links = benchLinks(Date.now());
  for (const link of links) await r.store.putLink(link);
  const make = clickMaker(sizes.clicks, links, Date.now());
  let next = 0;
  let written = 0;
  const worker = async () => {
    while (next < sizes.clicks) {
      const from = next;
      next = Math.min(sizes.clicks, next + SEED_CHUNK);
      const records = [];
      for (let i = from; i < next; i++) records.push({ kind: 'clicks' as const, item: make(i) });
      await r.store.putEvents(records);
      written += records.length;
      if (Math.floor(written / 100_000) !== Math.floor((written - records.length) / 100_000)) step(`servers: ${written.toLocaleString('en-US')} clicks in the store`);
    }
  };
  // Workers take chunks in order, so the store's append order stays close to the clicks' time order.
  await Promise.all(Array.from({ length: SEED_PARALLEL }, worker));
  const clicksSeedMs = performance.now() - t0;
  serve(() => r.close());
  process.send?.({ type: 'ready', redirector: { url: r.url, token, links: links.length, clicks: written, seedMs: clicksSeedMs } } satisfies PartReady);
}

async function stripeServer(sizes: Sizes): Promise<void> {
  const t1 = performance.now();
  const fake = await startFakeStripe({ seed: stripeSeed(sizes.charges) });
  const stripeSeedMs = performance.now() - t1;
  const p = fake.state.platform;
  serve(() => fake.close());
  process.send?.({
    type: 'ready',
    stripe: {
      url: fake.url,
      key: fake.keys.restricted,
      counts: Object.fromEntries(STRIPE_TYPES.map((t) => [t, p[FAKE_COLLECTION[t]].size])) as Record<StripeObjectType, number>,
      seedMs: stripeSeedMs,
    },
  } satisfies PartReady);
}

/** A servers' process answers the parent's stop and profile messages, and never outlives it. */
function serve(close: () => Promise<void>): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await close();
    const stopped: ServersStopped = { type: 'stopped', maxRssBytes: process.resourceUsage().maxRSS * 1024 };
    if (process.connected) process.send?.(stopped, () => process.exit(0));
    else process.exit(0);
  };
  const stopNow = () =>
    void stop().catch((e: unknown) => {
      console.error('bench:sync (servers) failed to stop:', e);
      process.exit(1);
    });
  let profiling: ReturnType<typeof startProfile> | null = null;
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stop') stopNow();
    if (m.type === 'profile-start') profiling = startProfile();
    if (m.type === 'profile-stop' && profiling) {
      void profiling
        .then((p) => p.stop())
        .then((profile) => process.send?.({ type: 'profile', profile } satisfies ServersProfile));
      profiling = null;
    }
  });
  // Never outlive the benchmark, whatever happened to it.
  process.on('disconnect', stopNow);
}

/** Starts one servers' process and waits until its part is seeded and listening. */
function startServers(
  dataDir: string,
  sizes: Sizes,
  part: ServerPart,
): Promise<{ child: ChildProcess; ready: PartReady; stopped: Promise<ServersStopped | null>; profile: () => Promise<CpuProfile> }> {
  // fork keeps this process's execArgv, so the child runs under tsx's loader too.
  const child = fork(SELF, ['servers', dataDir, part, '--clicks', String(sizes.clicks), '--charges', String(sizes.charges)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let resolveStopped: (m: ServersStopped | null) => void = () => undefined;
  const stopped = new Promise<ServersStopped | null>((resolve) => (resolveStopped = resolve));
  let resolveProfile: (p: CpuProfile) => void = () => undefined;
  const profile = () =>
    new Promise<CpuProfile>((resolve) => {
      resolveProfile = resolve;
      child.send({ type: 'profile-stop' });
    });
  return new Promise((resolve, reject) => {
    child.on('message', (m: FromServers) => {
      if (m.type === 'ready') resolve({ child, ready: m, stopped, profile });
      else if (m.type === 'profile') resolveProfile(m.profile);
      else resolveStopped(m);
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      resolveStopped(null);
      reject(new Error(`the servers' process exited with ${signal ?? code} before it was ready`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// The desktop's process: the core syncs, memory sampling and the raw-insert references.

/** A process's CPU time over a stretch, and where it went: the functions with the most self time. */
interface CpuProfile {
  wallMs: number;
  /** user + system CPU of the whole process (every thread: LevelDB's and libuv's too), in ms. */
  cpuMs: number;
  /** Share of the JS thread's samples, per function (a native frame charged to the JS function calling it). */
  top: { share: number; ms: number; name: string }[];
}

/**
 * Starts node:inspector's Profiler (what node --cpu-prof records) in this process; stop() gives the CPU time
 * used meanwhile and the functions with the most self time. SQLite's and LevelDB's time shows in the JS
 * function that called them.
 */
async function startProfile(): Promise<{ stop: () => Promise<CpuProfile> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    async stop() {
      const used = process.cpuUsage(cpu0);
      const wallMs = performance.now() - t0;
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
      const parents = new Map(profile.nodes.flatMap((n) => (n.children ?? []).map((c) => [c, n.id] as const)));
      const name = (f: { functionName: string; url: string; lineNumber: number }) =>
        `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/(src|bench)\//, '$1/')}:${f.lineNumber + 1}`;
      const self = new Map<string, number>();
      let total = 0;
      profile.samples!.forEach((id, i) => {
        const f = frames.get(id)!;
        const caller = f.url === '' && parents.has(id) ? frames.get(parents.get(id)!) : undefined;
        const key = caller && caller.url !== '' ? `${f.functionName || '(native)'} from ${name(caller)}` : name(f);
        self.set(key, (self.get(key) ?? 0) + profile.timeDeltas![i]!);
        total += profile.timeDeltas![i]!;
      });
      const top = [...self]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 14)
        .map(([key, us]) => ({ share: us / total, ms: us / 1000, name: key }));
      return { wallMs, cpuMs: (used.user + used.system) / 1000, top };
    },
  };
}

const step = (what: string) => console.log(`[${(performance.now() / 1000).toFixed(1)} s] ${what}`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

function unwrap<T>(r: Result<T>, what: string): T {
  if (!r.ok) throw new Error(`${what} failed: ${r.error.code}: ${r.error.message}`);
  return r.value;
}

/** The highest resident set size seen by sampling, overall and since the last `phase()`. */
function rssSampler(intervalMs: number) {
  let overall = 0;
  let phase = 0;
  const sample = () => {
    const rss = process.memoryUsage.rss();
    if (rss > overall) overall = rss;
    if (rss > phase) phase = rss;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    /** The current phase's peak so far. */
    phasePeak(): number {
      sample();
      return phase;
    },
    /** Ends the current phase: its peak, then a fresh one starts. */
    phase(): number {
      sample();
      const peak = phase;
      phase = 0;
      return peak;
    },
    stop(): number {
      clearInterval(timer);
      sample();
      return overall;
    },
  };
}

interface SyncRun {
  /** The whole core call, as a user waits for it: the pull plus what the handler does after it. */
  ms: number;
  /** Until the pull's last progress event (its last page committed); the rest of `ms` is post-pull work. */
  pullMs: number;
  /** Rows the call reported as new (or changed, for Stripe charges); null when the call failed. */
  rows: number | null;
  /** Why the call failed (its pull may still have finished: see pullMs and received). */
  error: string | null;
  /** Items the sync received over HTTP, per feed (a re-read counts). */
  received: Record<string, number>;
  /** When each feed finished, in ms since the call started. */
  feedDoneMs: Record<string, number>;
  /** Peak RSS sampled during the pull, and during the whole call. */
  pullPeakRssBytes: number;
  peakRssBytes: number;
}

async function timedSync(core: Core, source: 'redirector' | 'stripe', rss: ReturnType<typeof rssSampler>, call: () => Promise<Result<number>>): Promise<SyncRun> {
  const received: Record<string, number> = {};
  const feedDoneMs: Record<string, number> = {};
  let reported = 0;
  let pullMs = 0;
  let pullPeakRssBytes = 0;
  const t0 = performance.now();
  const off = core.on('sync.progress', (e: CoreEvents['sync.progress']) => {
    if (e.source !== source) return;
    pullMs = performance.now() - t0;
    pullPeakRssBytes = rss.phasePeak();
    received[e.progress.feed] = e.progress.received;
    if (e.progress.done) feedDoneMs[e.progress.feed] = pullMs;
    const total = Object.values(received).reduce((a, b) => a + b, 0);
    if (Math.floor(total / 200_000) > Math.floor(reported / 200_000)) step(`  ${source}: ${int(total)} items received`);
    reported = total;
  });
  rss.phase();
  try {
    const r = await call();
    const ms = performance.now() - t0;
    const [rows, error] = r.ok ? [r.value, null] : [null, `${r.error.code}: ${r.error.message}`];
    if (error) step(`  ${source}: the call failed after ${secs(ms)} (${error})`);
    return { ms, pullMs, rows, error, received, feedDoneMs, pullPeakRssBytes, peakRssBytes: rss.phase() };
  } finally {
    off();
  }
}

interface Reference {
  rows: number;
  ms: number;
  rowsPerSecond: number;
}

/**
 * The reference: the rows the sync wrote, read back (untimed, in chunks) from the workspace database and
 * inserted with plain positional INSERTs in one transaction into the same table (its own DDL: primary key,
 * WITHOUT ROWID, indexes) in a fresh database with the workspace's pragmas. Only the inserts and the
 * commit are timed.
 */
function referenceInsert(source: Db, table: string, dir: string): Reference {
  // The table, then its indexes. Not its triggers: they name other tables, and none fires on an insert.
  const ddl = source
    .prepare(`SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type = 'index'`)
    .pluck()
    .all(table) as string[];
  const columns = (source.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
  const ref = new Database(join(dir, `reference-${table}.sqlite`));
  try {
    ref.pragma('journal_mode = WAL');
    for (const pragma of WORKSPACE_PRAGMAS) ref.pragma(pragma);
    // The page cache the sync's writes have (redirector/sync.ts).
    ref.pragma(`cache_size = -${PULL_CACHE_KIB}`);
    for (const sql of ddl) ref.exec(sql);
    const insert = ref.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    // The order the syncs received them in, near enough: clicks by time, Stripe objects newest first.
    const order = columns.includes('at') ? 'at, id' : 'created_at DESC, id DESC';
    const read = source.prepare(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${order}`).raw();
    let ms = 0;
    let rows = 0;
    const chunk: unknown[][] = [];
    const flush = () => {
      const t = performance.now();
      for (const row of chunk) insert.run(row);
      ms += performance.now() - t;
      rows += chunk.length;
      chunk.length = 0;
    };
    ref.exec('BEGIN');
    for (const row of read.iterate() as IterableIterator<unknown[]>) {
      chunk.push(row);
      if (chunk.length === REFERENCE_CHUNK) flush();
    }
    flush();
    const t = performance.now();
    ref.exec('COMMIT');
    ms += performance.now() - t;
    return { rows, ms, rowsPerSecond: rows / (ms / 1000) };
  } finally {
    ref.close();
  }
}

const memorySecrets = (): SecretStore => {
  const values = new Map<string, string>();
  return {
    description: 'in memory (benchmark)',
    get: async (k) => values.get(k) ?? null,
    set: async (k, v) => void values.set(k, v),
    delete: async (k) => void values.delete(k),
  };
};

interface Target {
  target: string;
  value: number;
  pass: boolean;
}

interface Results {
  date: string;
  machine: { cpus: number; cpuModel: string; os: string; memoryBytes: number; node: string; loadAverage: { beforeSyncs: number[]; afterSyncs: number[] } };
  sizes: Sizes;
  seeded: Omit<ServersReady['redirector'], 'token' | 'url'> & { stripe: ServersReady['stripe']['counts']; stripeSeedMs: number };
  clicks: { full: SyncRun & { rowsPerSecond: number }; incremental: SyncRun; reference: Reference; ratio: number; profile: { desktop: CpuProfile; servers: CpuProfile } };
  stripe: {
    full: SyncRun & { rowsPerSecond: number; chargesMs: number; chargesPerSecond: number };
    incremental: SyncRun;
    reference: Reference;
    ratio: number;
    counts: Record<StripeObjectType, number>;
  };
  memory: { sampledPeakRssBytes: number; maxRssBytes: number; judgedBytes: number; sampleEveryMs: number; serversMaxRssBytes: number | null; stripeMaxRssBytes: number | null };
  targets: Record<
    'clickRatio' | 'clicksIncrementalPull' | 'clicksIncrementalCall' | 'stripeIncrementalPull' | 'stripeIncrementalCall' | 'peakRss' | 'complete',
    Target
  >;
}

async function main(sizes: Sizes): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'revtrail-bench-sync-'));
  const cleanups: (() => Promise<void> | void)[] = [() => rmSync(work, { recursive: true, force: true })];
  try {
    step(`servers: seeding ${int(sizes.clicks)} clicks into the redirector's store and ${int(sizes.charges)} charges into the fake Stripe (a child process each)`);
    const started = [startServers(join(work, 'redirector'), sizes, 'redirector'), startServers(join(work, 'stripe'), sizes, 'stripe')];
    const stopper = (p: Promise<Awaited<(typeof started)[number]>>) => {
      let once: Promise<ServersStopped | null> | null = null;
      return () =>
        (once ??= p.then(
          async ({ child, stopped }) => {
            if (child.exitCode !== null || child.signalCode !== null) return null;
            const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
            const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
            child.send({ type: 'stop' });
            const info = await stopped;
            await exited;
            clearTimeout(timer);
            return info;
          },
          () => null,
        ));
    };
    const stoppers = started.map(stopper);
    const stopServers = async () => (await Promise.all(stoppers.map((stop) => stop())))[0] ?? null;
    const stopStripe = async () => (await stoppers[1]!()) ?? null;
    cleanups.push(async () => void (await stopServers()));
    const [redirectorPart, stripePart] = await Promise.all(started);
    const child = redirectorPart!.child;
    const serversProfile = redirectorPart!.profile;
    const ready = { type: 'ready', redirector: redirectorPart!.ready.redirector!, stripe: stripePart!.ready.stripe! } satisfies ServersReady;
    step(`servers: ready (clicks seeded in ${(ready.redirector.seedMs / 1000).toFixed(1)} s, Stripe in ${(ready.stripe.seedMs / 1000).toFixed(1)} s)`);

    const rss = rssSampler(RSS_SAMPLE_MS);
    const noop = () => undefined;
    const dataDir = join(work, 'desktop');
    const core = createCore({ dataDir, clock: systemClock, log: { info: noop, warn: noop, error: noop }, secrets: memorySecrets(), stripeApiBase: ready.stripe.url });
    cleanups.push(() => core.close());
    const ws = unwrap(await core.call('workspaces.add', { name: 'Bench' }), 'workspaces.add');
    unwrap(await core.call('redirector.connect', { url: ready.redirector.url, token: ready.redirector.token }), 'redirector.connect');
    unwrap(await core.call('stripe.connect', { key: ready.stripe.key }), 'stripe.connect');

    const loadBefore = loadavg();
    step('sync: redirector, full');
    const clickSync = async (): Promise<Result<number>> => {
      const r = await core.call('sync.redirector', {});
      return r.ok ? ok(r.value.clicks) : r;
    };
    // Both processes profiled over the full click pull: where its time goes, on either side of the HTTP API.
    child.send({ type: 'profile-start' });
    const desktopProfile = await startProfile();
    const clicksFull = await timedSync(core, 'redirector', rss, clickSync);
    const clickProfile = { desktop: await desktopProfile.stop(), servers: await serversProfile() };
    step(`sync: redirector, full: pulled in ${secs(clicksFull.pullMs)}, call ${secs(clicksFull.ms)}; incremental`);
    const clicksIncremental = await timedSync(core, 'redirector', rss, clickSync);
    step('sync: Stripe, full');
    const stripeSync = async (): Promise<Result<number>> => {
      const r = await core.call('sync.stripe', {});
      return r.ok ? ok(STRIPE_TYPES.reduce((n, t) => n + r.value.counts[t].added + r.value.counts[t].updated, 0)) : r;
    };
    const stripeFull = await timedSync(core, 'stripe', rss, stripeSync);
    step(`sync: Stripe, full: pulled in ${secs(stripeFull.pullMs)}, call ${secs(stripeFull.ms)}; incremental`);
    const stripeIncremental = await timedSync(core, 'stripe', rss, stripeSync);
    const sampledPeak = rss.stop();
    const maxRssBytes = process.resourceUsage().maxRSS * 1024;

    const status = unwrap(await core.call('status.get', { workspace: ws.id }), 'status.get').workspaces[0]!;
    // Read after the syncs (maxRSS above is already taken): the reference holds a chunk of rows in memory.
    step('reference: raw better-sqlite3 inserts of the same click rows, one transaction');
    // A second, read-only connection to the database the core wrote.
    const db = new Database(new WorkspaceRegistry(dataDir).databasePath(ws.id), { readonly: true, fileMustExist: true });
    const clickRef = referenceInsert(db, 'clicks', work);
    step('reference: the same for charges');
    const chargeRef = referenceInsert(db, 'stripe_charges', work);
    db.close();

    const loadAfter = loadavg();
    const chargesMs = (stripeFull.feedDoneMs.charges ?? stripeFull.pullMs) - (stripeFull.feedDoneMs.customers ?? 0);
    // Both full syncs start from an empty database: what it holds now is what they wrote.
    const clickRate = status.counts.clicks / (clicksFull.pullMs / 1000);
    const ratio = clickRate / clickRef.rowsPerSecond;
    const chargesPerSecond = status.counts.charges / (chargesMs / 1000);
    const judged = Math.max(sampledPeak, maxRssBytes);
    const stripeCounts = Object.fromEntries(STRIPE_TYPES.map((t) => [t, status.counts[t]])) as Record<StripeObjectType, number>;
    const stripeTotal = STRIPE_TYPES.reduce((n, t) => n + stripeCounts[t], 0);
    const complete =
      status.counts.clicks === ready.redirector.clicks && STRIPE_TYPES.every((t) => stripeCounts[t] === ready.stripe.counts[t]) && (clicksIncremental.rows ?? 0) === 0;
    const fast = (ms: number): Target => ({ target: `< ${TARGETS.incrementalMaxMs / 1000} s`, value: ms, pass: ms < TARGETS.incrementalMaxMs });
    const targets: Results['targets'] = {
      clickRatio: { target: `>= ${TARGETS.clickRatioMin} of raw inserts`, value: ratio, pass: ratio >= TARGETS.clickRatioMin },
      clicksIncrementalPull: fast(clicksIncremental.pullMs),
      clicksIncrementalCall: fast(clicksIncremental.ms),
      stripeIncrementalPull: fast(stripeIncremental.pullMs),
      stripeIncrementalCall: fast(stripeIncremental.ms),
      peakRss: { target: `< ${TARGETS.peakRssMaxBytes / 1024 / 1024} MB`, value: judged, pass: judged < TARGETS.peakRssMaxBytes },
      complete: { target: 'every seeded row synced, none twice', value: status.counts.clicks, pass: complete },
    };

    core.close();
    const stripeInfo = await stopStripe();
    const serversInfo = await stopServers();
    const cpu = cpus();
    const { url: _url, token: _token, ...seededClicks } = ready.redirector;
    const results: Results = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpu.length,
        cpuModel: cpu[0]?.model ?? 'unknown',
        os: `${platform()} ${release()} ${arch()}`,
        memoryBytes: totalmem(),
        node: process.version,
        loadAverage: { beforeSyncs: loadBefore, afterSyncs: loadAfter },
      },
      sizes,
      seeded: { ...seededClicks, stripe: ready.stripe.counts, stripeSeedMs: ready.stripe.seedMs },
      clicks: { full: { ...clicksFull, rowsPerSecond: clickRate }, incremental: clicksIncremental, reference: clickRef, ratio, profile: clickProfile },
      stripe: {
        full: { ...stripeFull, rowsPerSecond: stripeTotal / (stripeFull.pullMs / 1000), chargesMs, chargesPerSecond },
        incremental: stripeIncremental,
        reference: chargeRef,
        ratio: chargesPerSecond / chargeRef.rowsPerSecond,
        counts: stripeCounts,
      },
      memory: {
        sampledPeakRssBytes: sampledPeak,
        maxRssBytes,
        judgedBytes: judged,
        sampleEveryMs: RSS_SAMPLE_MS,
        serversMaxRssBytes: serversInfo?.maxRssBytes ?? null,
        stripeMaxRssBytes: stripeInfo?.maxRssBytes ?? null,
      },
      targets,
    };
    mkdirSync(join(RESULTS, '..'), { recursive: true });
    writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
    printReport(results, RESULTS);
  } finally {
    for (const cleanup of cleanups.reverse()) await Promise.resolve().then(cleanup).catch((e: unknown) => console.error('cleanup failed:', e));
  }
}

/** A process's CPU over the full click pull and its functions with the most self time. */
const profileLines = (who: string, p: CpuProfile) => [
  `  full click pull, ${who}: CPU ${secs(p.cpuMs)} in ${secs(p.wallMs)} (${((100 * p.cpuMs) / p.wallMs).toFixed(0)}% of one core); most self time:`,
  ...p.top.map((t) => `    ${(100 * t.share).toFixed(1).padStart(5)}% ${secs(t.ms).padStart(8)}  ${t.name}`),
];

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const rate = (n: number) => `${int(n)} rows/s`;
const verdict = (t: Target) => `(target ${t.target}) ${t.pass ? 'PASS' : 'MISS'}`;
const row = (label: string, a: string, b: string, note = '') => `  ${label.padEnd(28)}${a.padStart(24)}${b.padStart(24)}   ${note}`.trimEnd();

/** Each figure beside its same-run reference, and each target's verdict. */
function printReport(res: Results, resultsPath: string): void {
  const { clicks, stripe, memory, targets, seeded } = res;
  const stripeTotal = STRIPE_TYPES.reduce((n, t) => n + stripe.counts[t], 0);
  const after = (r: SyncRun) =>
    row('  after the pull (same call)', secs(r.ms - r.pullMs), '', `attribution rebuild, affiliate ledger; whole call ${secs(r.ms)}${r.error ? `, FAILED: ${r.error}` : ''}`);
  const failed = (r: SyncRun) => (r.error ? ` FAILED: ${r.error}` : '');
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' ');
  console.log(
    [
      '',
      `Revtrail sync benchmark  ${res.date}`,
      `Machine: ${res.machine.cpus} CPUs (${res.machine.cpuModel}), ${res.machine.os}, Node ${res.machine.node}; ` +
        `load average (1/5/15 min) ${load(res.machine.loadAverage.beforeSyncs)} before the syncs, ${load(res.machine.loadAverage.afterSyncs)} after`,
      `Redirector: ${int(seeded.clicks)} clicks on ${seeded.links} links, seeded in ${secs(seeded.seedMs)} through DynamoStore.putEvents (BatchWriteItem into dynalite on disk)`,
      `Fake Stripe: ${STRIPE_TYPES.map((t) => `${int(seeded.stripe[t])} ${t}`).join(', ')}; seeded in ${secs(seeded.stripeSeedMs)}`,
      'The redirector and the fake Stripe each run in a child process; this process is the desktop: createCore, its sync handlers, SQLite in WAL.',
      '"pull": from the call until its last progress event (last page committed); the handler then rebuilds attribution before it returns.',
      'Raw inserts: the same rows read back from the synced database, positional INSERTs in one transaction into the same table DDL in a fresh database.',
      '',
      row('', 'sync (core, HTTP)', 'raw inserts'),
      row('clicks, full: pull', `${int(clicks.reference.rows)} in ${secs(clicks.full.pullMs)}`, `${int(clicks.reference.rows)} in ${secs(clicks.reference.ms)}`),
      row('  rate', rate(clicks.full.rowsPerSecond), rate(clicks.reference.rowsPerSecond), `ratio ${clicks.ratio.toFixed(2)} ${verdict(targets.clickRatio)}`),
      after(clicks.full),
      row('clicks, incremental: pull', secs(clicks.incremental.pullMs), '', `nothing new ${verdict(targets.clicksIncrementalPull)}`),
      row('  whole call', secs(clicks.incremental.ms), '', `${verdict(targets.clicksIncrementalCall)}${failed(clicks.incremental)}`),
      row('Stripe, full: pull', `${int(stripeTotal)} in ${secs(stripe.full.pullMs)}`, '', `${rate(stripe.full.rowsPerSecond)} over all objects`),
      row('  charges pass', `${int(stripe.counts.charges)} in ${secs(stripe.full.chargesMs)}`, `${int(stripe.reference.rows)} in ${secs(stripe.reference.ms)}`),
      row('  charges rate', rate(stripe.full.chargesPerSecond), rate(stripe.reference.rowsPerSecond), `ratio ${stripe.ratio.toFixed(2)} (no target)`),
      after(stripe.full),
      row(
        'Stripe, incremental: pull',
        secs(stripe.incremental.pullMs),
        '',
        `nothing new; ${int(Object.values(stripe.incremental.received).reduce((a, b) => a + b, 0))} objects read again ${verdict(targets.stripeIncrementalPull)}`,
      ),
      row('  whole call', secs(stripe.incremental.ms), '', `${verdict(targets.stripeIncrementalCall)}${failed(stripe.incremental)}`),
      row('peak RSS, desktop process', mb(memory.judgedBytes), '', `sampled every ${memory.sampleEveryMs} ms ${mb(memory.sampledPeakRssBytes)}, maxRSS ${mb(memory.maxRssBytes)} ${verdict(targets.peakRss)}`),
      row('  in the full pulls', `clicks ${mb(clicks.full.pullPeakRssBytes)}`, `Stripe ${mb(stripe.full.pullPeakRssBytes)}`),
      row('  in the whole calls', `clicks ${mb(clicks.full.peakRssBytes)}`, `Stripe ${mb(stripe.full.peakRssBytes)}`),
      ...(memory.serversMaxRssBytes === null ? [] : [row("  redirector's process", mb(memory.serversMaxRssBytes), '', 'maxRSS; not counted')]),
      ...(memory.stripeMaxRssBytes === null ? [] : [row("  fake Stripe's process", mb(memory.stripeMaxRssBytes), '', 'maxRSS; not counted')]),
      ...profileLines('desktop process', clicks.profile.desktop),
      ...profileLines("redirector's process", clicks.profile.servers),
      row('rows complete', `${int(clicks.reference.rows)} clicks`, `${int(stripeTotal)} Stripe`, verdict(targets.complete)),
      '',
      `Targets: ${Object.entries(targets).map(([k, t]) => `${k} ${t.pass ? 'PASS' : 'MISS'}`).join(', ')}`,
      `Results: ${resultsPath}`,
    ].join('\n'),
  );
}

function parseSizes(args: string[]): { role: string | undefined; dataDir: string | undefined; part: string | undefined; sizes: Sizes } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { clicks: { type: 'string', default: '1000000' }, charges: { type: 'string', default: '100000' } },
  });
  const count = (name: 'clicks' | 'charges') => {
    const n = Number(values[name].replace(/_/g, ''));
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} takes a positive whole number, not "${values[name]}"`);
    return n;
  };
  return { role: positionals[0], dataDir: positionals[1], part: positionals[2], sizes: { clicks: count('clicks'), charges: count('charges') } };
}

const { role, dataDir, part, sizes } = parseSizes(process.argv.slice(2));
const run = role === 'servers' && dataDir && (part === 'redirector' || part === 'stripe') ? servers(dataDir, sizes, part) : main(sizes).then(() => process.exit(0));
run.catch((err: unknown) => {
  console.error(`bench:sync${role === 'servers' ? ' (servers)' : ''} failed:`, err);
  process.exit(1);
});
