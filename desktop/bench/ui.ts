/**
 * npm run bench:ui [-- --clicks N --runs N] — browser mode over a workspace of N clicks (1,000,000 by
 * default), its core in the core process as `npm start` runs it: the time from navigation to the
 * dashboard's first render with report data (the page marks it with performance.mark once the chart and
 * the channels table have painted), first and warm, beside the 'reports.channels' and 'reports.daily'
 * calls measured in the same run on the same workspace; and 'status.get' and 'reports.channels' answered
 * while an 'attribution.rebuild' of that workspace runs, beside the same calls on the idle core.
 * Writes bench/results/ui.json. It reports; a missed target still exits 0. A harness failure exits 1.
 *
 * The facts go straight into the workspace's SQLite (the sample workspace's generator, through the sync's
 * own repo functions), then the ledger is built once, as a sync would leave it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { addDays, dayInZone } from '@revtrail/shared/attribution/index';
import { openDatabase } from '../src/core/db/open';
import { WorkspaceRegistry } from '../src/core/workspaces/registry';
import { buildRenderer } from '../src/launch/build-renderer';
import { startBrowserMode } from '../src/launch/browser-mode';
import { writeSampleFacts } from '../src/host/sample-workspace';
import { DATA_RENDERED_MARK } from '../src/renderer/marks';
import { chromiumMissing, launchChromium, quietLog } from '../e2e/support';

const RESULTS = fileURLToPath(new URL('./results/ui.json', import.meta.url));
const TARGET_MS = 1500;
/** A status or report call answered while a rebuild runs. */
const DURING_REBUILD_TARGET_MS = 200;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;
const summary = (xs: number[]) => ({ median: round1(median(xs)), max: round1(Math.max(...xs)), samples: xs.length });

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

      // The core through its process channel: the two reports the dashboard asks for, the same 30 days.
      const to = dayInZone(Date.now(), 'UTC');
      const range = { workspace: ws.id, from: addDays(to, -29), to };
      const coreChannels: number[] = [];
      const coreDaily: number[] = [];
      for (let i = 0; i < runs; i++) {
        coreChannels.push(await timed(call, 'reports.channels', range));
        coreDaily.push(await timed(call, 'reports.daily', range));
      }
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
        process.stdout.write(`Page ${i + 1}: data rendered ${Math.round(ui.at(-1)!)} ms after navigation\n`);
        await context.close();
      }
      const result = {
        benchmark: 'ui',
        at: new Date().toISOString(),
        machine: { platform: platform(), release: release(), arch: arch(), cpus: cpus().length, cpuModel: cpus()[0]?.model ?? null, memoryBytes: totalmem(), node: process.version },
        workspace: { ...seeded, seedMs: Math.round(seedMs), rebuildMs: Math.round(rebuildMs), ledgerRows: rebuilt.value.rows },
        runs,
        navigationToDataRenderMs: { first: round1(ui[0]!), median: round1(median(ui)), all: ui.map(round1) },
        coreReportsChannelsMs: { median: round1(median(coreChannels)), all: coreChannels.map(round1) },
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
        target: { navigationToDataRenderMs: TARGET_MS, met: median(ui) < TARGET_MS, duringRebuildMaxMs: DURING_REBUILD_TARGET_MS, duringRebuildMet: duringMet },
      };
      writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(
        [
          `Workspace: ${clicks.toLocaleString('en-US')} clicks, ${seeded.customers.toLocaleString('en-US')} customers, ${seeded.subscriptions.toLocaleString('en-US')} subscriptions (seeded in ${Math.round(seedMs)} ms, ledger built in ${Math.round(rebuildMs)} ms)`,
          `Navigation -> dashboard data rendered: first ${round1(ui[0]!)} ms, median ${round1(median(ui))} ms over ${runs} (target < ${TARGET_MS} ms: ${result.target.met ? 'met' : 'MISSED'})`,
          `Core process, same run: reports.channels median ${round1(median(coreChannels))} ms, reports.daily median ${round1(median(coreDaily))} ms`,
          `While a ${Math.round(secondRebuildMs)} ms ledger rebuild runs, ${busyStatus.length} calls each: status.get max ${round1(Math.max(...busyStatus))} ms, reports.daily max ${round1(Math.max(...busyDaily))} ms (target < ${DURING_REBUILD_TARGET_MS} ms: ${duringMet ? 'met' : 'MISSED'}; idle medians ${round1(median(idleStatus))} / ${round1(median(idleDaily))} ms); reports.channels max ${round1(Math.max(...busyReport))} ms (idle median ${round1(median(idleReport))} ms)`,
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
