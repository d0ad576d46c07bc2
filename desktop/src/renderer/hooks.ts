import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppError, Result } from '@revtrail/shared/result';
import { useApp } from './app-context';

export type Loaded<T> = { state: 'loading' } | { state: 'ok'; value: T } | { state: 'error'; error: AppError };

/** Runs `load` when `deps` change (and on reload()); an answer to an older request is dropped. */
export function useResult<T>(load: () => Promise<Result<T>>, deps: readonly unknown[]): [Loaded<T>, () => void] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const id = ++latest.current;
    let live = true;
    void load().then((r) => {
      if (!live || id !== latest.current) return;
      setLoaded(r.ok ? { state: 'ok', value: r.value } : { state: 'error', error: r.error });
    });
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return [loaded, reload];
}

/** A button's action: busy while it runs, its failure kept to show beside it. */
export function useAction<A extends unknown[], T>(run: (...args: A) => Promise<Result<T>>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const act = useCallback(
    async (...args: A): Promise<Result<T>> => {
      setBusy(true);
      setError(null);
      try {
        const r = await run(...args);
        if (!r.ok) setError(r.error);
        return r;
      } finally {
        setBusy(false);
      }
    },
    [run],
  );
  return { act, busy, error, clear: () => setError(null) };
}

/**
 * A number that grows each time a sync changed the selected workspace's data (the core's `sync.changed`: a
 * Sync, the scheduled pulls, or the payments a Stripe webhook named). A screen puts it in the deps of what it
 * reads, so it shows the new figures without being opened again.
 */
export function useDataVersion(): number {
  const { rpc, workspace } = useApp();
  const [version, setVersion] = useState(0);
  const id = workspace?.id;
  useEffect(
    () =>
      rpc.on('sync.changed', (e) => {
        if (e.workspaceId === id) setVersion((v) => v + 1);
      }),
    [rpc, id],
  );
  return version;
}

/** Whether a CSS media query matches now, following the window as it changes. */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const onChange = () => setMatches(list.matches);
    onChange();
    list.addEventListener('change', onChange);
    return () => list.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}
