/**
 * npm run bench:ui [-- --clicks N --runs N] — browser mode over a workspace of N clicks (1,000,000 by
 * default, 55% of them in the last 30 days), its core in the core process as `npm start` runs it: the time
 * from navigation to the dashboard's first render with report data (the page marks it with performance.mark
 * once the charts and the channels table have painted), first and warm, beside the 'reports.channels' and
 * 'reports.daily' calls measured in the same run on the same workspace; the 30-day channels report in this
 * process, from the per-day rollups, beside a plain count of those days' clicks (the reference) and beside
 * the same report counting the clicks themselves; and 'status.get' and 'reports.channels' answered while an
 * 'attribution.rebuild' of that workspace runs, beside the same calls on the idle core. Writes
 * bench/results/ui.json. It reports; a missed target still exits 0. A harness failure exits 1.
 *
 * The facts go straight into the workspace's SQLite (the sample workspace's generator, through the sync's
 * own repo functions, which keep the rollups as a sync does), then the ledger is built once, as a sync would
 * leave it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { arch, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addDays, dayInZone, zoneRange } from '@revtrail/shared/attribution/index';
import { lastBuild } from '../src/core/attribution/ledger-repo';
import { channelsReport, dashboardReport, type ReportRange, type ReportSource } from '../src/core/attribution/reports';
import { openDatabase, type Db } from '../src/core/db/open';
import { createFxConverter } from '../src/core/fx/rates';
import { WorkspaceRegistry } from '../src/core/workspaces/registry';
import { buildRenderer } from '../src/launch/build-renderer';
import { startBrowserMode } from '../src/launch/browser-mode';
import { writeSampleFacts } from '../src/host/sample-workspace';
import { DATA_RENDERED_MARK } from '../src/renderer/marks';
import { chromiumMissing, launchChromium, quietLog } from '../e2e/support';

const RESULTS = fileURLToPath(new URL('./results/ui.json', import.meta.url));
/** Navigation to the dashboard's first data. */
const TARGET_MS = 800;
/** The 30-day channels report: absolute, and against counting its days' clicks in the same run. */
const CHANNELS_TARGET_MS = 50;
const CHANNELS_TARGET_RATIO = 3;
/** A status or report call answered while a rebuild runs. */
const DURING_REBUILD_TARGET_MS = 200;
const verdict = (met: boolean) => (met ? 'PASS' : 'FAIL');
const load = () => loadavg().map((x) => x.toFixed(1)).join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;
const summary = (xs: number[]) => ({ median: round1(median(xs)), max: round1(Math.max(...xs)), samples: xs.length });

const last30Days = (): ReportRange => {
  const to = dayInZone(Date.now(), 'UTC');
  const from = addDays(to, -29);
  return { from, to, timeZone: 'UTC', model: 'last_click', currency: 'USD', ...zoneRange(from, to, 'UTC') };
};
/** As the core's handlers make it: the ECB rates are loaded only by a report in another currency than the ledger's. */
const sourceOf = (db: Db, clickDays = true): ReportSource => {
  let fx: ReturnType<typeof createFxConverter> | null = null;
  return { db, ledgerCurrency: lastBuild(db)?.currency ?? 'USD', fx: () => (fx ??= createFxConverter(db)), clickDays };
};

/**
 * Where a missed target's time goes in this process: a CPU profile (node:inspector's Profiler, what node --cpu-prof
 * records) of `work` run `rounds` times, as the functions with the most self time; SQLite's time shows in the
 * function that ran the statement.
 */
async function profiled(work: () => void, rounds: number): Promise<string[]> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  for (let i = 0; i < rounds; i++) work();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const parents = new Map(profile.nodes.flatMap((n) => (n.children ?? []).map((c) => [c, n.id] as const)));
  const name = (f: { functionName: string; url: string; lineNumber: number }) => `${f.functionName || '(anonymous)'} ${f.url.split('/').pop() ?? ''}:${f.lineNumber + 1}`;
  const self = new Map<string, number>();
  let total = 0;
  profile.samples!.forEach((id, i) => {
    const f = frames.get(id)!;
    // A native frame (a statement's all/get/run: SQLite) is charged to the JS function that called it.
    const caller = f.url === '' && parents.has(id) ? frames.get(parents.get(id)!) : undefined;
    const key = caller && caller.url !== '' ? `SQLite (${f.functionName}) from ${name(caller)}` : name(f);
    self.set(key, (self.get(key) ?? 0) + profile.timeDeltas![i]!);
    total += profile.timeDeltas![i]!;
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([key, us]) => `${((100 * us) / total).toFixed(1).padStart(5)}% ${(us / 1000 / rounds).toFixed(1).padStart(6)} ms a run  ${key}`);
}

/**
 * The 30-day channels report in this process over the workspace's database, from the rollups and from the clicks,
 * beside the plain count of the clicks of those days: medians of `runs` after one untimed call each.
 */
function channelsInProcess(db: Db, runs: number) {
  const range = last30Days();
  const sources = { rollups: sourceOf(db, true), clicks: sourceOf(db, false) };
  const src = (clickDays: boolean) => (clickDays ? sources.rollups : sources.clicks);
  const count = db.prepare<[number, number], { n: number }>(`SELECT count(*) AS n FROM clicks WHERE at >= ? AND at < ?`);
  // Wall time (what the target is about), and this process's CPU time beside it: what other work on the machine
  // does not lengthen.
  const time = (f: () => unknown) => {
    f();
    const xs: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const c = process.cpuUsage();
      const t = performance.now();
      f();
      xs.push(performance.now() - t);
      const used = process.cpuUsage(c);
      cpu.push((used.user + used.system) / 1000);
    }
    return { ms: median(xs), cpuMs: median(cpu) };
  };
  const report = channelsReport(src(true), range);
  if (report.traffic?.visitors !== 'estimate') throw new Error('the channels report did not read the rollups');
  const rollups = time(() => channelsReport(src(true), range));
  const countDays = time(() => count.get(range.start, range.end));
  return {
    inRange: count.get(range.start, range.end)!.n,
    rollupsMs: round1(rollups.ms),
    rollupsCpuMs: round1(rollups.cpuMs),
    countDaysMs: round1(countDays.ms),
    countDaysCpuMs: round1(countDays.cpuMs),
    fromClicksMs: round1(time(() => channelsReport(src(false), range)).ms),
  };
}

/** One call's time, through the shell's channel to the core process (as the HTTP server makes it). */
async function timed(call: (method: string, args: unknown) => Promise<{ ok: boolean }>, method: string, args: unknown): Promise<number> {
  const t = performance.now();
  const r = await call(method, args);
  if (!r.ok) throw new Error(`${method} failed: ${JSON.stringify(r)}`);
  return performance.now() - t;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { clicks: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' } } });
  const clicks = Number(values.clicks);
  const runs = Number(values.runs);
  if (!Number.isInteger(clicks) || clicks < 1 || !Number.isInteger(runs) || runs < 1) {
    process.stderr.write('--clicks and --runs take positive whole numbers\n');
    return 2;
  }
  if (chromiumMissing) {
    process.stderr.write(`Cannot measure: ${chromiumMissing}\n`);
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'revtrail-bench-ui-'));
  try {
    const dataDir = join(dir, 'data');
    const now = Date.now();
    const registry = new WorkspaceRegistry(dataDir);
    const ws = registry.add('Bench shop', now);
    process.stdout.write(`Seeding ${clicks.toLocaleString('en-US')} clicks…\n`);
    let t = performance.now();
    const db = openDatabase(registry.databasePath(ws.id));
    const seeded = writeSampleFacts(db, { clicks, links: 200, now });
    db.close();
    const seedMs = performance.now() - t;
    const staticDir = await buildRenderer(join(dir, 'renderer'));
    const app = await startBrowserMode({ dataDir, log: quietLog, secrets: { keyFile: join(dir, 's.key'), prefer: 'file', safeStorage: false }, staticDir, localRedirector: false, schedule: false });
    const call = app.host.call;
    const browser = await launchChromium();
    try {
      t = performance.now();
      const rebuilt = (await call('attribution.rebuild', { workspace: ws.id })) as { ok: true; value: { rows: number } } | { ok: false; error: { message: string } };
      const rebuildMs = performance.now() - t;
      if (!rebuilt.ok) throw new Error(`rebuild failed: ${rebuilt.error.message}`);

      const own = openDatabase(registry.databasePath(ws.id));
      const loadBefore = load();
      const inProcess = channelsInProcess(own, Math.max(runs, 7));
      own.close();
      const channelsMet = inProcess.rollupsMs < CHANNELS_TARGET_MS && inProcess.rollupsMs <= CHANNELS_TARGET_RATIO * inProcess.countDaysMs;
      process.stdout.write(
        `In this process (load ${loadBefore}): 30-day channels report ${inProcess.rollupsMs} ms from the rollups (CPU ${inProcess.rollupsCpuMs} ms), ${inProcess.fromClicksMs} ms counting the clicks; reference: count of those days' ${inProcess.inRange.toLocaleString('en-US')} clicks ${inProcess.countDaysMs} ms (CPU ${inProcess.countDaysCpuMs} ms)\n`,
      );

      // The core through its process channel: the two reports the dashboard asks for, the same 30 days.
      const to = dayInZone(Date.now(), 'UTC');
      const range = { workspace: ws.id, from: addDays(to, -29), to };
      const coreChannels: number[] = [];
      const coreDaily: number[] = [];
      for (let i = 0; i < runs; i++) {
        coreChannels.push(await timed(call, 'reports.channels', range));
        coreDaily.push(await timed(call, 'reports.daily', range));
      }
      // The dashboard's six reports asked one by one, and in the one call the dashboard makes (Dashboard.tsx:
      // reports.dashboard, the range read once for all six), alternating.
      const DASHBOARD = ['reports.summary', 'reports.series', 'reports.channels', 'reports.links', 'reports.campaigns', 'reports.partners'];
      const dashboardCalls: Record<string, number[]> = Object.fromEntries(DASHBOARD.map((m) => [m, []]));
      const oneCall: number[] = [];
      for (let i = 0; i < runs; i++) {
        for (const m of DASHBOARD) dashboardCalls[m]!.push(await timed(call, m, range));
        oneCall.push(await timed(call, 'reports.dashboard', range));
      }
      const dashboardMs = Object.fromEntries(DASHBOARD.map((m) => [m.slice('reports.'.length), round1(median(dashboardCalls[m]!))]));
      const apartMs = round1(Object.values(dashboardMs).reduce((a, b) => a + b, 0));
      const oneCallMs = round1(median(oneCall));
      process.stdout.write(`Core: the dashboard's reports, medians: ${Object.entries(dashboardMs).map(([m, ms]) => `${m} ${ms}`).join(', ')} ms (${apartMs} ms in all); in one reports.dashboard call ${oneCallMs} ms\n`);
      const channels = (await call('reports.channels', range)) as { ok: boolean; value?: { rows: unknown[] } };
      if (!channels.value?.rows.length) throw new Error('the channels report came back empty');
      process.stdout.write(`Core: reports.channels ${coreChannels.map(Math.round).join(', ')} ms; reports.daily ${coreDaily.map(Math.round).join(', ')} ms\n`);

      // A status and a report call on the idle core, then again and again while a rebuild of the same
      // 1M-click ledger runs (in the core process's worker; the calls are answered by its main thread).
      const idleStatus: number[] = [];
      const idleDaily: number[] = [];
      const idleReport: number[] = [];
      for (let i = 0; i < Math.max(runs, 5); i++) {
        idleStatus.push(await timed(call, 'status.get', {}));
        idleDaily.push(await timed(call, 'reports.daily', range));
        idleReport.push(await timed(call, 'reports.channels', range));
      }
      const busyStatus: number[] = [];
      const busyDaily: number[] = [];
      const busyReport: number[] = [];
      t = performance.now();
      let rebuilding = true;
      const again = call('attribution.rebuild', { workspace: ws.id }).finally(() => (rebuilding = false));
      while (rebuilding) {
        const s = await timed(call, 'status.get', {});
        const d = await timed(call, 'reports.daily', range);
        const r = await timed(call, 'reports.channels', range);
        // Only calls answered before the rebuild ended count as "during" it.
        if (rebuilding) {
          busyStatus.push(s);
          busyDaily.push(d);
          busyReport.push(r);
        }
      }
      const secondRebuild = (await again) as { ok: boolean };
      const secondRebuildMs = performance.now() - t;
      if (!secondRebuild.ok || busyStatus.length === 0) throw new Error(`no call was answered during the rebuild (${JSON.stringify(secondRebuild)})`);
      // Judged on the calls that answer within the target on an idle core; reports.channels over 1M clicks
      // takes longer than that idle, so it is shown beside its idle time instead.
      const duringMet = Math.max(...busyStatus, ...busyDaily) < DURING_REBUILD_TARGET_MS;
      process.stdout.write(
        `During a ${Math.round(secondRebuildMs)} ms rebuild: status.get median ${round1(median(busyStatus))} ms (max ${round1(Math.max(...busyStatus))}, ${busyStatus.length} calls), reports.daily median ${round1(median(busyDaily))} ms (max ${round1(Math.max(...busyDaily))}), reports.channels median ${round1(median(busyReport))} ms (max ${round1(Math.max(...busyReport))}); idle: status.get median ${round1(median(idleStatus))} ms, reports.daily median ${round1(median(idleDaily))} ms, reports.channels median ${round1(median(idleReport))} ms\n`,
      );

      // The page: a fresh context each time (no cache, no cookie), navigation to first data render.
      const ui: number[] = [];
      const pageTimings: string[] = [];
      const splits: { boot: number; core: number; render: number }[] = [];
      for (let i = 0; i < runs; i++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await context.newPage();
        await page.goto(app.url);
        try {
          await page.waitForFunction((mark) => performance.getEntriesByName(mark).length > 0, DATA_RENDERED_MARK, { timeout: 180_000 });
        } catch (e) {
          // Where the time went: each request's start and end, ms from navigation.
          const timings = await page.evaluate(() => performance.getEntriesByType('resource').map((r) => `${r.name} ${Math.round(r.startTime)}-${Math.round(r.startTime + r.duration)}`));
          throw new Error(`${(e as Error).message}\nrequests: ${timings.join('; ')}`, { cause: e });
        }
        ui.push(await page.evaluate((mark) => performance.getEntriesByName(mark)[0]!.startTime, DATA_RENDERED_MARK));
        // Where the page's time went: each request's start and end, ms from navigation, up to the mark.
        const requests = await page.evaluate(
          (mark) => {
            const at = performance.getEntriesByName(mark)[0]!.startTime;
            // The page's own navigation entry (a DOM type this file's Node typings do not have).
            const nav = (performance.getEntriesByType as unknown as (type: string) => { responseEnd: number; domContentLoadedEventEnd: number }[])('navigation')[0];
            const rows = performance
              .getEntriesByType('resource')
              .filter((r) => r.startTime < at)
              .map((r) => `${new URL(r.name).pathname.replace(/^\/(rpc\/)?/, '')} ${Math.round(r.startTime)}-${Math.round(r.startTime + r.duration)}`);
            return [`html ${Math.round(nav?.responseEnd ?? 0)}, DOM ready ${Math.round(nav?.domContentLoadedEventEnd ?? 0)}`, ...rows].join('; ');
          },
          DATA_RENDERED_MARK,
        );
        pageTimings.push(requests);
        // The split: navigation to the reports' request (boot), the request (the core, and the HTTP and process hops),
        // its answer to the painted mark (rendering).
        const split = await page.evaluate((mark) => {
          const at = performance.getEntriesByName(mark)[0]!.startTime;
          const r = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/reports.dashboard'));
          return r ? { boot: r.startTime, core: r.duration, render: at - (r.startTime + r.duration) } : null;
        }, DATA_RENDERED_MARK);
        if (split) splits.push(split);
        process.stdout.write(
          `Page ${i + 1}: data rendered ${Math.round(ui.at(-1)!)} ms after navigation${split ? ` (boot ${Math.round(split.boot)}, reports.dashboard ${Math.round(split.core)}, render ${Math.round(split.render)} ms)` : ''} (${requests})\n`,
        );
        await context.close();
      }
      // A missed target's profile: the core's share of the dashboard's first data is its one reports.dashboard call
      // (the channels report among its six), so that, in this process over the same database.
      const missed = [!channelsMet && 'the channels report', !(median(ui) < TARGET_MS) && "the dashboard's first data"].filter(Boolean);
      let profile: string[] = [];
      if (missed.length > 0) {
        const db = openDatabase(registry.databasePath(ws.id));
        const src = sourceOf(db);
        const range = last30Days();
        profile = await profiled(() => dashboardReport(src, range), 10);
        db.close();
      }
      const result = {
        benchmark: 'ui',
        at: new Date().toISOString(),
        machine: { platform: platform(), release: release(), arch: arch(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, memoryBytes: totalmem(), node: process.version },
        loadAverage: { atChannelsReport: loadBefore, atEnd: load() },
        workspace: { ...seeded, seedMs: Math.round(seedMs), rebuildMs: Math.round(rebuildMs), ledgerRows: rebuilt.value.rows, clicksInRange: inProcess.inRange },
        runs,
        navigationToDataRenderMs: { first: round1(ui[0]!), median: round1(median(ui)), all: ui.map(round1), requests: pageTimings },
        pageSplitMedianMs: splits.length ? { boot: round1(median(splits.map((x) => x.boot))), reportsDashboard: round1(median(splits.map((x) => x.core))), render: round1(median(splits.map((x) => x.render))) } : null,
        coreDashboardReportsMs: dashboardMs,
        coreDashboardReportsApartMs: apartMs,
        coreDashboardOneCallMs: { median: oneCallMs, all: oneCall.map(round1) },
        profileOfMisses: profile,
        coreReportsChannelsMs: { median: round1(median(coreChannels)), all: coreChannels.map(round1) },
        channelsInProcess: { ...inProcess, ratio: round1(inProcess.rollupsMs / inProcess.countDaysMs) },
        coreReportsDailyMs: { median: round1(median(coreDaily)), all: coreDaily.map(round1) },
        duringRebuild: {
          rebuildMs: Math.round(secondRebuildMs),
          statusGetMs: summary(busyStatus),
          reportsDailyMs: summary(busyDaily),
          reportsChannelsMs: summary(busyReport),
          idleStatusGetMs: summary(idleStatus),
          idleReportsDailyMs: summary(idleDaily),
          idleReportsChannelsMs: summary(idleReport),
        },
        target: {
          navigationToDataRenderMs: TARGET_MS,
          met: median(ui) < TARGET_MS,
          channelsMs: CHANNELS_TARGET_MS,
          channelsRatioToCount: CHANNELS_TARGET_RATIO,
          channelsMet,
          duringRebuildMaxMs: DURING_REBUILD_TARGET_MS,
          duringRebuildMet: duringMet,
        },
      };
      writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(
        [
          `Workspace: ${clicks.toLocaleString('en-US')} clicks, ${seeded.customers.toLocaleString('en-US')} customers, ${seeded.subscriptions.toLocaleString('en-US')} subscriptions (seeded in ${Math.round(seedMs)} ms, ledger built in ${Math.round(rebuildMs)} ms)`,
          `Load average (1, 5, 15 min) at the channels report ${loadBefore}, at the end ${load()} on ${cpus().length} CPUs`,
          `30-day channels report (${inProcess.inRange.toLocaleString('en-US')} clicks in range), this process: ${inProcess.rollupsMs} ms from the rollups (target < ${CHANNELS_TARGET_MS} ms and <= ${CHANNELS_TARGET_RATIO}x the reference: ${round1(inProcess.rollupsMs / inProcess.countDaysMs)}x) ${verdict(channelsMet)}; reference: count of those days' clicks ${inProcess.countDaysMs} ms; counting the clicks instead ${inProcess.fromClicksMs} ms`,
          `Navigation -> dashboard data rendered: first ${round1(ui[0]!)} ms, median ${round1(median(ui))} ms over ${runs} (target < ${TARGET_MS} ms) ${verdict(result.target.met)}${result.pageSplitMedianMs ? `; medians: boot to the reports' request ${result.pageSplitMedianMs.boot} ms, reports.dashboard ${result.pageSplitMedianMs.reportsDashboard} ms, its answer to the painted data ${result.pageSplitMedianMs.render} ms` : ''}`,
          `Core process, same run: reports.channels median ${round1(median(coreChannels))} ms, reports.daily median ${round1(median(coreDaily))} ms; the dashboard's six reports asked apart ${apartMs} ms in all (${Object.entries(dashboardMs).map(([m, ms]) => `${m} ${ms}`).join(', ')}), in the one reports.dashboard call the page makes ${oneCallMs} ms`,
          `While a ${Math.round(secondRebuildMs)} ms ledger rebuild runs, ${busyStatus.length} calls each: status.get max ${round1(Math.max(...busyStatus))} ms, reports.daily max ${round1(Math.max(...busyDaily))} ms (target < ${DURING_REBUILD_TARGET_MS} ms) ${verdict(duringMet)} (idle medians ${round1(median(idleStatus))} / ${round1(median(idleDaily))} ms); reports.channels max ${round1(Math.max(...busyReport))} ms (idle median ${round1(median(idleReport))} ms)`,
          ...(missed.length > 0 ? [`Missed: ${missed.join(', ')}. The dashboard's one call (its six reports) in this process, CPU profile (self time):`, ...profile.map((l) => `  ${l}`)] : []),
          `Written to ${RESULTS}`,
          '',
        ].join('\n'),
      );
      return 0;
    } finally {
      await browser.close();
      await app.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main().catch((e: unknown) => {
  process.stderr.write(`bench:ui failed: ${(e as Error).stack ?? String(e)}\n`);
  return 1;
});
