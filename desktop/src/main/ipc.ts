import type { Result } from '@revtrail/shared';
import type { CoreLogger } from '../core/context';
import type { CoreLike } from '../host/host';
import { CORE_EVENTS, createDispatch, IPC_CALL, IPC_EVENT, type ShellHandlers } from '../transport/contract';

/** The part of Electron's ipcMain this needs (structural, so it is tested without Electron). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export interface CoreIpcOptions {
  shell?: ShellHandlers;
  log: CoreLogger;
  /** Only the app's own page may call the core (not a page some navigation slipped in). */
  isTrustedSender(url: string): boolean;
  /** Delivers a core event to every window (webContents.send(IPC_EVENT, name, payload)). */
  broadcast(channel: typeof IPC_EVENT, name: string, payload: unknown): void;
}

/**
 * The Electron transport: one 'core:call' channel (method, args) -> Result, and core events pushed on
 * 'core:event'. Returns a function that undoes both.
 */
export function registerCoreIpc(ipc: IpcMainLike, core: CoreLike, opts: CoreIpcOptions): () => void {
  const dispatch = createDispatch(core, opts.shell ?? {}, opts.log);
  ipc.handle(IPC_CALL, async (event, method, args): Promise<Result<unknown>> => {
    const from = event.senderFrame?.url ?? '';
    if (!opts.isTrustedSender(from)) {
      opts.log.warn({ method: typeof method === 'string' ? method.slice(0, 60) : typeof method }, 'core call from an untrusted frame refused');
      return { ok: false, error: { code: 'forbidden', message: 'Only the Revtrail window may call Revtrail.' } };
    }
    return dispatch(method as string, args);
  });
  const offs = CORE_EVENTS.map((name) => core.on(name, (payload) => opts.broadcast(IPC_EVENT, name, payload)));
  return () => {
    ipc.removeHandler(IPC_CALL);
    for (const off of offs) off();
  };
}
