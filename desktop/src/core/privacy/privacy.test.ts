import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashEmail, normalizeEmail } from '@revtrail/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkspaceRegistry } from '../workspaces/registry';
import { erasedDigest } from './erased-repo';
import { PERSON_TABLES } from './person-repo';
import { ALICE_VID, BRUNO_VID, buildWorld, must, OTHER_VID, scanBytes, type World } from './testing';

// A workspace built through real syncs (local redirector, fake Stripe), then a person found, exported and erased.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-privacy-'));
let w: World;
let dbPath: string;
// The seed's payments reach back 400 days.
const RANGE = { from: new Date(Date.now() - 3000 * 86_400_000).toISOString().slice(0, 10), to: new Date(Date.now() + 86_400_000).toISOString().slice(0, 10) };

const read = <T>(sql: string, ...params: unknown[]): T[] => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  w = await buildWorld(dir);
  dbPath = new WorkspaceRegistry(join(dir, 'desktop')).databasePath(w.workspaceId);
  await w.click('spring', ALICE_VID, '?utm_source=news&gclid=AliceAdClick');
  await w.click('spring', ALICE_VID);
  await w.collect(ALICE_VID, { t: 'pageview', url: 'https://brand.com/pricing?utm_campaign=alice-pricing' });
  await w.collect(ALICE_VID, { t: 'identify', url: 'https://brand.com/checkout', email: 'Alice@Example.com', src: 'form' });
  await w.click('spring', BRUNO_VID);
  await w.collect(BRUNO_VID, { t: 'identify', url: 'https://brand.com/checkout', email: 'bruno@example.de', src: 'form' });
  await w.click('spring', OTHER_VID);
  await w.settle();
  must(await w.core.call('sync.redirector', { workspace: w.workspaceId }));
  must(await w.core.call('sync.stripe', { workspace: w.workspaceId }));
}, 120_000);

afterAll(async () => {
  await w?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('privacy requests through the core', () => {
  it('refuses a malformed identifier with what one looks like, and needs exactly one', async () => {
    const bad = await w.core.call('privacy.find', { workspace: w.workspaceId, email: 'alice at example' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining('name@example.com') } });
    const vid = await w.core.call('privacy.find', { workspace: w.workspaceId, visitor: 'short' });
    expect(vid).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining('22 characters') } });
    const cus = await w.core.call('privacy.find', { workspace: w.workspaceId, customer: 'alice' });
    expect(cus).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining('cus_') } });
    const two = await w.core.call('privacy.find', { workspace: w.workspaceId, email: 'a@b.co', visitor: ALICE_VID });
    expect(two).toMatchObject({ ok: false, error: { code: 'invalid_input', message: expect.stringContaining('exactly one') } });
  });

  it('an unknown email: found 0, and the request is still logged', async () => {
    const before = must(await w.core.call('privacy.log', { workspace: w.workspaceId })).length;
    const found = must(await w.core.call('privacy.find', { workspace: w.workspaceId, email: 'nobody@example.net' }));
    expect(found.total).toBe(0);
    expect(Object.values(found.local).every((n) => n === 0)).toBe(true);
    const log = must(await w.core.call('privacy.log', { workspace: w.workspaceId }));
    expect(log).toHaveLength(before + 1);
    expect(log[0]).toMatchObject({ kind: 'find', scope: 'email', erased: null });
    expect(JSON.stringify(log[0])).not.toContain('nobody');
  });

  it('finds, exports, erases by email: nothing of hers left in the bytes, reports still reconcile, the next sync brings nothing back', async () => {
    const alice = w.seed.customers.alice.id;
    const key = must(await w.core.call('status.get', { workspace: w.workspaceId })) && (await hashEmail(normalizeEmail('alice@example.com')!, await emailKey()));
    const found = must(await w.core.call('privacy.find', { workspace: w.workspaceId, email: ' ALICE@example.com ' }));
    const charges = read<{ id: string }>(`SELECT id FROM stripe_charges WHERE customer_id = ? ORDER BY id`, alice);
    // Four one-off payments and her subscription's.
    expect(charges.length).toBeGreaterThan(4);
    expect(found.local).toMatchObject({ clicks: 2, pageviews: 1, identities: 1, stripe_customers: 1, stripe_charges: charges.length, stripe_subscriptions: 1 });
    expect(found.local.stripe_refunds).toBeGreaterThanOrEqual(2);
    expect(found.linked).toEqual({ visitors: 1, emails: 1, customers: 1, telegrams: 0 });
    // What the redirector still holds of her, through its people lookup.
    expect(found.cloud).toEqual({ reached: true, counts: { clicks: 2, pageviews: 1, identities: 1 } });

    // The export lists each of her clicks, pageviews, identities and payments, with a glossary.
    const exported = must(await w.core.call('privacy.export', { workspace: w.workspaceId, email: 'alice@example.com' }));
    expect(exported.files.map((f) => f.name)).toEqual([expect.stringMatching(/\.json$/), expect.stringMatching(/\.html$/)]);
    const json = JSON.parse((exported.files[0] as { text: string }).text) as { records: Record<string, { items: { id?: string }[]; fields: Record<string, string> }> };
    const ids = (t: string) => json.records[t]!.items.map((i) => i.id).sort();
    expect(ids('clicks')).toEqual(read<{ id: string }>(`SELECT id FROM clicks WHERE visitor_id = ? ORDER BY id`, ALICE_VID).map((r) => r.id).sort());
    expect(ids('pageviews')).toEqual(read<{ id: string }>(`SELECT id FROM pageviews WHERE visitor_id = ?`, ALICE_VID).map((r) => r.id).sort());
    expect(ids('identities')).toHaveLength(1);
    expect(ids('stripe_charges')).toEqual(charges.map((c) => c.id).sort());
    for (const t of PERSON_TABLES) expect(Object.keys(json.records[t]!.fields).length).toBeGreaterThan(0);
    const html = (exported.files[1] as { text: string }).text;
    for (const id of ids('clicks')) expect(html).toContain(id!);
    expect(html).toContain('What each field means');

    // What identifies her, to look for byte by byte afterwards.
    const needles = [
      ALICE_VID,
      key,
      alice,
      ...ids('clicks'),
      ...ids('pageviews'),
      ...ids('identities'),
      'AliceAdClick',
      'alice-pricing',
    ] as string[];
    // dynalite keys its items and index entries by the hex of their key values (`V#<visitor id>`, `E#<hash>`).
    needles.push(...[ALICE_VID, key].map((n) => Buffer.from(n!, 'utf8').toString('hex')));
    // The scan sees her in the redirector's store before the erasure: it is not blind to LevelDB's files.
    expect(scanBytes([join(dir, 'redirector', 'dynamodb')], needles).length).toBeGreaterThan(0);
    const before = must(await w.core.call('reports.channels', { workspace: w.workspaceId, ...RANGE }));
    const bruno = read(`SELECT id FROM clicks WHERE visitor_id = ?`, BRUNO_VID).length;

    const erased = must(await w.core.call('privacy.erase', { workspace: w.workspaceId, email: 'alice@example.com' }));
    expect(erased.erased).toMatchObject({ clicks: 2, pageviews: 1, identities: 1, stripe_customers: 1, charges_anonymised: charges.length });
    expect(erased.cloud).toMatchObject({ reached: true });
    expect(erased.message).toMatch(/tombstone/);

    // Amounts kept, person gone: every total is the same, her money now under a tombstone.
    const after = must(await w.core.call('reports.channels', { workspace: w.workspaceId, ...RANGE }));
    expect(after.totals).toEqual(before.totals);
    expect(read(`SELECT id FROM stripe_charges WHERE customer_id LIKE 'erased_%'`)).toHaveLength(charges.length);
    expect(read(`SELECT id FROM clicks WHERE visitor_id = ?`, BRUNO_VID)).toHaveLength(bruno);

    // No byte of hers in the workspace's SQLite files (WAL and shared memory included) or the redirector's data.
    w.core.close();
    expect(scanBytes([dbPath, `${dbPath}-wal`, `${dbPath}-shm`], needles)).toEqual([]);
    // The redirector's whole data folder: journal, settings and its embedded DynamoDB (dynalite's LevelDB log,
    // tables and manifest, which keep a deleted item's bytes until the compaction an erasure runs).
    expect(scanBytes([join(dir, 'redirector')], needles)).toEqual([]);
    // The erasure is recorded as digests only.
    expect(read(`SELECT kind FROM erased_subjects WHERE digest = ?`, erasedDigest('visitor', ALICE_VID))).toEqual([{ kind: 'visitor' }]);

    // The next syncs, even reading everything from the start again, bring nothing of hers back.
    const db = new Database(dbPath);
    db.exec(`DELETE FROM sync_cursors; DELETE FROM stripe_checkpoints;`);
    db.close();
    await w.click('spring', ALICE_VID);
    await w.settle();
    must(await w.core.call('sync.redirector', { workspace: w.workspaceId }));
    must(await w.core.call('sync.stripe', { workspace: w.workspaceId }));
    const again = must(await w.core.call('privacy.find', { workspace: w.workspaceId, email: 'alice@example.com' }));
    expect(again.local).toEqual(Object.fromEntries(PERSON_TABLES.map((t) => [t, 0])));
    expect(must(await w.core.call('privacy.find', { workspace: w.workspaceId, customer: alice })).total).toBe(0);
    expect(read(`SELECT id FROM stripe_customers WHERE id = ?`, alice)).toEqual([]);
    expect(read(`SELECT id FROM stripe_charges WHERE customer_id LIKE 'erased_%'`)).toHaveLength(charges.length);
    expect(must(await w.core.call('reports.channels', { workspace: w.workspaceId, ...RANGE })).totals).toEqual(before.totals);

    const log = must(await w.core.call('privacy.log', { workspace: w.workspaceId }));
    expect(log[0]).toMatchObject({ kind: 'find', scope: 'customer' });
    const erase = log.find((l) => l.kind === 'erase')!;
    expect(erase).toMatchObject({ scope: 'email', found: { clicks: 2 }, erased: { clicks: 2 } });
    for (const n of needles) expect(JSON.stringify(log)).not.toContain(n);
  }, 120_000);

});

async function emailKey(): Promise<string> {
  const r = await fetch(`${w.r.url}/api/v1/keys`, { headers: { authorization: `Bearer ${(await import('./testing')).TOKEN}` } });
  return ((await r.json()) as { emailHashKey: string }).emailHashKey;
}
