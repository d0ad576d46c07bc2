import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DAY_MS, isFbc, isFbp, MINUTE_MS } from '@revtrail/shared';
import { batches, EVENT_MAX_AGE_MS, fbcFromClick, MAX_BATCH, metaEmailHash, outgoing, purchaseEvent, tooOld } from './payload';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('em', () => {
  it.each([
    ['Buyer@Example.com', 'buyer@example.com'],
    ['  buyer@example.com\n', 'buyer@example.com'],
    // Meta's normalisation only trims and lowercases: plus tags and Gmail dots stay (unlike the join key's).
    ['First.Last+tag@GMAIL.com', 'first.last+tag@gmail.com'],
  ])('hashes %j as SHA-256 of %j, lowercase hex', (raw, normal) => {
    expect(metaEmailHash(raw)).toBe(sha(normal));
    expect(metaEmailHash(raw)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([null, undefined, '', '   ', 'not an email', 'two@@example.com', 'a b@example.com', `${'x'.repeat(250)}@example.com`])('refuses %j', (raw) => {
    expect(metaEmailHash(raw)).toBeNull();
  });
});

describe('fbc and fbp', () => {
  it('makes fbc from a click: fb.1.<click ms>.<fbclid>, the click id byte for byte', () => {
    const fbclid = 'IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk';
    expect(fbcFromClick(fbclid, 1_554_763_741_205)).toBe(`fb.1.1554763741205.${fbclid}`);
    expect(isFbc(fbcFromClick(fbclid, 1_554_763_741_205))).toBe(true);
    // Case is kept: Meta's click id is case-sensitive.
    expect(fbcFromClick('AbC', 1_700_000_000_000)).toBe('fb.1.1700000000000.AbC');
  });

  it('refuses an fbclid Meta\'s format cannot carry (a dot, a space, nothing)', () => {
    for (const bad of ['a.b', 'a b', '', 'x'.repeat(501)]) expect(fbcFromClick(bad, 1_700_000_000_000)).toBeNull();
  });

  it('accepts the documented cookie values, with 4 or 5 segments, and refuses others', () => {
    // Meta's examples (fbp-and-fbc page and the Send Requests example).
    expect(isFbc('fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890')).toBe(true);
    expect(isFbp('fb.1.1596403881668.1116446470')).toBe(true);
    expect(isFbp('fb.1.1558571054389.1098115397')).toBe(true);
    // The fifth segment Meta's parameter builder appends.
    expect(isFbc('fb.1.1657051589577.IwZXh0bgNhZW0CMTAAAR-uK_5w.AQEAAQMB')).toBe(true);
    expect(isFbp('fb.2.1657051589577.1088522659.AQEAAQMB')).toBe(true);
    for (const bad of ['fb.1.1554763741.x', 'fb.1.abc.x', 'fb.1.1554763741205', 'xx.1.1554763741205.a', 'fb.1.1554763741205.a;b', 'fb.1.1554763741205.a.b.c']) {
      expect(isFbc(bad), bad).toBe(false);
    }
    expect(isFbp('fb.1.1596403881668.abc')).toBe(false);
  });
});

describe('the Purchase event', () => {
  const facts = { eventId: 'pi_123', at: 1_700_000_123_456, amountMinor: 12_345, currency: 'usd', sourceUrl: 'https://brand.com/pricing', fbc: 'fb.1.1700000000000.abc', fbp: null, visitorId: 'V1sitor00000000000000A' };

  it('carries event_time in seconds, the charge\'s own money in major units, and external_id hashed', () => {
    expect(purchaseEvent(facts)).toEqual({
      event_name: 'Purchase',
      event_time: 1_700_000_123,
      event_id: 'pi_123',
      action_source: 'website',
      event_source_url: 'https://brand.com/pricing',
      user_data: { external_id: [sha('V1sitor00000000000000A')], fbc: 'fb.1.1700000000000.abc' },
      custom_data: { value: 123.45, currency: 'USD' },
    });
    expect(purchaseEvent({ ...facts, amountMinor: 500, currency: 'JPY' }).custom_data).toEqual({ value: 500, currency: 'JPY' });
    expect(purchaseEvent({ ...facts, amountMinor: 1234, currency: 'BHD' }).custom_data).toEqual({ value: 1.234, currency: 'BHD' });
  });

  it('adds em and client_user_agent only as it goes out, and never stores an email', () => {
    const stored = purchaseEvent(facts);
    expect(JSON.stringify(stored)).not.toMatch(/"em"|client_user_agent/);
    const em = metaEmailHash('buyer@example.com')!;
    expect(outgoing(stored, em, 'Mozilla/5.0').user_data).toEqual({ ...stored.user_data, em: [em], client_user_agent: 'Mozilla/5.0' });
    expect(outgoing(stored, null, null)).toBe(stored);
  });
});

describe('age and batching', () => {
  it('an event 7 days old (less a margin for the request) is too old for Meta', () => {
    const now = 1_700_000_000_000;
    expect(tooOld(now - EVENT_MAX_AGE_MS, now)).toBe(false);
    expect(tooOld(now - EVENT_MAX_AGE_MS - 1, now)).toBe(true);
    expect(tooOld(now - 7 * DAY_MS, now)).toBe(true);
    expect(tooOld(now - 7 * DAY_MS + 11 * MINUTE_MS, now)).toBe(false);
  });

  it('cuts at 1,000 events a request', () => {
    const items = Array.from({ length: 2501 }, (_, i) => i);
    const cut = batches(items);
    expect(cut.map((b) => b.length)).toEqual([MAX_BATCH, MAX_BATCH, 501]);
    expect(cut.flat()).toEqual(items);
    expect(batches([])).toEqual([]);
    expect(() => batches(items, 0)).toThrow(RangeError);
  });
});
