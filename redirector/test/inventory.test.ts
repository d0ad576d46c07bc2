import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '@revtrail/shared';
import type pino from 'pino';
import { buildApp } from '../src/app';
import { silentLogger } from '../src/log';
import { CHROME_UA, closeSharedDynamo, makeTestApp, sharedDynamo, testConfig } from './support';
import { body, charge, deliveryHeaders, stripeEvent, WEBHOOK_SECRET } from './stripe-events';

// The data inventory's cloud table (desktop/docs/data-inventory.md) lists every attribute of every kind of item
// the redirector writes. One item of each kind goes through the routes that write it in production, into
// dynalite; the table is then scanned, and an attribute the inventory does not list fails here, as does a row
// of the inventory that no item has any more.
const doc = readFileSync(fileURLToPath(new URL('../../desktop/docs/data-inventory.md', import.meta.url)), 'utf8');
const SITE = 'https://brand.com';

type Kind = 'link' | 'click' | 'pageview' | 'identity' | 'erasure' | 'erased' | 'metadata' | 'settings' | 'stripe hint' | 'stripe event' | 'webhook counters' | 'feed marker';

/** Attribute names by item kind, from the rows of the cloud table; and the fields of an erasure's and a hint's `e`. */
function documented(): { attributes: Map<string, Set<string>>; erasureFields: string[]; hintFields: string[] } {
  const section = doc.slice(doc.indexOf("## Cloud: the redirector's DynamoDB table"));
  const attributes = new Map<string, Set<string>>();
  let erasureFields: string[] = [];
  let hintFields: string[] = [];
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[2]!.startsWith('`')) continue;
    const names = [...cells[2]!.matchAll(/`([A-Za-z0-9]+)`/g)].map((m) => m[1]!);
    for (const kind of cells[1]!.split(',').map((k) => k.trim())) {
      const set = attributes.get(kind) ?? new Set<string>();
      for (const n of names) set.add(n);
      attributes.set(kind, set);
    }
    const fields = /^`\{([a-zA-Z, ]+)\}`/.exec(cells[3]!);
    if (cells[1] === 'erasure' && names.includes('e') && fields) erasureFields = fields[1]!.split(',').map((f) => f.trim());
    if (cells[1] === 'stripe hint' && names.includes('e') && fields) hintFields = fields[1]!.split(',').map((f) => f.trim());
  }
  return { attributes, erasureFields, hintFields };
}

function kindOf(item: Record<string, AttributeValue>): Kind {
  const pk = item.pk?.S ?? '';
  if (pk === 'LINK') return 'link';
  if (pk === 'ERASED') return 'erased';
  if (pk === 'FEEDS') return 'feed marker';
  if (pk === 'META') return item.sk?.S === 'settings' ? 'settings' : item.sk?.S === 'stripe-webhook' ? 'webhook counters' : 'metadata';
  const feed = ({ C: 'click', P: 'pageview', I: 'identity', X: 'erasure', H: 'stripe hint', W: 'stripe event' } as const)[pk.slice(0, 1) as 'C'];
  if (!feed || pk[1] !== '#') throw new Error(`an item of no known kind: pk ${pk}`);
  return feed;
}

afterAll(closeSharedDynamo);

describe('data inventory, cloud', () => {
  it('lists every attribute of every item the redirector writes, and no attribute no item has', async () => {
    const t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: SITE, REVTRAIL_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET } });
    const vid = 'InventoryVisitor000001';
    await t.putLink('spring', { destination: `${SITE}/`, channel: 'Newsletter', campaign: 'spring', utm: { utm_source: 'nl' } });
    await t.app.inject({ url: '/spring?gclid=abc', cookies: { rt_vid: vid }, headers: { 'user-agent': CHROME_UA, referer: 'https://news.example/' } });
    // An objecting browser's click: anonymous, indexed by its own id.
    await t.app.inject({ url: '/spring', headers: { 'user-agent': CHROME_UA, 'sec-gpc': '1' } });
    const collect = (body: Record<string, unknown>, cookie = vid) =>
      t.app.inject({ method: 'POST', url: '/api/v1/collect', cookies: { rt_vid: cookie }, headers: { origin: SITE, 'content-type': 'text/plain', 'user-agent': CHROME_UA }, payload: JSON.stringify(body) });
    expect((await collect({ t: 'pageview', url: `${SITE}/pricing?utm_campaign=x` })).statusCode).toBe(204);
    expect((await collect({ t: 'identify', url: `${SITE}/checkout`, email: 'inventory@example.com' })).statusCode).toBe(204);
    const other = 'InventoryVisitor000002';
    expect((await collect({ t: 'identify', url: `${SITE}/checkout`, email: 'other@example.com' }, other)).statusCode).toBe(204);
    const erase = await t.app.inject({ method: 'POST', url: '/api/v1/erase', headers: t.auth, payload: { visitorId: other } });
    expect(erase.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'PUT', url: '/api/v1/settings', headers: t.auth, payload: { retentionDays: 60 } })).statusCode).toBe(200);
    // Stripe: a hint kept, one erased (its event kept by id only), and a refused delivery counted.
    const deliver = (payload: string, signed = true) =>
      t.app.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers: deliveryHeaders(payload, t.clock.now(), signed ? {} : { sig: null }) });
    const kept = body(stripeEvent({ object: charge('ch_InventoryKept000001'), account: 'acct_1Nv0FGQ9RKHgCVdK' }));
    expect((await deliver(kept)).statusCode).toBe(200);
    expect((await deliver(kept)).json()).toEqual({ received: true, duplicate: true });
    expect((await deliver(body(stripeEvent({ type: 'price.created', object: { id: 'price_1', object: 'price' } })))).json()).toEqual({ received: true, ignored: true });
    expect((await deliver(body(stripeEvent({ object: charge('ch_InventoryErased0001') })))).statusCode).toBe(200);
    // Every reason a delivery is refused, each counted in its own attribute.
    const stale = body(stripeEvent());
    expect((await deliver('{}', false)).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/stripe', payload: stale, headers: deliveryHeaders(stale, t.clock.now() - 600_000) })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/stripe', payload: `${stale} `, headers: deliveryHeaders(stale, t.clock.now()) })).statusCode).toBe(400);
    expect((await deliver('{}')).statusCode).toBe(400);
    expect((await deliver('x'.repeat(2 * 1024 * 1024))).statusCode).toBe(413);
    const unset = await buildApp({ store: t.store, config: testConfig({ REVTRAIL_TABLE: t.config.tableName }), log: silentLogger as pino.Logger, clock: t.clock, events: { mode: 'inline', spill: t.spill } });
    expect((await unset.inject({ method: 'POST', url: '/webhooks/stripe', payload: stale, headers: deliveryHeaders(stale, t.clock.now()) })).statusCode).toBe(503);
    await unset.close();
    // The status read writes the counts still held by this instance (refusals are written once a second).
    expect((await t.app.inject({ url: '/api/v1/webhooks/stripe', headers: t.auth })).json().refused).toEqual({
      no_secret: 1,
      unsigned: 1,
      bad_signature: 1,
      stale: 1,
      too_large: 1,
      not_an_event: 1,
    });
    const eraseHints = await t.app.inject({ method: 'POST', url: '/api/v1/stripe-hints/erase', headers: t.auth, payload: { objectIds: ['ch_InventoryErased0001'] } });
    expect(eraseHints.json()).toEqual({ deleted: 1 });
    t.clock.advance(2 * DAY_MS);
    await t.store.purgeExpired(t.clock.now());

    const dynamo = await sharedDynamo();
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await dynamo.client().send(new ScanCommand({ TableName: t.config.tableName, ExclusiveStartKey: start }));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);

    const written = new Map<Kind, Set<string>>();
    for (const item of items) {
      const kind = kindOf(item);
      const set = written.get(kind) ?? new Set<string>();
      for (const name of Object.keys(item)) set.add(name);
      written.set(kind, set);
    }
    const { attributes, erasureFields, hintFields } = documented();
    const kinds: Kind[] = ['link', 'click', 'pageview', 'identity', 'erasure', 'erased', 'metadata', 'settings', 'stripe hint', 'stripe event', 'webhook counters', 'feed marker'];
    expect([...written.keys()].sort(), 'every kind of item was written').toEqual([...kinds].sort());
    expect([...attributes.keys()].sort(), 'the kinds of item the inventory lists').toEqual([...kinds].sort());
    for (const kind of kinds) {
      expect([...written.get(kind)!].sort(), `attributes of a ${kind} item in desktop/docs/data-inventory.md`).toEqual([...attributes.get(kind)!].sort());
    }
    // What an erasure item says of the person: digests only.
    const erasures = items.filter((i) => kindOf(i) === 'erasure').map((i) => Object.keys(i.e!.M!).sort());
    expect(erasures).toEqual([[...erasureFields].sort()]);
    expect(JSON.stringify(items.filter((i) => kindOf(i) === 'erasure' || kindOf(i) === 'erased'))).not.toContain(other);
    // What a hint says: the event and the object it names, nothing of the payload; the same in its event's item.
    const hints = items.filter((i) => kindOf(i) === 'stripe hint');
    expect(hints.map((i) => Object.keys(i.e!.M!).sort())).toEqual([[...hintFields].sort()]);
    const events = items.filter((i) => kindOf(i) === 'stripe event');
    expect(events.flatMap((i) => (i.hint ? [Object.keys(i.hint.M!).sort()] : []))).toEqual([[...hintFields].sort()]);
    expect(JSON.stringify(items)).not.toContain('ch_InventoryErased0001');
  });
});
