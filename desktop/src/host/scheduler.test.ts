import { describe, expect, it } from 'vitest';
import { err, ok, type Result } from '@revtrail/shared';
import { appJobs, createScheduler, ECB_EVERY_MS, META_EVERY_MS, REDIRECTOR_EVERY_MS, STRIPE_EVERY_MS, WEBHOOKS_EVERY_MS, type Timers } from './scheduler';

/** Timers under the test's hand: advance() fires what is due, in order, moving the clock with it. */
function manualTime(start = 1_000_000) {
  let now = start;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (h) => void pending.delete(h as number),
  };
  const flush = () => new Promise<void>((r) => setImmediate(r));
  return {
    clock: { now: () => now },
    timers,
    pending,
    async advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...pending.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        pending.delete(due[0]);
        now = due[1].at;
        due[1].fn();
        await flush();
      }
      now = until;
      await flush();
    },
    set(ms: number) {
      now = ms;
    },
  };
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('scheduler', () => {
  it('runs each job after the first delay, then every period', async () => {
    const t = manualTime();
    const runs: number[] = [];
    const s = createScheduler({ clock: t.clock, timers: t.timers, log: quiet, firstRunDelayMs: 1000, jobs: [{ id: 'a', label: 'A', everyMs: 60_000, run: async () => (runs.push(t.clock.now()), ok(null)) }] });
    s.start();
    expect(s.status()[0]).toMatchObject({ nextRunAt: 1_001_000, lastRunAt: null });
    await t.advance(999);
    expect(runs).toEqual([]);
    await t.advance(1 + 60_000 * 3);
    expect(runs).toEqual([1_001_000, 1_061_000, 1_121_000, 1_181_000]);
    expect(s.status()[0]).toMatchObject({ lastOkAt: 1_181_000, lastError: null, running: false, nextRunAt: 1_241_000 });
    s.stop();
    await t.advance(600_000);
    expect(runs).toHaveLength(4);
    expect(t.pending.size).toBe(0);
  });

  it('keeps the failure visible until the next success, and survives a throwing job', async () => {
    const t = manualTime();
    const answers: (() => Result<unknown>)[] = [() => err('unavailable', 'Redirector down: try later.'), () => { throw new Error('bug'); }, () => ok(1)];
    const s = createScheduler({ clock: t.clock, timers: t.timers, log: quiet, firstRunDelayMs: 0, jobs: [{ id: 'a', label: 'A', everyMs: 1000, run: async () => answers.shift()!() }] });
    s.start();
    await t.advance(0);
    expect(s.status()[0]!.lastError).toBe('Redirector down: try later.');
    await t.advance(1000);
    expect(s.status()[0]!.lastError).toMatch(/inside Revtrail/);
    await t.advance(1000);
    expect(s.status()[0]).toMatchObject({ lastError: null, lastOkAt: t.clock.now() });
  });

  it('never stacks runs: a slow run delays the next instead of overlapping it', async () => {
    const t = manualTime();
    let active = 0;
    let maxActive = 0;
    const finish: (() => void)[] = [];
    const s = createScheduler({
      clock: t.clock,
      timers: t.timers,
      log: quiet,
      firstRunDelayMs: 0,
      jobs: [{ id: 'slow', label: 'Slow', everyMs: 1000, run: () => new Promise((r) => { active++; maxActive = Math.max(maxActive, active); finish.push(() => { active--; r(ok(null)); }); }) }],
    });
    s.start();
    await t.advance(0);
    expect(s.status()[0]!.running).toBe(true);
    const joined = s.runNow('slow');
    await t.advance(5000);
    expect(maxActive).toBe(1);
    expect(t.pending.size).toBe(0);
    finish.shift()!();
    await joined;
    // Overran its period: the next run is due at once.
    expect(s.status()[0]!.nextRunAt).toBe(t.clock.now());
    await t.advance(0);
    expect(finish).toHaveLength(1);
    expect(maxActive).toBe(1);
  });

  it('runNow resets the period', async () => {
    const t = manualTime();
    const runs: number[] = [];
    const s = createScheduler({ clock: t.clock, timers: t.timers, log: quiet, firstRunDelayMs: 10_000, jobs: [{ id: 'a', label: 'A', everyMs: 10_000, run: async () => (runs.push(t.clock.now()), ok(null)) }] });
    s.start();
    await t.advance(4000);
    await s.runNow('a');
    expect(runs).toEqual([1_004_000]);
    expect(s.status()[0]!.nextRunAt).toBe(1_014_000);
    await t.advance(10_000);
    expect(runs).toEqual([1_004_000, 1_014_000]);
    await expect(s.runNow('nope')).rejects.toThrow(/no scheduled job/);
  });
});

describe('appJobs', () => {
  const status = (list: { id: string; name: string; redirector: boolean; stripe: boolean }[]) =>
    ok({ secrets: 'x', workspaces: list.map((w) => ({ workspace: { id: w.id, name: w.name }, redirector: { connected: w.redirector }, stripe: { connected: w.stripe } })) });

  it('pulls the redirector every 5 minutes, Stripe hourly and ECB rates daily, for connected workspaces only, reporting each failure', async () => {
    const calls: string[] = [];
    const core = {
      call: async (method: string, args: { workspace?: string }) => {
        calls.push(`${method} ${args.workspace ?? ''}`.trim());
        if (method === 'status.get') return status([{ id: 'w1', name: 'Shop', redirector: true, stripe: false }, { id: 'w2', name: 'Blog', redirector: true, stripe: true }]);
        if (method === 'sync.redirector' && args.workspace === 'w1') return err('unavailable', 'The redirector did not answer.');
        return ok({});
      },
    };
    const [redirector, stripe, ecb] = appJobs(core as never);
    expect([redirector!.everyMs, stripe!.everyMs, ecb!.everyMs]).toEqual([REDIRECTOR_EVERY_MS, STRIPE_EVERY_MS, ECB_EVERY_MS]);
    expect([REDIRECTOR_EVERY_MS, STRIPE_EVERY_MS, ECB_EVERY_MS]).toEqual([300_000, 3_600_000, 86_400_000]);
    const r = await redirector!.run();
    expect(r).toMatchObject({ ok: false, error: { message: 'Shop: The redirector did not answer.' } });
    expect(await stripe!.run()).toMatchObject({ ok: true });
    expect(await ecb!.run()).toMatchObject({ ok: true });
    expect(calls).toEqual(['status.get', 'sync.redirector w1', 'sync.redirector w2', 'status.get', 'sync.stripe w2', 'status.get', 'fx.refresh w2']);
  });

  it("keeps each workspace's failure apart, so one workspace's screen never shows another's", async () => {
    const core = {
      call: async (method: string, args: { workspace?: string }) => {
        if (method === 'status.get') return status([{ id: 'w1', name: 'Shop', redirector: true, stripe: true }, { id: 'w2', name: 'Blog', redirector: true, stripe: true }, { id: 'w3', name: 'Sample', redirector: false, stripe: false }]);
        if (method === 'sync.stripe' && args.workspace === 'w2') return err('rate_limited', 'Stripe kept answering "too many requests".');
        return ok({});
      },
    };
    const t = manualTime();
    const s = createScheduler({ clock: t.clock, timers: t.timers, log: quiet, jobs: appJobs(core as never).filter((j) => j.id === 'stripe' || j.id === 'redirector') });
    await s.runNow('stripe');
    await s.runNow('redirector');
    const [redirector, stripe] = s.status();
    expect(stripe).toMatchObject({ lastError: 'Blog: Stripe kept answering "too many requests".', failures: [{ workspaceId: 'w2', message: 'Blog: Stripe kept answering "too many requests".' }] });
    expect(redirector).toMatchObject({ lastError: null, failures: [] });
    // A job that threw belongs to no workspace.
    const thrown = createScheduler({ clock: t.clock, timers: t.timers, log: quiet, jobs: [{ id: 'x', label: 'X', everyMs: 1000, run: () => Promise.reject(new Error('bug')) }] });
    await thrown.runNow('x');
    expect(thrown.status()[0]).toMatchObject({ failures: [], lastError: expect.stringContaining('Something went wrong') });
  });

  it('purges past the retention daily and backs up every workspace, connected or not, when its backup is due', async () => {
    const calls: string[] = [];
    const core = {
      call: async (method: string, args: { workspace?: string; ifDue?: boolean }) => {
        calls.push(`${method} ${args.workspace ?? ''}${args.ifDue ? ' ifDue' : ''}`.trim());
        return method === 'status.get' ? status([{ id: 'w1', name: 'Shop', redirector: false, stripe: false }]) : ok({});
      },
    };
    const jobs = appJobs(core as never);
    const retention = jobs.find((j) => j.id === 'retention')!;
    const backup = jobs.find((j) => j.id === 'backup')!;
    expect([retention.everyMs, backup.everyMs]).toEqual([86_400_000, 3_600_000]);
    expect(await retention.run()).toMatchObject({ ok: true });
    expect(await backup.run()).toMatchObject({ ok: true });
    expect(calls).toEqual(['status.get', 'privacy.purge w1', 'status.get', 'backup.create w1 ifDue']);
  });

  it('reads the Stripe webhook hints every 15 s where a redirector is connected; a workspace without Stripe is no failure', async () => {
    const calls: string[] = [];
    let podToken = false;
    const core = {
      call: async (method: string, args: { workspace?: string }) => {
        calls.push(`${method} ${args.workspace ?? ''}`.trim());
        if (method === 'workspaces.list') return ok([{ id: 'w1', name: 'Shop', redirectorUrl: 'https://go.shop.com' }, { id: 'w2', name: 'Blog', redirectorUrl: null }, { id: 'w3', name: 'Lab', redirectorUrl: 'https://go.lab.com' }, { id: 'w4', name: 'Pod', redirectorUrl: 'https://go.pod.com' }]);
        if (args.workspace === 'w1') return ok({ skipped: [{ resource: 'charges', message: 'Stripe answered 503.' }] });
        if (args.workspace === 'w3') return err('not_found', 'Workspace "Lab" has no Stripe key yet.');
        return podToken ? ok({ skipped: [] }) : err('unauthorized', 'The redirector refused the sync token.');
      },
    };
    const webhooks = appJobs(core as never).find((j) => j.id === 'webhooks')!;
    expect(webhooks.everyMs).toBe(WEBHOOKS_EVERY_MS);
    expect(WEBHOOKS_EVERY_MS).toBe(15_000);
    expect(await webhooks.run()).toMatchObject({ ok: false, error: { message: 'Pod: The redirector refused the sync token.' } });
    expect(calls).toEqual(['workspaces.list', 'sync.webhookHints w1', 'sync.webhookHints w3', 'sync.webhookHints w4']);
    podToken = true;
    const warned: string[] = [];
    const t = manualTime();
    const s = createScheduler({ clock: t.clock, timers: t.timers, log: { ...quiet, warn: (_o, m) => void warned.push(m) }, jobs: [webhooks] });
    await s.runNow('webhooks');
    expect(s.status()[0]).toMatchObject({ lastError: null });
    expect(warned).toEqual(['Shop: charges not read from a webhook yet: Stripe answered 503.']);
  });

  it('sends each workspace\'s due Meta events every minute, connected or not (meta.send does nothing where forwarding is off)', async () => {
    const calls: string[] = [];
    const core = {
      call: async (method: string, args: { workspace?: string }) => {
        calls.push(`${method} ${args.workspace ?? ''}`.trim());
        if (method === 'status.get') return status([{ id: 'w1', name: 'Shop', redirector: false, stripe: false }, { id: 'w2', name: 'Blog', redirector: true, stripe: true }]);
        return args.workspace === 'w2' ? err('internal', 'boom') : ok({ sent: 0 });
      },
    };
    const meta = appJobs(core as never).find((j) => j.id === 'meta')!;
    expect(meta.everyMs).toBe(META_EVERY_MS);
    expect(META_EVERY_MS).toBe(60_000);
    expect(await meta.run()).toMatchObject({ ok: false, error: { message: 'Blog: boom' } });
    expect(calls).toEqual(['status.get', 'meta.send w1', 'meta.send w2']);
  });

  it("keeps what a sync skipped or the redirector refused: the run succeeds and logs a warning for each", async () => {
    const core = {
      call: async (method: string) => {
        if (method === 'status.get') return status([{ id: 'w1', name: 'Shop', redirector: true, stripe: false }]);
        return ok({
          pushed: 0,
          rejected: [{ slug: 'spring', status: 400, message: 'A link cannot point back at the tracking domain itself.' }],
          skipped: [{ source: 'redirector', resource: 'pageviews', code: 'not_found', message: 'The redirector is older than this Revtrail.' }],
        });
      },
    };
    const warned: string[] = [];
    const t = manualTime();
    const s = createScheduler({ clock: t.clock, timers: t.timers, log: { ...quiet, warn: (_o, m) => void warned.push(m) }, jobs: appJobs(core as never).slice(0, 1) });
    await s.runNow('redirector');
    expect(s.status()[0]).toMatchObject({ lastError: null, lastOkAt: t.clock.now() });
    expect(warned).toEqual([
      'Shop: pageviews skipped: The redirector is older than this Revtrail.',
      'Shop: link spring refused by the redirector (kept until retried or discarded): A link cannot point back at the tracking domain itself.',
    ]);
  });
});
