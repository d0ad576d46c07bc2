import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Options, Result } from 'autocannon';

const LOAD_PROCESS = fileURLToPath(new URL('./load-process.mjs', import.meta.url));

export const BROWSER_UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export interface LoadSettings {
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  userAgent: string;
}

export interface LoadFigures {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses that were neither 2xx nor 3xx. */
  otherStatuses: number;
  errors: number;
  timeouts: number;
  /** Responses per status code, e.g. { "302": 51234 }. */
  statusCodes: Record<string, number>;
  /** Busy share of the servers' event loop during the run: near 1, the server is the limit; well below, the load generator is. */
  serverLoopBusy: number;
  /**
   * CPU time of the servers' process (user + system, all its threads: the event loop, the thread pool, the
   * embedded store) per answered request, in µs. Less inflated than the loop's busy share when other work
   * shares the machine's cores, since time waiting for a core is not counted.
   */
  serverCpuUsPerAnswer: number;
}

export interface LoadRun {
  warmup: LoadFigures;
  measured: LoadFigures;
}

function figures(r: Result, serverLoopBusy: number, serverCpuUs: number): LoadFigures {
  const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count]));
  const answered = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  return {
    requestsPerSecond: r.requests.mean,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    otherStatuses: r['1xx'] + r['4xx'] + r['5xx'],
    errors: r.errors,
    timeouts: r.timeouts,
    statusCodes,
    serverLoopBusy,
    serverCpuUsPerAnswer: answered > 0 ? serverCpuUs / answered : 0,
  };
}

/** autocannon in a fresh `node` process (bench/load-process.mjs), its result read over IPC. */
function autocannonProcess(opts: Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD_PROCESS, JSON.stringify(opts)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let message: { ok: true; result: Result } | { ok: false; error: string } | null = null;
    child.on('message', (m) => {
      message = m as typeof message;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const m = message as typeof message;
      if (m?.ok) return resolve(m.result);
      reject(new Error(`the load process failed: ${m ? m.error : `exited with ${signal ?? code} before reporting`}`));
    });
  });
}

/**
 * A warm-up (not reported) then the measured run, both against one URL. autocannon runs in a process of
 * its own: in the servers' process, even on a worker thread, it would share their heap, garbage collector
 * and scheduling with what it measures. Both servers (and the redirector's embedded store) run on this
 * process's main thread.
 */
export async function drive(url: string, s: LoadSettings): Promise<LoadRun> {
  const run = async (duration: number) => {
    const before = performance.eventLoopUtilization();
    const cpuBefore = process.cpuUsage();
    const result = await autocannonProcess({
      url,
      connections: s.connections,
      duration,
      headers: { 'user-agent': s.userAgent, accept: 'text/html,application/xhtml+xml,*/*;q=0.8', 'accept-language': 'en-US,en;q=0.9' },
    });
    const cpu = process.cpuUsage(cpuBefore);
    return figures(result, performance.eventLoopUtilization(before).utilization, cpu.user + cpu.system);
  };
  const warmup = await run(s.warmupSeconds);
  const measured = await run(s.durationSeconds);
  return { warmup, measured };
}

export const redirectsOf = (f: LoadFigures): number => f.statusCodes['302'] ?? 0;
