import { useCallback, useEffect, useState } from 'react';

/**
 * The app's address lives in the fragment: `#/<screen>[/<item>][?<params>]`, e.g. `#/customers/cus_123` or
 * `#/dashboard?days=90&by=channel&value=Newsletter`, so a journey or a filtered view has its own address and
 * Back returns to where the user was.
 */
export interface HashLocation {
  screen: string;
  /** The path after the screen, decoded ("cus_123"); null when there is none. */
  item: string | null;
  params: URLSearchParams;
}

export function parseHash(hash: string): HashLocation {
  const body = hash.replace(/^#\/?/, '');
  const q = body.indexOf('?');
  const path = q === -1 ? body : body.slice(0, q);
  const params = new URLSearchParams(q === -1 ? '' : body.slice(q + 1));
  const slash = path.indexOf('/');
  const screen = slash === -1 ? path : path.slice(0, slash);
  let item: string | null = null;
  if (slash !== -1 && path.length > slash + 1) {
    try {
      item = decodeURIComponent(path.slice(slash + 1));
    } catch {
      item = null;
    }
  }
  return { screen, item, params };
}

export function hashOf(screen: string, item: string | null = null, params?: URLSearchParams): string {
  const query = params && [...params.keys()].length > 0 ? `?${params.toString()}` : '';
  return `#/${screen}${item === null ? '' : `/${encodeURIComponent(item)}`}${query}`;
}

/**
 * The fragment as it is now, following Back and Forward. `go(hash, { replace })`: a new history entry
 * (Back returns here), or the same entry changed (a control's new value is no step to go back through).
 */
export function useHashLocation(): [HashLocation, (hash: string, opts?: { replace?: boolean }) => void] {
  const [location, setLocation] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onHash = () => setLocation(parseHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const go = useCallback((hash: string, opts: { replace?: boolean } = {}) => {
    if (opts.replace) {
      // replaceState fires no hashchange: say it ourselves, so every reader of the fragment follows.
      window.history.replaceState(window.history.state, '', hash);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } else window.location.hash = hash;
  }, []);
  return [location, go];
}
