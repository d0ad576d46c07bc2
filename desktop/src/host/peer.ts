import type { CoreEvents } from '../core/api';
import type { CoreLogger } from '../core/context';
import { SecretUnreadableError } from '../core/secrets/types';

/**
 * One end of a message channel: the parent's side of a child process or of Electron's utilityProcess,
 * the child's side of either, a worker thread or its parent. Messages are structured-cloned.
 */
export interface Port {
  post(message: unknown): void;
  listen(listener: (message: unknown) => void): void;
}

type Message =
  | { k: 'call'; id: number; method: string; args: unknown }
  | { k: 'done'; id: number; value: unknown }
  | { k: 'fail'; id: number; error: { name: string; message: string; secretName?: string; reason?: string } }
  | { k: 'event'; name: string; payload: unknown };

/** Each side's answers to the other's calls, by method name. */
export type PeerHandler = (method: string, args: unknown) => Promise<unknown>;

export interface Peer {
  call(method: string, args?: unknown): Promise<unknown>;
  emit(name: string, payload: unknown): void;
  on(name: string, listener: (payload: unknown) => void): () => void;
  /** The other side is gone: every waiting call and every later one rejects with `error`. */
  fail(error: Error): void;
}

/** A thrown error as it crosses: the kinds the other side acts on keep their class. */
function revive(e: Extract<Message, { k: 'fail' }>['error']): Error {
  if (e.name === 'SecretUnreadableError') return new SecretUnreadableError(e.secretName ?? '', e.reason ?? e.message);
  return Object.assign(new Error(e.message), { name: e.name });
}

/** Calls both ways over one port ({k:'call'} answered by {k:'done'} or {k:'fail'}), and events both ways. */
export function createPeer(port: Port, handle: PeerHandler): Peer {
  let next = 1;
  let gone: Error | null = null;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  port.listen((raw) => {
    const m = raw as Message;
    if (m.k === 'call') {
      handle(m.method, m.args).then(
        (value) => port.post({ k: 'done', id: m.id, value } satisfies Message),
        (e: Error) => port.post({ k: 'fail', id: m.id, error: { name: e.name, message: e.message, secretName: (e as SecretUnreadableError).secretName, reason: (e as SecretUnreadableError).reason } } satisfies Message),
      );
    } else if (m.k === 'done' || m.k === 'fail') {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.k === 'done') w?.resolve(m.value);
      else w?.reject(revive(m.error));
    } else if (m.k === 'event') {
      for (const l of listeners.get(m.name) ?? []) l(m.payload);
    }
  });

  return {
    call(method, args) {
      if (gone) return Promise.reject(gone);
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        port.post({ k: 'call', id, method, args } satisfies Message);
      });
    },
    emit(name, payload) {
      if (!gone) port.post({ k: 'event', name, payload } satisfies Message);
    },
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener);
      return () => set.delete(listener);
    },
    fail(error) {
      gone = error;
      for (const w of waiting.values()) w.reject(error);
      waiting.clear();
    },
  };
}

/** Sends the core's events across, each under its own name, for the other side's `coreEventsOver`. */
export const sendCoreEvents =
  (peer: Peer) =>
  (name: string, payload: unknown): void =>
    peer.emit(`core:${name}`, payload);

/** The core's `on`, for events the other side sends with `sendCoreEvents`. */
export const coreEventsOver =
  (peer: Peer) =>
  <E extends keyof CoreEvents>(event: E, listener: (payload: CoreEvents[E]) => void): (() => void) =>
    peer.on(`core:${event}`, listener as (payload: unknown) => void);

/** Writes the log lines the other side sends (`log` events) to `log()`, the logger of the moment. */
export function takeLogLines(peer: Peer, log: () => CoreLogger | null): void {
  peer.on('log', (p) => {
    const { level, obj, msg } = p as { level: keyof CoreLogger; obj: object; msg: string };
    log()?.[level](obj, msg);
  });
}
