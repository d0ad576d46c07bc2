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

const ACCESS_KEY = 'revtrail.accessKey';

/**
 * Browser mode's access key. The printed address carries it in its fragment (`/#token=...`), which no
 * server ever receives; it moves into this tab's sessionStorage (one tab, one origin: this port only) and
 * leaves the address bar and its history entry. Null when the tab was opened without it.
 */
export function takeAccessKey(
  location: { hash: string; pathname: string; search: string },
  history: { state: unknown; replaceState(data: unknown, unused: string, url: string): void },
  storage: { getItem(key: string): string | null; setItem(key: string, value: string): void },
): string | null {
  const fromAddress = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromAddress) {
    storage.setItem(ACCESS_KEY, fromAddress);
    history.replaceState(history.state, '', location.pathname + location.search);
  }
  return storage.getItem(ACCESS_KEY);
}

export const forgetAccessKey = (storage: { removeItem(key: string): void }) => storage.removeItem(ACCESS_KEY);

/** Splits a text/event-stream into its events (our server's: `event:` and `data:` lines, `:` comments). */
function* serverSentEvents(text: string): Generator<{ event: string; data: string; retry?: number }> {
  for (const block of text.split('\n\n')) {
    let event = 'message';
    const data: string[] = [];
    let retry: number | undefined;
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon === 0 || line === '') continue;
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) retry = Number(value);
    }
    if (data.length > 0 || retry !== undefined) yield { event, data: data.join('\n'), retry };
  }
}

/**
 * Browser mode: POST /rpc/:method on the server that served this page, the access key in an
 * `Authorization: Bearer` header on every call. Events come over a fetch stream rather than EventSource,
 * which cannot send that header. `onUnauthorized` runs when the server refuses the key.
 */
export function httpTransport(options: { token: string; base?: string; fetch?: typeof fetch; onUnauthorized?: () => void }): Transport {
  const base = options.base ?? '';
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  const authorization = `Bearer ${options.token}`;
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let streaming = false;
  let retryMs = 2_000;

  const deliver = (event: string, data: string) => {
    const wanted = listeners.get(event);
    if (!wanted || wanted.size === 0) return;
    const payload: unknown = JSON.parse(data);
    for (const l of wanted) l(payload);
  };

  // Reconnects after the server's retry delay when the stream ends, as EventSource would.
  const stream = async () => {
    try {
      const res = await doFetch(`${base}/events`, { headers: { authorization } });
      if (res.status === 401) return options.onUnauthorized?.();
      if (res.ok && res.body) {
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let pending = '';
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          pending += chunk.value;
          const end = pending.lastIndexOf('\n\n');
          if (end < 0) continue;
          for (const e of serverSentEvents(pending.slice(0, end))) {
            if (e.retry !== undefined) retryMs = e.retry;
            else deliver(e.event, e.data);
          }
          pending = pending.slice(end + 2);
        }
      }
    } catch {
      // The server went away or the stream broke: the retry below picks it up again.
    }
    setTimeout(() => void stream(), retryMs);
  };

  return {
    async call(method, args) {
      let res: Response;
      try {
        res = await doFetch(`${base}/rpc/${method}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization },
          body: JSON.stringify(args ?? {}),
        });
      } catch {
        return err('unavailable', 'Revtrail is not running any more: start it again, then open the address it prints.');
      }
      if (res.status === 401) options.onUnauthorized?.();
      const body = (await res.json().catch(() => null)) as Result<unknown> | null;
      if (body && typeof body === 'object' && 'ok' in body) return body;
      return err('internal', 'Revtrail gave an answer this page cannot read: reload the page, or open the address Revtrail printed when it started.');
    },
    on(event, listener) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event)!.add(listener);
      if (!streaming) {
        streaming = true;
        void stream();
      }
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
