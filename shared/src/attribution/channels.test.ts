import { describe, expect, it } from 'vitest';
import { DEFAULT_CHANNEL_RULES, channelGrouper, isDirectChannel, parseChannelRules, type ChannelInput } from './channels';

const group = channelGrouper();
const input = (over: Partial<ChannelInput>): ChannelInput => ({ utm: {}, clickIds: {}, referrerHost: null, ...over });

describe('default channel grouping', () => {
  it.each<[string, Partial<ChannelInput>, string]>([
    ['gclid', { clickIds: { gclid: 'x' } }, 'Paid search'],
    ['msclkid with a social source still paid search', { clickIds: { msclkid: 'x' }, utm: { utm_source: 'facebook' } }, 'Paid search'],
    ['fbclid with a paid medium', { clickIds: { fbclid: 'x' }, utm: { utm_medium: 'paid_social' } }, 'Paid social'],
    ['fbclid with cpc', { clickIds: { fbclid: 'x' }, utm: { utm_medium: 'CPC' } }, 'Paid social'],
    ['fbclid alone is organic (Meta tags organic links too)', { clickIds: { fbclid: 'x' } }, 'Social'],
    ['ttclid', { clickIds: { ttclid: 'x' } }, 'Paid social'],
    ['social source with cpc', { utm: { utm_source: 'linkedin', utm_medium: 'cpc' } }, 'Paid social'],
    ['unknown source with cpc', { utm: { utm_source: 'adnet', utm_medium: 'cpc' } }, 'Paid search'],
    ['google cpc', { utm: { utm_source: 'google', utm_medium: 'cpc' } }, 'Paid search'],
    ['newsletter medium', { utm: { utm_source: 'brevo', utm_medium: 'email' } }, 'Email'],
    ['newsletter source', { utm: { utm_source: 'Newsletter' } }, 'Email'],
    ['organic medium', { utm: { utm_source: 'bing', utm_medium: 'organic' } }, 'Organic search'],
    ['search referrer with country domain', { referrerHost: 'www.google.co.uk' }, 'Organic search'],
    ['duckduckgo', { referrerHost: 'duckduckgo.com' }, 'Organic search'],
    ['t.co', { referrerHost: 't.co' }, 'Social'],
    ['social subdomain', { referrerHost: 'm.facebook.com' }, 'Social'],
    ['not-twitter.co is not t.co', { referrerHost: 'not.co' }, 'Referral'],
    ['social medium', { utm: { utm_source: 'someforum', utm_medium: 'social' } }, 'Social'],
    ['any other referrer', { referrerHost: 'blog.example.org' }, 'Referral'],
    ['utm source only', { utm: { utm_source: 'podcast' } }, 'Referral'],
    ['campaign only', { utm: { utm_campaign: 'spring' } }, 'Direct'],
    ['nothing', {}, 'Direct'],
  ])('%s', (_name, over, channel) => {
    expect(group(input(over))).toBe(channel);
  });

  it('names only the seven documented channels', () => {
    expect(new Set(DEFAULT_CHANNEL_RULES.map((r) => r.channel))).toEqual(new Set(['Paid social', 'Paid search', 'Organic search', 'Social', 'Email', 'Referral']));
  });

  it('takes the first matching rule of a user list, all conditions of a rule together', () => {
    const g = channelGrouper([
      { channel: 'Podcasts', utmSource: ['pod*'], utmMedium: ['audio'] },
      { channel: 'Partners', referrerHost: ['*.partner.io'] },
      { channel: 'Anything from pod', utmSource: ['pod*'] },
    ]);
    expect(g(input({ utm: { utm_source: 'podnews', utm_medium: 'audio' } }))).toBe('Podcasts');
    expect(g(input({ utm: { utm_source: 'podnews', utm_medium: 'text' } }))).toBe('Anything from pod');
    expect(g(input({ referrerHost: 'a.b.partner.io' }))).toBe('Partners');
    expect(g(input({ referrerHost: 'partner.io' }))).toBe('Direct');
  });

  it('treats regex characters in patterns literally', () => {
    const g = channelGrouper([{ channel: 'X', utmSource: ['a.b'] }]);
    expect(g(input({ utm: { utm_source: 'a.b' } }))).toBe('X');
    expect(g(input({ utm: { utm_source: 'axb' } }))).toBe('Direct');
  });

  it('knows Direct by name', () => {
    expect(isDirectChannel(' direct ')).toBe(true);
    expect(isDirectChannel('Directory')).toBe(false);
  });
});

describe('parseChannelRules', () => {
  it('accepts the default list as JSON', () => {
    const r = parseChannelRules(JSON.parse(JSON.stringify(DEFAULT_CHANNEL_RULES)));
    expect(r).toEqual({ ok: true, value: DEFAULT_CHANNEL_RULES });
  });

  it('lists every problem', () => {
    const r = parseChannelRules([{ channel: '', utmSource: 'google' }, { channel: 'A' }, { channel: 'B', clickId: ['zzclid'] }, { channel: 'C', color: 'red', utmMedium: ['x'] }, 7]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toEqual([
      'channelRules[0].channel: 1 to 64 characters',
      'channelRules[0].utmSource: must be a list of 1 to 200 strings',
      'channelRules[1]: needs at least one of utmSource, utmMedium, referrerHost, clickId',
      'channelRules[2].clickId: unknown zzclid (known: fbclid, gclid, gbraid, wbraid, ttclid, msclkid, li_fat_id)',
      'channelRules[3].color: unknown field (allowed: channel, utmSource, utmMedium, referrerHost, clickId)',
      'channelRules[4] must be a JSON object',
    ]);
  });

  it('refuses a non-list', () => {
    expect(parseChannelRules({}).ok).toBe(false);
  });
});
