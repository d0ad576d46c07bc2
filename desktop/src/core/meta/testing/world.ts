// Test support: the whole Meta path on this machine. A local redirector (its embedded DynamoDB, REVTRAIL_META as
// asked), the fake Stripe, the fake Graph API and a core whose every fetch is noted. Nothing shipped imports this.
import { join } from 'node:path';
import type pino from 'pino';
import { startLocalRedirector, type LocalRedirector } from '@revtrail/redirector/local';
import { silentLogger } from '@revtrail/redirector/log';
import { createCore, type Core } from '../../core';
import { memorySecrets, must } from '../../privacy/testing';
import { startFakeGraph, type FakeGraph } from '../../../fake-meta/server';
import { startFakeStripe, type FakeStripe } from '../../../fake-stripe/server';

export const TOKEN = 'meta-sync-token-0123456789abcdefghijklmno';
export const SITE = 'https://brand.com';
export const UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';

export interface MetaWorld {
  r: LocalRedirector;
  stripe: FakeStripe;
  graph: FakeGraph;
  core: Core;
  workspaceId: string;
  /** Every URL the core fetched (the redirector's sync API, ECB, the Graph API). */
  fetched: string[];
  /** The desktop's clock: real time plus this. */
  shift: { ms: number };
  /** A visitor's click on a link, from a browser with `UA`. */
  click(slug: string, visitorId: string, query?: string): Promise<void>;
  /** A pageview the pixel posts for this visitor, with whatever else the body carries (fbc, fbp). */
  pageview(visitorId: string, url: string, more?: Record<string, unknown>): Promise<void>;
  /** A card payment of this visitor (revtrail_vid in its metadata), by a customer with this email. */
  purchase(visitorId: string, email: string, amountMinor: number, currency?: string): { chargeId: string; paymentIntentId: string; at: number };
  /** Writes what the redirector answered into its store, so its feeds serve it. */
  settle(): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export async function buildMetaWorld(dir: string, opts: { redirectorMeta: boolean }): Promise<MetaWorld> {
  const r = await startLocalRedirector({
    dataDir: join(dir, 'redirector'),
    port: 0,
    log: silentLogger as pino.Logger,
    settings: { REVTRAIL_SYNC_TOKEN: TOKEN, REVTRAIL_FEED_SETTLE_MS: '0', REVTRAIL_ALLOWED_ORIGINS: SITE, ...(opts.redirectorMeta ? { REVTRAIL_META: 'true' } : {}) },
  });
  const stripe = await startFakeStripe();
  const graph = await startFakeGraph();
  const fetched: string[] = [];
  const shift = { ms: 0 };
  const core = createCore({
    dataDir: join(dir, 'desktop'),
    clock: { now: () => Date.now() + shift.ms },
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    secrets: memorySecrets(),
    stripeApiBase: stripe.url,
    fetch: (input, init) => {
      fetched.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return fetch(input, init);
    },
  });
  const ws = must(await core.call('workspaces.add', { name: 'Shop' }));
  must(await core.call('redirector.connect', { workspace: ws.id, url: r.url, token: TOKEN }));
  must(await core.call('stripe.connect', { workspace: ws.id, key: stripe.keys.restricted }));
  const put = await fetch(`${r.url}/api/v1/links/ad`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ destination: `${SITE}/pricing`, channel: 'Meta ads', campaign: 'spring' }),
  });
  if (!put.ok) throw new Error(`link: ${put.status}`);
  const customers = new Map<string, string>();
  return {
    r,
    stripe,
    graph,
    core,
    workspaceId: ws.id,
    fetched,
    shift,
    async click(slug, visitorId, query = '') {
      await fetch(`${r.url}/${slug}${query}`, { redirect: 'manual', headers: { 'user-agent': UA, cookie: `rt_vid=${visitorId}` } });
    },
    async pageview(visitorId, url, more = {}) {
      const res = await fetch(`${r.url}/api/v1/collect`, {
        method: 'POST',
        headers: { 'user-agent': UA, origin: SITE, cookie: `rt_vid=${visitorId}`, 'content-type': 'text/plain' },
        body: JSON.stringify({ t: 'pageview', url, ...more }),
      });
      if (res.status !== 204) throw new Error(`collect answered ${res.status}: ${await res.text()}`);
    },
    purchase(visitorId, email, amountMinor, currency = 'usd') {
      let customer = customers.get(email);
      if (!customer) customers.set(email, (customer = stripe.state.addCustomer({ email, name: null }).id));
      const { charge, paymentIntent } = stripe.state.addCharge({ customer, amount: amountMinor, currency, metadata: { revtrail_vid: visitorId } });
      return { chargeId: charge.id, paymentIntentId: paymentIntent.id, at: charge.created * 1000 };
    },
    async settle() {
      await r.app.revtrail.recorder.flush();
      await r.replaySpill();
    },
    async sync() {
      must(await core.call('sync.redirector', { workspace: ws.id }));
      must(await core.call('sync.stripe', { workspace: ws.id }));
    },
    async close() {
      core.close();
      await graph.close();
      await stripe.close();
      await r.close();
    },
  };
}
