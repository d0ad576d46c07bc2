import { describe, expect, it } from 'vitest';
import type { DestinationRules } from '../destination';
import { linkFromInput, parseLinkInput, slugProblem } from './link';

const RULES: DestinationRules = { self: ['https://go.brand.com'], allowPrivate: false };

describe('parseLinkInput', () => {
  it('accepts a full link and trims its names', () => {
    expect(
      parseLinkInput({ destination: 'https://brand.com/a', channel: ' Newsletter ', campaign: 'c', partnerId: 'p_1', utm: { utm_source: 'nl' }, enabled: false }, RULES),
    ).toEqual({ ok: true, value: { destination: 'https://brand.com/a', channel: 'Newsletter', campaign: 'c', partnerId: 'p_1', utm: { utm_source: 'nl' }, enabled: false } });
    expect(parseLinkInput({ destination: 'https://brand.com/', channel: 'X', campaign: null }, RULES)).toEqual({
      ok: true,
      value: { destination: 'https://brand.com/', channel: 'X', campaign: null },
    });
  });

  it.each([
    [null, 'body must be a JSON object'],
    [[], 'body must be a JSON object'],
    [{ channel: 'X' }, 'destination: required'],
    [{ destination: 'ftp://x.io/', channel: 'X' }, 'destination refused by the scheme rule'],
    [{ destination: 'https://b.co/', channel: '   ' }, 'channel: must not be empty'],
    [{ destination: 'https://b.co/', channel: 'x'.repeat(65) }, 'channel: at most 64 characters'],
    [{ destination: 'https://b.co/', channel: 7 }, 'channel: must be a string'],
    [{ destination: 'https://b.co/', channel: 'X', partnerId: 'a b' }, 'partnerId: 1-64 letters, digits, _ or -'],
    [{ destination: 'https://b.co/', channel: 'X', enabled: 'yes' }, 'enabled: must be true or false'],
    [{ destination: 'https://b.co/', channel: 'X', utm: { utm_evil: '1' } }, 'utm.utm_evil: unknown field'],
    [{ destination: 'https://b.co/', channel: 'X', utm: { utm_source: '' } }, 'utm_source: must not be empty'],
    [{ destination: 'https://b.co/', channel: 'X', owner: 'me' }, 'owner: unknown field'],
  ])('refuses %j: %s', (body, problem) => {
    const r = parseLinkInput(body, RULES);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.join('; ')).toContain(problem);
  });

  it('lists every problem at once', () => {
    const r = parseLinkInput({ destination: 'nope', channel: '', enabled: 1 }, RULES);
    expect(r.ok === false && r.problems).toHaveLength(3);
  });

  it('answers the destination as it resolves, so that is what is stored and shown', () => {
    const r = parseLinkInput({ destination: 'https://Brand.COM./a b?x=1', channel: 'X' }, RULES);
    expect(r.ok && r.value.destination).toBe('https://brand.com./a%20b?x=1');
  });

  it.each([
    ['https://example.com\t.evil.com/', 'control-characters'],
    ['https://evil.com\\@example.com/', 'backslash'],
    ['https://go.brand.com%2E/x', 'self'],
    ['http://[::1]/', 'private-network'],
  ])('names the rule that refuses %j', (destination, rule) => {
    const r = parseLinkInput({ destination, channel: 'X' }, RULES);
    expect(r.ok === false && r.problems).toEqual([expect.stringMatching(new RegExp(`^destination refused by the ${rule} rule: `))]);
  });
});

describe('a link to a Telegram bot', () => {
  it('goes to the bot\'s t.me page, with or without the destination given, @ or not', () => {
    for (const body of [{ telegramBot: 'shop_bot', channel: 'tg' }, { telegramBot: '@shop_bot', channel: 'tg', destination: 'https://t.me/shop_bot' }]) {
      const r = parseLinkInput(body, RULES);
      expect(r).toEqual({ ok: true, value: { destination: 'https://t.me/shop_bot', channel: 'tg', telegramBot: 'shop_bot' } });
      if (r.ok) expect(linkFromInput('s', r.value, 1).telegramBot).toBe('shop_bot');
    }
    const web = parseLinkInput({ destination: 'https://b.co/', channel: 'X', telegramBot: null }, RULES);
    expect(web.ok && linkFromInput('s', web.value, 1)).not.toHaveProperty('telegramBot');
  });

  it.each([
    ['shop', 'ending in bot'],
    ['sbot', 'ending in bot'],
    ['1shop_bot', 'starting with a letter'],
    ['shop-bot', 'letters, digits or _'],
    [`a${'x'.repeat(29)}bot`, 'ending in bot (like'],
    [`a${'x'.repeat(30)}bot`, 'at most 33'],
  ])('refuses the username %j (Telegram: 5-32 characters, ending in bot)', (telegramBot, problem) => {
    const r = parseLinkInput({ telegramBot, channel: 'tg' }, RULES);
    expect(r.ok === false && r.problems).toEqual([expect.stringContaining(problem)]);
  });

  it('refuses another destination than the bot\'s page', () => {
    const r = parseLinkInput({ telegramBot: 'shop_bot', channel: 'tg', destination: 'https://evil.example/' }, RULES);
    expect(r.ok === false && r.problems.join('; ')).toContain('goes to https://t.me/shop_bot');
  });
});

describe('slugProblem', () => {
  it.each([
    ['spring-sale', null],
    ['api', /reserved/],
    ['a'.repeat(65), /longer than 64/],
    ['a/b', /letters, digits/],
  ])('%s', (slug, expected) => {
    const p = slugProblem(slug);
    if (expected === null) expect(p).toBeNull();
    else expect(p).toMatch(expected);
  });
});
