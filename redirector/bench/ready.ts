import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROBE = fileURLToPath(new URL('./ready-probe.mjs', import.meta.url));
const PROBE_TIMEOUT_MS = 30_000;

export interface ReadySample {
  /** From process start until the probe's first line ran (node's own startup). */
  startedMs: number;
  /** Loading the code: the bundle's modules up to lambda.ts's own (startup.modulesLoadedMs), or node:http. */
  modulesMs: number;
  /** Building what answers: lambda.ts's top-level createProxy() (config, clients, the context, first table read), or listen(). */
  buildMs: number;
  /** Of which building the app (config, clients, the context), or listen(). */
  appMs: number;
  /** And the first table read it waits for (bounded): the connection opened, the SDK's code paths loaded. 0 for node:http. */
  warmUpMs: number;
  /** The process's CPU time (user + system) until its modules were loaded, then for the app, then for the first table read. */
  modulesCpuMs: number;
  appCpuMs: number;
  warmUpCpuMs: number;
  /** From process start until it could answer (the bundle's import resolved, or the server listened). */
  readyMs: number;
  /** The process's CPU time (user + system, all its threads) until then: what a busy machine's scheduling does not inflate. */
  readyCpuMs: number;
  /** The first request: a click through the handler into the table, or a GET over loopback. */
  firstRequestMs: number;
  /** The next one, warm. */
  secondRequestMs: number;
  /** Process CPU (user + system) per warm redirect, µs: `cpuRequests` sequential ones after `cpuWarmup` more. */
  cpuPerRequestUs: number;
  cpuRequests: number;
  cpuWarmup: number;
}

export interface ReadyFigures {
  median: ReadySample;
  samples: ReadySample[];
}

interface ProbeOutput extends ReadySample {
  check?: { statusCode: number; location: string | null };
  /** When the measured warm redirects ran, ms since the process started (the bundle only). */
  warmWindow?: { fromMs: number; toMs: number };
}

type ProbeMessage = { ok: true; result: ProbeOutput } | { ok: false; error: string };

/** One fresh `node` (process.execPath without tsx's loader) running ready-probe.mjs. */
function probe(args: string[], env: Record<string, string>, cwd: string, profileDir?: string): Promise<ProbeOutput> {
  return new Promise((resolve, reject) => {
    // A V8 CPU profile of the probe's whole life, sampled every 100 µs, written into profileDir at exit.
    const profile = profileDir ? ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', profileDir] : [];
    const child = spawn(process.execPath, [...profile, PROBE, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let message: ProbeMessage | null = null;
    child.on('message', (m) => {
      message = m as ProbeMessage;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const m = message as ProbeMessage | null;
      if (m?.ok) return resolve(m.result);
      const why = m ? m.error : `exited with ${signal ?? code} before reporting`;
      reject(new Error(`ready probe (${args[0]}) failed: ${why}\n--- its output ---\n${output}`));
    });
  });
}

function median(samples: ReadySample[]): ReadySample {
  const mid = (pick: (s: ReadySample) => number) => {
    const sorted = samples.map(pick).sort((a, b) => a - b);
    const m = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
  };
  const keys = ['startedMs', 'modulesMs', 'buildMs', 'appMs', 'warmUpMs', 'modulesCpuMs', 'appCpuMs', 'warmUpCpuMs', 'readyMs', 'readyCpuMs', 'firstRequestMs', 'secondRequestMs', 'cpuPerRequestUs', 'cpuRequests', 'cpuWarmup'] as const;
  return Object.fromEntries(keys.map((k) => [k, mid((s) => s[k])])) as unknown as ReadySample;
}

/** One cold start of the bundle with a CPU profile written into `profileDir`. */
export async function profiledStart(opts: { bundle: { dir: string; file: string }; env: Record<string, string>; profileDir: string }): Promise<ReadySample & { warmWindow: { fromMs: number; toMs: number } }> {
  const out = await probe(['bundle', opts.bundle.file], opts.env, opts.bundle.dir, opts.profileDir);
  if (!out.warmWindow) throw new Error('the bundle probe did not report when its warm redirects ran');
  return { ...sample(out), warmWindow: out.warmWindow };
}

const figures = (samples: ReadySample[]): ReadyFigures => ({ median: median(samples), samples });
const sample = ({ check: _check, warmWindow: _window, ...figures }: ProbeOutput): ReadySample => figures;

/**
 * Cold starts of the bundle and of the reference, alternated so both see the same machine state. The
 * bundle's directory is the working directory, as /var/task is on Lambda.
 */
export async function measureReady(opts: {
  /** The bundle's root (Lambda's /var/task) and the handler's file in it. */
  bundle: { dir: string; file: string };
  env: Record<string, string>;
  runs: number;
  /**
   * Also start the bundle with Node's module compile cache (NODE_COMPILE_CACHE, what module.enableCompileCache()
   * turns on) this many times, each in a fresh cache directory: once empty, as a Lambda environment's only
   * cold start finds /tmp, and again with what that start wrote.
   */
  compileCacheRuns?: number;
}): Promise<{ bundle: ReadyFigures; bare: ReadyFigures; check: NonNullable<ProbeOutput['check']>; compileCache?: { empty: ReadyFigures; filled: ReadyFigures } }> {
  const cwd = opts.bundle.dir;
  const bundle: ReadySample[] = [];
  const bare: ReadySample[] = [];
  let check: ProbeOutput['check'];
  for (let i = 0; i < opts.runs; i++) {
    bare.push(sample(await probe(['bare'], opts.env, cwd)));
    const out = await probe(['bundle', opts.bundle.file], opts.env, cwd);
    check ??= out.check;
    bundle.push(sample(out));
  }
  if (!check) throw new Error('the bundle probe did not report its check request');
  const empty: ReadySample[] = [];
  const filled: ReadySample[] = [];
  for (let i = 0; i < (opts.compileCacheRuns ?? 0); i++) {
    const dir = mkdtempSync(join(tmpdir(), 'revtrail-compile-cache-'));
    try {
      const env = { ...opts.env, NODE_COMPILE_CACHE: dir };
      empty.push(sample(await probe(['bundle', opts.bundle.file], env, cwd)));
      if (readdirSync(dir).length === 0) throw new Error(`the bundle's start wrote no compile cache into ${dir}`);
      filled.push(sample(await probe(['bundle', opts.bundle.file], env, cwd)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const compileCache = empty.length > 0 ? { empty: figures(empty), filled: figures(filled) } : undefined;
  return { bundle: figures(bundle), bare: figures(bare), check, ...(compileCache ? { compileCache } : {}) };
}
