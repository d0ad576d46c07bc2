import { describe, expect, it } from 'vitest';
import { ok, type Result } from '@revtrail/shared';
import type { Core } from '../core/core';
import { IPC_CALL, IPC_EVENT } from '../transport/contract';
import { registerCoreIpc, type IpcMainLike } from './ipc';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const APP = 'file:///app/out/renderer/index.html';

function fakeIpc() {
  const handlers = new Map<string, Parameters<IpcMainLike['handle']>[1]>();
  const ipc: IpcMainLike = { handle: (c, l) => void handlers.set(c, l), removeHandler: (c) => void handlers.delete(c) };
  const invoke = (url: string | null, ...args: unknown[]) => handlers.get(IPC_CALL)!({ senderFrame: url === null ? null : { url } }, ...args) as Promise<Result<unknown>>;
  return { ipc, handlers, invoke };
}

function fakeCore() {
  const calls: [string, unknown][] = [];
  const listeners = new Map<string, Set<(p: unknown) => void>>();
  const core = {
    call: async (method: string, args: unknown) => {
      calls.push([method, args]);
      if (method === 'boom.now') throw new Error('bug');
      return ok({ method });
    },
    on: (event: string, l: (p: unknown) => void) => {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(l);
      return () => listeners.get(event)!.delete(l);
    },
  } as unknown as Pick<Core, 'call' | 'on'>;
  return { core, calls, listeners };
}

describe('registerCoreIpc', () => {
  it('answers core:call from the app page with the core Result, shell methods from the host', async () => {
    const { ipc, invoke } = fakeIpc();
    const { core, calls } = fakeCore();
    registerCoreIpc(ipc, core, { log: quiet, isTrustedSender: (u) => u.startsWith(APP), broadcast: () => undefined, shell: { 'shell.schedule': async () => ok([]) } });
    expect(await invoke(`${APP}#/links`, 'links.list', { workspace: 'w' })).toEqual({ ok: true, value: { method: 'links.list' } });
    expect(await invoke(APP, 'shell.schedule', {})).toEqual({ ok: true, value: [] });
    expect(calls).toEqual([['links.list', { workspace: 'w' }]]);
  });

  it('refuses other frames, bad names and non-object arguments; a throw becomes an internal error', async () => {
    const { ipc, invoke } = fakeIpc();
    const { core, calls } = fakeCore();
    registerCoreIpc(ipc, core, { log: quiet, isTrustedSender: (u) => u === APP, broadcast: () => undefined });
    expect(await invoke('https://evil.example/', 'links.list', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await invoke(null, 'links.list', {})).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await invoke(APP, 'constructor', {})).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await invoke(APP, 42, {})).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await invoke(APP, 'links.list', 'x')).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(calls).toEqual([]);
    expect(await invoke(APP, 'boom.now', {})).toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  it('pushes core events to the windows and undoes everything on dispose', async () => {
    const { ipc, handlers } = fakeIpc();
    const { core, listeners } = fakeCore();
    const sent: unknown[][] = [];
    const dispose = registerCoreIpc(ipc, core, { log: quiet, isTrustedSender: () => true, broadcast: (...a) => sent.push(a) });
    const payload = { workspaceId: 'w', source: 'redirector', progress: { feed: 'clicks', received: 1, changed: 1, done: true } };
    for (const l of listeners.get('sync.progress')!) l(payload);
    expect(sent).toEqual([[IPC_EVENT, 'sync.progress', payload]]);
    dispose();
    expect(handlers.size).toBe(0);
    expect(listeners.get('sync.progress')!.size).toBe(0);
  });
});
