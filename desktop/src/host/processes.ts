import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Port } from './peer';

/**
 * A child process as the parent sees it, structurally: Node's ChildProcess (send) and Electron's
 * UtilityProcess (postMessage) both satisfy it, so the host never imports electron.
 */
export type CoreProcessLike = {
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number | null) => void): unknown;
  kill(): boolean;
} & ({ send(message: unknown): boolean } | { postMessage(message: unknown): void });

export function portOfChild(child: CoreProcessLike): Port {
  return {
    post: (m) => void ('postMessage' in child ? child.postMessage(m) : child.send(m)),
    listen: (l) => void child.on('message', l),
  };
}

/** Electron's `process.parentPort` in a utilityProcess (messages arrive as `{ data }`). */
interface ParentPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): unknown;
}

/** This process's channel to its parent: Electron's parentPort in a utilityProcess, Node's IPC in a fork. */
export function portToParent(): Port {
  const parentPort = (process as unknown as { parentPort?: ParentPortLike }).parentPort;
  if (parentPort) return { post: (m) => parentPort.postMessage(m), listen: (l) => void parentPort.on('message', (e) => l(e.data)) };
  if (!process.send) throw new Error('This is the Revtrail core process: it is started by the app or browser mode, not by hand.');
  return { post: (m) => void process.send!(m), listen: (l) => void process.on('message', l) };
}

// Not named `require`: electron-vite declares `var require` itself in a chunk that imports a CommonJS module.
const resolveHere = createRequire(import.meta.url).resolve;
// Sources run in development and tests through tsx; the build runs the bundled .js files.
const TSX_LOADER = () => pathToFileURL(resolveHere('tsx')).href;
const TSX_API = () => pathToFileURL(join(dirname(resolveHere('tsx')), 'esm', 'api', 'index.mjs')).href;
const isSource = (entry: URL) => entry.pathname.endsWith('.ts');

/** Browser mode's core process: a Node child speaking structured clone over IPC. */
export function forkNode(entry: URL): CoreProcessLike {
  return fork(fileURLToPath(entry), [], {
    serialization: 'advanced',
    execArgv: isSource(entry) ? ['--import', TSX_LOADER()] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** A worker thread running `entry` (Node 20 does not hand tsx's hooks to workers: the source registers them first). */
export function startWorker(entry: URL): Worker {
  if (!isSource(entry)) return new Worker(entry);
  return new Worker(`import(${JSON.stringify(TSX_API())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true });
}

export function portOfWorker(worker: Worker): Port {
  return { post: (m) => worker.postMessage(m), listen: (l) => void worker.on('message', l) };
}
