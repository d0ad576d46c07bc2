import { describe, expect, it } from 'vitest';
import { takeAccessKey } from './rpc';

function tab(address: string) {
  const url = new URL(address);
  const stored = new Map<string, string>();
  const replaced: string[] = [];
  return {
    location: { hash: url.hash, pathname: url.pathname, search: url.search },
    history: { state: null, replaceState: (_s: unknown, _t: string, to: string) => void replaced.push(to) },
    storage: { getItem: (k: string) => stored.get(k) ?? null, setItem: (k: string, v: string) => void stored.set(k, v) },
    replaced,
  };
}

describe('takeAccessKey', () => {
  it('moves the key from the fragment into the tab and out of the address', () => {
    const t = tab('http://127.0.0.1:4100/#token=k_123-abc');
    expect(takeAccessKey(t.location, t.history, t.storage)).toBe('k_123-abc');
    expect(t.replaced).toEqual(['/']);
    // A reload of the cleaned address finds it in the tab's storage.
    const reloaded = { ...t, location: { hash: '', pathname: '/', search: '' } };
    expect(takeAccessKey(reloaded.location, reloaded.history, t.storage)).toBe('k_123-abc');
    expect(t.replaced).toEqual(['/']);
  });

  it('is null for a tab opened without it, and leaves an app route alone', () => {
    const t = tab('http://127.0.0.1:4100/#/links');
    expect(takeAccessKey(t.location, t.history, t.storage)).toBeNull();
    expect(t.replaced).toEqual([]);
  });

  it('takes a newer key over the one the tab held', () => {
    const t = tab('http://127.0.0.1:4100/#token=new');
    t.storage.setItem('revtrail.accessKey', 'old');
    expect(takeAccessKey(t.location, t.history, t.storage)).toBe('new');
  });
});
