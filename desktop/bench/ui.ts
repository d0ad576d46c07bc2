/**
 * npm run bench:ui [-- --clicks N --runs N] — browser mode over a workspace of N clicks (1,000,000 by
 * default): the time from navigation to the dashboard's first render with report data (the page marks it
 * with performance.mark once the chart and the channels table have painted), first and warm, beside the
 * core's own 'reports.channels' and 'reports.daily' calls measured in the same run on the same workspace.
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
import { systemClock } from '@revtrail/shared';
import { addDays, dayInZone } from '@revtrail/shared/attribution/index';
import { openDatabase } from '../src/core/db/open';
import { EncryptedFileSecretStore } from '../src/core/secrets/encrypted-file';
import { WorkspaceRegistry } from '../src/core/workspaces/registry';
import { buildRenderer } from '../src/launch/build-renderer';
import { startBrowserMode } from '../src/launch/browser-mode';
import { writeSampleFacts } from '../src/launch/sample-workspace';
import { DATA_RENDERED_MARK } from '../src/renderer/marks';
import { chromiumMissing, launchChromium, quietLog } from '../e2e/support';

const RESULTS = fileURLToPath(new URL('./results/ui.json', import.meta.url));
const TARGET_MS = 1500;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;

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
    const app = await startBrowserMode({ dataDir, clock: systemClock, log: quietLog, secrets: new EncryptedFileSecretStore(join(dir, 's.enc'), join(dir, 's.key')), staticDir, localRedirector: false, schedule: false });
    const browser = await launchChromium();
    try {
      t = performance.now();
      const rebuilt = await app.host.core.call('attribution.rebuild', { workspace: ws.id });
      const rebuildMs = performance.now() - t;
      if (!rebuilt.ok) throw new Error(`rebuild failed: ${rebuilt.error.message}`);

      // The core alone, in-process: the two reports the dashboard asks for, the same 30 days.
      const to = dayInZone(Date.now(), 'UTC');
      const range = { workspace: ws.id, from: addDays(to, -29), to };
      const coreChannels: number[] = [];
      const coreDaily: number[] = [];
      for (let i = 0; i < runs; i++) {
        t = performance.now();
        const c = await app.host.core.call('reports.channels', range);
        coreChannels.push(performance.now() - t);
        t = performance.now();
        const d = await app.host.core.call('reports.daily', range);
        coreDaily.push(performance.now() - t);
        if (!c.ok || !d.ok || c.value.rows.length === 0) throw new Error('the reports came back empty or failed');
      }
      process.stdout.write(`Core: reports.channels ${coreChannels.map(Math.round).join(', ')} ms; reports.daily ${coreDaily.map(Math.round).join(', ')} ms\n`);

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
        target: { navigationToDataRenderMs: TARGET_MS, met: median(ui) < TARGET_MS },
      };
      writeFileSync(RESULTS, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(
        [
          `Workspace: ${clicks.toLocaleString('en-US')} clicks, ${seeded.customers.toLocaleString('en-US')} customers, ${seeded.subscriptions.toLocaleString('en-US')} subscriptions (seeded in ${Math.round(seedMs)} ms, ledger built in ${Math.round(rebuildMs)} ms)`,
          `Navigation -> dashboard data rendered: first ${round1(ui[0]!)} ms, median ${round1(median(ui))} ms over ${runs} (target < ${TARGET_MS} ms: ${result.target.met ? 'met' : 'MISSED'})`,
          `Core alone, same run: reports.channels median ${round1(median(coreChannels))} ms, reports.daily median ${round1(median(coreDaily))} ms`,
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
