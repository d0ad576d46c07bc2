import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeGraph, type FakeGraph } from './server';

// The fake Graph API against Meta's own documented request: the "Send Requests" example of
// https://developers.facebook.com/docs/marketing-api/conversions-api/using-the-api (its event_time moved to now,
// since Meta refuses one older than 7 days), posted as Meta's curl does (data as a form field, the token in the
// query; urlencoded here, where Meta's example uses multipart) and as JSON (the desktop's form).
let graph: FakeGraph;
const now = () => Math.floor(Date.now() / 1000);

const documented = () => ({
  event_name: 'Purchase',
  event_time: now(),
  user_data: {
    em: ['309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd'],
    ph: ['254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4', '6f4fcb9deaeadc8f9746ae76d97ce1239e98b404efe5da3ee0b7149740f89ad6'],
    client_ip_address: '123.123.123.123',
    client_user_agent: '$CLIENT_USER_AGENT',
    fbc: 'fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890',
    fbp: 'fb.1.1558571054389.1098115397',
  },
  custom_data: { currency: 'usd', value: 123.45, contents: [{ id: 'product123', quantity: 1, delivery_category: 'home_delivery' }] },
  event_source_url: 'http://jaspers-market.com/product/123',
  action_source: 'website',
});

const post = (body: unknown, opts: { query?: string; type?: string; version?: string; pixel?: string } = {}) =>
  fetch(`${graph.url}/${opts.version ?? 'v25.0'}/${opts.pixel ?? graph.pixelId}/events${opts.query ?? ''}`, {
    method: 'POST',
    headers: { 'content-type': opts.type ?? 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: number; type: string; message: string; error_user_msg?: string; fbtrace_id: string } }).error;

beforeAll(async () => {
  graph = await startFakeGraph();
});
afterAll(async () => {
  await graph?.close();
});

describe('fake Graph API: the events edge', () => {
  it('takes Meta\'s documented example, as a form with the token in the query and as JSON, and answers as Meta documents', async () => {
    const form = new URLSearchParams({ data: JSON.stringify([documented()]) }).toString();
    const res = await post(form, { type: 'application/x-www-form-urlencoded', query: `?access_token=${graph.token}` });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['events_received', 'fbtrace_id', 'messages']);
    expect(body).toMatchObject({ events_received: 1, messages: [] });
    expect(body.fbtrace_id).toEqual(expect.any(String));

    const json = await post({ data: [documented(), documented()], access_token: graph.token, test_event_code: 'TEST12345' });
    expect(await json.json()).toMatchObject({ events_received: 2 });
    expect(graph.log.at(-1)).toMatchObject({ version: 'v25.0', pixelId: graph.pixelId, tokenOk: true, tokenIn: 'body', testEventCode: 'TEST12345', status: 200, warnings: [] });
    expect(graph.received.slice(-2).map((r) => r.testEventCode)).toEqual(['TEST12345', 'TEST12345']);
    // The token is never in the log.
    expect(JSON.stringify(graph.log)).not.toContain(graph.token);
  });

  it.each([
    ['no token', { data: [documented()] }, 190],
    ['an unknown token', { data: [documented()], access_token: 'EAAnotTheOne0123456789' }, 190],
  ])('refuses %s with code 190', async (_, body, code) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code, type: 'OAuthException' });
  });

  it('refuses a pixel it does not know with code 100', async () => {
    const res = await post({ data: [documented()], access_token: graph.token }, { pixel: '999' });
    expect(await errorOf(res)).toMatchObject({ code: 100, error_user_msg: expect.stringContaining("Object with ID '999' does not exist") });
  });

  const refusals: [string, (e: ReturnType<typeof documented>) => unknown, RegExp][] = [
    ['event_time older than 7 days', (e) => ({ ...e, event_time: now() - 7 * 86_400 - 60 }), /more than 7 days/],
    ['event_time in milliseconds', (e) => ({ ...e, event_time: Date.now() }), /seconds, not milliseconds/],
    ['an unknown action_source', (e) => ({ ...e, action_source: 'web' }), /action_source must be one of/],
    ['a website event without event_source_url', (e) => ({ ...e, event_source_url: undefined }), /event_source_url/],
    ['an email not hashed', (e) => ({ ...e, user_data: { ...e.user_data, em: ['joe@example.com'] } }), /em must be SHA-256/],
    ['a hash in uppercase', (e) => ({ ...e, user_data: { ...e.user_data, em: ['309A0A5C3E211326AE75CA18196D301A9BDBD1A882A4D2569511033DA23F0ABD'] } }), /em must be SHA-256/],
    ['an fbc in seconds', (e) => ({ ...e, user_data: { ...e.user_data, fbc: 'fb.1.1554763741.AbC' } }), /fbc must read/],
    ['a bad fbp', (e) => ({ ...e, user_data: { ...e.user_data, fbp: 'fb.1.1558571054389.abc' } }), /fbp must read/],
    ['no customer information', (e) => ({ ...e, user_data: {} }), /at least one customer information/],
    ['a Purchase without currency', (e) => ({ ...e, custom_data: { value: 1 } }), /custom_data.value .* custom_data.currency/],
    ['a Purchase without value', (e) => ({ ...e, custom_data: { currency: 'USD' } }), /custom_data.value/],
  ];
  it.each(refusals)('refuses the whole batch for one event with %s (code 100, naming the event)', async (_, change, message) => {
    const before = graph.received.length;
    const res = await post({ data: [documented(), change(documented())], access_token: graph.token });
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe(100);
    expect(error.error_user_msg).toMatch(/^Event 1: /);
    expect(error.error_user_msg).toMatch(message);
    expect(graph.received.length).toBe(before);
  });

  it('refuses more than 1,000 events, and takes 1,000', async () => {
    const many = Array.from({ length: 1001 }, () => documented());
    expect(await errorOf(await post({ data: many, access_token: graph.token }))).toMatchObject({ code: 100, error_user_msg: expect.stringContaining('at most 1000') });
    expect(await (await post({ data: many.slice(1), access_token: graph.token })).json()).toMatchObject({ events_received: 1000 });
  });

  it('takes a website event without client_user_agent, noting what Meta documents', async () => {
    const e = documented();
    const { client_user_agent: _ua, ...user } = e.user_data;
    expect((await post({ data: [{ ...e, user_data: user }], access_token: graph.token })).status).toBe(200);
    expect(graph.log.at(-1)!.warnings).toEqual([expect.stringContaining('no client_user_agent')]);
  });

  it('answers injected failures with Meta\'s error object, or a gateway\'s page', async () => {
    graph.failNext(1, { code: 613, userMessage: 'Slow down' });
    const throttled = await post({ data: [documented()], access_token: graph.token });
    expect(throttled.status).toBe(400);
    expect(await errorOf(throttled)).toMatchObject({ code: 613, type: 'OAuthException', error_user_msg: 'Slow down', fbtrace_id: expect.any(String) });
    graph.failNext(1, { code: 2 });
    expect((await post({ data: [documented()], access_token: graph.token })).status).toBe(500);
    graph.failNext(1, { status: 502 });
    const gateway = await post({ data: [documented()], access_token: graph.token });
    expect(gateway.status).toBe(502);
    expect(gateway.headers.get('content-type')).toBe('text/html');
  });
});
