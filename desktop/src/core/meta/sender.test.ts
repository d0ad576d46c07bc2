import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS, MINUTE_MS } from '@revtrail/shared';
import { openDatabase, type Db } from '../db/open';
import { startFakeGraph, type FakeGraph } from '../../fake-meta/server';
import { claimDue } from './outbox-repo';
import { GRAPH_API_VERSION } from './payload';
import { getMetaSettings, purgeMeta, saveMetaConnection, setMetaForwarding } from './repo';
import { backoffMs, LEASE_MS, sendDue, type SendOptions } from './sender';
import { connectTo, queueEvents, quiet, rowsOf } from './testing/outbox';

// The sender against the fake Graph API over real HTTP, on a workspace database on disk.
let dir: string;
let graph: FakeGraph;
let db: Db;
let now: number;
const clock = { now: () => now };
const opts = (more: Partial<SendOptions> = {}): SendOptions => ({ fetch, clock, log: quiet, token: graph.token, random: () => 0.5, ...more });
const eventsRequests = () => graph.log.filter((r) => r.path.endsWith('/events'));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'revtrail-meta-send-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  graph = await startFakeGraph();
  now = Date.now();
  db = openDatabase(join(mkdtempSync(join(dir, 'ws-')), 'workspace.sqlite'));
  connectTo(db, graph, now);
});
afterEach(async () => {
  db.close();
  await graph.close();
});

describe('sending the outbox', () => {
  it('sends 2,500 events in requests of at most 1,000, each once, then deletes their email hashes and user agents', async () => {
    queueEvents(db, 2500, now);
    const report = await sendDue(db, opts());
    expect(report).toMatchObject({ sent: 2500, retrying: 0, failed: 0, stale: 0, requests: 3, paused: null });
    expect(eventsRequests().map((r) => (r.data as unknown[]).length)).toEqual([1000, 1000, 500]);
    expect(eventsRequests().every((r) => r.version === GRAPH_API_VERSION && r.tokenIn === 'body' && r.status === 200)).toBe(true);
    expect(new Set(graph.received.map((r) => r.event.event_id)).size).toBe(2500);
    const first = graph.received[0]!.event as { user_data: Record<string, unknown> };
    expect(first.user_data.em).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect(first.user_data.client_user_agent).toBe('Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0');

    const rows = rowsOf(db);
    expect(rows.every((r) => r.state === 'sent' && r.em === null && r.user_agent === null && r.em_sent === 1 && r.attempts === 1)).toBe(true);
    expect(db.prepare(`SELECT count(*) FROM meta_events WHERE em IS NOT NULL OR user_agent IS NOT NULL`).pluck().get()).toBe(0);

    expect(await sendDue(db, opts())).toMatchObject({ sent: 0, requests: 0 });
    expect(eventsRequests()).toHaveLength(3);
  });

  it('passes the test event code when one is set', async () => {
    saveMetaConnection(db, { pixelId: graph.pixelId, testEventCode: 'TEST4242', graphBase: graph.url, at: now });
    queueEvents(db, 1, now);
    await sendDue(db, opts());
    expect(graph.received.map((r) => r.testEventCode)).toEqual(['TEST4242']);
  });

  it.each([
    ['code 1 (unknown)', { code: 1 }],
    ['code 2 (service)', { code: 2 }],
    ['code 4 (application throttled)', { code: 4 }],
    ['code 17 (user throttled)', { code: 17 }],
    ['code 613 (rate limit)', { code: 613 }],
    ['HTTP 503 without JSON', { status: 503 }],
    ['a timeout at 1.5 s', { code: 1, delayMs: 1900 }],
  ])('retries after %s with a backoff, and sends once when due', async (_, failure) => {
    queueEvents(db, 3, now);
    graph.failNext(1, failure);
    const first = await sendDue(db, opts());
    expect(first).toMatchObject({ sent: 0, retrying: 3, requests: 1 });
    const waiting = rowsOf(db);
    expect(waiting.every((r) => r.state === 'pending' && r.next_attempt_at === now + backoffMs(1, () => 0.5))).toBe(true);
    expect(waiting[0]!.reason).toMatch(/^Will try again at /);
    if ('delayMs' in failure) expect(waiting[0]!.reason).toContain('did not answer within 1.5 s');
    // Not due yet: nothing goes.
    expect(await sendDue(db, opts())).toMatchObject({ requests: 0 });
    now += backoffMs(1, () => 0.5);
    expect(await sendDue(db, opts())).toMatchObject({ sent: 3, requests: 1 });
    expect(rowsOf(db).map((r) => [r.state, r.attempts])).toEqual([['sent', 2], ['sent', 2], ['sent', 2]]);
    expect(graph.received.map((r) => r.event.event_id)).toEqual(['pi_test000000', 'pi_test000001', 'pi_test000002']);
  }, 15_000);

  it('backs off 30 s, 1 min, 2 min ... up to an hour, with jitter', () => {
    expect([1, 2, 3, 8, 30].map((n) => backoffMs(n, () => 0.5))).toEqual([30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
    expect(backoffMs(1, () => 0)).toBe(22_500);
    expect(backoffMs(1, () => 1)).toBe(37_500);
  });

  it('holds every event when Meta refuses the token (190) until Meta is connected again', async () => {
    queueEvents(db, 2, now);
    graph.failNext(1, { code: 190, userMessage: 'The session has been invalidated' });
    const r = await sendDue(db, opts());
    expect(r.paused).toMatch(/Meta refused the access token: The session has been invalidated \(code 190\)/);
    expect(r.paused).toMatch(/connect Meta again/);
    expect(getMetaSettings(db).pausedReason).toBe(r.paused);
    expect(rowsOf(db).map((x) => x.state)).toEqual(['pending', 'pending']);
    now += DAY_MS;
    expect(await sendDue(db, opts())).toMatchObject({ requests: 0, paused: r.paused });
    saveMetaConnection(db, { pixelId: graph.pixelId, testEventCode: null, graphBase: graph.url, at: now });
    expect(await sendDue(db, opts())).toMatchObject({ sent: 2, paused: null });
  });

  it('fails only the event Meta refuses (code 100, its error_user_msg kept), splitting the batch to find it', async () => {
    queueEvents(db, 5, now, { change: (e, i) => (i === 3 ? { ...e, user_data: { ...e.user_data, fbc: 'fb.1.123.bad' } } : e) });
    const r = await sendDue(db, opts());
    expect(r).toMatchObject({ sent: 4, failed: 1 });
    const rows = rowsOf(db);
    expect(rows.map((x) => x.state)).toEqual(['sent', 'sent', 'sent', 'failed', 'sent']);
    expect(rows[3]!.reason).toMatch(/^Meta refused it: Event 0: user_data.fbc must read .* \(code 100\)$/);
    expect(rows[3]!.em).toBeNull();
    expect(graph.received.map((x) => x.event.event_id).sort()).toEqual(['pi_test000000', 'pi_test000001', 'pi_test000002', 'pi_test000004']);
    // Refused is final: nothing goes again.
    now += DAY_MS;
    expect(await sendDue(db, opts())).toMatchObject({ requests: 0 });
  });

  it('skips, with the reason, an event that became more than 7 days old while it waited, and never sends it', async () => {
    queueEvents(db, 1, now, { ageMs: 6 * DAY_MS, prefix: 'pi_old' });
    queueEvents(db, 1, now, { ageMs: MINUTE_MS, prefix: 'pi_new' });
    graph.failNext(1, { code: 2 });
    await sendDue(db, opts());
    now += DAY_MS;
    const r = await sendDue(db, opts());
    expect(r).toMatchObject({ stale: 1, sent: 1 });
    expect(rowsOf(db).map((x) => [x.event_id, x.state])).toEqual([['pi_new000000', 'sent'], ['pi_old000000', 'skipped']]);
    expect(rowsOf(db)[1]!.reason).toMatch(/more than 7 days old/);
    expect(graph.received.map((x) => x.event.event_id)).toEqual(['pi_new000000']);
  });

  it('sends nothing while forwarding is off, and turning it off skips what waits and deletes its hashes', async () => {
    queueEvents(db, 2, now);
    setMetaForwarding(db, false, now);
    expect(await sendDue(db, opts())).toMatchObject({ requests: 0 });
    expect(rowsOf(db).map((r) => [r.state, r.em, r.user_agent])).toEqual([['skipped', null, null], ['skipped', null, null]]);
    expect(eventsRequests()).toEqual([]);
  });
});

describe('never twice', () => {
  it('two cores sending from one workspace at once send each event once', async () => {
    queueEvents(db, 1500, now);
    const other = openDatabase(db.name);
    try {
      const [a, b] = await Promise.all([sendDue(db, opts()), sendDue(other, opts())]);
      expect(a.sent + b.sent).toBe(1500);
    } finally {
      other.close();
    }
    expect(graph.received).toHaveLength(1500);
    expect(new Set(graph.received.map((r) => r.event.event_id)).size).toBe(1500);
  });

  it('a send reopened after a restart finds nothing left to send', async () => {
    queueEvents(db, 10, now);
    await sendDue(db, opts());
    const path = db.name;
    db.close();
    db = openDatabase(path);
    expect(await sendDue(db, opts())).toMatchObject({ requests: 0 });
    expect(graph.received).toHaveLength(10);
  });

  it('a send killed (SIGKILL) while Meta holds its request is taken again only after its lease, once, and says so', async () => {
    queueEvents(db, 2, now);
    graph.failNext(1, { code: 2, delayMs: 30_000 });
    const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'testing', 'send-process.ts'), db.name, graph.token], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (eventsRequests().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(out).not.toContain('finished');
    expect(rowsOf(db).map((r) => r.state)).toEqual(['sending', 'sending']);

    // Within the lease the send might still be going: nothing is taken.
    now = Date.now();
    expect(await sendDue(db, opts())).toMatchObject({ requests: 0 });
    now += LEASE_MS + 1;
    expect(await sendDue(db, opts())).toMatchObject({ sent: 2, requests: 1 });
    expect(rowsOf(db).map((r) => r.reason)).toEqual([expect.stringMatching(/^Sent again after a send was interrupted/), expect.stringMatching(/^Sent again/)]);
    now += LEASE_MS * 10;
    expect(await sendDue(db, opts())).toMatchObject({ requests: 0 });
  }, 40_000);

  it('with nothing due, takes no write lock: a sync\'s long ledger rebuild in another connection does not make it wait', async () => {
    queueEvents(db, 1, now);
    await sendDue(db, opts());
    const rebuild = openDatabase(db.name);
    try {
      rebuild.prepare('BEGIN IMMEDIATE').run();
      db.pragma('busy_timeout = 50');
      expect(purgeMeta(db, { agents: now - DAY_MS, browsers: now - DAY_MS, events: now - DAY_MS })).toEqual({ agents: 0, browsers: 0, events: 0 });
      expect(await sendDue(db, opts())).toMatchObject({ requests: 0 });
      // With work to do it needs the lock, and says so as SQLite does (the core answers it as "busy, try again").
      expect(() => db.prepare(`UPDATE meta_events SET next_attempt_at = NULL`).run()).toThrow(/SQLITE_BUSY|database is locked/);
      rebuild.prepare('ROLLBACK').run();
    } finally {
      rebuild.close();
    }
  });

  it('a claim in flight is not taken by another send', () => {
    queueEvents(db, 3, now);
    expect(claimDue(db, { now, leaseMs: LEASE_MS, limit: 2, claim: 'a' })).toHaveLength(2);
    expect(claimDue(db, { now, leaseMs: LEASE_MS, limit: 10, claim: 'b' }).map((e) => e.eventId)).toEqual(['pi_test000002']);
    expect(claimDue(db, { now: now + LEASE_MS + 1, leaseMs: LEASE_MS, limit: 10, claim: 'c' }).map((e) => e.retaken)).toEqual([true, true, true]);
  });
});
