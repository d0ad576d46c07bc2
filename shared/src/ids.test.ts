import { describe, expect, it } from 'vitest';
import { eventIdTime, idFromName, isEventId, isSlug, isVisitorId, newEventId, newVisitorId } from './ids';
import { extractTrackingParams } from './tracking-params';

describe('ids', () => {
  it('event ids sort by time and decode it', () => {
    const a = newEventId(1_700_000_000_000);
    const b = newEventId(1_700_000_000_000);
    const c = newEventId(1_700_000_000_001);
    expect(isEventId(a)).toBe(true);
    expect(a < b && b < c).toBe(true);
    expect(eventIdTime(c)).toBe(1_700_000_000_001);
  });

  it('visitor ids are 22 url-safe chars and random', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newVisitorId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isVisitorId(id)).toBe(true);
    expect(isVisitorId('short')).toBe(false);
    expect(isVisitorId('AAAAAAAAAAAAAAAAAAAAA=')).toBe(false);
  });

  it.each([
    ['spring-sale', true],
    ['A1_b', true],
    ['-leading', false],
    ['api', false],
    ['P.JS', false],
    ['has space', false],
    ['a'.repeat(64), true],
    ['a'.repeat(65), false],
    ['ünï', false],
  ])('slug %j valid=%s', (slug, valid) => {
    expect(isSlug(slug)).toBe(valid);
  });
});

describe('idFromName', () => {
  it.each([
    ['Müller Söhne GmbH', 'muller-sohne-gmbh'],
    ['Łukasz z o.o.', 'lukasz-z-o-o'],
    ["Jo's Blog!", 'jo-s-blog'],
    ['Søren Ærø', 'soren-aero'],
    ['Straße Đorđe Þór', 'strasse-dorde-thor'],
    ['Œuvre Çà et là', 'oeuvre-ca-et-la'],
    ['Nguyễn Văn Anh', 'nguyen-van-anh'],
    ['ﬁne ｗｉｄｅ', 'fine-wide'],
    ['  --Ann--  ', 'ann'],
  ])('%j -> %j', (name, id) => {
    expect(idFromName(name, 30, 'partner')).toBe(id);
  });

  it('keeps every Latin letter (none dropped) and cuts to the length without a trailing dash', () => {
    expect(idFromName('Ánnä Ökonomie-Beratung und Söhne Gesellschaft', 30, 'x')).toBe('anna-okonomie-beratung-und-soh');
    expect(idFromName('abcdefghij klm', 11, 'x')).toBe('abcdefghij');
  });

  it('gives the fallback for a name with nothing Latin in it', () => {
    expect(idFromName('Иван', 30, 'partner')).toBe('partner');
    expect(idFromName('!!!', 30, 'partner')).toBe('partner');
  });
});

describe('extractTrackingParams', () => {
  it('keeps click ids and UTMs verbatim, first occurrence, ignoring others', () => {
    const r = extractTrackingParams(new URLSearchParams('gclid=Cj0K&gclid=second&utm_source=News&foo=bar&fbclid='));
    expect(r).toEqual({ ok: true, value: { clickIds: { gclid: 'Cj0K' }, utm: { utm_source: 'News' } } });
  });

  it('reports an overlong value', () => {
    expect(extractTrackingParams(new URLSearchParams(`fbclid=${'x'.repeat(501)}`))).toEqual({ ok: false, key: 'fbclid', reason: 'too_long' });
  });
});
