import { parentPort } from 'node:worker_threads';
import { systemClock } from '@revtrail/shared';
import type { CoreLogger } from '../core/context';
import { createCore, type Core } from '../core/core';
import type { SecretStore } from '../core/secrets/types';
import { forwardEvents } from './host';
import { createPeer, sendCoreEvents } from './peer';

/** What the core process tells its worker: the same data folder and services as its own core. */
export interface CoreWorkerConfig {
  dataDir: string;
  stripeApiBase?: string;
  logFile: string;
}

/**
 * The core process's worker thread: a second core over the same data folder for the calls that hold the
 * thread for seconds (syncs, ledger rebuilds). Secrets and log lines go through the core process's own
 * store and log file, so there is one of each.
 */
if (!parentPort) throw new Error('core-worker.ts runs as a worker thread of the core process.');
const port = parentPort;
let core: Core | null = null;
const peer = createPeer({ post: (m) => port.postMessage(m), listen: (l) => void port.on('message', l) }, async (method, args) => {
  if (method === 'worker.start') {
    const config = args as CoreWorkerConfig;
    const line = (level: keyof CoreLogger) => (obj: object, msg: string) => peer.emit('log', { level, obj, msg });
    const secrets: SecretStore = {
      description: 'the core process store',
      get: async (name) => (await peer.call('secrets.get', { name })) as string | null,
      set: async (name, value) => void (await peer.call('secrets.set', { name, value })),
      delete: async (name) => void (await peer.call('secrets.delete', { name })),
    };
    core = createCore({ dataDir: config.dataDir, clock: systemClock, log: { info: line('info'), warn: line('warn'), error: line('error') }, logFile: config.logFile, secrets, stripeApiBase: config.stripeApiBase, surface: 'app' });
    forwardEvents(core, sendCoreEvents(peer));
    return null;
  }
  if (method === 'dispatch') {
    const { method: m, args: a } = args as { method: string; args: unknown };
    if (!core) throw new Error('the core worker was not started');
    return core.call(m as never, a as never);
  }
  if (method === 'worker.close') {
    core?.close();
    core = null;
    return null;
  }
  throw new Error(`core worker: no method ${method}`);
});
