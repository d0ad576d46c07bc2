// The fault suite: the redirector run as users run it, loaded from another process, broken on purpose
// (killed, its journal damaged, its disk filled, its store taken away), then counted through the sync API.
// Every answered click must be in the store once: the table printed at the end shows each fault's figures.
// REVTRAIL_FAULT_SEED=<n> replays the random moments of a run (the seed is printed with the table).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pino from 'pino';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalRedirector, type LocalRedirector } from '../src/local';
import { silentLogger } from '../src/log';
import { startEmbeddedDynamo } from '../src/store/embedded';
import { TOKEN } from './support';
import { DRAIN_TIMEOUT_MS, freePort, formatTable, putLink, readAllClicks, readStatus, seededRandom, startLoad, tally, waitDrained, type Row } from './faults/harness';
import { corrupt, journalFigures, journalFiles, type Corruption } from './faults/journal';
import { killRedirectorProcesses, startRedirectorProcess, type RedirectorProcess } from './redirector-process';

const SLUG = 'faults';
const LOAD_MS = 2_500;
const seed = Number(process.env.REVTRAIL_FAULT_SEED) || Math.floor(Math.random() * 2 ** 31);
const random = seededRandom(seed);
const rows: Row[] = [];
const dirs: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => {
  killRedirectorProcesses();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  const table = formatTable(rows, `Fault suite (seed ${seed}; REVTRAIL_FAULT_SEED=${seed} repeats it)`);
  writeFileSync(join(tmpdir(), 'revtrail-faults.txt'), table + '\n');
  console.log(`\n${table}\n`);
});

// A row that fails before it is counted (a server that would not start, say) still gets its line.
beforeEach((ctx) => {
  const before = rows.length;
  ctx.onTestFailed(() => {
    if (rows.length === before) rows.push({ fault: ctx.task.name, note: `failed before counting: ${ctx.task.result?.errors?.[0]?.message?.split('\n')[0]}` });
  });
});

function tempDir(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `revtrail-fault-${name}-`));
  dirs.push(d);
  return d;
}

/** The redirector as one node process on a fixed port, so a restart comes back where the load goes. */
async function startServer(dataDir: string, port: number, settings: Record<string, string> = {}): Promise<{ proc: RedirectorProcess; url: string }> {
  const proc = startRedirectorProcess(['--port', String(port), '--data-dir', dataDir], {
    via: 'node',
    env: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0', ...settings },
  });
  return { proc, url: await proc.listening() };
}

/** Counts a run once the journal has drained, adds its row, and returns it for the test's assertions. */
async function finish(url: string, run: string, answered: Set<number>, since: number, row: Row): Promise<Row> {
  const drain = await waitDrained(url);
  const clicks = await readAllClicks(url);
  const figures = journalFigures(await readStatus(url));
  Object.assign(row, tally(clicks, run, answered), {
    reportedLost: figures.lost,
    quarantined: figures.quarantined,
    recoveryMs: drain.drained ? drain.at - since : undefined,
  });
  if (!drain.drained) row.note = [row.note, `not drained after ${DRAIN_TIMEOUT_MS / 1000} s (journal queued ${drain.figures.queued})`].filter(Boolean).join('; ');
  rows.push(row);
  return row;
}

function expectKept(row: Row): void {
  expect(row.answered, 'the load generator got no answer at all').toBeGreaterThan(0);
  expect(row.note ?? '').not.toContain('not drained');
  expect({ lost: row.lost, duplicates: row.duplicates }).toEqual({ lost: 0, duplicates: 0 });
}

describe.sequential('faults under load', () => {
  for (let i = 1; i <= 5; i++) {
    it(`SIGKILL #${i} at a random moment under load, restarted on the same data dir`, async () => {
      const dir = tempDir(`kill${i}`);
      const port = await freePort();
      let server = await startServer(dir, port);
      await putLink(server.url, SLUG);
      const run = `kill${i}`;
      const load = startLoad({ url: `${server.url}/${SLUG}`, run, out: join(dir, 'answered.txt'), durationMs: LOAD_MS });
      const delay = 300 + Math.floor(random() * 1_200);
      await load.started;
      await sleep(delay);
      await server.proc.stop('SIGKILL');
      const restartedAt = Date.now();
      server = await startServer(dir, port);
      await load.done;
      const row = await finish(server.url, run, load.answered(), restartedAt, { fault: `SIGKILL ${delay} ms into the load` });
      await server.proc.stop('SIGTERM');
      expectKept(row);
    }, 90_000);
  }

  const corruptions: [Corruption, string][] = [
    ['line-null', 'journal line `null`'],
    ['line-empty-object', 'journal line `{}`'],
    ['line-click-without-item', 'journal line `{"kind":"clicks"}`'],
    ['truncate-0', 'journal truncated to 0 bytes'],
    ['nul-1000', 'journal: 1,000 bytes of NULs'],
  ];
  for (const [how, fault] of corruptions) {
    it(`${fault}: every answered click is stored once, or counted lost by the server exactly`, async () => {
      const dir = tempDir(how);
      const r = await inProcessRedirector(dir);
      try {
        await putLink(r.url(), SLUG);
        // With the store down the journal keeps every click of the load, and the load ends before the
        // redirector stops: every click the journal holds was answered, so the server's count of what
        // the damage cost can be held against the load generator's to the click.
        await r.storeDown();
        const load = startLoad({ url: `${r.url()}/${SLUG}`, run: how, out: join(dir, 'answered.txt'), durationMs: 1_500 });
        await load.done;
        await r.stop();
        const target = journalFiles(dir)[0];
        const at = random();
        const note = target ? `${statSync(target).size}-byte journal file damaged at ${Math.round(at * 100)}%` : 'journal empty: nothing to damage';
        if (target) corrupt(target, how, at);
        await r.storeUp();
        const restartedAt = Date.now();
        await r.start();
        const row = await finish(r.url(), how, load.answered(), restartedAt, { fault, note });
        expect(target, 'the journal was empty when the redirector stopped, so this fault tested nothing').toBeDefined();
        expect(row.note ?? '').not.toContain('not drained');
        expect(row.duplicates).toBe(0);
        if (how.startsWith('line-')) {
          // A line of the wrong shape is not a click: set aside, counted once, and nothing else lost.
          expect({ lost: row.lost, reportedLost: row.reportedLost, quarantined: row.quarantined }).toEqual({ lost: 0, reportedLost: 0, quarantined: 1 });
        } else {
          expect(row.reportedLost, 'the server must count exactly the answered clicks the damage cost').toBe(row.lost);
          if (how === 'nul-1000') expect(row.quarantined).toBeGreaterThan(0);
        }
      } finally {
        await r.close();
      }
    }, 90_000);
  }

  // While the disk refuses writes, redirects go on and their clicks wait in a bounded buffer. Within the
  // bound nothing answered may be lost; past it (a small bound here, so the load outruns it) each click let go
  // must be counted in /status, to the click, and the rest still stored.
  const BUFFER = 20_000;
  it.for([
    { fault: 'disk full, then space again (within the buffer)', buffer: BUFFER, max: BUFFER - 5_000, run: 'diskfull' },
    { fault: 'disk full past a 2,000-click buffer', buffer: 2_000, max: 8_000, run: 'diskover' },
  ])('$fault (a 40 MiB tmpfs)', { timeout: 120_000 }, async ({ fault, buffer, max, run }, ctx) => {
    if (process.getuid?.() !== 0) {
      rows.push({ fault, note: 'skipped: mounting a tmpfs needs root' });
      return ctx.skip('mounting a tmpfs needs root');
    }
    const mnt = tempDir('disk');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (e) {
      const reason = `mount -t tmpfs failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message}`;
      rows.push({ fault, note: `skipped: ${reason}` });
      return ctx.skip(reason);
    }
    let server: { proc: RedirectorProcess; url: string } | null = null;
    try {
      const dir = join(mnt, 'data');
      mkdirSync(dir);
      const port = await freePort();
      server = await startServer(dir, port, { REVTRAIL_JOURNAL_BUFFER_EVENTS: String(buffer) });
      await putLink(server.url, SLUG);
      const filler = join(mnt, 'filler');
      await fillDisk(filler);
      const load = startLoad({ url: `${server.url}/${SLUG}`, run, out: join(tempDir(`${run}-load`), 'answered.txt'), durationMs: LOAD_MS * 2, max });
      const totals = await load.done;
      rmSync(filler);
      const freedAt = Date.now();
      const row = await finish(server.url, run, load.answered(), freedAt, {
        fault,
        note: `${totals.sent - totals.answered} of ${totals.sent} requests not answered 302 while full`,
      });
      expect(row.answered, 'the redirector must keep redirecting while its disk is full').toBeGreaterThan(0);
      expect(row.note ?? '').not.toContain('not drained');
      expect(row.duplicates).toBe(0);
      expect(row.lost).toBe(row.reportedLost);
      if (row.answered! <= buffer) expect(row.lost, 'within the buffer, every answered click is kept').toBe(0);
      else {
        // Past the bound the clicks that did not fit are let go; a few written before the disk filled up are not.
        expect(row.lost).toBeGreaterThan(0);
        expect(row.lost).toBeLessThanOrEqual(row.answered! - buffer);
      }
    } catch (e) {
      // The redirector's own last words say why it stopped answering.
      throw new Error(`${(e as Error).message}; the redirector said: ${server?.proc.output().slice(-2000).replace(/\n/g, " | ")}`, { cause: e });
    } finally {
      await server?.proc.stop('SIGKILL').catch(() => undefined);
      await unmount(mnt);
    }
  });

  it('the store down and back under load', async () => {
    const dir = tempDir('store');
    const r = await inProcessRedirector(dir);
    try {
      await putLink(r.url(), SLUG);
      const load = startLoad({ url: `${r.url()}/${SLUG}`, run: 'store', out: join(dir, 'answered.txt'), durationMs: 3_000 });
      await load.started;
      const downAfter = 300 + Math.floor(random() * 700);
      await sleep(downAfter);
      await r.storeDown();
      await sleep(1_000);
      await r.storeUp();
      const backAt = Date.now();
      await load.done;
      const row = await finish(r.url(), 'store', load.answered(), backAt, { fault: `store down ${downAfter} ms into the load, back 1 s later` });
      expectKept(row);
    } finally {
      await r.close();
    }
  }, 90_000);
});

/**
 * The redirector in this process, on an embedded store the test takes down and brings back on the same
 * port and files: the redirector process keeps its store inside, out of a test's reach.
 */
async function inProcessRedirector(dir: string) {
  const path = join(dir, 'dynamodb');
  let dynamo = await startEmbeddedDynamo({ path });
  const port = dynamo.port;
  let storeUp = true;
  const start = () =>
    startLocalRedirector({ dataDir: dir, port: 0, dynamo, log: silentLogger as pino.Logger, settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0' } });
  let r: LocalRedirector | null = await start();
  return {
    url: () => r!.url,
    async storeDown() {
      await dynamo.close();
      storeUp = false;
    },
    async storeUp() {
      dynamo = await startEmbeddedDynamo({ path, port });
      storeUp = true;
    },
    async stop() {
      await r?.close();
      r = null;
    },
    async start() {
      r = await start();
    },
    async close() {
      await r?.close();
      if (storeUp) await dynamo.close();
    },
  };
}

/** Writes `file` until the file system has no byte left. */
async function fillDisk(file: string): Promise<void> {
  const fh = await open(file, 'w');
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size, 0x61);
      for (;;) {
        try {
          await fh.write(chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** Unmounts, waiting out a process that still holds a file there; lazily as a last resort. */
async function unmount(mnt: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
      return;
    } catch {
      await sleep(200);
    }
  }
  execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
}
