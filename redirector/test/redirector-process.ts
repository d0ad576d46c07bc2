import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const REDIRECTOR = join(ROOT, 'redirector');
/** What a process keeps of its output: enough for the last messages, bounded when a fault makes it chatty. */
const OUTPUT_KEEP = 1 << 20;

const children = new Set<ChildProcess>();

/** Kills every process group these helpers started that is still running (a test file's afterAll). */
export function killRedirectorProcesses(): void {
  for (const c of children) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}

export interface RedirectorProcess {
  child: ChildProcess;
  output(): string;
  /** Exit code, or the signal that ended it. */
  exited: Promise<number | string | null>;
  /** Resolves with the URL once the redirector says it listens; rejects if it exits first. */
  listening(): Promise<string>;
  /** Signals the whole group and resolves once every process of it is gone (the data dir is free). */
  stop(signal: NodeJS.Signals): Promise<number | string | null>;
}

/**
 * The local redirector as a real process. `npm`: `npm run redirector -- ...` from the repository root, as a
 * user types it. `node`: node with tsx's loader on src/server.ts, one process, so a signal reaches the
 * server itself (the fault suite's SIGKILL) and a start costs no npm.
 */
export function startRedirectorProcess(args: string[], opts: { via: 'npm' | 'node'; env?: Record<string, string> }): RedirectorProcess {
  const [command, argv, cwd] =
    opts.via === 'npm'
      ? ['npm', ['run', '--silent', 'redirector', '--', ...args], ROOT]
      : [process.execPath, ['--import', 'tsx', 'src/server.ts', ...args], REDIRECTOR];
  const child = spawn(command, argv, {
    cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: npm, tsx and node get the signal, as from a terminal's Ctrl-C
  });
  children.add(child);
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString();
    if (out.length > 2 * OUTPUT_KEEP) out = out.slice(-OUTPUT_KEEP);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // npm re-raises a signal its script stopped on, so a clean stop reads as code 0 or that signal.
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const listening = async (): Promise<string> => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) return m[1]!;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited ${child.exitCode ?? child.signalCode}: ${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`did not start: ${out}`);
  };
  const stop = async (signal: NodeJS.Signals) => {
    process.kill(-child.pid!, signal);
    const result = await exited;
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        return result;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('the redirector did not stop');
  };
  return { child, output: () => out, exited, listening, stop };
}
