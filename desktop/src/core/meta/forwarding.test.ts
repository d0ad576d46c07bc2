import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, type Click } from '@revtrail/shared';
import { openDatabase } from '../db/open';
import { must } from '../privacy/testing';
import { WorkspaceRegistry } from '../workspaces/registry';
import { buildMetaWorld, SITE, TOKEN, UA, type MetaWorld } from './testing/world';

// The Meta path end to end on this machine: a click on a Meta ad link (a real local redirector), the pixel's
// pageview, a purchase in the fake Stripe, and the desktop's syncs; the fake Graph API's log says what Meta got.
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const FBCLID = 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk';
const FBP = 'fb.1.1596403881668.1116446470';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-meta-e2e-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rowsIn = (w: MetaWorld, sql: string) => {
  const registry = new WorkspaceRegistry(join(dirOf(w), 'desktop'));
  const db = openDatabase(registry.databasePath(w.workspaceId));
  try {
    return db.prepare(sql).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
};
const worlds = new Map<MetaWorld, string>();
const dirOf = (w: MetaWorld) => worlds.get(w)!;
async function world(name: string, redirectorMeta: boolean): Promise<MetaWorld> {
  const d = join(dir, name);
  const w = await buildMetaWorld(d, { redirectorMeta });
  worlds.set(w, d);
  return w;
}

/** The visitor's story: an ad click with an fbclid, the landing pageview with Meta's _fbp, a purchase a second later. */
async function buyerJourney(w: MetaWorld, visitorId: string, email: string) {
  await w.click('ad', visitorId, `?fbclid=${FBCLID}`);
  await w.pageview(visitorId, `${SITE}/pricing?fbclid=${FBCLID}`, { fbp: FBP });
  await w.settle();
  // Stripe's `created` is in whole seconds: the payment comes in a later second than the click.
  await sleep(1100);
  return w.purchase(visitorId, email, 4900);
}

describe('Meta forwarding, end to end', () => {
  it('sends nothing while the switch is off, and keeps nothing for Meta', async () => {
    const w = await world('off', true);
    try {
      await buyerJourney(w, 'OffVisitor000000000001', 'off@example.com');
      await w.sync();
      // Connected but not switched on: still nothing.
      must(await w.core.call('meta.connect', { workspace: w.workspaceId, pixelId: w.graph.pixelId, token: w.graph.token, graphBase: w.graph.url }));
      await w.sync();
      expect(w.graph.log).toEqual([]);
      expect(w.fetched.filter((u) => !u.startsWith(w.r.url))).toEqual([]);
      for (const table of ['meta_events', 'meta_click_agents', 'meta_browser_ids']) expect(rowsIn(w, `SELECT * FROM ${table}`), table).toEqual([]);
      expect(must(await w.core.call('meta.status', { workspace: w.workspaceId }))).toMatchObject({ connected: true, enabled: false, counts: { pending: 0, sent: 0 } });
    } finally {
      await w.close();
    }
  }, 60_000);

  it('with it on, a click on a Meta ad, a purchase and a sync put exactly one correct event in the Graph API\'s log', async () => {
    const w = await world('on', true);
    try {
      must(await w.core.call('meta.connect', { workspace: w.workspaceId, pixelId: w.graph.pixelId, token: w.graph.token, testEventCode: 'TEST4242', graphBase: w.graph.url }));
      expect(must(await w.core.call('meta.setForwarding', { workspace: w.workspaceId, on: true }))).toMatchObject({ enabled: true, apiVersion: 'v25.0' });
      const visitor = 'MetaBuyer0000000000001';
      const bought = await buyerJourney(w, visitor, ' Buyer@Example.com ');
      await w.sync();

      expect(w.graph.log).toHaveLength(1);
      expect(w.graph.log[0]).toMatchObject({ status: 200, version: 'v25.0', pixelId: w.graph.pixelId, tokenOk: true, tokenIn: 'body', testEventCode: 'TEST4242', warnings: [] });
      expect(w.graph.received).toHaveLength(1);
      const feed = (await (await fetch(`${w.r.url}/api/v1/clicks`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { items: Click[] };
      const click = feed.items[0]!;
      expect(w.graph.received[0]!.event).toEqual({
        event_name: 'Purchase',
        event_time: Math.floor(bought.at / 1000),
        event_id: bought.paymentIntentId,
        action_source: 'website',
        event_source_url: `${SITE}/pricing?fbclid=${FBCLID}`,
        user_data: {
          em: [sha('buyer@example.com')],
          external_id: [sha(visitor)],
          fbc: `fb.1.${click.at}.${FBCLID}`,
          fbp: FBP,
          client_user_agent: UA,
        },
        custom_data: { value: 49, currency: 'USD' },
      });
      // With forwarding on, the core reached only the redirector and the Graph API (Stripe's client is not fetch).
      expect(w.fetched.filter((u) => !u.startsWith(w.r.url)).every((u) => u.startsWith(`${w.graph.url}/v25.0/${w.graph.pixelId}/events`))).toBe(true);

      // Sent once: more syncs and sends add nothing.
      await w.sync();
      must(await w.core.call('meta.send', { workspace: w.workspaceId }));
      expect(w.graph.received).toHaveLength(1);

      // The "Sent to Meta" view: the payload as sent, hashes only; the email hash and user agent are gone from disk.
      const [shown] = must(await w.core.call('meta.events', { workspace: w.workspaceId }));
      expect(shown).toMatchObject({ eventId: bought.paymentIntentId, chargeId: bought.chargeId, state: 'sent', emSent: true, userAgentSent: true, apiVersion: 'v25.0', answer: { status: 200, events_received: 1 } });
      expect(shown!.payload.user_data).toEqual({ external_id: [sha(visitor)], fbc: `fb.1.${click.at}.${FBCLID}`, fbp: FBP });
      expect(JSON.stringify(shown)).not.toMatch(/example\.com/i);
      expect(rowsIn(w, `SELECT em, user_agent FROM meta_events`)).toEqual([{ em: null, user_agent: null }]);

      // A privacy request finds what was kept for Meta, and erasing the buyer deletes it.
      const found = must(await w.core.call('privacy.find', { workspace: w.workspaceId, visitor }));
      expect(found.local).toMatchObject({ meta_events: 1, meta_click_agents: 1, meta_browser_ids: 1 });
      must(await w.core.call('privacy.erase', { workspace: w.workspaceId, visitor }));
      for (const table of ['meta_events', 'meta_click_agents', 'meta_browser_ids']) expect(rowsIn(w, `SELECT * FROM ${table}`), table).toEqual([]);
    } finally {
      await w.close();
    }
  }, 60_000);

  it('skips, with the reason, a charge that is more than 7 days old when the desktop first sees it', async () => {
    const w = await world('stale', true);
    try {
      must(await w.core.call('meta.connect', { workspace: w.workspaceId, pixelId: w.graph.pixelId, token: w.graph.token, graphBase: w.graph.url }));
      must(await w.core.call('meta.setForwarding', { workspace: w.workspaceId, on: true }));
      await buyerJourney(w, 'LateBuyer0000000000001', 'late@example.com');
      // The desktop was away for 8 days: its first sync after that finds the charge too old for Meta.
      w.shift.ms = 8 * DAY_MS;
      await w.sync();
      expect(w.graph.log).toEqual([]);
      const [event] = must(await w.core.call('meta.events', { workspace: w.workspaceId }));
      expect(event).toMatchObject({ state: 'skipped', reason: expect.stringMatching(/more than 7 days old/), emSent: false, userAgentSent: false });
      expect(must(await w.core.call('meta.status', { workspace: w.workspaceId })).counts).toMatchObject({ skipped: 1, pending: 0, sent: 0 });
    } finally {
      await w.close();
    }
  }, 60_000);

  it('keeps an event through Meta\'s throttling and a refused token, and sends it once when Meta takes it', async () => {
    const w = await world('errors', true);
    try {
      must(await w.core.call('meta.connect', { workspace: w.workspaceId, pixelId: w.graph.pixelId, token: w.graph.token, graphBase: w.graph.url }));
      must(await w.core.call('meta.setForwarding', { workspace: w.workspaceId, on: true }));
      await buyerJourney(w, 'RetryBuyer000000000001', 'retry@example.com');
      w.graph.failNext(1, { code: 613, userMessage: 'Calls to this api have exceeded the rate limit.' });
      await w.sync();
      let [event] = must(await w.core.call('meta.events', { workspace: w.workspaceId }));
      expect(event).toMatchObject({ state: 'pending', attempts: 1, reason: expect.stringMatching(/^Will try again at .*rate limit\. \(code 613\)$/) });

      w.shift.ms = 10 * 60_000;
      w.graph.failNext(1, { code: 190, userMessage: 'Error validating access token: The session has been invalidated.' });
      must(await w.core.call('meta.send', { workspace: w.workspaceId }));
      const held = must(await w.core.call('meta.status', { workspace: w.workspaceId }));
      expect(held.pausedReason).toMatch(/^Meta refused the access token: Error validating access token: The session has been invalidated\. \(code 190\)\. Create a new one/);
      expect(must(await w.core.call('meta.send', { workspace: w.workspaceId }))).toMatchObject({ requests: 0, paused: held.pausedReason });

      // A malformed pixel id or token is refused here; a well-formed one only Meta can judge. Connecting again releases the event.
      expect(await w.core.call('meta.connect', { workspace: w.workspaceId, pixelId: 'not-a-number', token: 'short' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
      must(await w.core.call('meta.connect', { workspace: w.workspaceId, pixelId: w.graph.pixelId, token: w.graph.token, graphBase: w.graph.url }));
      expect(must(await w.core.call('meta.send', { workspace: w.workspaceId }))).toMatchObject({ sent: 1, paused: null });
      [event] = must(await w.core.call('meta.events', { workspace: w.workspaceId }));
      expect(event).toMatchObject({ state: 'sent', attempts: 3 });
      expect(w.graph.received).toHaveLength(1);
      expect(w.graph.log.map((l) => l.status)).toEqual([400, 400, 200]);
    } finally {
      await w.close();
    }
  }, 60_000);

  it('a redirector without REVTRAIL_META gives no user agent: the event goes without client_user_agent, as the fake notes', async () => {
    const w = await world('no-ua', false);
    try {
      must(await w.core.call('meta.connect', { workspace: w.workspaceId, pixelId: w.graph.pixelId, token: w.graph.token, graphBase: w.graph.url }));
      must(await w.core.call('meta.setForwarding', { workspace: w.workspaceId, on: true }));
      await buyerJourney(w, 'NoUaBuyer0000000000001', 'noua@example.com');
      await w.sync();
      expect(w.graph.received).toHaveLength(1);
      expect(w.graph.received[0]!.event.user_data).not.toHaveProperty('client_user_agent');
      expect(w.graph.log[0]!.warnings).toEqual([expect.stringContaining('no client_user_agent')]);
    } finally {
      await w.close();
    }
  }, 60_000);
});
