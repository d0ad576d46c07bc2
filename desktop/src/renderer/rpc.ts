import { err, type Result } from '@revtrail/shared/result';
import type { CoreEvents } from '../core/api';
import type { AppArgs, AppMethod, AppResult, ShellMode } from '../transport/contract';

/** What the renderer needs from a transport: the preload's window.api has exactly this shape. */
export interface Transport {
  call(method: string, args: unknown): Promise<Result<unknown>>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}

export interface Rpc {
  readonly mode: ShellMode;
  call<M extends AppMethod>(method: M, args: AppArgs<M>): Promise<AppResult<M>>;
  on<E extends keyof CoreEvents>(event: E, listener: (payload: CoreEvents[E]) => void): () => void;
}

export function createRpc(transport: Transport, mode: ShellMode): Rpc {
  return {
    mode,
    call: (method, args) => transport.call(method, args) as Promise<AppResult<typeof method>>,
    on: (event, listener) => transport.on(event, listener as (payload: unknown) => void),
  };
}

const TOKEN_HEADER = 'x-revtrail-token';

/**
 * Browser mode: POST /rpc/:method on the server that served this page. The token rides in the HttpOnly
 * cookie the server set from the first URL; `token` is for callers outside a page (tests, tools).
 */
export function httpTransport(options: { base?: string; token?: string; fetch?: typeof fetch } = {}): Transport {
  const base = options.base ?? '';
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let source: EventSource | null = null;

  const subscribe = (event: string) => {
    source ??= new EventSource(`${base}/events`, { withCredentials: false });
    if (listeners.has(event)) return;
    listeners.set(event, new Set());
    source.addEventListener(event, (e) => {
      const payload: unknown = JSON.parse((e as MessageEvent<string>).data);
      for (const l of listeners.get(event) ?? []) l(payload);
    });
  };

  return {
    async call(method, args) {
      let res: Response;
      try {
        res = await doFetch(`${base}/rpc/${method}`, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', ...(options.token ? { [TOKEN_HEADER]: options.token } : {}) },
          body: JSON.stringify(args ?? {}),
        });
      } catch {
        return err('unavailable', 'Revtrail is not running any more: start it again with `npm start` and reload this page.');
      }
      const body = (await res.json().catch(() => null)) as Result<unknown> | null;
      if (body && typeof body === 'object' && 'ok' in body) return body;
      return err(res.status === 401 ? 'unauthorized' : 'internal', `Revtrail answered ${res.status}: reload the page, or open the address \`npm start\` printed.`);
    },
    on(event, listener) {
      subscribe(event);
      listeners.get(event)!.add(listener);
      return () => listeners.get(event)?.delete(listener);
    },
  };
}

declare global {
  interface Window {
    /** Set by the Electron preload; absent in browser mode. */
    api?: Transport;
  }
}

/** The transport this page runs over: Electron IPC when the preload exposed one, HTTP otherwise. */
export function defaultRpc(): Rpc {
  return window.api ? createRpc(window.api, 'electron') : createRpc(httpTransport(), 'browser');
}
