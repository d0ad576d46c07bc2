// Test support for the Meta tests: a workspace database with forwarding on against a fake Graph API, and
// outbox events put in directly. Nothing shipped imports this.
import { DAY_MS } from '@revtrail/shared';
import type { Db } from '../../db/open';
import type { FakeGraph } from '../../../fake-meta/server';
import { insertOutboxEvents, type NewOutboxEvent } from '../outbox-repo';
import { metaEmailHash, purchaseEvent, type MetaEvent } from '../payload';
import { saveMetaConnection, setMetaForwarding } from '../repo';

export const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function connectTo(db: Db, graph: FakeGraph, at: number, testEventCode: string | null = null): void {
  saveMetaConnection(db, { pixelId: graph.pixelId, testEventCode, graphBase: graph.url, at });
  setMetaForwarding(db, true, at);
}

/** `n` pending events of charges made `ageMs` before `now`, each with an email hash and a user agent. */
export function queueEvents(db: Db, n: number, now: number, opts: { ageMs?: number; prefix?: string; change?: (e: MetaEvent, i: number) => MetaEvent } = {}): NewOutboxEvent[] {
  const at = now - (opts.ageMs ?? DAY_MS);
  const events: NewOutboxEvent[] = Array.from({ length: n }, (_, i) => {
    const id = `${opts.prefix ?? 'pi_test'}${String(i).padStart(6, '0')}`;
    const payload = purchaseEvent({ eventId: id, at, amountMinor: 1000 + i, currency: 'EUR', sourceUrl: 'https://brand.com/pricing', fbc: `fb.1.${at - 60_000}.fbclid${i}`, fbp: null, visitorId: `Visitor${String(i).padStart(15, '0')}` });
    return {
      eventId: id,
      chargeId: id.replace(/^pi_/, 'ch_'),
      visitorIds: [`Visitor${String(i).padStart(15, '0')}`],
      eventTime: at,
      queuedAt: now,
      state: 'pending',
      payload: opts.change ? opts.change(payload, i) : payload,
      em: metaEmailHash(`buyer${i}@example.com`),
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/130.0',
      reason: null,
    };
  });
  insertOutboxEvents(db, events);
  return events;
}

export function rowsOf(db: Db): { event_id: string; state: string; em: string | null; user_agent: string | null; em_sent: number; attempts: number; reason: string | null; next_attempt_at: number | null }[] {
  return db.prepare(`SELECT event_id, state, em, user_agent, em_sent, attempts, reason, next_attempt_at FROM meta_events ORDER BY event_id`).all() as never;
}
