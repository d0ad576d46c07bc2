import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { newEventId, type Click } from '@revtrail/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factClick } from '../attribution/testing/facts';
import { WorkspaceRegistry } from '../workspaces/registry';
import { ALICE_VID, buildWorld, must, TOKEN, type World } from './testing';

// An erasure made while a sync is pulling: the page holding the person's clicks was read from the redirector
// before the erasure and reaches the database after it. Nothing of hers may come back, and nothing of anyone
// else may be lost.
const dir = mkdtempSync(join(tmpdir(), 'revtrail-erase-sync-'));
const OTHERS = 2500; // more than two pages of the clicks feed (1000 a page)
let w: World;
let gate: Gate;
let dbPath: string;

/**
 * A proxy before the redirector that holds the first page of the clicks feed, once the redirector has answered
 * it, until released: the sync has read the page, and writes it only after what the test does meanwhile.
 */
interface Gate {
  url: string;
  /** Resolves with the first clicks page once the redirector has answered it (held from then on). */
  held: Promise<string>;
  release(): void;
  close(): Promise<void>;
}

async function startGate(target: string): Promise<Gate> {
  let onHeld!: (body: string) => void;
  let release!: () => void;
  const held = new Promise<string>((r) => (onHeld = r));
  const released = new Promise<void>((r) => (release = r));
  let first = true;
  const server: Server = createServer((req, res) => {
    const hold = first && req.method === 'GET' && (req.url ?? '').startsWith('/api/v1/clicks');
    if (hold) first = false;
    const up = request(new URL(req.url ?? '/', target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const send = () => res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(chunks));
        if (!hold) return send();
        onHeld(Buffer.concat(chunks).toString('utf8'));
        void released.then(send);
      });
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    release,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const otherClick = (i: number, at: number): Click =>
  factClick({ id: newEventId(at), at, visitorId: `Other${String(i).padStart(17, '0')}`, slug: 'spring', browser: 'Chrome', os: 'Linux', campaign: 'spring' });

const rows = (sql: string, ...params: unknown[]): unknown[] => {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare(sql).all(...params);
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  w = await buildWorld(dir);
  dbPath = new WorkspaceRegistry(join(dir, 'desktop')).databasePath(w.workspaceId);
  // Hers first, so they sit in the first page of each feed.
  await w.click('spring', ALICE_VID, '?gclid=AliceDuringSync');
  await w.click('spring', ALICE_VID);
  await w.collect(ALICE_VID, { t: 'pageview', url: 'https://brand.com/pricing' });
  await w.collect(ALICE_VID, { t: 'identify', url: 'https://brand.com/checkout', email: 'alice@example.com', src: 'form' });
  await w.settle();
  const now = Date.now();
  const others = Array.from({ length: OTHERS }, (_, i) => otherClick(i, now + i));
  for (let i = 0; i < others.length; i += 500) await w.r.store.putEvents(others.slice(i, i + 500).map((item) => ({ kind: 'clicks' as const, item })));
  gate = await startGate(w.r.url);
  must(await w.core.call('redirector.connect', { workspace: w.workspaceId, url: gate.url, token: TOKEN }));
}, 120_000);

afterAll(async () => {
  await gate?.close();
  await w?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('erase while a sync runs', () => {
  it('brings nothing of the erased person back and loses nothing of anyone else', async () => {
    const sync = w.core.call('sync.redirector', { workspace: w.workspaceId });
    // The sync has read the first clicks page, hers in it, and has not written it yet.
    expect(await gate.held).toContain(ALICE_VID);
    const erased = must(await w.core.call('privacy.erase', { workspace: w.workspaceId, email: 'alice@example.com' }));
    expect(erased.cloud).toMatchObject({ reached: true });
    gate.release();
    const pulled = must(await sync);
    expect(pulled.skipped).toEqual([]);

    expect(rows(`SELECT id FROM clicks WHERE visitor_id = ?`, ALICE_VID)).toEqual([]);
    expect(rows(`SELECT id FROM pageviews WHERE visitor_id = ?`, ALICE_VID)).toEqual([]);
    expect(rows(`SELECT id FROM identities WHERE visitor_id = ?`, ALICE_VID)).toEqual([]);
    expect(rows(`SELECT id FROM clicks WHERE visitor_id LIKE 'Other%'`)).toHaveLength(OTHERS);

    // A second sync, and one reading every feed from the start again, change nothing.
    must(await w.core.call('sync.redirector', { workspace: w.workspaceId }));
    const db = new Database(dbPath);
    db.exec(`DELETE FROM sync_cursors`);
    db.close();
    must(await w.core.call('sync.redirector', { workspace: w.workspaceId }));
    const found = must(await w.core.call('privacy.find', { workspace: w.workspaceId, visitor: ALICE_VID }));
    expect(found.total).toBe(0);
    expect(found.cloud).toMatchObject({ reached: true, counts: { clicks: 0, pageviews: 0, identities: 0 } });
    expect(rows(`SELECT id FROM clicks WHERE visitor_id LIKE 'Other%'`)).toHaveLength(OTHERS);
  }, 120_000);
});
