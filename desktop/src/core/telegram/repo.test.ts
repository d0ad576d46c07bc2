import { newEventId, type Click, type TelegramPayment, type TelegramStart } from '@revtrail/shared';
import { describe, expect, it } from 'vitest';
import { factClick } from '../attribution/testing/facts';
import { openDatabase } from '../db/open';
import { markErased } from '../privacy/erased-repo';
import { purgeEventsBefore } from '../privacy/retention-repo';
import { insertClicks } from '../redirector/repo';
import { insertTelegramPayments, insertTelegramStarts, startsBy, telegramPaymentFacts } from './repo';

// The Telegram tables' SQL on an in-memory database: what a pull keeps, what reports count, what a purge takes.
const T0 = Date.UTC(2026, 10, 1);
const HASH = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

const click = (id: string, over: Partial<Click> = {}): Click =>
  factClick({ id, slug: 'tg-ads', at: T0, visitorId: 'TelegramVisitor0000001', device: 'mobile', channel: 'Telegram ads', campaign: 'spring', partnerId: 'ada', ...over });
const start = (over: Partial<TelegramStart>): TelegramStart => ({ id: newEventId(T0), at: T0, startedAt: T0 + 60_000, updateId: 1, userHash: HASH, tokenDigest: 'd'.repeat(32), visitorId: null, clickId: null, ...over });
const payment = (over: Partial<TelegramPayment>): TelegramPayment => ({
  id: newEventId(T0),
  at: T0,
  kind: 'payment',
  paidAt: T0 + 120_000,
  updateId: 2,
  userHash: HASH,
  currency: 'XTR',
  amountMinor: 50,
  chargeId: 'stx1',
  providerChargeId: null,
  recurring: false,
  ...over,
});

describe('telegram repo', () => {
  it('counts a start for the click that minted its token, found by the redirector\'s binding or by the token digest', () => {
    const db = openDatabase(':memory:');
    const c1 = newEventId(T0);
    const c2 = newEventId(T0 + 1);
    insertClicks(db, [click(c1), click(c2, { slug: 'tg-other', channel: 'Other', partnerId: null, telegramStart: 'e'.repeat(32) })]);
    insertTelegramStarts(db, [start({ visitorId: 'TelegramVisitor0000001', clickId: c1 }), start({ id: newEventId(T0 + 5), tokenDigest: 'e'.repeat(32) })]);
    // A start whose click is not here (erased, or past retention) has no link to count for.
    insertTelegramStarts(db, [start({ id: newEventId(T0 + 9), tokenDigest: 'f'.repeat(32) })]);
    const range = [T0, T0 + 86_400_000] as const;
    expect(startsBy(db, 'channel', ...range).sort((a, b) => (a.key! < b.key! ? -1 : 1))).toEqual([
      { key: 'Other', starts: 1 },
      { key: 'Telegram ads', starts: 1 },
    ]);
    expect(startsBy(db, 'partner_id', ...range, { by: 'channel', value: 'Telegram ads' })).toEqual([{ key: 'ada', starts: 1 }]);
    expect(startsBy(db, 'slug', ...range, { by: 'partner', value: null })).toEqual([{ key: 'tg-other', starts: 1 }]);
    expect(startsBy(db, 'slug', T0 + 86_400_000, T0 + 2 * 86_400_000)).toEqual([]);
  });

  it('brings back no start of an erased user or visitor, and keeps an erased payer\'s payment without them', () => {
    const db = openDatabase(':memory:');
    markErased(db, 'telegram', HASH, T0);
    markErased(db, 'visitor', 'ErasedVisitor000000001', T0);
    expect(insertTelegramStarts(db, [start({}), start({ id: newEventId(T0 + 1), userHash: OTHER, visitorId: 'ErasedVisitor000000001' })])).toBe(0);
    expect(insertTelegramStarts(db, [start({ id: newEventId(T0 + 2), userHash: OTHER })])).toBe(1);
    expect(insertTelegramPayments(db, [payment({}), payment({ id: newEventId(T0 + 3), chargeId: 'stx2', userHash: OTHER })])).toBe(2);
    // Pulled again (at least once): nothing twice, and a payment under another append id is the same payment.
    expect(insertTelegramPayments(db, [payment({ id: newEventId(T0 + 4) })])).toBe(0);
    expect(telegramPaymentFacts(db).map((p) => [p.charge_id, p.user_hash])).toEqual([
      ['stx1', null],
      ['stx2', OTHER],
    ]);
  });

  it('leaves a payment Stripe also has (paid through Stripe) to the Stripe pull, and purges starts but never payments', () => {
    const db = openDatabase(':memory:');
    db.prepare(
      `INSERT INTO stripe_charges (id, created_at, status, amount_minor, amount_captured_minor, amount_refunded_minor, refunded, disputed, currency, payment_intent_id, metadata_json)
       VALUES ('ch_tg1', ?, 'succeeded', 900, 900, 0, 0, 0, 'usd', 'pi_tg1', '{}')`,
    ).run(T0);
    insertTelegramPayments(db, [payment({ currency: 'USD', amountMinor: 900, providerChargeId: 'pi_tg1' }), payment({ id: newEventId(T0 + 1), chargeId: 'stx9' })]);
    expect(telegramPaymentFacts(db).map((p) => p.charge_id)).toEqual(['stx9']);
    insertTelegramStarts(db, [start({})]);
    expect(purgeEventsBefore(db, T0 + 10 * 86_400_000)).toMatchObject({ telegramStarts: 1 });
    expect(db.prepare('SELECT count(*) AS n FROM telegram_payments').get()).toEqual({ n: 2 });
  });
});
