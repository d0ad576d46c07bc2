import { DAY_MS, HOUR_MS, internalMessage, MINUTE_MS, type Clock, type Result } from '@revtrail/shared';
import type { CoreLogger } from '../core/context';
import type { Core } from '../core/core';
import type { ScheduleStatus, WorkspaceFailure } from '../transport/contract';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // The schedule never keeps a process alive by itself.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface Job {
  id: string;
  label: string;
  everyMs: number;
  /**
   * A failure is a value: its message is shown as the job's state until the next success. A run that did
   * its work but left some of it undone answers `warnings`; they are logged (the details stay where the
   * job keeps them, e.g. the sync state each status shows).
   */
  run(): Promise<Result<unknown>>;
}

export interface SchedulerOptions {
  jobs: Job[];
  clock: Clock;
  timers?: Timers;
  log: CoreLogger & { file?: string };
  /** Delay of each job's first run after start(), so starting the app is not a sync storm. */
  firstRunDelayMs?: number;
  onChange?: (status: ScheduleStatus[]) => void;
}

export interface Scheduler {
  start(): void;
  stop(): void;
  status(): ScheduleStatus[];
  /** Runs a job now (a "Sync now" that also resets its period); joins the run already going, if any. */
  runNow(id: string): Promise<void>;
}

interface JobState extends ScheduleStatus {
  handle: unknown;
  current: Promise<void> | null;
}

/**
 * Runs each job every `everyMs`, one run per job at a time: a run that outlasts its period is not
 * stacked, the next one starts a period after it began (or at once when it overran). Each job's last run,
 * last success and last failure stay visible.
 */
export function createScheduler(opts: SchedulerOptions): Scheduler {
  const timers = opts.timers ?? realTimers;
  const firstDelay = opts.firstRunDelayMs ?? 10_000;
  let started = false;
  const states = new Map<string, JobState>(
    opts.jobs.map((j) => [
      j.id,
      { job: j.id, label: j.label, everyMs: j.everyMs, running: false, lastRunAt: null, lastOkAt: null, nextRunAt: null, lastError: null, failures: [], handle: null, current: null },
    ]),
  );
  const snapshot = (): ScheduleStatus[] =>
    [...states.values()].map(({ job, label, everyMs, running, lastRunAt, lastOkAt, nextRunAt, lastError, failures }) => ({ job, label, everyMs, running, lastRunAt, lastOkAt, nextRunAt, lastError, failures }));
  const changed = () => opts.onChange?.(snapshot());

  const plan = (job: Job, inMs: number) => {
    const s = states.get(job.id)!;
    if (s.handle !== null) timers.clearTimeout(s.handle);
    s.nextRunAt = opts.clock.now() + inMs;
    s.handle = timers.setTimeout(() => {
      s.handle = null;
      void run(job);
    }, inMs);
  };

  const run = (job: Job): Promise<void> => {
    const s = states.get(job.id)!;
    if (s.current) return s.current;
    s.current = (async () => {
      const startedAt = opts.clock.now();
      s.running = true;
      s.lastRunAt = startedAt;
      s.nextRunAt = null;
      changed();
      try {
        const r = await job.run();
        if (r.ok) {
          s.lastOkAt = opts.clock.now();
          s.lastError = null;
          s.failures = [];
          for (const w of warningsOf(r.value)) opts.log.warn({ job: job.id }, w);
        } else {
          s.lastError = r.error.message;
          s.failures = (r.error.details as { failures?: WorkspaceFailure[] } | undefined)?.failures ?? [];
          opts.log.warn({ job: job.id, code: r.error.code }, 'scheduled job failed');
        }
      } catch (e) {
        s.lastError = internalMessage(opts.log.file);
        s.failures = [];
        opts.log.error({ job: job.id, err: (e as Error).message }, 'scheduled job threw');
      } finally {
        s.running = false;
        s.current = null;
        if (started) plan(job, Math.max(0, startedAt + job.everyMs - opts.clock.now()));
        changed();
      }
    })();
    return s.current;
  };

  return {
    start() {
      if (started) return;
      started = true;
      for (const job of opts.jobs) plan(job, firstDelay);
      changed();
    },
    stop() {
      started = false;
      for (const s of states.values()) {
        if (s.handle !== null) timers.clearTimeout(s.handle);
        s.handle = null;
        s.nextRunAt = null;
      }
    },
    status: snapshot,
    runNow(id) {
      const job = opts.jobs.find((j) => j.id === id);
      if (!job) return Promise.reject(new Error(`no scheduled job ${id}`));
      const s = states.get(id)!;
      if (s.handle !== null) timers.clearTimeout(s.handle);
      s.handle = null;
      return run(job);
    },
  };
}

function warningsOf(value: unknown): string[] {
  const w = (value as { warnings?: unknown } | null)?.warnings;
  return Array.isArray(w) ? w.filter((x): x is string => typeof x === 'string') : [];
}

export const REDIRECTOR_EVERY_MS = 5 * MINUTE_MS;
export const STRIPE_EVERY_MS = HOUR_MS;
export const ECB_EVERY_MS = DAY_MS;
/** The Stripe webhook hint feed while the app is open: one request answered from an index when it is empty. */
export const WEBHOOKS_EVERY_MS = 15_000;
/** Meta's outbox: retries are due from 30 s on (meta/sender.ts backoffMs), and a sync sends what it adds itself. */
export const META_EVERY_MS = MINUTE_MS;

type Caller = Pick<Core, 'call'>;

/**
 * Runs `sync` for every workspace where `connected` says so; one workspace failing does not stop the others.
 * What a sync skipped (`skipped`) or the redirector refused (`rejected`) is kept by the core and shown in
 * status; here it becomes the run's warnings, so it is not lost from the log either.
 */
async function eachConnected(core: Caller, connected: (s: { redirector: { connected: boolean }; stripe: { connected: boolean } }) => boolean, sync: (id: string) => Promise<Result<unknown>>): Promise<Result<{ warnings: string[] }>> {
  const status = await core.call('status.get', {});
  if (!status.ok) return status;
  const problems: WorkspaceFailure[] = [];
  const warnings: string[] = [];
  for (const ws of status.value.workspaces) {
    if (!connected(ws)) continue;
    const r = await sync(ws.workspace.id);
    if (!r.ok) {
      problems.push({ workspaceId: ws.workspace.id, message: `${ws.workspace.name}: ${r.error.message}` });
      continue;
    }
    const v = r.value as { skipped?: { resource: string; message: string }[]; rejected?: { slug: string; message: string }[] } | null;
    for (const f of v?.skipped ?? []) warnings.push(`${ws.workspace.name}: ${f.resource} skipped: ${f.message}`);
    for (const x of v?.rejected ?? []) warnings.push(`${ws.workspace.name}: link ${x.slug} refused by the redirector (kept until retried or discarded): ${x.message}`);
  }
  return failedFor(problems, warnings);
}

/** A run that failed for some workspaces: one message naming each, and each workspace's own (see ScheduleStatus.failures). */
function failedFor(problems: WorkspaceFailure[], warnings: string[]): Result<{ warnings: string[] }> {
  if (problems.length === 0) return { ok: true, value: { warnings } };
  return { ok: false, error: { code: 'unavailable', message: problems.map((p) => p.message).join(' '), details: { failures: problems } } };
}

/**
 * The webhook hints of every workspace with a redirector: `sync.webhookHints` answers not_found where Stripe is
 * not connected, which is no failure here. Listed from workspaces.list, not status.get: every 15 s, the table
 * counts and secret reads of a status would cost more than an empty feed.
 */
async function eachWebhookFeed(core: Caller): Promise<Result<{ warnings: string[] }>> {
  const list = await core.call('workspaces.list', {});
  if (!list.ok) return list;
  const problems: WorkspaceFailure[] = [];
  const warnings: string[] = [];
  for (const ws of list.value) {
    if (ws.redirectorUrl === null) continue;
    const r = await core.call('sync.webhookHints', { workspace: ws.id });
    if (!r.ok) {
      if (r.error.code !== 'not_found') problems.push({ workspaceId: ws.id, message: `${ws.name}: ${r.error.message}` });
      continue;
    }
    for (const f of r.value.skipped) warnings.push(`${ws.name}: ${f.resource} not read from a webhook yet: ${f.message}`);
  }
  return failedFor(problems, warnings);
}

/**
 * The desktop's schedule: clicks every 5 minutes, Stripe hourly (the safety net) and the objects Stripe's
 * webhooks name every 15 seconds, the ECB's exchange rates daily, retention daily, backups when due.
 */
export function appJobs(core: Caller): Job[] {
  return [
    {
      id: 'redirector',
      label: 'Pull clicks from the redirector',
      everyMs: REDIRECTOR_EVERY_MS,
      run: () => eachConnected(core, (s) => s.redirector.connected, (id) => core.call('sync.redirector', { workspace: id })),
    },
    {
      id: 'stripe',
      label: 'Pull payments from Stripe',
      everyMs: STRIPE_EVERY_MS,
      run: () => eachConnected(core, (s) => s.stripe.connected, (id) => core.call('sync.stripe', { workspace: id })),
    },
    {
      id: 'ecb',
      label: 'Download ECB exchange rates',
      everyMs: ECB_EVERY_MS,
      // Only where there is money to convert; fx.refresh itself skips a day already fetched.
      run: () => eachConnected(core, (s) => s.stripe.connected, (id) => core.call('fx.refresh', { workspace: id })),
    },
    {
      id: 'retention',
      label: 'Delete clicks, page views and identities past the retention period',
      everyMs: DAY_MS,
      run: () => eachConnected(core, () => true, (id) => core.call('privacy.purge', { workspace: id })),
    },
    {
      id: 'backup',
      label: 'Back up each workspace (encrypted)',
      // Hourly look; each workspace's own setting (daily by default) says when one is due.
      everyMs: HOUR_MS,
      run: () => eachConnected(core, () => true, (id) => core.call('backup.create', { workspace: id, ifDue: true })),
    },
    {
      id: 'webhooks',
      label: 'Read the payments Stripe\'s webhooks named',
      everyMs: WEBHOOKS_EVERY_MS,
      run: () => eachWebhookFeed(core),
    },
    {
      id: 'meta',
      label: 'Send purchases to Meta where forwarding is on (retries when due)',
      everyMs: META_EVERY_MS,
      // meta.send is one lookup for a workspace with forwarding off.
      run: () => eachConnected(core, () => true, (id) => core.call('meta.send', { workspace: id })),
    },
  ];
}
