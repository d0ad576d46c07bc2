import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DAY_MS, hashTelegramUser } from '@revtrail/shared';
import type pino from 'pino';
import { buildApp } from '../src/app';
import { silentLogger } from '../src/log';
import { StartTokens } from '../src/telegram/start-token';
import { CHROME_UA, closeSharedDynamo, EMAIL_KEY, makeTestApp, sharedDynamo, testConfig } from './support';
import { body, charge, deliveryHeaders, stripeEvent, WEBHOOK_SECRET } from './stripe-events';
import { BOT_TOKEN, SECRET_TOKEN, starsPayment, startUpdate, textUpdate, USER_ID, webhookHeaders } from './telegram-updates';

// The data inventory's cloud table (desktop/docs/data-inventory.md) lists every attribute of every kind of item
// the redirector writes. One item of each kind goes through the routes that write it in production, into
// dynalite; the table is then scanned, and an attribute the inventory does not list fails here, as does a row
// of the inventory that no item has any more.
const doc = readFileSync(fileURLToPath(new URL('../../desktop/docs/data-inventory.md', import.meta.url)), 'utf8');
const SITE = 'https://brand.com';

type Kind = 'link' | 'click' | 'pageview' | 'identity' | 'erasure' | 'erased' | 'metadata' | 'settings' | 'stripe hint' | 'stripe event' | 'webhook counters' | 'feed marker'
  | 'telegram start' | 'telegram payment' | 'telegram token' | 'telegram once' | 'telegram counters' | 'pixel origins' | 'pixel refusals';

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
    if (cells[1] === 'erasure' && names.includes('j') && fields) erasureFields = fields[1]!.split(',').map((f) => f.trim());
    if (cells[1] === 'stripe hint' && names.includes('e') && fields) hintFields = fields[1]!.split(',').map((f) => f.trim());
  }
  return { attributes, erasureFields, hintFields };
}

function kindOf(item: Record<string, AttributeValue>): Kind {
  const pk = item.pk?.S ?? '';
  if (pk === 'LINK') return 'link';
  if (pk === 'ERASED') return 'erased';
  if (pk === 'FEEDS') return 'feed marker';
  if (pk === 'META') {
    const counters = { settings: 'settings', 'stripe-webhook': 'webhook counters', 'telegram-webhook': 'telegram counters', 'pixel-origins': 'pixel origins', 'pixel-refusals': 'pixel refusals' } as const;
    return counters[item.sk?.S as keyof typeof counters] ?? 'metadata';
  }
  const prefixes = { C: 'click', P: 'pageview', I: 'identity', X: 'erasure', H: 'stripe hint', W: 'stripe event', TS: 'telegram start', TP: 'telegram payment', TM: 'telegram token', TK: 'telegram once' } as const;
  const feed = prefixes[pk.slice(0, pk.indexOf('#')) as keyof typeof prefixes];
  if (!feed || !pk.includes('#')) throw new Error(`an item of no known kind: pk ${pk}`);
  return feed;
}

afterAll(closeSharedDynamo);

describe('data inventory, cloud', () => {
  it('lists every attribute of every item the redirector writes, and no attribute no item has', async () => {
    // The bot's previous webhook, which Telegram updates are forwarded to: it takes all but one.
    let forwardStatus = 200;
    const previous = createServer((req, res) => req.resume().on('end', () => res.writeHead(forwardStatus).end()));
    await new Promise<void>((resolve) => previous.listen(0, '127.0.0.1', resolve));
    const telegram = {
      REVTRAIL_TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      REVTRAIL_TELEGRAM_SECRET_TOKEN: SECRET_TOKEN,
      REVTRAIL_TELEGRAM_FORWARD_URL: `http://127.0.0.1:${(previous.address() as AddressInfo).port}/hook`,
    };
    const t = await makeTestApp({ settings: { REVTRAIL_ALLOWED_ORIGINS: SITE, REVTRAIL_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, ...telegram } });
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
    // A site not allowed yet is refused and counted; the app allows another.
    const refused = await t.app.inject({ method: 'POST', url: '/api/v1/collect', headers: { origin: 'https://not-yet.example', 'content-type': 'text/plain' }, payload: '{}' });
    expect(refused.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'PUT', url: '/api/v1/settings', headers: t.auth, payload: { allowedOrigins: ['https://shop.example'] } })).statusCode).toBe(200);
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

    // Telegram: a bot link's click (its token item), a start and a payment kept once, an update forwarded and one
    // not, every refusal and skip counted, and a user erased (their start gone, dedupe items reduced to keys).
    await t.putLink('tg', { telegramBot: 'shop_bot', channel: 'Telegram' });
    const tokenOf = async () => new URL((await t.app.inject({ url: '/tg', headers: { 'user-agent': CHROME_UA } })).headers.location as string).searchParams.get('start')!;
    const update = (u: unknown, secret: string | null = SECRET_TOKEN) => t.app.inject({ method: 'POST', url: '/webhooks/telegram', headers: webhookHeaders(secret), payload: JSON.stringify(u) });
    const first = await tokenOf();
    expect((await update(startUpdate(1, first, t.clock.now()))).statusCode).toBe(200);
    expect((await update(startUpdate(2, first, t.clock.now(), 5))).statusCode).toBe(200); // used
    expect((await update(starsPayment(3, 'stxInventory1', 50, t.clock.now()))).statusCode).toBe(200);
    expect((await update(starsPayment(3, 'stxInventory1', 50, t.clock.now()))).statusCode).toBe(200); // duplicate
    expect((await update(startUpdate(4, 'ref_campaign', t.clock.now()))).statusCode).toBe(200); // not ours
    expect((await update(startUpdate(5, new StartTokens(EMAIL_KEY).mint(t.clock.now() - 2 * DAY_MS).token, t.clock.now()))).statusCode).toBe(200); // expired
    expect((await update(startUpdate(6, first, t.clock.now() - 3 * DAY_MS))).statusCode).toBe(200); // stale
    forwardStatus = 500;
    expect((await update(textUpdate(7, 'hi', t.clock.now()))).statusCode).toBe(502);
    forwardStatus = 200;
    expect((await update(textUpdate(8, 'hi', t.clock.now()), 'forged')).statusCode).toBe(401);
    expect((await update({ no: 'update' })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/webhooks/telegram', headers: webhookHeaders(), payload: 'x'.repeat(2 * 1024 * 1024) })).statusCode).toBe(413);
    const noBot = await buildApp({ store: t.store, config: testConfig({ REVTRAIL_TABLE: t.config.tableName }), log: silentLogger as pino.Logger, clock: t.clock, events: { mode: 'inline', spill: t.spill } });
    expect((await noBot.inject({ method: 'POST', url: '/webhooks/telegram', headers: webhookHeaders(), payload: '{}' })).statusCode).toBe(503);
    await noBot.close();
    const userHash = await hashTelegramUser(USER_ID, EMAIL_KEY);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/telegram/erase', headers: t.auth, payload: { userHash } })).json()).toMatchObject({ starts: 1, payments: 1 });
    const second = await tokenOf();
    expect((await update(startUpdate(9, second, t.clock.now()))).statusCode).toBe(200); // erased
    expect((await update(startUpdate(10, second, t.clock.now(), 6))).statusCode).toBe(200);
    expect((await update(starsPayment(11, 'stxInventory2', 20, t.clock.now(), 6))).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/v1/webhooks/telegram', headers: t.auth })).json().counts).toMatchObject({
      starts: 2,
      payments: 2,
      duplicates: 1,
      forwarded: 10,
      forwardFailures: 1,
      refused: { no_secret: 1, bad_secret: 1, not_an_update: 1, too_large: 1 },
      skipped: { bad_token: 1, token_expired: 1, token_used: 1, stale: 1, erased: 1, other: 1 },
    });
    await new Promise<void>((resolve) => previous.close(() => resolve()));

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
    const kinds: Kind[] = ['link', 'click', 'pageview', 'identity', 'erasure', 'erased', 'metadata', 'settings', 'stripe hint', 'stripe event', 'webhook counters', 'feed marker',
      'telegram start', 'telegram payment', 'telegram token', 'telegram once', 'telegram counters', 'pixel origins', 'pixel refusals'];
    expect([...written.keys()].sort(), 'every kind of item was written').toEqual([...kinds].sort());
    expect([...attributes.keys()].sort(), 'the kinds of item the inventory lists').toEqual([...kinds].sort());
    for (const kind of kinds) {
      expect([...written.get(kind)!].sort(), `attributes of a ${kind} item in desktop/docs/data-inventory.md`).toEqual([...attributes.get(kind)!].sort());
    }
    // What an erasure item says of the person: digests only.
    const erasures = items.filter((i) => kindOf(i) === 'erasure').map((i) => Object.keys(JSON.parse(i.j!.S!) as object).sort());
    // Two: the visitor erased above, and the one a Telegram user's erasure took with it.
    expect(erasures).toEqual([[...erasureFields].sort(), [...erasureFields].sort()]);
    expect(JSON.stringify(items.filter((i) => kindOf(i) === 'erasure' || kindOf(i) === 'erased'))).not.toContain(other);
    // What a hint says: the event and the object it names, nothing of the payload; the same in its event's item.
    const hints = items.filter((i) => kindOf(i) === 'stripe hint');
    expect(hints.map((i) => Object.keys(i.e!.M!).sort())).toEqual([[...hintFields].sort()]);
    const events = items.filter((i) => kindOf(i) === 'stripe event');
    expect(events.flatMap((i) => (i.hint ? [Object.keys(i.hint.M!).sort()] : []))).toEqual([[...hintFields].sort()]);
    expect(JSON.stringify(items)).not.toContain('ch_InventoryErased0001');
    // Nothing of a Telegram user but the keyed hash of one still held, and nothing at all of the erased one.
    expect(JSON.stringify(items)).not.toContain(userHash);
    expect(JSON.stringify(items)).not.toContain(String(USER_ID));
  });
});
