import { mkdirSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { err, ok, systemClock, type Result } from '@revtrail/shared';
import type { CoreLogger } from '../core/context';
import { chooseSecretStore, readOnlyMessage, type SecretChoice } from '../core/secrets/choose';
import type { SafeStorageLike } from '../core/secrets/safe-storage';
import type { SecretStore } from '../core/secrets/types';
import type { ShellMode } from '../transport/contract';
import type { CoreWorkerConfig } from './core-worker';
import { forwardEvents, startHost, type CoreLike, type Host } from './host';
import { createFileLogger, redactingStore, type FileLogger } from './log-file';
import { OFFLOADED_METHODS } from './offloaded';
import { coreEventsOver, createPeer, sendCoreEvents, takeLogLines, type Peer } from './peer';
import { portOfWorker, portToParent, startWorker } from './processes';

/** Everything the core process needs from its shell, as plain data (it crosses a process boundary). */
export interface CoreProcessConfig {
  mode: ShellMode;
  dataDir: string;
  secrets: Pick<SecretChoice, 'keyFile' | 'prefer' | 'legacyKeyFiles' | 'env'> & {
    /** The shell (Electron main) answers safeStorage calls for this process. */
    safeStorage: boolean;
  };
  stripeApiBase?: string;
  localRedirector?: false | { port?: number; settings?: Record<string, string> };
  schedule?: boolean;
}

/** What the core process answers to `host.start`. */
export interface CoreProcessInfo {
  localRedirector: { url: string } | null;
  logFile: string;
  secrets: string;
}

/** Electron's safeStorage, asked of the main process (the only one where it exists). */
function safeStorageOver(peer: Peer): SafeStorageLike {
  return {
    isEncryptionAvailable: async () => (await peer.call('safeStorage.isEncryptionAvailable')) as boolean,
    getSelectedStorageBackend: async () => (await peer.call('safeStorage.backend')) as string,
    encryptString: async (plain) => Buffer.from((await peer.call('safeStorage.encrypt', { plain })) as string, 'base64'),
    decryptString: async (sealed) => (await peer.call('safeStorage.decrypt', { sealed: sealed.toString('base64') })) as string,
  };
}

/** The worker thread as a core: calls and events over its port; its secrets and log lines come back here. */
async function startCoreWorker(config: CoreWorkerConfig, secrets: SecretStore, log: CoreLogger): Promise<{ core: CoreLike; close(): Promise<void> }> {
  const worker: Worker = startWorker(new URL(import.meta.url.endsWith('.ts') ? './core-worker.ts' : './core-worker.js', import.meta.url));
  const peer = createPeer(portOfWorker(worker), async (method, args) => {
    const a = args as { name: string; value: string };
    if (method === 'secrets.get') return secrets.get(a.name);
    if (method === 'secrets.set') return secrets.set(a.name, a.value);
    if (method === 'secrets.delete') return secrets.delete(a.name);
    throw new Error(`core process: no method ${method} for the worker`);
  });
  takeLogLines(peer, () => log);
  worker.on('error', (e) => log.error({ err: e }, 'core worker failed'));
  worker.on('exit', (code) => peer.fail(new Error(`the core worker stopped (exit code ${code})`)));
  await peer.call('worker.start', config);
  return {
    core: {
      call: (method, args) => peer.call('dispatch', { method, args }) as Promise<Result<unknown>>,
      on: coreEventsOver(peer),
    },
    async close() {
      await peer.call('worker.close').catch(() => null);
      await worker.terminate();
    },
  };
}

/**
 * The core process (Electron's utilityProcess in the app, a Node child in browser mode): the core, its
 * worker, the scheduler, the embedded redirector, the secret store and the log file, for one shell that
 * calls it over the process's channel. The window's process and the HTTP server stay free.
 */
async function serve(): Promise<void> {
  let host: Host | null = null;
  let log: FileLogger | null = null;
  let worker: Awaited<ReturnType<typeof startCoreWorker>> | null = null;
  const peer: Peer = createPeer(portToParent(), async (method, args) => {
    if (method === 'dispatch') {
      const { method: m, args: a } = args as { method: string; args: unknown };
      return host ? host.dispatch(m, a) : err('unavailable', 'Revtrail is still starting: try again in a moment.');
    }
    if (method === 'host.start') return start(args as CoreProcessConfig);
    if (method === 'host.close') {
      await host?.close();
      await worker?.close();
      setImmediate(() => process.exit(0));
      return null;
    }
    throw new Error(`core process: no method ${method}`);
  });
  // The shell's own lines (an untrusted frame, a failed web request) go to the same file.
  takeLogLines(peer, () => log);

  const start = async (config: CoreProcessConfig): Promise<Result<CoreProcessInfo>> => {
    try {
      mkdirSync(config.dataDir, { recursive: true });
    } catch (e) {
      return err('read_only', readOnlyMessage(config.dataDir, e));
    }
    log = createFileLogger({ dataDir: config.dataDir });
    const chosen = await chooseSecretStore({ ...config.secrets, dataDir: config.dataDir, safeStorage: config.secrets.safeStorage ? safeStorageOver(peer) : null });
    if (!chosen.ok) return chosen;
    const secrets = redactingStore(chosen.value, log);
    worker = await startCoreWorker({ dataDir: config.dataDir, stripeApiBase: config.stripeApiBase, logFile: log.file }, secrets, log);
    host = await startHost({
      mode: config.mode,
      dataDir: config.dataDir,
      clock: systemClock,
      log,
      secrets,
      stripeApiBase: config.stripeApiBase,
      localRedirector: config.localRedirector,
      schedule: config.schedule,
      offload: { methods: OFFLOADED_METHODS, core: worker.core },
    });
    forwardEvents(host, sendCoreEvents(peer));
    log.info({ mode: config.mode, secrets: secrets.description }, 'core process started');
    return ok({ localRedirector: host.localRedirector ? { url: host.localRedirector.url } : null, logFile: log.file, secrets: secrets.description });
  };
}

await serve();
