/**
 * tsx bench/load-profile.ts [seconds] [out.cpuprofile] — where the local redirector's CPU goes under the
 * bench's load (50 connections from a separate autocannon process, journal mode, the embedded store in this
 * process). A CPU profile (node:inspector) of the measured run, its self time summed per function and per
 * package, beside the requests/s of that run. For finding the next cut; the figures that count are
 * `npm run bench:redirect`'s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type pino from 'pino';
import { startLocalRedirector } from '../src/local';
import { silentLogger } from '../src/log';
import { startBareRedirector } from './bare-server';
import { BROWSER_UA, drive, type LoadFigures } from './load';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time per function and per package (node_modules/<pkg>, node: internals, our src/<file>), and the busy (not idle) time. */
function summarize(p: Profile, top: number): { busyUs: number; text: string } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') idle += us;
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    const where = m ? m[1]! : url.startsWith('node:') ? url : url.includes('/redirector/src/') ? `src/${url.split('/redirector/src/')[1]}` : url.includes('/shared/') ? 'shared' : url || '(native)';
    const key = `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    pkg.set(where, (pkg.get(where) ?? 0) + us);
  }
  const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `  ${pct(us)}  ${k}`)
      .join('\n');
  return { busyUs: total - idle, text: `sampled ${(total / 1000).toFixed(0)} ms, busy ${((total - idle) / 1000).toFixed(0)} ms\nby package/file:\n${list(pkg, 20)}\nby function (self):\n${list(fn, top)}` };
}

/** drive() against `url` with the profiler on for its measured run only (the warm-up, 2 s, comes first). */
async function profiled(session: Session, server: Server, url: string, seconds: number): Promise<{ figures: LoadFigures; profile: Profile }> {
  const started = new Promise<void>((resolve) => server.once('request', () => resolve()));
  const running = drive(url, { connections: 50, warmupSeconds: 2, durationSeconds: seconds, userAgent: BROWSER_UA });
  await started;
  await new Promise((resolve) => setTimeout(resolve, 2500));
  await session.post('Profiler.start');
  const { measured } = await running;
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
  return { figures: measured, profile };
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const out = process.argv[3] ?? join(tmpdir(), 'redirector-load.cpuprofile');
  const work = mkdtempSync(join(tmpdir(), 'revtrail-prof-'));
  const token = randomBytes(30).toString('base64url');
  const r = await startLocalRedirector({
    dataDir: join(work, 'data'),
    port: 0,
    settings: { REVTRAIL_SYNC_TOKEN: token, REVTRAIL_FEED_SETTLE_MS: '0' },
    log: silentLogger as pino.Logger,
  });
  const bare = await startBareRedirector(new Map([['bench', 'https://brand.com/pricing?utm_source=bench']]));
  try {
    const put = await fetch(`${r.url}/api/v1/links/bench`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ destination: 'https://brand.com/pricing', channel: 'Bench', utm: { utm_source: 'bench' } }),
    });
    if (!put.ok) throw new Error(`PUT answered ${put.status}`);
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    const runs = [
      { name: 'bare node:http', ...(await profiled(session, bare.server, `${bare.url}/bench`, seconds)) },
      { name: 'redirector', ...(await profiled(session, r.app.server, `${r.url}/bench`, seconds)) },
    ];
    session.disconnect();
    writeFileSync(out, JSON.stringify(runs[1]!.profile));
    for (const { name, figures: m, profile } of runs) {
      const { busyUs, text } = summarize(profile, name === 'redirector' ? 40 : 12);
      const answered = Object.values(m.statusCodes).reduce((a, b) => a + b, 0);
      console.log(`\n== ${name}: ${Math.round(m.requestsPerSecond)} req/s, p50 ${m.p50Ms} ms, p99 ${m.p99Ms} ms, loop busy ${(m.serverLoopBusy * 100).toFixed(0)}%, ${(busyUs / answered).toFixed(1)} µs CPU (this thread) per answer`);
      console.log(text);
    }
    const j = r.spill.stats;
    console.log(`\njournal: appended ${j.appended} in ${j.writes} writes, ingested ${j.ingested}, queued ${j.queued}`);
    console.log(`profile of the redirector: ${out}`);
  } finally {
    await bare.close();
    await r.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
