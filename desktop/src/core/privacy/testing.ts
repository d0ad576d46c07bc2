// Test support for the privacy tests: a workspace built through real syncs (the local redirector on its
// embedded DynamoDB, the fake Stripe over HTTP), and a byte scan of files. Nothing shipped imports this.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '@revtrail/shared';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import type pino from 'pino';
import { createCore, type Core } from '../core';
import type { SecretStore } from '../secrets/types';
import { startFakeStripe, type FakeStripe } from '../../fake-stripe/server';
import { seedDefault, SEED_VISITOR_ID, type DefaultSeed } from '../../fake-stripe/seed';

export const TOKEN = 'privacy-sync-token-0123456789abcdefghijkl';
export const ORIGIN = 'https://brand.com';
const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
/** Alice's browser: the visitor id the fake Stripe's seed passes in one of her charges' metadata. */
export const ALICE_VID = SEED_VISITOR_ID;
export const BRUNO_VID = 'BrunoVisitor0000000001';
export const OTHER_VID = 'SomeoneElse00000000001';

export function memorySecrets(): SecretStore {
  const m = new Map<string, string>();
  return { description: 'memory (test)', get: async (k) => m.get(k) ?? null, set: async (k, v) => void m.set(k, v), delete: async (k) => void m.delete(k) };
}

export const must = <T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T => {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
};

export interface World {
  r: LocalRedirector;
  fake: FakeStripe;
  seed: DefaultSeed;
  core: Core;
  secrets: SecretStore;
  workspaceId: string;
  api(method: string, path: string, body?: unknown): Promise<Record<string, unknown>>;
  click(slug: string, visitor: string, query?: string): Promise<void>;
  collect(visitor: string, body: Record<string, unknown>): Promise<void>;
  /** Writes what the redirector answered into its store, so feeds and erasure see it. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function buildWorld(dir: string): Promise<World> {
  const r = await startLocalRedirector({
    dataDir: join(dir, 'redirector'),
    port: 0,
    log: silentLogger as pino.Logger,
    settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0', REVTRAIL_ALLOWED_ORIGINS: ORIGIN },
  });
  let seed!: DefaultSeed;
  const fake = await startFakeStripe({ seed: (state) => void (seed = seedDefault(state)) });
  const secrets = memorySecrets();
  const core = createCore({ dataDir: join(dir, 'desktop'), clock: systemClock, log: { info: () => undefined, warn: () => undefined, error: () => undefined }, secrets, stripeApiBase: fake.url });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${r.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.json() as Promise<Record<string, unknown>>;
  };
  const ws = must(await core.call('workspaces.add', { name: 'Shop' }));
  must(await core.call('redirector.connect', { workspace: ws.id, url: r.url, token: TOKEN }));
  must(await core.call('stripe.connect', { workspace: ws.id, key: fake.keys.restricted }));
  await api('PUT', '/api/v1/links/spring', { destination: `${ORIGIN}/pricing`, channel: 'Newsletter', campaign: 'spring' });
  return {
    r,
    fake,
    seed,
    core,
    secrets,
    workspaceId: ws.id,
    api,
    async click(slug, visitor, query = '') {
      await fetch(`${r.url}/${slug}${query}`, { redirect: 'manual', headers: { 'user-agent': UA, cookie: `rt_vid=${visitor}` } });
    },
    async collect(visitor, body) {
      const res = await fetch(`${r.url}/api/v1/collect`, {
        method: 'POST',
        headers: { 'user-agent': UA, origin: ORIGIN, cookie: `rt_vid=${visitor}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 204) throw new Error(`collect answered ${res.status}: ${await res.text()}`);
    },
    async settle() {
      await r.app.revtrail.recorder.flush();
      await r.replaySpill();
    },
    async close() {
      core.close();
      await fake.close();
      await r.close();
    },
  };
}

/** Every file under `root` (a folder or one file) in which any of `needles` occurs, with the needles found. */
export function scanBytes(roots: string[], needles: string[]): { file: string; found: string[] }[] {
  const files: string[] = [];
  const walk = (p: string) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else files.push(p);
  };
  for (const root of roots) walk(root);
  const hits: { file: string; found: string[] }[] = [];
  for (const file of files) {
    const bytes = readFileSync(file);
    const found = needles.filter((n) => bytes.includes(Buffer.from(n, 'utf8')));
    if (found.length > 0) hits.push({ file, found });
  }
  return hits;
}
