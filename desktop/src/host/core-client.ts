import { internalMessage, err, type Result } from '@revtrail/shared';
import type { CoreLogger } from '../core/context';
import type { SafeStorageLike } from '../core/secrets/safe-storage';
import type { CoreProcessConfig, CoreProcessInfo } from './core-process';
import type { HostHandle } from './host';
import { coreEventsOver, createPeer } from './peer';
import { forkNode, portOfChild, type CoreProcessLike } from './processes';

/** The core process's entry beside this file: the source under tsx, the bundle's core-process.js in a build. */
export const CORE_PROCESS_ENTRY = new URL(import.meta.url.endsWith('.ts') ? './core-process.ts' : './core-process.js', import.meta.url);

export interface CoreProcessOptions {
  /** Starts the process (Electron: utilityProcess.fork); a Node fork of CORE_PROCESS_ENTRY by default. */
  spawn?: () => CoreProcessLike;
  /** Electron's safeStorage, answered here for the core process (Electron main only). */
  safeStorage?: SafeStorageLike;
  /** Where this process's own lines go once the core process cannot take them (it stopped). */
  fallbackLog?: CoreLogger;
}

export interface RemoteHost extends HostHandle {
  /** The secret store the core process chose, in words (what protects the secrets). */
  secrets: string;
  /** This process's log: lines go to the core process's log file. */
  log: CoreLogger & { file: string };
}

/**
 * Starts the core process and answers with its handle, or with the error that kept it from starting (a
 * read-only data folder, secrets only the app can read, a keychain that does not answer). A call made
 * after the process stopped answers `internal` naming the log file; events simply stop.
 */
export async function startCoreProcess(config: CoreProcessConfig, opts: CoreProcessOptions = {}): Promise<Result<RemoteHost>> {
  const child = (opts.spawn ?? (() => forkNode(CORE_PROCESS_ENTRY)))();
  const safe = opts.safeStorage;
  const peer = createPeer(portOfChild(child), async (method, args) => {
    if (!safe) throw new Error(`the shell offers no ${method}`);
    const a = args as { plain: string; sealed: string };
    if (method === 'safeStorage.isEncryptionAvailable') return safe.isEncryptionAvailable();
    if (method === 'safeStorage.backend') return (await safe.getSelectedStorageBackend?.()) ?? null;
    if (method === 'safeStorage.encrypt') return (await safe.encryptString(a.plain)).toString('base64');
    if (method === 'safeStorage.decrypt') return safe.decryptString(Buffer.from(a.sealed, 'base64'));
    throw new Error(`the shell offers no ${method}`);
  });
  let exited: number | null | undefined;
  const stopped = new Promise<void>((done) =>
    child.on('exit', (code) => {
      exited = code;
      peer.fail(new Error(`the core process stopped (exit code ${code})`));
      done();
    }),
  );

  let started: Result<CoreProcessInfo>;
  try {
    started = (await peer.call('host.start', config)) as Result<CoreProcessInfo>;
  } catch (e) {
    started = err('internal', `Revtrail's core could not start: ${(e as Error).message}.`);
  }
  if (!started.ok) {
    child.kill();
    return started;
  }
  const info = started.value;
  const line = (level: keyof CoreLogger) => (obj: object, msg: string) => {
    if (exited === undefined) peer.emit('log', { level, obj, msg });
    else opts.fallbackLog?.[level](obj, msg);
  };
  return {
    ok: true,
    value: {
      localRedirector: info.localRedirector,
      logFile: info.logFile,
      secrets: info.secrets,
      log: { file: info.logFile, info: line('info'), warn: line('warn'), error: line('error') },
      async call(method, args) {
        try {
          return (await peer.call('dispatch', { method, args })) as Result<unknown>;
        } catch (e) {
          opts.fallbackLog?.error({ method, err: (e as Error).message }, 'core process call failed');
          return err('internal', `${internalMessage(info.logFile)} (${(e as Error).message}: restart Revtrail.)`);
        }
      },
      on: coreEventsOver(peer),
      async close() {
        if (exited !== undefined) return;
        await peer.call('host.close').catch(() => null);
        await Promise.race([stopped, new Promise((done) => setTimeout(done, 5_000).unref())]);
        if (exited === undefined) child.kill();
      },
    },
  };
}
